//! 加载更多: the button under a long list that draws its next rows (a list of thousands stays quick to draw).

use leptos::prelude::*;

use crate::i18n::{Lang, use_i18n};

/// Rows a long list draws at first and adds with each tap.
pub const LIST_PAGE: usize = 50;

/// Shown while `left` rows are not drawn; a tap draws [`LIST_PAGE`] more of them.
#[component]
pub fn MoreButton(
    /// How many rows are not drawn yet.
    #[prop(into)]
    left: Signal<usize>,
    /// How many rows the list draws.
    shown: RwSignal<usize>,
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let left = left.get();
        (left > 0).then(|| {
            view! {
                <button type="button" class="button button-secondary button-block" data-testid=testid
                    on:click=move |_| shown.update(|shown| *shown += LIST_PAGE)>
                    {match i18n.lang() {
                        Lang::Zh => format!("加载更多（还有 {left} 条）"),
                        Lang::En => format!("Show more ({left} left)"),
                    }}
                </button>
            }
        })
    }
}
