//! One module per Connect module the app exposes.

pub mod course_view;
pub mod macro_editor;
pub mod space_admin;

use leptos::prelude::*;

/// Shows "yes" once the WASM has hydrated the page. Browser tests wait for it;
/// people never notice it. Also leaves the performance mark `sc-hydrated`
/// (time since the iframe's navigation started: the browser suite's
/// time-to-interactive figure).
#[component]
pub fn HydrationMarker() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark("sc-hydrated");
        }
    });
    view! {
        <span id="sc-hydrated" class="sc-visually-hidden" aria-hidden="true">
            {move || if hydrated.get() { "yes" } else { "no" }}
        </span>
    }
}

/// A parameter of the page's query string (Connect puts macro parameters
/// there, part of the signed iframe URL), percent-decoded; the first one
/// when it repeats. The server reads the request's URL, the browser
/// `location.search`: the same string, so both render the same page.
/// (No router for this: each module's page is one fixed path.)
///
/// A Forge Custom UI page (feature `forge`) has no such URL: the same names
/// are answered from Forge's `view.getContext()` (macro config, locale), see
/// [`crate::forge_bridge`].
pub fn query_param(name: &str) -> Option<String> {
    #[cfg(feature = "forge")]
    {
        crate::forge_bridge::page_param(name)
    }
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let query = parts.uri.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr"), not(feature = "forge")))]
    {
        let search = web_sys::window()?.location().search().ok()?;
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get(name)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        let _ = name;
        None
    }
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch (no date crate in
/// the browser bundle; the day from [`course::locale::civil_from_days`]).
pub fn format_epoch(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = course::locale::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_epoch;

    #[test]
    fn epoch_formatting_matches_known_dates() {
        assert_eq!(format_epoch(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_epoch(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_epoch(1_795_000_000), "2026-11-18 11:06 UTC");
    }
}
