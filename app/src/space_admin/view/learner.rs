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
                <span aria-hidden="true">"← "</span>"All learners"
            </button>
            <h3 class="sc-h2" id="sc-learner-title" tabindex="-1">{title}</h3>
            {move || match detail.get() {
                None => view! { <p class="sc-muted" role="status">"Loading the learner's attempts…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(d)) => view! { <Standing d /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Standing(d: LearnerDetail) -> impl IntoView {
    let row = d.row;
    let reasons = format::reasons(&row.reasons);
    let lessons = d.course.lessons_total;
    let quizzes = d.course.quizzes_total;
    view! {
        <dl class="sc-facts sc-admin-facts" id="sc-learner-facts">
            <dt>"E-mail"</dt>
            <dd>{match d.email {
                Some(e) => {
                    let href = format!("mailto:{e}");
                    view! { <a href=href>{e}</a> }.into_any()
                }
                None => view! { <span class="sc-muted">"Not shared by Confluence"</span> }.into_any(),
            }}</dd>
            <dt>"Account ID"</dt>
            <dd>{row.account_id.clone()}</dd>
            <dt>"Status"</dt>
            <dd>
                <span class=format::state_class(row.state)>{row.state.label()}</span>
                {row.overdue.then(|| view! { <span class="sc-status sc-admin-overdue">"Overdue"</span> })}
            </dd>
            <dt>"Enrolled because"</dt>
            <dd>{if reasons.is_empty() { "Not enrolled (open course)".to_owned() } else { reasons.join("; ") }}</dd>
            <dt>"Enrolled"</dt>
            <dd>{format::opt_when(row.enrolled_at_ms)}</dd>
            <dt>"Due"</dt>
            <dd>{format::opt_day(row.due_at_ms)}</dd>
            <dt>"Progress"</dt>
            <dd>{format!(
                "{}% — {} of {lessons} lessons opened, {} of {quizzes} quizzes passed",
                row.progress_percent, row.lessons_opened, row.quizzes_passed
            )}</dd>
            <dt>"Best score"</dt>
            <dd>{row.best_percent.map(format::percent).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Completed"</dt>
            <dd>{match (row.completed_at_ms, row.completed_version) {
                (Some(at), Some(v)) => format!("{} (version {v})", format::when(at)),
                (Some(at), None) => format::when(at),
                _ => "—".into(),
            }}</dd>
            <dt>"Certificate expires"</dt>
            <dd>{match (row.completed_at_ms, row.expires_at_ms) {
                (None, _) => "—".to_string(),
                (Some(_), None) => "Never".to_string(),
                (Some(_), Some(e)) => format::day(e),
            }}</dd>
            <dt>"Last activity"</dt>
            <dd>{format::opt_when(row.last_activity_ms)}</dd>
            <dt>"Late answers counted"</dt>
            <dd>{row.late_answers}</dd>
        </dl>
        <h4 class="sc-h3">{format!("Attempts ({})", d.attempts.len())}</h4>
        {if d.attempts.is_empty() {
            view! { <p class="sc-empty" id="sc-learner-no-attempts">"No quiz attempts yet."</p> }.into_any()
        } else {
            d.attempts.into_iter().map(|a| view! { <Attempt a /> }).collect_view().into_any()
        }}
    }
}

#[component]
fn Attempt(a: AttemptDetail) -> impl IntoView {
    let heading = format!("sc-attempt-{}", a.attempt_id);
    let labelled_by = heading.clone();
    let caption = format!("Answers of {} attempt {}", a.module_title, a.number);
    let outcome = match a.passed {
        Some(true) => view! { <span class="sc-status sc-status-ok">"Passed"</span> }.into_any(),
        Some(false) => {
            view! { <span class="sc-status sc-status-warn">"Not passed"</span> }.into_any()
        }
        None => view! { <span class="sc-status">"Not submitted"</span> }.into_any(),
    };
    let score = match (a.score, a.max_score) {
        (Some(s), Some(m)) => format!(
            "Score {} of {}{}",
            format::points(s),
            format::points(m),
            a.percent
                .map(|p| format!(" ({})", format::percent(p)))
                .unwrap_or_default()
        ),
        _ => "Not graded yet".into(),
    };
    view! {
        <section class="sc-admin-attempt" data-attempt=a.attempt_id.clone() aria-labelledby=labelled_by>
            <h5 class="sc-admin-attempt-title" id=heading>
                {format!("{} — attempt {}", a.module_title, a.number)}
                " " {outcome}
                {(!a.current_cycle).then(|| view! { <span class="sc-status">"Earlier cycle"</span> })}
            </h5>
            <p class="sc-admin-meta">
                <span class="sc-admin-score">{score}</span>
                <span>{format!("Course version {}", a.course_version)}</span>
                <span>{format!("Started {}", format::when(a.started_at_ms))}</span>
                <span>{match a.submitted_at_ms {
                    Some(at) => format!("Submitted {}", format::when(at)),
                    None => "Not submitted".into(),
                }}</span>
            </p>
            <div class="sc-admin-scroll" role="region" aria-label=caption.clone() tabindex="0">
                <table class="sc-table sc-admin-table sc-admin-answers">
                    <caption class="sc-visually-hidden">{caption.clone()}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="sc-admin-num">"#"</th>
                            <th scope="col">"Question"</th>
                            <th scope="col">"Answer given"</th>
                            <th scope="col">"Correct answer"</th>
                            <th scope="col">"Result"</th>
                            <th scope="col" class="sc-admin-num">"Points"</th>
                            <th scope="col">"Late"</th>
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
    match v.len() {
        0 => view! { <span class="sc-muted">"Not answered"</span> }.into_any(),
        1 => view! { <span>{v.into_iter().next()}</span> }.into_any(),
        _ => view! {
            <ol class="sc-admin-lines">{v.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ol>
        }
        .into_any(),
    }
}

#[component]
fn Answer(n: usize, ans: AnswerDetail) -> impl IntoView {
    let answered = !ans.answer.is_empty();
    let result = match (ans.correct, answered) {
        (_, false) => view! { <span class="sc-status">"Not answered"</span> }.into_any(),
        (Some(Correctness::Correct), _) => {
            view! { <span class="sc-status sc-status-ok">"Correct"</span> }.into_any()
        }
        (Some(Correctness::Partial), _) => {
            view! { <span class="sc-status sc-status-warn">"Partly correct"</span> }.into_any()
        }
        (Some(Correctness::Incorrect), _) => {
            view! { <span class="sc-status sc-admin-wrong">"Incorrect"</span> }.into_any()
        }
        (None, _) => view! { <span class="sc-status">"Not graded"</span> }.into_any(),
    };
    view! {
        <tr data-question=ans.question_id.clone()>
            <td class="sc-admin-num">{n}</td>
            <th scope="row" class="sc-admin-prompt"><div class="sc-lesson-body" inner_html=ans.prompt_html></div></th>
            <td>{lines(ans.answer)}</td>
            <td>{lines(ans.correct_answer)}</td>
            <td>{result}</td>
            <td class="sc-admin-num">{format!("{} of {}", format::points(ans.score), format::points(ans.max))}</td>
            <td>{if ans.late {
                view! { <span class="sc-status sc-status-warn" title=ans.answered_at_ms.map(format::when).unwrap_or_default()>"Late, counted"</span> }.into_any()
            } else {
                view! { <span class="sc-muted">"—"</span> }.into_any()
            }}</td>
        </tr>
    }
}
