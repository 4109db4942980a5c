//! The *Learners* tab: counts, the two charts, and the learner table with
//! filters (status, overdue, enrolment reason, name), sorting, paging and
//! bulk actions (unenrol, set or clear the due date) on the rows selected;
//! a learner's name opens their attempts ([`super::learner`]).
//!
//! Filtering, sorting and paging happen on the server; the controls only
//! change the query (`CourseCtx::query`), which reloads the report.

use std::collections::BTreeSet;

use course::ids::{AccountId, GroupName};
use leptos::{prelude::*, task::spawn_local};

use super::{
    download::{dated, CsvButton},
    focus_soon, format,
    learner::LearnerDetailView,
    resize_soon, CourseCtx, Notice, NoticeArea,
};
use crate::{
    error::AppError,
    space_admin::api::{
        self, CourseReport, LearnerRow, LearnerState, ReasonFilter, ReportSort, MAX_PAGE_SIZE,
    },
};

/// Page sizes offered.
const PAGE_SIZES: [u32; 4] = [25, 50, 100, MAX_PAGE_SIZE];

#[component]
pub(super) fn Learners(ctx: CourseCtx) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let detail = RwSignal::new(None::<String>);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let notice = RwSignal::new(None::<Notice>);
    // Keep only selections still on the page after a reload.
    Effect::new(move |_| {
        let on_page: BTreeSet<String> = ctx.report.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| r.rows.iter().map(|row| row.account_id.clone()).collect())
                .unwrap_or_default()
        });
        selected.update(|s| s.retain(|a| on_page.contains(a)));
    });
    let open_detail = Callback::new(move |account: String| {
        detail.set(Some(account));
        focus_soon("sc-learner-title".into());
        resize_soon();
    });
    let close_detail = Callback::new(move |()| {
        let back = detail.get_untracked().map(|a| learner_button_id(&a));
        detail.set(None);
        if let Some(id) = back {
            focus_soon(id);
        }
        resize_soon();
    });
    let report = move || ctx.report.get().and_then(Result::ok);
    view! {
        <div hidden=move || detail.get().is_some()>
            {move || match ctx.report.get() {
                None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, report.loading)}</p> }.into_any(),
                Some(Err(e)) => view! {
                    <p class="sc-banner sc-banner-error" id="sc-report-error" role="alert">{e}</p>
                }.into_any(),
                Some(Ok(r)) => view! { <Summary r /> }.into_any(),
            }}
            <div class="sc-admin-box-head sc-admin-learners-head">
                <h3 class="sc-h3" id="sc-learners-title">{leptos_i18n::td_string!(loc, report.learners)}</h3>
                <button type="button" class="sc-button sc-button-subtle" id="sc-report-refresh"
                    disabled=move || ctx.loading.get()
                    aria-busy=move || ctx.loading.get().then_some("true")
                    on:click=move |_| ctx.reload()>
                    {move || if ctx.loading.get() { leptos_i18n::td_string!(loc, report.refreshing) } else { leptos_i18n::td_string!(loc, report.refresh) }}
                </button>
            </div>
            <Filters ctx />
            {move || report().and_then(|r| r.search_note).map(|n| view! {
                <p class="sc-muted" id="sc-report-search-note">{n}</p>
            })}
            <NoticeArea id="sc-report-status" notice />
            <BulkBar ctx selected notice />
            {move || report().map(|r| view! { <Table r selected open_detail /> })}
            <Pager ctx />
            <div class="sc-admin-downloads">
                <CsvButton
                    id="sc-report-csv"
                    label={leptos_i18n::td_string!(loc, report.download_learners)}
                    fetch=move || {
                        let q = ctx.query.get_untracked();
                        async move { api::report_csv(ctx.course_id()?, q).await }
                    }
                    file_name=move || dated(&ctx.title(), "learners")
                    notice
                />
                <CsvButton
                    id="sc-attempts-csv"
                    label={leptos_i18n::td_string!(loc, report.download_attempts)}
                    fetch=move || async move { api::attempts_csv(ctx.course_id()?).await }
                    file_name=move || dated(&ctx.title(), "attempts")
                    notice
                />
                <span class="sc-muted">{leptos_i18n::td_string!(loc, report.download_note)}</span>
            </div>
        </div>
        {move || detail.get().map(|account| view! {
            <LearnerDetailView ctx account close=close_detail />
        })}
    }
}

