//! Named spans on the page's performance timeline, recorded only while the page asks for them, so that
//! the benchmarks can say where a sync's time goes (`tests/e2e/sync.bench.ts` sums them).

/// The page global that turns the spans on. Off by default: the browser keeps every timeline entry
/// until the page clears it, and an officer's page stays open all day.
const SWITCH: &str = "fieldcheckTiming";

/// A span from its start to its drop, recorded as a `measure` entry named `name`.
pub(crate) struct Span {
    name: &'static str,
    recording: bool,
}

impl Span {
    pub(crate) fn start(name: &'static str) -> Span {
        let recording = match recording_performance() {
            Some(performance) => performance.mark(&start_mark(name)).is_ok(),
            None => false,
        };
        Span { name, recording }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if !self.recording {
            return;
        }
        if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
            let start = start_mark(self.name);
            let _ = performance.measure_with_start_mark(self.name, &start);
            performance.clear_marks_with_mark_name(&start);
        }
    }
}

fn start_mark(name: &str) -> String {
    format!("{name}:start")
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
