//! The versions panel: every published version, and restoring one as the
//! draft.

use leptos::{prelude::*, task::spawn_local};

use super::state::{Ctx, Sel};
use crate::authoring::api;

#[component]
pub(super) fn VersionsPanel(ctx: Ctx) -> impl IntoView {
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
                            format!("Version {v} is the draft again. Publish to make it live."),
                        );
                    }
                    Err(e) => ctx.say(false, e.to_string()),
                },
                Err(e) => ctx.say(false, e.to_string()),
            }
            restoring.try_set(None);
            ctx.busy.try_set(false);
        });
    };
    view! {
        <h2 class="sc-h2">"Versions"</h2>
        <p class="sc-muted">"Publishing creates a version that never changes. Learners take the latest; attempts on older versions keep them."</p>
        {move || {
            let vs = ctx.versions.get();
            if vs.is_empty() {
                return view! { <p class="sc-empty">"Not published yet."</p> }.into_any();
            }
            view! {
                <table class="sc-table" id="sc-versions">
                    <thead><tr><th>"Version"</th><th>"Title"</th><th>"Published"</th><th>"Re-certify"</th><th></th></tr></thead>
                    <tbody>
                        {vs.into_iter().map(|v| {
                            let n = v.version;
                            view! {
                                <tr>
                                    <td>{format!("v{n}")}</td>
                                    <td>{v.title}</td>
                                    <td><time>{crate::pages::format_epoch(v.published_at)}</time></td>
                                    <td>{if v.material { "yes" } else { "—" }}</td>
                                    <td><button class="sc-button sc-button-subtle" disabled=move || ctx.busy.get() on:click=move |_| restore(n)
                                        aria-busy=move || (restoring.get() == Some(n)).then_some("true")>
                                        {move || if restoring.get() == Some(n) { "Restoring…" } else { "Restore as draft" }}
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