fn learner_button_id(account: &str) -> String {
    let safe: String = account
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("sc-learner-{safe}")
}

/// Counts and charts.
#[component]
fn Summary(r: CourseReport) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let c = r.counts;
    let tiles: [(&str, &str, u32, bool); 8] = [
        (
            leptos_i18n::td_string!(loc, report.tile_learners),
            "learners",
            c.learners,
            false,
        ),
        (
            leptos_i18n::td_string!(loc, report.tile_enrolled),
            "enrolled",
            c.enrolled,
            false,
        ),
        (
            LearnerState::NotStarted.text(loc),
            "not-started",
            c.not_started,
            false,
        ),
        (
            LearnerState::InProgress.text(loc),
            "in-progress",
            c.in_progress,
            false,
        ),
        (
            LearnerState::Completed.text(loc),
            "completed",
            c.completed,
            false,
        ),
        (
            leptos_i18n::td_string!(loc, report.overdue),
            "overdue",
            c.overdue,
            c.overdue > 0,
        ),
        (
            LearnerState::RecertificationDue.text(loc),
            "recertification-due",
            c.recertification_due,
            c.recertification_due > 0,
        ),
        (
            LearnerState::Expired.text(loc),
            "expired",
            c.expired,
            c.expired > 0,
        ),
    ];
    view! {
        <dl class="sc-admin-totals" id="sc-report-totals">
            {tiles.into_iter().map(|(label, key, n, warn)| view! {
                <div class="sc-admin-total" class:sc-admin-total-warn=warn>
                    <dt>{label}</dt>
                    <dd data-total=key>{lang.integer(i64::from(n))}</dd>
                </div>
            }).collect_view()}
        </dl>
        <div class="sc-admin-charts">
            <figure class="sc-admin-chart">
                <figcaption>{leptos_i18n::td_string!(loc, report.completions_chart)}</figcaption>
                <div id="sc-chart-completion" inner_html=r.completion_chart_svg></div>
            </figure>
            <figure class="sc-admin-chart">
                <figcaption>{leptos_i18n::td_string!(loc, report.status_chart)}</figcaption>
                <div id="sc-chart-status" inner_html=r.status_chart_svg></div>
            </figure>
        </div>
    }
}

fn reason_code(r: Option<&ReasonFilter>) -> String {
    match r {
        None => String::new(),
        Some(ReasonFilter::Enrolled) => "enrolled".into(),
        Some(ReasonFilter::Direct) => "direct".into(),
        Some(ReasonFilter::SelfEnrolled) => "self".into(),
        Some(ReasonFilter::NotEnrolled) => "not-enrolled".into(),
        Some(ReasonFilter::Group(g)) => format!("group:{g}"),
    }
}

fn reason_from(code: &str) -> Option<ReasonFilter> {
    match code {
        "enrolled" => Some(ReasonFilter::Enrolled),
        "direct" => Some(ReasonFilter::Direct),
        "self" => Some(ReasonFilter::SelfEnrolled),
        "not-enrolled" => Some(ReasonFilter::NotEnrolled),
        other => other
            .strip_prefix("group:")
            .and_then(|g| GroupName::parse(g.to_owned()).ok())
            .map(ReasonFilter::Group),
    }
}

fn sort_code(s: ReportSort) -> String {
    ReportSort::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(0)
        .to_string()
}

