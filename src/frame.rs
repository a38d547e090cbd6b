//! Waiting for the browser to paint, so that what is already drawn shows before long work starts.

use std::collections::HashMap;
use std::hash::Hash;
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
    next_task().await;
}

/// Resolves in a task of its own, after what the browser has queued meanwhile (a key typed, say):
/// work cut in two here never holds the page for both halves at once.
pub async fn next_task() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// How many parts of a large value one task frees: 10 000 of 记录's records took 17 ms to free at
/// once, so a part of 500 takes about 1 ms, and what the next screen reads is handled in between.
const FREE_PART: usize = 500;

/// A large value that can be let go of a part at a time.
pub trait FreeInParts {
    /// Frees up to `n` of its parts (at least one); false once none is left.
    fn free_part(&mut self, n: usize) -> bool;
}

impl<T> FreeInParts for Vec<T> {
    fn free_part(&mut self, n: usize) -> bool {
        self.truncate(self.len().saturating_sub(n.max(1)));
        !self.is_empty()
    }
}

impl<K: Eq + Hash, V> FreeInParts for HashMap<K, V> {
    fn free_part(&mut self, n: usize) -> bool {
        let mut left = n.max(1);
        self.retain(|_, _| {
            let keep = left == 0;
            left = left.saturating_sub(1);
            keep
        });
        !self.is_empty()
    }
}

/// A large value shared by a screen's parts (a resource, the list drawn from it), freed once the
/// last part lets it go: after the next paint and a part per task, rather than while the next
/// screen waits to be drawn. Leaving 记录 with 10 000 records freed them all in one task, and the
/// next screen's rows waited behind it. Cloning shares it.
#[derive(Debug)]
pub struct FreeLater<T: FreeInParts + 'static>(Option<Rc<T>>);

impl<T: FreeInParts + 'static> FreeLater<T> {
    pub fn new(value: T) -> FreeLater<T> {
        FreeLater(Some(Rc::new(value)))
    }
}

impl<T: FreeInParts + 'static> Clone for FreeLater<T> {
    fn clone(&self) -> FreeLater<T> {
        FreeLater(self.0.clone())
    }
}

impl<T: FreeInParts + 'static> Deref for FreeLater<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
            .as_deref()
            .expect("a FreeLater holds its value until dropped")
    }
}

impl<T: FreeInParts + 'static> Drop for FreeLater<T> {
    fn drop(&mut self) {
        // Another part still holding it frees it when it lets go.
        if let Some(mut last) = self.0.take().and_then(|shared| Rc::try_unwrap(shared).ok()) {
            // Not Leptos's executor: freeing belongs to no screen, and runs after the screen is gone.
            wasm_bindgen_futures::spawn_local(async move {
                after_paint().await;
                loop {
                    let part = crate::timing::Span::start("fieldcheck:free-part");
                    let more = last.free_part(FREE_PART);
                    drop(part);
                    if !more {
                        break;
                    }
                    gloo_timers::future::TimeoutFuture::new(0).await;
                }
            });
        }
    }
}
