//! Waiting for the browser to paint, so that what is already drawn shows before long work starts.

use std::ops::Deref;
use std::rc::Rc;

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

/// A large value shared by a screen's parts (a resource, the list drawn from it), freed after the
/// next paint once the last part lets it go, rather than while the next screen waits to be drawn:
/// leaving 记录 with 10 000 records freed them all before the next screen showed. Cloning shares it.
#[derive(Debug)]
pub struct FreeLater<T: 'static>(Option<Rc<T>>);

impl<T: 'static> FreeLater<T> {
    pub fn new(value: T) -> FreeLater<T> {
        FreeLater(Some(Rc::new(value)))
    }
}

impl<T: 'static> Clone for FreeLater<T> {
    fn clone(&self) -> FreeLater<T> {
        FreeLater(self.0.clone())
    }
}

impl<T: 'static> Deref for FreeLater<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
            .as_deref()
            .expect("a FreeLater holds its value until dropped")
    }
}

impl<T: 'static> Drop for FreeLater<T> {
    fn drop(&mut self) {
        if let Some(last) = self.0.take().filter(|shared| Rc::strong_count(shared) == 1) {
            leptos::task::spawn_local(async move {
                after_paint().await;
                drop(last);
            });
        }
    }
}
