//! The supervisor's and administrator's calls that need the server now: reviews, figures, exports,
//! campaigns, users and the venue register. Each answers or fails with a [`SyncError`] the screen
//! shows; a change that other screens read from the phone's store is pulled by a sync run right after.

use fieldcheck_core::import::ImportReport;
use fieldcheck_core::stats::Stats;
use fieldcheck_core::sync::{
    Entity, Mutation, MutationStatus, NewUnit, NewUserRequest, Officer, PasswordReset, PushRequest,
    ReviewRequest, Unit, UnitsResponse, UserPatch, UsersResponse,
};
use fieldcheck_core::{Campaign, Inspection, OpId, ReviewDecision};

use crate::sync::{SyncContext, SyncError, api};

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One workbook with the records, hazards and figures sheets.
    Xlsx,
    /// One sheet as CSV: `inspections`, `hazards` or `stats`.
    Csv(&'static str),
}

impl SyncContext {
    /// The session's token, if it still works.
    fn live_token(&self) -> Result<String, SyncError> {
        let session = self.session_untracked().ok_or(SyncError::NoSession)?;
        if session.expired {
            return Err(SyncError::Unauthorized);
        }
        Ok(session.token)
    }

    /// Approves or returns a submitted record the supervisor read at `rev`; the phone pulls the
    /// outcome at once.
    pub async fn review(
        &self,
        id: &str,
        rev: u64,
        decision: ReviewDecision,
        comment: Option<String>,
    ) -> Result<Inspection, SyncError> {
        let token = self.live_token()?;
        let request = ReviewRequest {
            decision,
            rev,
            comment,
        };
        let path = format!("/api/inspections/{id}/review");
        let reviewed = api::call_json(&token, "POST", &path, Some(&request)).await?;
        self.kick();
        Ok(reviewed)
    }

    /// The figures of a period (`YYYY-MM-DD`, both included).
    pub async fn stats(&self, from: &str, to: &str) -> Result<Stats, SyncError> {
        let token = self.live_token()?;
        api::call_json::<(), _>(
            &token,
            "GET",
            &format!("/api/stats?from={from}&to={to}"),
            None,
        )
        .await
    }

    /// The period's export as a file, with its name.
    pub async fn export(
        &self,
        from: &str,
        to: &str,
        format: ExportFormat,
    ) -> Result<(web_sys::Blob, String), SyncError> {
        let token = self.live_token()?;
        let (path, name) = match format {
            ExportFormat::Xlsx => (
                format!("/api/export.xlsx?from={from}&to={to}"),
                format!("fieldcheck-{from}-{to}.xlsx"),
            ),
            ExportFormat::Csv(sheet) => (
                format!("/api/export.csv?from={from}&to={to}&sheet={sheet}"),
                format!("fieldcheck-{from}-{to}-{sheet}.csv"),
            ),
        };
        Ok((api::get_file(&token, &path).await?, name))
    }

    /// Creates or changes a campaign (supervisors): pushed now as one mutation on the rev the phone
    /// pulled (0 for a new one), then pulled back so every screen shows it. The screen keeps `op_id`
    /// for as long as it retries the same change, so a retry after a lost answer is a `duplicate`,
    /// never a second campaign.
    pub async fn save_campaign(
        &self,
        campaign: &Campaign,
        base_rev: u64,
        op_id: OpId,
    ) -> Result<(), SyncError> {
        let token = self.live_token()?;
        let device_id = self.store().device_id().await?;
        let body = serde_json::to_value(campaign)
            .map_err(|error| SyncError::Bug(format!("campaign does not serialise: {error}")))?;
        let request = PushRequest {
            device_id,
            mutations: vec![Mutation {
                op_id,
                entity: Entity::Campaign,
                id: campaign.id.to_string(),
                base_rev,
                body,
            }],
        };
        let response = api::push(&token, &request).await?;
        let result = response
            .results
            .into_iter()
            .next()
            .ok_or_else(|| SyncError::Protocol("the push answered no result".to_owned()))?;
        match result.status {
            MutationStatus::Applied | MutationStatus::Duplicate => {
                self.kick();
                Ok(())
            }
            MutationStatus::Conflict => Err(SyncError::Server {
                status: 409,
                code: "conflict".to_owned(),
                message: "the campaign changed on the server; reopen it".to_owned(),
            }),
            MutationStatus::Rejected => {
                let (code, message) = result.error.map_or_else(
                    || ("rejected".to_owned(), String::new()),
                    |error| (error.code, error.message),
                );
                Err(SyncError::Server {
                    status: 422,
                    code,
                    message,
                })
            }
        }
    }

    /// The officers the caller manages (their unit; admins: every unit), active or not.
    pub async fn officers_online(&self) -> Result<Vec<Officer>, SyncError> {
        let token = self.live_token()?;
        let users: UsersResponse =
            api::call_json::<(), _>(&token, "GET", "/api/users", None).await?;
        Ok(users.users)
    }

    /// The units the caller may choose (admins: every unit).
    pub async fn units(&self) -> Result<UnitsResponse, SyncError> {
        let token = self.live_token()?;
        api::call_json::<(), _>(&token, "GET", "/api/units", None).await
    }

    /// Adds a unit (admins).
    pub async fn add_unit(&self, name: &str) -> Result<Unit, SyncError> {
        let token = self.live_token()?;
        let request = NewUnit {
            name: name.to_owned(),
        };
        api::call_json(&token, "POST", "/api/units", Some(&request)).await
    }

    pub async fn add_user(&self, request: &NewUserRequest) -> Result<Officer, SyncError> {
        let token = self.live_token()?;
        api::call_json(&token, "POST", "/api/users", Some(request)).await
    }

    pub async fn patch_user(&self, id: &str, patch: &UserPatch) -> Result<Officer, SyncError> {
        let token = self.live_token()?;
        api::call_json(&token, "PATCH", &format!("/api/users/{id}"), Some(patch)).await
    }

    pub async fn reset_password(&self, id: &str, password: String) -> Result<(), SyncError> {
        let token = self.live_token()?;
        let path = format!("/api/users/{id}/password");
        api::call_json(&token, "POST", &path, Some(&PasswordReset { password })).await
    }

    /// Sends a venue register (XLSX or CSV): a preview of every row's verdict, or with `commit` the
    /// good rows stored (and pulled to this phone right after).
    pub async fn import_venues(
        &self,
        content_type: &str,
        bytes: &[u8],
        commit: bool,
    ) -> Result<ImportReport, SyncError> {
        let token = self.live_token()?;
        let path = format!("/api/venues/import?commit={commit}");
        let report = api::post_file(&token, &path, content_type, bytes).await?;
        if commit {
            self.kick();
        }
        Ok(report)
    }
}
