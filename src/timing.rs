//! Named spans on the page's performance timeline, recorded only while the page asks for them, so that
//! the benchmarks can say where a sync's time goes (`tests/e2e/sync.bench.ts` sums them).

use std::sync::atomic::{AtomicU32, Ordering};

/// The page global that turns the spans on. Off by default: the browser keeps every timeline entry
/// until the page clears it, and an officer's page stays open all day.
const SWITCH: &str = "fieldcheckTiming";

/// Numbers each span's start mark: spans of one name may overlap (two reads of the register at
/// once, say), and each must measure from its own start, not from the other's.
static STARTS: AtomicU32 = AtomicU32::new(0);

/// A span from its start to its drop, recorded as a `measure` entry named `name`.
pub(crate) struct Span {
    name: &'static str,
    /// The start mark, when recording.
    start: Option<String>,
}

impl Span {
    pub(crate) fn start(name: &'static str) -> Span {
        let start = recording_performance().and_then(|performance| {
            let mark = format!("{name}:start:{}", STARTS.fetch_add(1, Ordering::Relaxed));
            performance.mark(&mark).is_ok().then_some(mark)
        });
        Span { name, start }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        let Some(start) = &self.start else {
            return;
        };
        if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
            let _ = performance.measure_with_start_mark(self.name, start);
            performance.clear_marks_with_mark_name(start);
        }
    }
}

/// The page's performance timeline, when the switch is on.
fn recording_performance() -> Option<web_sys::Performance> {
    let window = web_sys::window()?;
    js_sys::Reflect::get(&window, &SWITCH.into())
        .ok()?
        .is_truthy()
        .then(|| window.performance())
        .flatten()
}
