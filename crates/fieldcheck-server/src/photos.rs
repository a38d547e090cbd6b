//! Photos and signatures: `PUT` and `GET /api/photos/{sha256}`, the object store that holds the bytes,
//! and the collection of photos that no record names.
//!
//! A photo is named by the SHA-256 of its bytes, so an upload is idempotent and a replay is safe: the
//! same name always means the same bytes. The phone uploads a photo before the record that names it
//! (the push refuses a record naming a photo the server lacks, `photo_missing`); the push keeps
//! `photo_refs` in step with each record's current rev, and who may read a photo follows from the units
//! of the records naming it. The handlers see only the [`ObjectStore`] trait: a local folder for a
//! district, an S3-protocol bucket at province scale ([`open_store`]). Reads are streamed through the
//! server, never handed out as presigned URLs: each read is checked against the caller's unit, and a
//! URL would outlive that check.

use crate::AppState;
use crate::auth::Authed;
use crate::db::{self, DbError, PhotoRow};
use crate::error::ApiError;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use fieldcheck_core::{UserId, is_photo_name, photo_name};
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Serialize;
use sqlx::AnyPool;
use std::sync::Arc;

/// The largest photo accepted unless configured otherwise (`serve --photo-limit-bytes`).
pub const DEFAULT_LIMIT_BYTES: usize = 20 * 1024 * 1024;
/// How long an uploaded photo that no record names is kept, unless configured otherwise: long enough
/// for a phone that uploaded its photos and then lost the network to come back and push the record.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(72);
/// How often `serve` collects unreferenced photos.
pub const GC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Where photos are kept; shared by every request.
pub type PhotoStore = Arc<dyn ObjectStore>;

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

/// The store in `<data>/photos` (created if missing). Writes are synced to disk before an upload is
/// answered, as SQLite commits are: "stored" means on disk, and the phone may then let its copy go.
pub fn local_store(data_dir: &std::path::Path) -> std::io::Result<PhotoStore> {
    let folder = data_dir.join("photos");
    std::fs::create_dir_all(&folder)?;
    let store = LocalFileSystem::new_with_prefix(&folder)?
        .with_fsync(true)
        .with_automatic_cleanup(true);
    Ok(Arc::new(store))
}

/// Why `--photos` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    #[error(
        "unsupported photo store \"{0}\": use a folder (the default, <data>/photos) or s3://BUCKET[/PREFIX]"
    )]
    Unsupported(String),
    #[error("the photo folder: {0}")]
    Folder(#[from] std::io::Error),
    #[error("the S3 bucket: {0}")]
    Bucket(#[from] object_store::Error),
}

/// The photo store `--photos` names: `<data>/photos` when `None`, or `s3://BUCKET[/PREFIX]` on any
/// S3-protocol service (AWS, Alibaba OSS, Huawei OBS, MinIO, …). The bucket's endpoint, region and
/// keys come from the usual environment: `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, plus `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=false` for path-style services and
/// `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint on a private network. An S3 PUT is durable when
/// answered, like the folder's synced write.
pub fn open_store(
    data_dir: &std::path::Path,
    photos: Option<&str>,
) -> Result<PhotoStore, StoreConfigError> {
    let Some(url) = photos else {
        return Ok(local_store(data_dir)?);
    };
    let Some(rest) = url.strip_prefix("s3://") else {
        return Err(StoreConfigError::Unsupported(url.to_owned()));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StoreConfigError::Unsupported(url.to_owned()));
    }
    let bucket = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        // A few quick retries, not the default three minutes: a phone waits on the answer, and a
        // health check must say "down" while the load balancer still listens.
        .with_retry(object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(15),
            ..object_store::RetryConfig::default()
        })
        .build()?;
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() {
        Arc::new(bucket)
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(bucket, prefix))
    })
}

/// The answer to an upload: the photo's name and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

/// The outcome of [`upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub stored: Stored,
    /// `false` when the photo was already on the server (a replay, or the same picture twice).
    pub created: bool,
}

/// `PUT /api/photos/{sha256}`: the raw bytes of a JPEG or PNG, at most `Settings::photo_limit_bytes`
/// (the route's body limit enforces it while the body is read). 201 when stored, 200 when it was
/// already there, with `{sha256, size}` either way.
pub async fn put(
    State(state): State<AppState>,
    authed: Authed,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path(name) = name.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    check_name(&name)?;
    let limit = state.settings.photo_limit_bytes;
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            ApiError::Malformed(rejection.body_text())
        }
    })?;
    let upload = upload(&state, &name, bytes, &authed.caller.user_id).await?;
    let status = if upload.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(upload.stored)).into_response())
}

