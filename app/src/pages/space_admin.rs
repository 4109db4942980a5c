//! The space tools tab (descriptor `spaceToolsTabs` module
//! `smart-courses-admin`). The view lives in [`crate::space_admin::view`].

use leptos::prelude::*;

use super::HydrationMarker;
use crate::space_admin::view::SpaceAdminView;

#[component]
pub fn SpaceAdmin() -> impl IntoView {
    view! {
        <HydrationMarker />
        <SpaceAdminView />
    }
}
