//! The *Analytics* tab: per quiz question of a published version, how hard
//! it is (facility), whether it separates stronger from weaker learners
//! (discrimination), how long answers take, which options are chosen, and
//! what looks broken, in words.

use leptos::{prelude::*, task::spawn_local};

use super::{
    download::{dated, CsvButton},
    format, message, resize_soon, CourseCtx, Notice, NoticeArea,
};
use crate::space_admin::api::{self, flag_text, CourseAnalytics, QuestionAnalytics, QuizAnalytics};

#[component]
pub(super) fn Analytics(ctx: CourseCtx) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let version = RwSignal::new(None::<i64>);
    let data = RwSignal::new(None::<Result<CourseAnalytics, String>>);
    let notice = RwSignal::new(None::<Notice>);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let v = version.get();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let r = async { api::course_analytics(ctx.course_id()?, v).await }
                .await
                .map_err(message);
            if generation.try_get_value() == Some(mine) {
                data.try_set(Some(r));
                resize_soon();
            }
        });
    });
    let loaded = move || data.get().and_then(Result::ok);
    view! {
        <div id="sc-analytics">
            <div class="sc-admin-toolbar">
                {move || loaded().map(|a| {
                    let current = a.version;
                    view! {
                        <label class="sc-admin-inline-label">
                            {leptos_i18n::td_string!(loc, analytics.course_version)}
                            <select class="sc-input" id="sc-analytics-version"
                                prop:value=current.to_string()
                                on:change=move |ev| version.set(event_target_value(&ev).parse().ok())>
                                {a.versions.iter().enumerate().map(|(i, v)| view! {
                                    <option value=v.to_string()>
                                        {crate::locale::fill(if i == 0 { leptos_i18n::td_string!(loc, analytics.version_latest) } else { leptos_i18n::td_string!(loc, analytics.version) }, &[v])}
                                    </option>
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
                <CsvButton
                    id="sc-analytics-csv"
                    label={leptos_i18n::td_string!(loc, analytics.download)}
                    fetch=move || {
                        let v = version.get_untracked();
                        async move { api::analytics_csv(ctx.course_id()?, v).await }
                    }
                    file_name=move || {
                        let v = data.with_untracked(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|a| a.version));
                        dated(&ctx.title(), &v.map(|v| format!("analytics-v{v}")).unwrap_or_else(|| "analytics".into()))
                    }
                    notice
                    disabled=Signal::derive(move || loaded().is_none())
                />
            </div>
            <NoticeArea id="sc-analytics-status" notice />
            {move || match data.get() {
                None => view! { <p class="sc-muted" role="status">{leptos_i18n::td_string!(loc, analytics.loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="sc-banner sc-banner-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(a)) => view! { <Figures a /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Figures(a: CourseAnalytics) -> impl IntoView {
    let loc = crate::locale::use_locale();
    view! {
        <p class="sc-muted sc-admin-help">
            {crate::locale::fill(leptos_i18n::td_string!(loc, analytics.figures_for), &[&a.version, &format::when(a.computed_at_ms)])}
            <strong>{leptos_i18n::td_string!(loc, analytics.facility)}</strong>{leptos_i18n::td_string!(loc, analytics.facility_help)}
            <strong>{leptos_i18n::td_string!(loc, analytics.discrimination)}</strong>{leptos_i18n::td_string!(loc, analytics.discrimination_help)}
        </p>
        {if a.quizzes.is_empty() {
            view! { <p class="sc-empty" id="sc-analytics-empty">{leptos_i18n::td_string!(loc, analytics.no_quiz)}</p> }.into_any()
        } else {
            a.quizzes.into_iter().map(|q| view! { <Quiz q /> }).collect_view().into_any()
        }}
    }
}

#[component]
fn Quiz(q: QuizAnalytics) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let heading = format!("sc-analytics-{}", q.module_id);
    let labelled_by = heading.clone();
    view! {
        <section class="sc-admin-quiz" data-quiz=q.module_id.clone() aria-labelledby=labelled_by>
            <h3 class="sc-h3" id=heading>{q.module_title.clone()}</h3>
            <p class="sc-muted">{match q.attempts {
                0 => leptos_i18n::td_string!(loc, analytics.no_attempts).to_owned(),
                1 => leptos_i18n::td_string!(loc, analytics.one_attempt).to_owned(),
                n => crate::locale::fill(leptos_i18n::td_string!(loc, analytics.n_attempts), &[&n]),
            }}</p>
            <div class="sc-admin-scroll" role="region" aria-label=crate::locale::fill(leptos_i18n::td_string!(loc, analytics.questions_of), &[&q.module_title]) tabindex="0">
                <table class="sc-table sc-admin-table sc-admin-analytics">
                    <caption class="sc-visually-hidden">{crate::locale::fill(leptos_i18n::td_string!(loc, analytics.questions_of), &[&q.module_title])}</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="sc-admin-num">"#"</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, analytics.question)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, analytics.kind)}</th>
                            <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, analytics.facility)}</th>
                            <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, analytics.discrimination)}</th>
                            <th scope="col" class="sc-admin-num">{leptos_i18n::td_string!(loc, analytics.average_time)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, analytics.answers_chosen)}</th>
                            <th scope="col">{leptos_i18n::td_string!(loc, analytics.flags)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {q.questions.into_iter().enumerate().map(|(i, question)| view! { <Question n=i + 1 question /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Question(n: usize, question: QuestionAnalytics) -> impl IntoView {
    let loc = crate::locale::use_locale();
    let lang = crate::locale::use_lang();
    let s = question.stats;
    let answered = s.answered;
    view! {
        <tr data-question=question.question_id.clone()>
            <td class="sc-admin-num">{n}</td>
            <th scope="row">
                {question.prompt.clone()}
                <span class="sc-admin-sub">{crate::locale::fill(leptos_i18n::td_string!(loc, analytics.answered_of), &[&answered, &s.attempts])}</span>
            </th>
            <td class="sc-admin-nowrap">{format::kind_label(&question.kind).to_owned()}</td>
            <td class="sc-admin-num">{s.facility.map(|f| format::percent(f * 100.0)).unwrap_or_else(|| "—".into())}</td>
            <td class="sc-admin-num">{s.discrimination.map(|d| lang.fixed(d, 2)).unwrap_or_else(|| "—".into())}</td>
            <td class="sc-admin-num">{s.avg_seconds.map(|x| crate::locale::fill(leptos_i18n::td_string!(loc, analytics.seconds), &[&lang.decimal(x.round(), 0)])).unwrap_or_else(|| "—".into())}</td>
            <td>
                {match s.choices {
                    None => view! { <span class="sc-muted">"—"</span> }.into_any(),
                    Some(c) => {
                        let most = c.options.iter().map(|o| o.chosen).max().unwrap_or(0).max(1);
                        view! {
                            <ul class="sc-admin-options">
                                {c.options.into_iter().map(|o| {
                                    let width = f64::from(o.chosen) * 100.0 / f64::from(most);
                                    view! {
                                        <li class:sc-admin-option-correct=o.correct>
                                            <span class="sc-admin-option-text">
                                                {o.text.clone()}
                                                {o.correct.then(|| view! {
                                                    <span class="sc-admin-correct"><span aria-hidden="true">" ✓"</span><span class="sc-visually-hidden">{leptos_i18n::td_string!(loc, analytics.correct)}</span></span>
                                                })}
                                            </span>
                                            <span class="sc-admin-bar" aria-hidden="true"><span style=format!("width: {width:.0}%")></span></span>
                                            <span class="sc-admin-count">{crate::locale::fill(leptos_i18n::td_string!(loc, analytics.chosen), &[&o.chosen])}</span>
                                        </li>
                                    }
                                }).collect_view()}
                                {(c.unrecognised > 0).then(|| view! {
                                    <li class="sc-muted">{crate::locale::fill(leptos_i18n::td_string!(loc, analytics.unmatched), &[&c.unrecognised])}</li>
                                })}
                            </ul>
                        }.into_any()
                    }
                }}
            </td>
            <td>
                {if s.flags.is_empty() {
                    view! { <span class="sc-muted">{leptos_i18n::td_string!(loc, analytics.none)}</span> }.into_any()
                } else {
                    view! {
                        <ul class="sc-admin-flags">
                            {s.flags.iter().map(|f| view! {
                                <li><span class="sc-status sc-status-warn"><span aria-hidden="true">"⚠ "</span>{flag_text(loc, f)}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