/// Status, overdue, reason, name search, sort and direction.
#[component]
fn Filters(ctx: CourseCtx) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let q = ctx.query;
    let search = RwSignal::new(q.get_untracked().search);
    let groups = Memo::new(move |_| {
        ctx.report.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| r.groups.iter().map(|g| g.group.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let change = move |f: &dyn Fn(&mut api::ReportQuery)| {
        q.update(|q| {
            f(q);
            q.page = 0;
        });
    };
    view! {
        <form
            class="sc-admin-filters"
            role="search"
            aria-label={leptos_i18n::td_string!(loc, report.filter_label)}
            on:submit=move |ev| {
                ev.prevent_default();
                let text = search.get_untracked().trim().to_owned();
                change(&|q| q.search = text.clone());
            }
        >
            <label class="sc-label">
                {leptos_i18n::td_string!(loc, report.status)}
                <select class="sc-input" id="sc-filter-state"
                    prop:value=move || q.with(|q| q.state.map(|s| s.code()).unwrap_or_default().to_owned())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        change(&|q| q.state = LearnerState::from_code(&v));
                    }>
                    <option value="">{leptos_i18n::td_string!(loc, report.any_status)}</option>
                    {LearnerState::ALL.iter().map(|s| view! {
                        <option value=s.code()>{s.text(loc)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="sc-label">
                {leptos_i18n::td_string!(loc, report.enrolment)}
                <select class="sc-input" id="sc-filter-reason"
                    prop:value=move || { groups.track(); q.with(|q| reason_code(q.reason.as_ref())) }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        change(&|q| q.reason = reason_from(&v));
                    }>
                    <option value="">{leptos_i18n::td_string!(loc, report.everyone)}</option>
                    <option value="enrolled">{leptos_i18n::td_string!(loc, report.enrolled_any)}</option>
                    <option value="direct">{leptos_i18n::td_string!(loc, report.by_admin)}</option>
                    <option value="self">{leptos_i18n::td_string!(loc, report.self_enrolled)}</option>
                    {move || groups.get().into_iter().map(|g| view! {
                        <option value=format!("group:{g}")>{crate::locale::fill(leptos_i18n::td_string!(loc, report.group), &[&g])}</option>
                    }).collect_view()}
                    <option value="not-enrolled">{leptos_i18n::td_string!(loc, report.not_enrolled_open)}</option>
                </select>
            </label>
            <label class="sc-label sc-admin-grow">
                {leptos_i18n::td_string!(loc, report.name)}
                <span class="sc-admin-search">
                    <input class="sc-input" type="search" id="sc-filter-search" autocomplete="off"
                        placeholder={leptos_i18n::td_string!(loc, report.part_of_name)}
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev)) />
                    <button type="submit" class="sc-button sc-button-subtle" id="sc-filter-search-go">{leptos_i18n::td_string!(loc, report.search)}</button>
                </span>
            </label>
            <label class="sc-label">
                {leptos_i18n::td_string!(loc, report.sort_by)}
                <select class="sc-input" id="sc-sort"
                    prop:value=move || q.with(|q| sort_code(q.sort))
                    on:change=move |ev| {
                        let i: usize = event_target_value(&ev).parse().unwrap_or(0);
                        change(&|q| q.sort = ReportSort::ALL.get(i).copied().unwrap_or_default());
                    }>
                    {ReportSort::ALL.iter().enumerate().map(|(i, s)| view! {
                        <option value=i.to_string()>{s.text(loc)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="sc-label">
                {leptos_i18n::td_string!(loc, report.order)}
                <select class="sc-input" id="sc-sort-dir"
                    prop:value=move || if q.with(|q| q.descending) { "desc" } else { "asc" }
                    on:change=move |ev| {
                        let desc = event_target_value(&ev) == "desc";
                        change(&|q| q.descending = desc);
                    }>
                    <option value="asc">{leptos_i18n::td_string!(loc, report.ascending)}</option>
                    <option value="desc">{leptos_i18n::td_string!(loc, report.descending)}</option>
                </select>
            </label>
            <label class="sc-check sc-admin-check">
                <input type="checkbox" id="sc-filter-overdue"
                    prop:checked=move || q.with(|q| q.overdue_only)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        change(&|q| q.overdue_only = on);
                    } />
                {leptos_i18n::td_string!(loc, report.overdue_only)}
            </label>
            {move || {
                let active = q.with(|q| q.state.is_some() || q.overdue_only || q.reason.is_some() || !q.search.is_empty());
                active.then(|| view! {
                    <button type="button" class="sc-link" id="sc-filter-clear" on:click=move |_| {
                        search.set(String::new());
                        change(&|q| {
                            q.state = None;
                            q.overdue_only = false;
                            q.reason = None;
                            q.search.clear();
                        });
                    }>{leptos_i18n::td_string!(loc, report.clear_filters)}</button>
                })
            }}
            {move || ctx.loading.get().then(|| view! { <span class="sc-muted sc-admin-busy">{leptos_i18n::td_string!(loc, report.updating)}</span> })}
        </form>
    }
}

/// Unenrol, set or clear the due date of the selected learners.
#[component]
fn BulkBar(
    ctx: CourseCtx,
    selected: RwSignal<BTreeSet<String>>,
    notice: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let due = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let count = move || selected.with(|s| s.len() as u32);
    let accounts = move || -> Result<Vec<AccountId>, AppError> {
        selected
            .get_untracked()
            .into_iter()
            .map(|a| Ok(AccountId::parse(a)?))
            .collect()
    };
    let run = move |what: Bulk| {
        busy.set(true);
        confirming.set(false);
        let due_ms = format::due_from_input(&due.get_untracked());
        spawn_local(async move {
            let outcome = async {
                let ids = accounts()?;
                let id = ctx.course_id()?;
                match what {
                    Bulk::Unenrol => {
                        let o = api::unenrol(id, ids).await?;
                        let mut text = crate::locale::fill(
                            leptos_i18n::td_string!(loc, report.unenrolled),
                            &[&format::people(o.removed)],
                        );
                        if !o.kept_by_group.is_empty() {
                            let names: Vec<String> =
                                o.kept_by_group.iter().map(|a| ctx.name_of(a)).collect();
                            let sentence = if names.len() == 1 {
                                leptos_i18n::td_string!(loc, report.stays_by_group)
                            } else {
                                leptos_i18n::td_string!(loc, report.stay_by_group)
                            };
                            text.push_str(&crate::locale::fill(
                                sentence,
                                &[&format::people(names.len() as u32), &names.join(", ")],
                            ));
                        }
                        Ok(text)
                    }
                    Bulk::SetDue => {
                        let Some(at) = due_ms else {
                            return Err(AppError::invalid(leptos_i18n::td_string!(
                                loc,
                                report.choose_due_first
                            )));
                        };
                        let changed = api::set_due(id, ids, Some(at)).await?;
                        Ok(crate::locale::fill(
                            leptos_i18n::td_string!(loc, report.due_set),
                            &[&format::day(at), &format::people(changed)],
                        ))
                    }
                    Bulk::ClearDue => {
                        let changed = api::set_due(id, ids, None).await?;
                        Ok(crate::locale::fill(
                            leptos_i18n::td_string!(loc, report.due_cleared),
                            &[&format::people(changed)],
                        ))
                    }
                }
            }
            .await;
            let ok = outcome.is_ok();
            notice.try_set(Some(Notice::from_result(outcome)));
            busy.try_set(false);
            if ok {
                selected.try_set(BTreeSet::new());
                ctx.reload();
            }
        });
    };
    view! {
        <div class="sc-admin-bulk" role="group" aria-labelledby="sc-bulk-count">
            <span id="sc-bulk-count" class="sc-admin-bulk-count">
                {move || match count() {
                    0 => leptos_i18n::td_string!(loc, report.bulk_hint).to_owned(),
                    n => crate::locale::fill(leptos_i18n::td_string!(loc, report.selected), &[&n]),
                }}
            </span>
            <button type="button" class="sc-button sc-button-subtle" id="sc-bulk-unenrol"
                disabled=move || count() == 0 || busy.get()
                on:click=move |_| {
                    confirming.set(true);
                    focus_soon("sc-bulk-unenrol-confirm".into());
                    resize_soon();
                }>{leptos_i18n::td_string!(loc, report.unenrol_dots)}</button>
            <span class="sc-admin-bulk-due">
                <label for="sc-bulk-due">{leptos_i18n::td_string!(loc, report.due_date)}</label>
                <input type="date" class="sc-input" id="sc-bulk-due"
                    prop:value=move || due.get()
                    on:input=move |ev| due.set(event_target_value(&ev)) />
                <button type="button" class="sc-button sc-button-subtle" id="sc-bulk-set-due"
                    disabled=move || count() == 0 || busy.get() || format::due_from_input(&due.get()).is_none()
                    on:click=move |_| run(Bulk::SetDue)>{leptos_i18n::td_string!(loc, report.set_due)}</button>
                <button type="button" class="sc-button sc-button-subtle" id="sc-bulk-clear-due"
                    disabled=move || count() == 0 || busy.get()
                    on:click=move |_| run(Bulk::ClearDue)>{leptos_i18n::td_string!(loc, report.clear_due)}</button>
            </span>
        </div>
        {move || (confirming.get() && count() > 0).then(|| {
            let n = count();
            view! {
                <div class="sc-banner sc-banner-warn sc-admin-confirm" role="group" aria-labelledby="sc-bulk-unenrol-question">
                    <p id="sc-bulk-unenrol-question">
                        {crate::locale::fill(leptos_i18n::td_string!(loc, report.unenrol_question), &[&format::people(n)])}
                        {leptos_i18n::td_string!(loc, report.unenrol_kept)}
                    </p>
                    <button type="button" class="sc-button sc-admin-danger" id="sc-bulk-unenrol-confirm"
                        on:click=move |_| run(Bulk::Unenrol)>{crate::locale::fill(leptos_i18n::td_string!(loc, report.unenrol_n), &[&format::people(n)])}</button>
                    <button type="button" class="sc-button sc-button-subtle" on:click=move |_| {
                        confirming.set(false);
                        focus_soon("sc-bulk-unenrol".into());
                    }>{leptos_i18n::td_string!(loc, report.cancel)}</button>
                </div>
            }
        })}
    }
}

#[derive(Clone, Copy, Debug)]
enum Bulk {
    Unenrol,
    SetDue,
    ClearDue,
}

/// The learner table of the current page.
#[component]
fn Table(
    r: CourseReport,
    selected: RwSignal<BTreeSet<String>>,
    open_detail: Callback<String>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    if r.rows.is_empty() {
        let filtered = r.total == 0 && r.counts.learners > 0;
        return view! {
            <p class="sc-empty" id="sc-report-empty">
                {if filtered {
                    leptos_i18n::td_string!(loc, report.no_match)
                } else {
                    leptos_i18n::td_string!(loc, report.no_learners)
                }}
            </p>
        }
        .into_any();
    }
    let on_page: Vec<String> = r.rows.iter().map(|row| row.account_id.clone()).collect();
    let all = StoredValue::new(on_page);
    let all_checked = move || {
        selected.with(|s| all.with_value(|a| !a.is_empty() && a.iter().all(|x| s.contains(x))))
    };
    let some_checked = move || {
        selected.with(|s| all.with_value(|a| a.iter().any(|x| s.contains(x)))) && !all_checked()
    };
    let lessons_total = r.course.lessons_total;
    let quizzes_total = r.course.quizzes_total;
    view! {
        <div class="sc-admin-scroll" role="region" aria-labelledby="sc-report-caption" tabindex="0">
            <table class="sc-table sc-admin-table" id="sc-report-rows">
                <caption id="sc-report-caption" class="sc-visually-hidden">{leptos_i18n::td_string!(loc, report.caption)}</caption>
                <thead>
                    <tr>
                        <th scope="col" class="sc-admin-select">
                            <input type="checkbox" id="sc-select-all" aria-label={leptos_i18n::td_string!(loc, report.select_all)}
                                prop:checked=all_checked
                                prop:indeterminate=some_checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| all.with_value(|a| for x in a {
                                        if on { s.insert(x.clone()); } else { s.remove(x); }
                                    }));
                                } />
                        </th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.learner)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.status)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.enrolled_because)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.due)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.progress)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.best_score)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.completed)}</th>
                        <th scope="col">{leptos_i18n::td_string!(loc, report.last_activity)}</th>
                    </tr>
                </thead>
                <tbody>
                    {r.rows.into_iter().map(|row| view! {
                        <Row row selected open_detail lessons_total quizzes_total />
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn Row(
    row: LearnerRow,
    selected: RwSignal<BTreeSet<String>>,
    open_detail: Callback<String>,
    lessons_total: u32,
    quizzes_total: u32,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let account = row.account_id.clone();
    let name = row.name.clone().unwrap_or_else(|| row.account_id.clone());
    let checked = {
        let a = account.clone();
        move || selected.with(|s| s.contains(&a))
    };
    let toggle = {
        let a = account.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(a.clone());
                } else {
                    s.remove(&a);
                }
            });
        }
    };
    let open = {
        let a = account.clone();
        move |_| open_detail.run(a.clone())
    };
    let reasons = format::reasons(&row.reasons);
    let p = row.progress_percent.min(100);
    let attempts = match row.attempts {
        0 => leptos_i18n::td_string!(loc, report.no_attempts).to_owned(),
        1 => leptos_i18n::td_string!(loc, report.one_attempt).to_owned(),
        n => crate::locale::fill(leptos_i18n::td_string!(loc, report.n_attempts), &[&n]),
    };
    let expiry = match (row.completed_at_ms, row.expires_at_ms) {
        (None, _) => None,
        (Some(_), None) => Some(leptos_i18n::td_string!(loc, report.never_expires).to_owned()),
        (Some(_), Some(e)) => Some(crate::locale::fill(
            leptos_i18n::td_string!(loc, report.expires),
            &[&format::day(e)],
        )),
    };
    view! {
        <tr data-account=account.clone() class:sc-admin-row-overdue=row.overdue>
            <td class="sc-admin-select">
                <input type="checkbox" aria-label=crate::locale::fill(leptos_i18n::td_string!(loc, report.select_name), &[&name]) prop:checked=checked on:change=toggle />
            </td>
            <th scope="row" class="sc-admin-nowrap">
                <button type="button" class="sc-link sc-admin-learner" id=learner_button_id(&account) on:click=open>
                    {name.clone()}
                </button>
                {row.name.is_none().then(|| view! { <span class="sc-admin-sub">{leptos_i18n::td_string!(loc, report.name_not_shared)}</span> })}
            </th>
            <td>
                <span class="sc-admin-lozenges">
                    <span class=format::state_class(row.state)>{row.state.text(loc)}</span>
                    {row.overdue.then(|| view! { <span class="sc-status sc-admin-overdue">{leptos_i18n::td_string!(loc, report.overdue)}</span> })}
                    {(row.late_answers > 0).then(|| view! {
                        <span class="sc-status sc-status-warn" title={leptos_i18n::td_string!(loc, report.late_title)}>
                            {if row.late_answers == 1 { leptos_i18n::td_string!(loc, report.one_late).to_owned() } else { crate::locale::fill(leptos_i18n::td_string!(loc, report.n_late), &[&row.late_answers]) }}
                        </span>
                    })}
                </span>
            </td>
            <td>
                {if reasons.is_empty() {
                    view! { <span class="sc-muted">{leptos_i18n::td_string!(loc, report.not_enrolled)}</span> }.into_any()
                } else {
                    view! {
                        <ul class="sc-admin-reasons">
                            {reasons.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
            <td class="sc-admin-nowrap">{format::opt_day(row.due_at_ms)}</td>
            <td>
                <div class="sc-admin-progress">
                    <div class="sc-progress" role="progressbar" aria-label=crate::locale::fill(leptos_i18n::td_string!(loc, report.progress_of), &[&name])
                        aria-valuemin="0" aria-valuemax="100" aria-valuenow=p.to_string()>
                        <div class="sc-progress-bar" style=format!("width: {p}%")></div>
                    </div>
                    <span>{lang.percent(f64::from(p))}</span>
                </div>
                <span class="sc-admin-sub sc-admin-nowrap">
                    {crate::locale::fill(leptos_i18n::td_string!(loc, report.lessons_quizzes), &[&row.lessons_opened, &lessons_total, &row.quizzes_passed, &quizzes_total])}
                </span>
            </td>
            <td class="sc-admin-nowrap">
                {row.best_percent.map(format::percent).unwrap_or_else(|| "—".into())}
                <span class="sc-admin-sub">{attempts}</span>
            </td>
            <td class="sc-admin-nowrap">
                {format::opt_day(row.completed_at_ms)}
                {row.completed_version.map(|v| view! { <span class="sc-admin-sub">{crate::locale::fill(leptos_i18n::td_string!(loc, report.on_version), &[&v])}</span> })}
                {expiry.map(|e| view! { <span class="sc-admin-sub">{e}</span> })}
            </td>
            <td class="sc-admin-nowrap">
                {row.last_activity_ms.map(format::day).unwrap_or_else(|| "—".into())}
                {row.last_activity_ms.map(|ms| view! { <span class="sc-admin-sub">{format::time(ms)}</span> })}
            </td>
        </tr>
    }
}

/// Previous / next, "Rows X–Y of Z", rows per page.
#[component]
fn Pager(ctx: CourseCtx) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let q = ctx.query;
    let numbers = move || {
        ctx.report.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| (r.page, r.page_size, r.rows.len() as u32, r.total))
        })
    };
    view! {
        {move || numbers().filter(|(_, _, _, total)| *total > 0).map(|(page, size, n, total)| {
            let first = page * size + 1;
            let last = first + n.max(1) - 1;
            let has_prev = page > 0;
            let has_next = last < total;
            view! {
                <nav class="sc-admin-pager" aria-label={leptos_i18n::td_string!(loc, report.pages)}>
                    <span class="sc-admin-range" id="sc-report-range">{crate::locale::fill(leptos_i18n::td_string!(loc, report.rows), &[&first, &last, &total])}</span>
                    <button type="button" class="sc-button sc-button-subtle" id="sc-report-prev" disabled=!has_prev
                        on:click=move |_| q.update(|q| q.page = q.page.saturating_sub(1))>{leptos_i18n::td_string!(loc, report.previous)}</button>
                    <button type="button" class="sc-button sc-button-subtle" id="sc-report-next" disabled=!has_next
                        on:click=move |_| q.update(|q| q.page += 1)>{leptos_i18n::td_string!(loc, report.next)}</button>
                    <label class="sc-admin-inline-label">
                        {leptos_i18n::td_string!(loc, report.rows_per_page)}
                        <select class="sc-input" id="sc-page-size"
                            prop:value=move || q.with(|q| q.page_size.to_string())
                            on:change=move |ev| {
                                let size = event_target_value(&ev).parse().unwrap_or(50);
                                q.update(|q| { q.page_size = size; q.page = 0; });
                            }>
                            {PAGE_SIZES.iter().map(|s| view! { <option value=s.to_string()>{s.to_string()}</option> }).collect_view()}
                        </select>
                    </label>
                </nav>
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_filters_round_trip_through_their_codes() {
        let all = [
            None,
            Some(ReasonFilter::Enrolled),
            Some(ReasonFilter::Direct),
            Some(ReasonFilter::SelfEnrolled),
            Some(ReasonFilter::NotEnrolled),
            Some(ReasonFilter::Group(
                GroupName::parse("new-starters".to_owned()).unwrap(),
            )),
        ];
        for r in all {
            let code = reason_code(r.as_ref());
            assert_eq!(reason_from(&code), r, "{code}");
        }
    }

    #[test]
    fn learner_button_ids_are_safe() {
        assert_eq!(
            learner_button_id("557058:leo-learner-0002"),
            "sc-learner-557058-leo-learner-0002"
        );
    }
}
