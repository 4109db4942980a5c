//! One learner: e-mail, standing, and every attempt (newest first) with
//! each answer next to the correct one, its result and points. Prompts are
//! Markdown the server rendered and sanitised (as learners saw them).

use course::{ids::AccountId, model::Correctness};
use leptos::{prelude::*, task::spawn_local};

use super::{format, message, resize_soon, CourseCtx};
use crate::space_admin::api::{self, AnswerDetail, AttemptDetail, LearnerDetail};

#[component]
pub(super) fn LearnerDetailView(
    ctx: CourseCtx,
    account: String,
    close: Callback<()>,
) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let detail = RwSignal::new(None::<Result<LearnerDetail, String>>);
    let who = StoredValue::new(account);
    Effect::new(move |_| {
        ctx.changes.track();
        spawn_local(async move {
            let r = async {
                api::learner_detail(ctx.course_id()?, AccountId::parse(who.get_value())?).await
            }
            .await
            .map_err(message);
            detail.try_set(Some(r));
            resize_soon();
        });
    });
    let title = move || {
        detail
            .with(|d| {
                d.as_ref()
                    .and_then(|d| d.as_ref().ok())
                    .and_then(|d| d.row.name.clone())
            })
            .unwrap_or_else(|| ctx.name_of(&who.get_value()))
    };
    view! {
        <section class="sc-admin-detail" id="sc-learner-detail" aria-labelledby="sc-learner-title">
            <button type="button" class="sc-link sc-admin-back" id="sc-learner-back" on:click=move |_| close.run(())>
                <span aria-hidden="true">"← "</span>{leptos_i18n::td_string!(loc, detail.all_learners)}
            </button>
            <h3 class="sc-h2" id="sc-learner-title" tabindex="-1">{title}</h3>
            {move || match detail.get() {
                None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, detail.loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(d)) => view! { <Standing d /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Standing(d: LearnerDetail) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let row = d.row;
    let reasons = format::reasons(&row.reasons);
    let lessons = d.course.lessons_total;
    let quizzes = d.course.quizzes_total;
    view! {
        <dl class="sc-facts sc-admin-facts" id="sc-learner-facts">
            <dt>{leptos_i18n::td_string!(loc, detail.email)}</dt>
            <dd>{match d.email {
                Some(e) => {
                    let href = format!("mailto:{e}");
                    view! { <a href=href>{e}</a> }.into_any()
                }
                None => view! { <span class="sc-muted">{leptos_i18n::td_string!(loc, detail.not_shared)}</span> }.into_any(),
            }}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.account_id)}</dt>
            <dd>{row.account_id.clone()}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.status)}</dt>
            <dd>
                <span class=format::state_class(row.state)>{row.state.text(loc)}</span>
                {row.overdue.then(|| view! { <span class="sc-status sc-admin-overdue">{leptos_i18n::td_string!(loc, report.overdue)}</span> })}
            </dd>
            <dt>{leptos_i18n::td_string!(loc, detail.enrolled_because)}</dt>
            <dd>{if reasons.is_empty() { leptos_i18n::td_string!(loc, detail.not_enrolled_open).to_owned() } else { reasons.join("; ") }}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.enrolled)}</dt>
            <dd>{format::opt_when(row.enrolled_at_ms)}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.due)}</dt>
            <dd>{format::opt_day(row.due_at_ms)}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.progress)}</dt>
            <dd>{crate::locale::fill(
                leptos_i18n::td_string!(loc, detail.progress_text),
                &[&lang.percent(f64::from(row.progress_percent)), &row.lessons_opened, &lessons, &row.quizzes_passed, &quizzes],
            )}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.best_score)}</dt>
            <dd>{row.best_percent.map(format::percent).unwrap_or_else(|| "—".into())}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.completed)}</dt>
            <dd>{match (row.completed_at_ms, row.completed_version) {
                (Some(at), Some(v)) => crate::locale::fill(leptos_i18n::td_string!(loc, detail.completed_version), &[&format::when(at), &v]),
                (Some(at), None) => format::when(at),
                _ => "—".into(),
            }}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.cert_expires)}</dt>
            <dd>{match (row.completed_at_ms, row.expires_at_ms) {
                (None, _) => "—".to_string(),
                (Some(_), None) => leptos_i18n::td_string!(loc, detail.never).to_string(),
                (Some(_), Some(e)) => format::day(e),
            }}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.last_activity)}</dt>
            <dd>{format::opt_when(row.last_activity_ms)}</dd>
            <dt>{leptos_i18n::td_string!(loc, detail.late_counted)}</dt>
            <dd>{row.late_answers}</dd>
        </dl>
        <h4 class="sc-h3">{crate::locale::fill(leptos_i18n::td_string!(loc, detail.attempts), &[&d.attempts.len()])}</h4>
        {if d.attempts.is_empty() {
            view! { <p class="sc-empty" id="sc-learner-no-attempts">{leptos_i18n::td_string!(loc, detail.no_attempts)}</p> }.into_any()
        } else {
            d.attempts.into_iter().map(|a| view! { <Attempt a /> }).collect_view().into_any()
        }}
    }
}

