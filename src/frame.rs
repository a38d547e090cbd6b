//! Waiting for the browser to paint, so that what is already drawn shows before long work starts.

use leptos::prelude::request_animation_frame;

/// Resolves once the next frame has been painted: the animation-frame callback runs just before the
/// paint, and a task queued from it runs after. A hidden page paints no frame and waits until shown.
pub async fn after_paint() {
    let (painting, painted) = futures::channel::oneshot::channel::<()>();
    request_animation_frame(move || {
        let _ = painting.send(());
    });
    let _ = painted.await;
    gloo_timers::future::TimeoutFuture::new(0).await;
}