/// Checks and stores one photo uploaded by `uploaded_by`: what `PUT /api/photos/{sha256}` does once
/// it has the bytes. The object is written before its row, so a crash in between leaves only an
/// object no row names, which a retry overwrites with the same bytes (or the collector removes).
pub async fn upload(
    state: &AppState,
    name: &str,
    bytes: Bytes,
    uploaded_by: &UserId,
) -> Result<Upload, ApiError> {
    check_name(name)?;
    if bytes.len() > state.settings.photo_limit_bytes {
        return Err(too_large(state.settings.photo_limit_bytes));
    }
    let actual = photo_name(&bytes);
    if actual != name {
        return Err(ApiError::InvalidCode {
            code: "hash_mismatch",
            message: format!("the bytes' SHA-256 is {actual}, not the name {name}"),
        });
    }
    let content_type = image_type(&bytes).ok_or_else(|| ApiError::InvalidCode {
        code: "not_an_image",
        message: "a photo or signature must be a JPEG or PNG image".to_owned(),
    })?;
    let size = u64::try_from(bytes.len())
        .map_err(|_| ApiError::Internal("a photo's size does not fit u64".to_owned()))?;
    let location = object_path(name);
    if let Some(existing) = db::photo(&state.pool, name).await? {
        // Its object was written before its row; should it be gone all the same (restored from an
        // old backup, removed by hand), these bytes, which hash to the name, put it back.
        match state.photos.head(&location).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => {
                tracing::warn!(
                    photo = name,
                    "a recorded photo had no object; stored it again"
                );
                // `Bytes` clones share the buffer.
                write_object(&state.photos, &location, bytes.clone()).await?;
            }
            Err(error) => return Err(store_error(name, &error)),
        }
        let mut tx = db::begin_write(&state.pool).await?;
        // Asked again under the lock: the collector may have removed the row since it was read.
        // Then this upload stores the photo afresh, below, rather than answer for a row that is gone.
        if db::photo(&mut *tx, name).await?.is_some() {
            let now = Utc::now();
            db::photo_uploaded_again(&mut *tx, name, now).await?;
            db::add_uploader(&mut *tx, name, uploaded_by, now).await?;
            tx.commit().await.map_err(DbError::from)?;
            return Ok(Upload {
                stored: Stored {
                    sha256: existing.sha256,
                    size: existing.size,
                },
                created: false,
            });
        }
    }
    let bytes_again = bytes.clone();
    write_object(&state.photos, &location, bytes).await?;
    // Under the write lock, which the collector holds from "no row" to "object deleted": so either
    // the collector deletes first and the check below finds the object gone, or the row is here
    // before the collector looks and it keeps the object — on any instance.
    let mut tx = db::begin_write(&state.pool).await?;
    let created = db::insert_photo(
        &mut *tx,
        &PhotoRow {
            sha256: name.to_owned(),
            size,
            content_type: content_type.to_owned(),
            uploaded_by: uploaded_by.clone(),
            uploaded_at: Utc::now(),
        },
    )
    .await?;
    db::add_uploader(&mut *tx, name, uploaded_by, Utc::now()).await?;
    tx.commit().await.map_err(DbError::from)?;
    // The collector may have removed the object between the write and the row (it saw no row): put
    // it back, so that a row never stands without its bytes.
    if matches!(
        state.photos.head(&location).await,
        Err(object_store::Error::NotFound { .. })
    ) {
        tracing::warn!(
            photo = name,
            "the collector raced this upload; stored it again"
        );
        write_object(&state.photos, &location, bytes_again).await?;
    }
    Ok(Upload {
        stored: Stored {
            sha256: name.to_owned(),
            size,
        },
        created,
    })
}

