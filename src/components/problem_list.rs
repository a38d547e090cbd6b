//! Validation problems in the current language, shown in the page next to where they apply.

use fieldcheck_core::Problem;
use leptos::prelude::*;

use crate::i18n::use_i18n;

/// A list of problems; renders nothing when there are none.
#[component]
pub fn ProblemList(
    /// The problems to show.
    #[prop(into)]
    problems: Signal<Vec<Problem>>,
    /// An optional heading above them.
    #[prop(optional)]
    heading: Option<fn(&crate::i18n::Strings) -> &'static str>,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let problems = problems.get();
        if problems.is_empty() {
            return None;
        }
        let lang = i18n.lang();
        Some(view! {
            <div class="problems" role="alert">
                {heading.map(|heading| view! { <p class="problems-heading">{heading(lang.t())}</p> })}
                <ul>
                    {problems
                        .into_iter()
                        .map(|problem| {
                            view! { <li>{lang.pick(&problem.zh, &problem.en).to_owned()}</li> }
                        })
                        .collect_view()}
                </ul>
            </div>
        })
    }
}
