//! The versions panel: every published version, and restoring one as the
//! draft.

use leptos::{prelude::*, task::spawn_local};

use super::state::{Ctx, Sel};
use crate::authoring::api;

#[component]
pub(super) fn VersionsPanel(ctx: Ctx) -> impl IntoView {
    let loc = ctx.loc;
    let lang = crate::locale::use_lang();
    let restoring = RwSignal::new(None::<i64>);
    let restore = move |v: i64| {
        let Some(id) = ctx.course_id.get_untracked() else {
            return;
        };
        ctx.busy.set(true);
        restoring.set(Some(v));
        spawn_local(async move {
            match api::restore_version(id.clone(), v, ctx.revision.get_untracked()).await {
                Ok(_) => match api::editor_open(Some(id)).await {
                    Ok(s) => {
                        ctx.apply(s);
                        ctx.sel.set(Sel::Versions);
                        ctx.say(
                            true,
                            crate::locale::fill(
                                leptos_i18n::td_string!(loc, editor.version_restored),
                                &[&v],
                            ),
                        );
                    }
                    Err(e) => ctx.say(false, e.text(loc)),
                },
                Err(e) => ctx.say(false, e.text(loc)),
            }
            restoring.try_set(None);
            ctx.busy.try_set(false);
        });
    };
    view! {
        <h2 class="sc-h2">{leptos_i18n::td_string!(loc, editor.versions)}</h2>
        <p class="sc-muted">{leptos_i18n::td_string!(loc, editor.versions_help)}</p>
        {move || {
            let vs = ctx.versions.get();
            if vs.is_empty() {
                return view! { <p class="sc-empty">{leptos_i18n::td_string!(loc, editor.not_published)}</p> }.into_any();
            }
            view! {
                <table class="sc-table" id="sc-versions">
                    <thead><tr><th>{leptos_i18n::td_string!(loc, editor.version)}</th><th>{leptos_i18n::td_string!(loc, editor.title)}</th><th>{leptos_i18n::td_string!(loc, editor.published)}</th><th>{leptos_i18n::td_string!(loc, editor.recertify)}</th><th></th></tr></thead>
                    <tbody>
                        {vs.into_iter().map(|v| {
                            let n = v.version;
                            view! {
                                <tr>
                                    <td>{format!("v{n}")}</td>
                                    <td>{v.title}</td>
                                    <td><time>{lang.date_time(v.published_at)}</time></td>
                                    <td>{if v.material { leptos_i18n::td_string!(loc, common.yes) } else { "—" }}</td>
                                    <td><button class="sc-button sc-button-subtle" disabled=move || ctx.busy.get() on:click=move |_| restore(n)
                                        aria-busy=move || (restoring.get() == Some(n)).then_some("true")>
                                        {move || if restoring.get() == Some(n) { leptos_i18n::td_string!(loc, editor.restoring) } else { leptos_i18n::td_string!(loc, editor.restore) }}
                                    </button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
