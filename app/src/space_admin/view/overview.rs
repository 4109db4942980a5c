//! The courses of the space: by page title (a link that opens the page in
//! Confluence), the access mode, the published version and the counts an
//! admin scans first; paged. Group rules whose members Confluence could not
//! list are named in a warning.

use leptos::prelude::*;

use super::resize_soon;
use crate::space_admin::api::{SpaceCourseRow, SpaceOverview};

#[component]
pub(super) fn Overview(
    overview: RwSignal<Option<Result<SpaceOverview, String>>>,
    page: RwSignal<u32>,
    open_course: Callback<SpaceCourseRow>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let data = move || overview.get().and_then(Result::ok);
    view! {
        {move || data().map(|o| {
            let failures = o.sync_failures.clone();
            view! {
                {(!failures.is_empty()).then(|| view! {
                    <div class="sc-banner sc-banner-warn" id="sc-admin-sync-failures" role="note">
                        <p>
                            <strong>{leptos_i18n::td_string!(loc, admin.sync_failed)}</strong>
                            {leptos_i18n::td_string!(loc, admin.sync_failed_detail)}
                            {failures.join(", ")}
                            "."
                        </p>
                    </div>
                })}
                {if o.courses.is_empty() {
                    view! {
                        <p class="sc-empty" id="sc-admin-empty">
                            {leptos_i18n::td_string!(loc, admin.no_courses)}
                        </p>
                    }.into_any()
                } else {
                    view! { <CourseTable o page open_course /> }.into_any()
                }}
            }
        })}
    }
}

#[component]
fn CourseTable(
    o: SpaceOverview,
    page: RwSignal<u32>,
    open_course: Callback<SpaceCourseRow>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let first = o.page * o.page_size + 1;
    let last = first + o.courses.len() as u32 - 1;
    let has_next = last < o.total;
    let has_prev = o.page > 0;
    let go = move |p: u32| {
        page.set(p);
        resize_soon();
    };
    let current = o.page;
    view! {
        <div class="sc-admin-scroll" role="region" aria-labelledby="sc-admin-courses-caption" tabindex="0">
            <table class="sc-table sc-admin-table" id="sc-admin-courses">
                <caption id="sc-admin-courses-caption" class="sc-admin-caption">
                    {crate::locale::fill(leptos_i18n::td_string!(loc, admin.courses_caption), &[&lang.integer(i64::from(o.total))])}
                </caption>
                <thead>
                    <tr>
                        <th scope="col">{leptos_i18n::td_string!(loc, admin.course)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, admin.access)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, admin.version)}</th>
                        <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, admin.enrolled)}</th>
                        <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, admin.in_progress)}</th>
                        <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, admin.completed)}</th>
                        <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, admin.overdue)}</th>
                        <th scope="col"><span class="sc-visually-hidden">{leptos_i18n::td_string!(loc, admin.report)}</span></th>
                    </tr>
                </thead>
                <tbody>
                    {o.courses.into_iter().map(|c| {
                        let label = if c.course_title == c.title {
                            crate::locale::fill(leptos_i18n::td_string!(loc, admin.report_for), &[&c.title])
                        } else {
                            crate::locale::fill(leptos_i18n::td_string!(loc, admin.report_for_on_page), &[&c.course_title, &c.title])
                        };
                        let sub = (c.course_title != c.title).then(|| c.course_title.clone());
                        let overdue = c.overdue;
                        let row = c.clone();
                        view! {
                            <tr data-course=c.id.clone()>
                                <th scope="row">
                                    {match c.page_url.clone() {
                                        Some(href) => view! {
                                            <a href=href target="_top" class="sc-admin-page-link">{c.title.clone()}</a>
                                        }.into_any(),
                                        None => view! { <span>{c.title.clone()}</span> }.into_any(),
                                    }}
                                    {sub.map(|s| view! { <span class="sc-admin-sub">{s}</span> })}
                                </th>
                                <td>{crate::authoring::editor::access_label(loc, c.access)}</td>
                                <td>{match c.latest_version {
                                    Some(v) => view! { <span>{format!("v{v}")}</span> }.into_any(),
                                    None => view! { <span class="sc-status">{leptos_i18n::td_string!(loc, admin.draft)}</span> }.into_any(),
                                }}</td>
                                <td class="sc-admin-num">{lang.integer(i64::from(c.enrolled))}</td>
                                <td class="sc-admin-num">{lang.integer(i64::from(c.in_progress))}</td>
                                <td class="sc-admin-num">{lang.integer(i64::from(c.completed))}</td>
                                <td class="sc-admin-num">
                                    {if overdue > 0 {
                                        view! { <span class="sc-status sc-status-warn">{lang.integer(i64::from(overdue))}</span> }.into_any()
                                    } else {
                                        view! { <span>"0"</span> }.into_any()
                                    }}
                                </td>
                                <td>
                                    <button
                                        type="button"
                                        class="sc-button sc-button-subtle sc-report-open"
                                        id=format!("sc-open-{}", c.id)
                                        aria-label=label
                                        on:click=move |_| open_course.run(row.clone())
                                    >
                                        {leptos_i18n::td_string!(loc, admin.report)}
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(has_prev || has_next).then(|| view! {
            <nav class="sc-admin-pager" aria-label={leptos_i18n::td_string!(loc, admin.pages_of_courses)}>
                <span class="sc-admin-range">{crate::locale::fill(leptos_i18n::td_string!(loc, admin.courses_range), &[&first, &last, &o.total])}</span>
                <button type="button" class="sc-button sc-button-subtle" disabled=!has_prev
                    on:click=move |_| go(current.saturating_sub(1))>{leptos_i18n::td_string!(loc, admin.previous)}</button>
                <button type="button" class="sc-button sc-button-subtle" disabled=!has_next
                    on:click=move |_| go(current + 1)>{leptos_i18n::td_string!(loc, admin.next)}</button>
            </nav>
        })}
    }
}
