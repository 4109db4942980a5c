//! The space admin page (a `spaceToolsTabs` module): the courses of this
//! space, for space administrators (checked by the server with Confluence).

use leptos::{prelude::*, task::spawn_local};

use super::HydrationMarker;
use crate::{ap, error::AppError, space_admin::api};

#[component]
pub fn SpaceAdmin() -> impl IntoView {
    let overview = RwSignal::new(None::<Result<api::SpaceOverview, String>>);
    let space = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        spawn_local(async move {
            let key = match ap::context().await {
                Ok(c) => c.confluence.space.map(|s| s.key).unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            space.set(Some(key));
            let r = api::space_overview().await.map_err(|e| match e {
                AppError::Forbidden => {
                    "Only administrators of this space can see Smart Courses' space settings."
                        .to_string()
                }
                other => other.to_string(),
            });
            overview.set(Some(r));
            ap::resize();
        });
    });
    view! {
        <HydrationMarker />
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
                        <thead><tr><th>"Course"</th><th>"Page"</th><th>"Published"</th><th>"Last change"</th></tr></thead>
                        <tbody>
                            {o.courses.into_iter().map(|c| view! {
                                <tr>
                                    <td>{c.title}</td>
                                    <td>{c.page_id}</td>
                                    <td>{c.latest_version.map(|v| format!("v{v}")).unwrap_or_else(|| "draft only".into())}</td>
                                    <td>{crate::pages::format_epoch(c.updated_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