#[component]
fn Attempt(a: AttemptDetail) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let heading = format!("sc-attempt-{}", a.attempt_id);
    let labelled_by = heading.clone();
    let caption = crate::locale::fill(
        leptos_i18n::td_string!(loc, detail.answers_of),
        &[&a.module_title, &a.number],
    );
    let outcome = match a.passed {
        Some(true) => view! { <span class="sc-status sc-status-ok">{leptos_i18n::td_string!(loc, detail.passed)}</span> }.into_any(),
        Some(false) => {
            view! { <span class="sc-status sc-status-warn">{leptos_i18n::td_string!(loc, detail.not_passed)}</span> }.into_any()
        }
        None => view! { <span class="sc-status">{leptos_i18n::td_string!(loc, detail.not_submitted)}</span> }.into_any(),
    };
    let score = match (a.score, a.max_score) {
        (Some(s), Some(m)) => crate::locale::fill(
            leptos_i18n::td_string!(loc, detail.score),
            &[
                &format::points(s),
                &format::points(m),
                &a.percent
                    .map(|p| format!(" ({})", format::percent(p)))
                    .unwrap_or_default(),
            ],
        ),
        _ => leptos_i18n::td_string!(loc, detail.not_graded_yet).into(),
    };
    view! {
        <section class="sc-admin-attempt" data-attempt=a.attempt_id.clone() aria-labelledby=labelled_by>
            <h5 class="sc-admin-attempt-title" id=heading>
                {crate::locale::fill(leptos_i18n::td_string!(loc, detail.attempt_title), &[&a.module_title, &a.number])}
                " " {outcome}
                {(!a.current_cycle).then(|| view! { <span class="sc-status">{leptos_i18n::td_string!(loc, detail.earlier_cycle)}</span> })}
            </h5>
            <p class="sc-admin-meta">
                <span class="sc-admin-score">{score}</span>
                <span>{crate::locale::fill(leptos_i18n::td_string!(loc, detail.course_version), &[&a.course_version])}</span>
                <span>{crate::locale::fill(leptos_i18n::td_string!(loc, detail.started), &[&format::when(a.started_at_ms)])}</span>
                <span>{match a.submitted_at_ms {
                    Some(at) => crate::locale::fill(leptos_i18n::td_string!(loc, detail.submitted), &[&format::when(at)]),
                    None => leptos_i18n::td_string!(loc, detail.not_submitted).into(),
                }}</span>
            </p>
            <div class="sc-admin-scroll" role="region" aria-label=caption.clone() tabindex="0">
                <table class="sc-table sc-admin-table sc-admin-answers">
                    <caption class="sc-visually-hidden">{caption.clone()}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="sc-admin-num">"#"</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, detail.question)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, detail.answer_given)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, detail.correct_answer)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, detail.result)}</th>
                            <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, detail.points)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, detail.late)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {a.answers.into_iter().enumerate().map(|(i, ans)| view! { <Answer n=i + 1 ans /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

fn lines(v: Vec<String>) -> AnyView {
    let loc = crate::locale::use_locale();
    match v.len() {
        0 => view! { <span class="sc-muted">{leptos_i18n::td_string!(loc, detail.not_answered)}</span> }.into_any(),
        1 => view! { <span>{v.into_iter().next()}</span> }.into_any(),
        _ => view! {
            <ol class="sc-admin-lines">{v.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ol>
        }
        .into_any(),
    }
}

#[component]
fn Answer(n: usize, ans: AnswerDetail) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let answered = !ans.answer.is_empty();
    let result = match (ans.correct, answered) {
        (_, false) => view! { <span class="sc-status">{leptos_i18n::td_string!(loc, detail.not_answered)}</span> }.into_any(),
        (Some(Correctness::Correct), _) => {
            view! { <span class="sc-status sc-status-ok">{leptos_i18n::td_string!(loc, detail.correct)}</span> }.into_any()
        }
        (Some(Correctness::Partial), _) => {
            view! { <span class="sc-status sc-status-warn">{leptos_i18n::td_string!(loc, detail.partly_correct)}</span> }.into_any()
        }
        (Some(Correctness::Incorrect), _) => {
            view! { <span class="sc-status sc-admin-wrong">{leptos_i18n::td_string!(loc, detail.incorrect)}</span> }.into_any()
        }
        (None, _) => view! { <span class="sc-status">{leptos_i18n::td_string!(loc, detail.not_graded)}</span> }.into_any(),
    };
    view! {
        <tr data-question=ans.question_id.clone()>
            <td class="sc-admin-num">{n}</td>
            <th scope="row" class="sc-admin-prompt"><div class="sc-lesson-body" inner_html=ans.prompt_html></div></th>
            <td>{lines(ans.answer)}</td>
            <td>{lines(ans.correct_answer)}</td>
            <td>{result}</td>
            <td class="sc-admin-num">{crate::locale::fill(leptos_i18n::td_string!(loc, detail.points_of), &[&format::points(ans.score), &format::points(ans.max)])}</td>
            <td>{if ans.late {
                view! { <span class="sc-status sc-status-warn" title=ans.answered_at_ms.map(format::when).unwrap_or_default()>{leptos_i18n::td_string!(loc, detail.late_counted_tag)}</span> }.into_any()
            } else {
                view! { <span class="sc-muted">"—"</span> }.into_any()
            }}</td>
        </tr>
    }
}
