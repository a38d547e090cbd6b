//! How long the release build waits for a wasm file of its own before it says the code is not here.

/// How long a split file may take to arrive: on a weak link a fetch can hang for minutes or never
/// end, and the split loader has no deadline of its own. What waits on it (a screen, the sync run,
/// the export) is told after this and can try again; a later call joins the same fetch.
pub const PATIENCE_MS: u32 = 15_000;

/// `load`'s output, or `None` when it took longer than [`PATIENCE_MS`].
pub async fn within<F: Future>(load: F) -> Option<F::Output> {
    let patience = gloo_timers::future::TimeoutFuture::new(PATIENCE_MS);
    match futures::future::select(std::pin::pin!(load), patience).await {
        futures::future::Either::Left((output, _)) => Some(output),
        futures::future::Either::Right(_) => None,
    }
}
