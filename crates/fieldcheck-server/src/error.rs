//! The one error type of the API, mapped to `{"error": {"code", "message"}}` and a fitting status.

use crate::db::DbError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fieldcheck_core::import::FileProblem;
use fieldcheck_core::sync::{ErrorBody, ErrorResponse};

/// Everything a handler can fail with. Client errors carry a message meant for the client; internal
/// causes are logged and the client only learns that something went wrong on our side.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request body or query could not be read (bad JSON, wrong shape).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The request is malformed in a way with its own code (e.g. `bad_photo_name`).
    #[error("{code}: {message}")]
    BadRequestCode { code: &'static str, message: String },
    /// The pull cursor is not one this server hands out.
    #[error("bad cursor: {0}")]
    BadCursor(String),
    /// No token, or one that is unknown, expired or revoked; the message says which.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Unknown user or wrong password, deliberately indistinguishable.
    #[error("bad credentials")]
    BadCredentials,
    /// Too many failed logins for this username; try again after the window.
    #[error("too many failed login attempts")]
    TooManyAttempts,
    /// The caller's role or unit does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not allowed for a reason with its own code (e.g. `own_record`).
    #[error("{code}: {message}")]
    ForbiddenCode { code: &'static str, message: String },
    /// The password was right but the account is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// The body is not declared as JSON (`Content-Type: application/json`).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is of a media type this path does not read, with its own code (e.g. `not_a_sheet`).
    #[error("{code}: {message}")]
    UnsupportedMediaTypeCode { code: &'static str, message: String },
    /// The server is at its limit of concurrent password checks; try again shortly.
    #[error("busy")]
    Busy,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request clashes with the record's state (e.g. reviewing a draft).
    #[error("{code}: {message}")]
    Conflict { code: &'static str, message: String },
    /// The body or a batch is over a limit.
    #[error("{code}: {message}")]
    TooLarge { code: &'static str, message: String },
    /// Well-formed but breaks a rule.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Well-formed but breaks a rule with its own code (e.g. `hash_mismatch`, `not_an_image`).
    #[error("{code}: {message}")]
    InvalidCode { code: &'static str, message: String },
    #[error("database error: {0}")]
    Database(DbError),
    /// A bug or an environment failure (a stored body that no longer parses, a panicked hasher).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status and stable code for this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed"),
            ApiError::BadRequestCode { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::BadCursor(_) => (StatusCode::BAD_REQUEST, "bad_cursor"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::ForbiddenCode { code, .. } => (StatusCode::FORBIDDEN, code),
            ApiError::AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::UnsupportedMediaTypeCode { code, .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, code)
            }
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::TooLarge { code, .. } => (StatusCode::PAYLOAD_TOO_LARGE, code),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::InvalidCode { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::Database(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }

    /// The message the client sees. Internal causes stay in the log.
    fn client_message(&self) -> String {
        match self {
            ApiError::Malformed(message)
            | ApiError::BadCursor(message)
            | ApiError::Forbidden(message)
            | ApiError::NotFound(message)
            | ApiError::Invalid(message) => message.clone(),
            ApiError::Conflict { message, .. }
            | ApiError::TooLarge { message, .. }
            | ApiError::BadRequestCode { message, .. }
            | ApiError::InvalidCode { message, .. }
            | ApiError::UnsupportedMediaTypeCode { message, .. }
            | ApiError::ForbiddenCode { message, .. } => message.clone(),
            ApiError::AccountDisabled => {
                "this account is disabled; ask your administrator".to_owned()
            }
            ApiError::UnsupportedMediaType => {
                "send the body as JSON with Content-Type: application/json".to_owned()
            }
            ApiError::Busy => "the server is busy; try again in a few seconds".to_owned(),
            ApiError::Unauthorized(reason) => (*reason).to_owned(),
            ApiError::BadCredentials => "unknown user or wrong password".to_owned(),
            ApiError::TooManyAttempts => {
                "too many failed login attempts; try again later".to_owned()
            }
            ApiError::MethodNotAllowed => "method not allowed on this path".to_owned(),
            ApiError::Database(_) | ApiError::Internal(_) => "internal error".to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorResponse {
            error: ErrorBody::new(code, self.client_message()),
        };
        (status, Json(body)).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        if error.is_unstorable_text() {
            return ApiError::Malformed("text must not contain the NUL character".to_owned());
        }
        if matches!(error, DbError::Busy) {
            // A moment's overload, not a fault: 503 `busy` tells the client to try again shortly.
            return ApiError::Busy;
        }
        ApiError::Database(error)
    }
}

/// A file that is not read as a venue register: each problem under its own code, so that the
/// screen can say it in the officer's language.
impl From<FileProblem> for ApiError {
    fn from(problem: FileProblem) -> Self {
        let (code, message) = (problem.code(), problem.en());
        match problem {
            FileProblem::TooManyRows => ApiError::TooLarge { code, message },
            FileProblem::NotASheet => ApiError::UnsupportedMediaTypeCode { code, message },
            FileProblem::CsvNotUtf8
            | FileProblem::NotAWorkbook
            | FileProblem::NoSheet
            | FileProblem::Empty
            | FileProblem::NoHeader => ApiError::InvalidCode { code, message },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from(DbError::Sqlx(error))
    }
}
