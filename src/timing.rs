//! Named spans on the page's performance timeline, so that the benchmarks can say where a sync's time
//! goes (`tests/e2e/sync.bench.ts` sums them); a span costs two timeline entries and nothing else.

/// A span from its start to its drop, recorded as a `measure` entry named `name`.
pub(crate) struct Span {
    name: &'static str,
}

impl Span {
    pub(crate) fn start(name: &'static str) -> Span {
        if let Some(performance) = performance() {
            let _ = performance.mark(&start_mark(name));
        }
        Span { name }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(performance) = performance() {
            let _ = performance.measure_with_start_mark(self.name, &start_mark(self.name));
        }
    }
}

fn start_mark(name: &str) -> String {
    format!("{name}:start")
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}
