//! The course macro as learners meet it inside a Confluence page
//! (descriptor module `smart-course`, a `dynamicContentMacros` entry).

use leptos::prelude::*;

use super::{query_param, HydrationMarker};
use crate::learning::view::LearnerView;

/// The macro: the learner view when the macro holds a course (its `course`
/// parameter, part of the signed iframe URL), else an empty-state card.
#[component]
pub fn CourseView() -> impl IntoView {
    let course = query_param("course").filter(|c| !c.is_empty());
    view! {
        <HydrationMarker />
        {match course {
            Some(id) => view! { <LearnerView course_id=id /> }.into_any(),
            None => view! { <EmptyMacro /> }.into_any(),
        }}
    }
}

/// A macro without a course yet: says how to add one.
#[component]
fn EmptyMacro() -> impl IntoView {
    let loc = crate::locale::use_locale();
    view! {
        <section class="sc-card" aria-labelledby="sc-course-title">
            <h1 id="sc-course-title" class="sc-h1">{leptos_i18n::td_string!(loc, learner.empty_title)}</h1>
            <p class="sc-muted" id="sc-empty-macro">{leptos_i18n::td_string!(loc, learner.empty_macro)}</p>
        </section>
    }
}
