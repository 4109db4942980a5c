//! The space admin view: the courses of this space and, per course, the
//! learners' report (progress, attempts, best score, completion,
//! certificate expiry, re-certification due) with a CSV download. For space
//! administrators only (checked by the server with Confluence on every call).

use course::ids::CourseId;
use leptos::{html, prelude::*, task::spawn_local};

use super::api::{self, CourseReport, LearnerState};
use crate::{ap, error::AppError};

fn message(e: AppError) -> String {
    match e {
        AppError::Forbidden => {
            "Only administrators of this space can see Smart Courses' space settings.".to_string()
        }
        other => other.to_string(),
    }
}

fn ms_date(ms: Option<i64>) -> String {
    ms.map(|m| crate::pages::format_epoch(m.div_euclid(1000)))
        .unwrap_or_else(|| "—".into())
}

/// The courses of the space and the report of the one selected.
#[component]
pub fn SpaceAdminView() -> impl IntoView {
    let overview = RwSignal::new(None::<Result<api::SpaceOverview, String>>);
    let space = RwSignal::new(None::<String>);
    // The report on show: (course id, loading / loaded / failed).
    let selected = RwSignal::new(None::<String>);
    let report = RwSignal::new(None::<Result<CourseReport, String>>);
    Effect::new(move |_| {
        spawn_local(async move {
            let key = match ap::context().await {
                Ok(c) => c.confluence.space.map(|s| s.key).unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            space.set(Some(key));
            overview.set(Some(api::space_overview(0).await.map_err(message)));
            ap::resize();
        });
    });
    let open_report = move |course_id: String| {
        selected.set(Some(course_id.clone()));
        report.set(None);
        spawn_local(async move {
            let r = async {
                api::course_report(CourseId::parse(course_id)?, api::ReportQuery::default()).await
            }
            .await
            .map_err(message);
            report.set(Some(r));
            ap::resize();
        });
    };
    view! {
        <section class="sc-card">
            <h1 class="sc-h1">"Smart Courses — space administration"</h1>
            <p class="sc-muted">"Space: "<strong id="sc-admin-space">{move || space.get().unwrap_or_default()}</strong></p>
            {move || match overview.get() {
                None => view! { <p class="sc-muted" role="status">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-info" id="sc-admin-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(o)) if o.courses.is_empty() => view! {
                    <p class="sc-empty" id="sc-admin-empty">"No courses in this space yet. Insert the Smart Course macro on a page to create one."</p>
                }.into_any(),
                Some(Ok(o)) => view! {
                    <table class="sc-table" id="sc-admin-courses">
                        <caption class="sc-visually-hidden">"Courses in this space"</caption>
                        <thead><tr>
                            <th scope="col">"Course"</th><th scope="col">"Page"</th>
                            <th scope="col">"Published"</th><th scope="col">"Last change"</th>
                            <th scope="col"><span class="sc-visually-hidden">"Report"</span></th>
                        </tr></thead>
                        <tbody>
                            {o.courses.into_iter().map(|c| {
                                let id = c.id.clone();
                                let label = format!("Learner report for {}", c.title);
                                let published = c.latest_version.is_some();
                                view! {
                                    <tr>
                                        <td>{c.title}</td>
                                        <td>{c.page_id}</td>
                                        <td>{c.latest_version.map(|v| format!("v{v}")).unwrap_or_else(|| "draft only".into())}</td>
                                        <td>{crate::pages::format_epoch(c.updated_at)}</td>
                                        <td>
                                            <button class="sc-button sc-button-subtle sc-report-open" aria-label=label
                                                disabled=!published
                                                on:click=move |_| open_report(id.clone())>"Report"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
        <Show when=move || selected.get().is_some()>
            <ReportView report=report selected=selected />
        </Show>
    }
}

#[component]
fn ReportView(
    report: RwSignal<Option<Result<CourseReport, String>>>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let csv_href = RwSignal::new(None::<String>);
    let csv_error = RwSignal::new(None::<String>);
    let link = NodeRef::<html::A>::new();
    let download = move |_| {
        let Some(course_id) = selected.get_untracked() else {
            return;
        };
        csv_error.set(None);
        spawn_local(async move {
            let csv = async {
                use futures::StreamExt;
                let stream =
                    api::report_csv(CourseId::parse(course_id)?, api::ReportQuery::default())
                        .await?;
                let parts: Vec<Result<String, AppError>> = stream.into_inner().collect().await;
                parts.into_iter().collect::<Result<String, AppError>>()
            };
            match csv.await {
                Ok(text) => {
                    let href = format!(
                        "data:text/csv;charset=utf-8,{}",
                        String::from(js_sys::encode_uri_component(&text))
                    );
                    csv_href.set(Some(href));
                    // Let the link render with its new href, then follow it.
                    request_animation_frame(move || {
                        if let Some(a) = link.get_untracked() {
                            a.click();
                        }
                    });
                }
                Err(e) => csv_error.set(Some(message(e))),
            }
        });
    };
    view! {
        <section class="sc-card" id="sc-report" aria-labelledby="sc-report-title">
            {move || match report.get() {
                None => view! { <p class="sc-muted" role="status">"Loading the report…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(r)) => {
                    let file = format!("{}-report.csv", r.course.title.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect::<String>());
                    let t = r.counts.clone();
                    let version = r.course.version.map(|v| format!("Published version v{v}; re-certification cycle since v{}.", r.course.cycle_start.unwrap_or(1)))
                        .unwrap_or_else(|| "Not published yet: no learners.".into());
                    view! {
                        <h2 class="sc-h2" id="sc-report-title">{format!("Learners — {}", r.course.title)}</h2>
                        <p class="sc-muted">{version}</p>
                        <dl class="sc-facts" id="sc-report-totals">
                            <dt>"Learners"</dt><dd data-total="learners">{t.learners}</dd>
                            <dt>"Completed"</dt><dd data-total="completed">{t.completed}</dd>
                            <dt>"In progress"</dt><dd data-total="in-progress">{t.in_progress}</dd>
                            <dt>"Re-certification due"</dt><dd data-total="recertification-due">{t.recertification_due}</dd>
                            <dt>"Certificate expired"</dt><dd data-total="expired">{t.expired}</dd>
                        </dl>
                        <p>
                            <button class="sc-button" id="sc-report-csv" on:click=download disabled=r.rows.is_empty()>"Download CSV"</button>
                            <a node_ref=link class="sc-visually-hidden" download=file href=move || csv_href.get().unwrap_or_default()
                                aria-hidden="true" tabindex="-1">"CSV"</a>
                        </p>
                        {move || csv_error.get().map(|e| view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> })}
                        {if r.rows.is_empty() {
                            view! { <p class="sc-empty" id="sc-report-empty">"No learner has opened this course yet."</p> }.into_any()
                        } else {
                            let lessons_total = r.course.lessons_total;
                            let quizzes_total = r.course.quizzes_total;
                            view! {
                                <table class="sc-table" id="sc-report-rows">
                                    <caption class="sc-visually-hidden">"Learners and their progress"</caption>
                                    <thead><tr>
                                        <th scope="col">"Learner"</th><th scope="col">"Status"</th>
                                        <th scope="col">"Progress"</th><th scope="col">"Lessons"</th>
                                        <th scope="col">"Quizzes passed"</th><th scope="col">"Attempts"</th>
                                        <th scope="col">"Best score"</th><th scope="col">"Completed"</th>
                                        <th scope="col">"Certificate expires"</th><th scope="col">"Last activity"</th><th scope="col">"Late answers"</th>
                                    </tr></thead>
                                    <tbody>
                                        {r.rows.into_iter().map(|row| {
                                            let tag = match row.state {
                                                LearnerState::Completed => "sc-status sc-status-ok",
                                                LearnerState::InProgress | LearnerState::NotStarted => "sc-status",
                                                LearnerState::RecertificationDue | LearnerState::Expired => "sc-status sc-status-warn",
                                            };
                                            view! {
                                                <tr data-account=row.account_id.clone()>
                                                    <th scope="row">{row.name.clone().unwrap_or_else(|| row.account_id.clone())}</th>
                                                    <td><span class=tag>{row.state.label()}</span></td>
                                                    <td>{format!("{}%", row.progress_percent)}</td>
                                                    <td>{format!("{} of {lessons_total}", row.lessons_opened)}</td>
                                                    <td>{format!("{} of {quizzes_total}", row.quizzes_passed)}</td>
                                                    <td>{row.attempts}</td>
                                                    <td>{row.best_percent.map(|p| format!("{p:.0}%")).unwrap_or_else(|| "—".into())}</td>
                                                    <td>{ms_date(row.completed_at_ms)}{row.completed_version.map(|v| format!(" (v{v})"))}</td>
                                                    <td>{match (row.completed_at_ms, row.expires_at_ms) {
                                                        (None, _) => "—".to_string(),
                                                        (Some(_), None) => "never".to_string(),
                                                        (Some(_), Some(e)) => ms_date(Some(e)),
                                                    }}</td>
                                                    <td>{ms_date(row.last_activity_ms)}</td>
                                                    <td>{row.late_answers}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any()
                }
            }}
        </section>
    }
}
