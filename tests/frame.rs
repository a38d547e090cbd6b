//! Browser tests of how screens hand large values back: freed whole, after the next paint, a part per task.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use fieldcheck::frame::{FreeInParts, FreeLater, after_paint};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Counts its own drops, and the separate runs of code they happened in.
struct Counted(Rc<Drops>);

#[derive(Default)]
struct Drops {
    dropped: Cell<usize>,
    runs: Cell<usize>,
    in_run: Cell<bool>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let drops = &self.0;
        drops.dropped.set(drops.dropped.get() + 1);
        if !drops.in_run.replace(true) {
            drops.runs.set(drops.runs.get() + 1);
            // Runs once the code freeing this part has returned to the browser.
            let drops = drops.clone();
            wasm_bindgen_futures::spawn_local(async move { drops.in_run.set(false) });
        }
    }
}

#[wasm_bindgen_test]
fn a_vec_and_a_map_are_freed_a_part_at_a_time_until_none_is_left() {
    let mut list: Vec<u32> = (0..1_001).collect();
    assert!(list.free_part(500));
    assert_eq!(list, (0..501).collect::<Vec<_>>(), "the last 500 go first");
    assert!(list.free_part(500));
    assert!(!list.free_part(500));
    assert!(list.is_empty());

    let mut map: HashMap<u32, String> = (0..7).map(|key| (key, key.to_string())).collect();
    assert!(map.free_part(3));
    assert_eq!(map.len(), 4);
    assert!(map.free_part(3));
    assert_eq!(map.len(), 1);
    assert!(!map.free_part(3));
    assert!(map.is_empty());

    // A part is never empty, so freeing always ends.
    let mut two = vec![1, 2];
    assert!(two.free_part(0));
    assert!(!two.free_part(0));
}

#[wasm_bindgen_test]
async fn a_shared_value_is_freed_only_after_its_last_holder_and_the_next_paint() {
    let drops = Rc::new(Drops::default());
    let n = 2_345;
    let value = FreeLater::new((0..n).map(|_| Counted(drops.clone())).collect::<Vec<_>>());
    let holder = value.clone();
    drop(value);
    after_paint().await;
    assert_eq!(drops.dropped.get(), 0, "another holder still has it");
    assert_eq!(holder.len(), n);

    drop(holder);
    assert_eq!(
        drops.dropped.get(),
        0,
        "nothing is freed before the next paint"
    );
    for _ in 0..100 {
        if drops.dropped.get() == n {
            break;
        }
        after_paint().await;
    }
    assert_eq!(drops.dropped.get(), n, "every part is freed in the end");
    assert!(
        drops.runs.get() > 1,
        "freed in parts, not in one run: {} run(s)",
        drops.runs.get()
    );
}