/// `GET /api/photos/{sha256}`: the bytes, to the officer who uploaded them and to whoever sees the
/// unit of a record naming them (admins: every unit). Anyone else gets the 404 of a photo that does
/// not exist, so other units learn nothing.
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(name) = name.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    check_name(&name)?;
    let not_found = || ApiError::NotFound(format!("no photo {name}"));
    let photo = db::photo(&state.pool, &name).await?.ok_or_else(not_found)?;
    let caller = &authed.caller;
    let unit = (!caller.sees_all_units()).then_some(&caller.unit_id);
    let allowed = db::uploaded_by(&state.pool, &name, &caller.user_id).await?
        || db::photo_named_in_unit(&state.pool, &name, unit).await?;
    if !allowed {
        return Err(not_found());
    }
    let object = match state.photos.get(&object_path(&name)).await {
        Ok(object) => object,
        Err(object_store::Error::NotFound { .. }) => {
            tracing::error!(photo = %name, "a recorded photo has no object in the store");
            return Err(not_found());
        }
        Err(error) => return Err(store_error(&name, &error)),
    };
    let content_type = HeaderValue::from_str(&photo.content_type)
        .map_err(|_| ApiError::Internal(format!("photo {name} has a bad content type")))?;
    let size = object.meta.size;
    let stream = object.into_stream().map(|chunk| {
        chunk.inspect_err(|error| tracing::error!(%error, "reading a photo failed midway"))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    // Kept by no cache, the browser's own included: it keys a photo by its address, not by who asked,
    // so a phone passed to an officer of another unit would show them this one's photos without
    // asking the server. The app keeps what it fetched in its own database, bound to its user.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// What one collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Photos no record named, uploaded longer ago than the grace period: row and object removed.
    pub photos: Vec<String>,
    /// Objects with no row (an upload that died between the two writes) older than the grace period.
    pub orphans: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("photo store: {0}")]
    Store(#[from] object_store::Error),
}

/// Removes every photo that no record names and that was uploaded at least `grace` before `now`: the
/// row first (in one statement that also checks no record names it, so a push naming it either
/// committed before and keeps it, or comes after and is refused `photo_missing`), then the object.
/// Then removes objects that have no row and are older than `grace`, so an upload that died between
/// writing the object and its row leaves nothing behind for good.
///
/// `fieldcheck-server photos gc` runs it once, `serve` every [`GC_INTERVAL`]. A grace of zero is for
/// tests and for an operator who knows no upload is under way.
pub async fn collect_garbage(
    pool: &AnyPool,
    store: &dyn ObjectStore,
    grace: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Collected, CollectError> {
    let cutoff = now - grace;
    // Under the write lock, like a push: a push checks a record's photos at its batch's start and
    // writes their references at its end, and no photo may go in between.
    let mut tx = db::begin_write(pool).await?;
    let photos = db::delete_unreferenced_photos(&mut *tx, cutoff).await?;
    tx.commit().await.map_err(db::DbError::from)?;
    for name in &photos {
        delete_if_no_row(pool, store, name).await?;
    }
    // Listed in full before anything is removed, so the walk never meets a folder it emptied.
    let mut old_objects = Vec::new();
    let mut listing = store.list(None);
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        let Some(name) = meta.location.filename().map(str::to_owned) else {
            continue;
        };
        // Only what this module wrote: anything else an operator keeps beside the photos is left.
        if is_photo_name(&name)
            && meta.location == object_path(&name)
            && meta.last_modified <= cutoff
        {
            old_objects.push(name);
        }
    }
    drop(listing);
    let mut orphans = Vec::new();
    for name in old_objects {
        if delete_if_no_row(pool, store, &name).await? {
            orphans.push(name);
        }
    }
    Ok(Collected { photos, orphans })
}

/// Deletes a photo's object if no row names it, holding the write lock from the check to the delete
/// so that an upload on any instance cannot record the photo in between (see [`upload`]).
async fn delete_if_no_row(
    pool: &AnyPool,
    store: &dyn ObjectStore,
    name: &str,
) -> Result<bool, CollectError> {
    let mut tx = db::begin_write(pool).await?;
    // Uploaded again since the row went: the new upload owns the object now.
    let gone = db::photo(&mut *tx, name).await?.is_none();
    if gone {
        // Who uploaded it no longer counts (kept if it is uploaded again, which makes a row).
        db::forget_uploaders(&mut *tx, name).await?;
        delete_object(store, &object_path(name)).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(gone)
}

/// Runs [`collect_garbage`] now and then every `interval`, for ever; failures are logged and the
/// next round tries again. `serve` spawns it.
pub async fn collect_garbage_every(
    pool: AnyPool,
    store: PhotoStore,
    grace: TimeDelta,
    interval: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match collect_garbage(&pool, store.as_ref(), grace, Utc::now()).await {
            Ok(collected) if collected.photos.is_empty() && collected.orphans.is_empty() => {}
            Ok(collected) => tracing::info!(
                photos = collected.photos.len(),
                orphans = collected.orphans.len(),
                "removed photos no record names"
            ),
            Err(error) => tracing::error!(%error, "collecting unreferenced photos failed"),
        }
    }
}

/// `image/jpeg` or `image/png` from the bytes' signature; `None` for anything else.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some("image/jpeg")
    } else if bytes.starts_with(PNG_MAGIC) {
        Some("image/png")
    } else {
        None
    }
}

/// A photo's place in the store: `ab/abcd…`, so no folder holds more than a 256th of them.
fn object_path(name: &str) -> ObjectPath {
    let folder = name.get(..2).unwrap_or("00");
    ObjectPath::from_iter([folder, name])
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if is_photo_name(name) {
        Ok(())
    } else {
        Err(ApiError::BadRequestCode {
            code: "bad_photo_name",
            message: "a photo's name is the SHA-256 of its bytes: 64 lowercase hex digits"
                .to_owned(),
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge {
        code: "too_large",
        message: format!("a photo may be at most {limit} bytes"),
    }
}

async fn write_object(
    store: &PhotoStore,
    location: &ObjectPath,
    bytes: Bytes,
) -> Result<(), ApiError> {
    store
        .put(location, PutPayload::from_bytes(bytes))
        .await
        .map(|_| ())
        .map_err(|error| store_error(location.as_ref(), &error))
}

/// Removing an object that is already gone is no failure: a collection that died halfway runs again.
async fn delete_object(
    store: &dyn ObjectStore,
    location: &ObjectPath,
) -> Result<(), object_store::Error> {
    match store.delete(location).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

fn store_error(name: &str, error: &object_store::Error) -> ApiError {
    ApiError::Internal(format!("photo store, {name}: {error}"))
}
