//! CSV downloads: a streamed server function's text is collected in the
//! browser, wrapped in a `Blob` and saved through a temporary
//! `<a download>` (the object URL is revoked once the browser has it).
//!
//! A `data:` URL would do for small files but hits URL length limits on a
//! course of thousands of learners; a Blob has none. The server sends a
//! byte-order mark first so spreadsheets read accented names right; it is
//! kept (and added should a decoder have dropped it).

use futures::StreamExt;
use leptos::{prelude::*, task::spawn_local};
use server_fn::codec::TextStream;

use super::{format, Notice};
use crate::error::AppError;

/// The whole text of a streamed CSV.
pub(super) async fn collect(stream: TextStream<AppError>) -> Result<String, AppError> {
    let mut out = String::new();
    let mut parts = stream.into_inner();
    while let Some(part) = parts.next().await {
        out.push_str(&part?);
    }
    Ok(out)
}

#[cfg(feature = "hydrate")]
fn save(file_name: &str, text: &str) -> Result<(), String> {
    use wasm_bindgen::{JsCast, JsValue};
    let fail = |e: JsValue| format!("The browser refused the download ({e:?}).");
    let body = if text.starts_with('\u{feff}') {
        text.to_owned()
    } else {
        format!("\u{feff}{text}")
    };
    let parts = js_sys::Array::of1(&JsValue::from_str(&body));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("No document to download from.")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "No link element.".to_owned())?;
    link.set_href(&url);
    link.set_download(file_name);
    link.set_hidden(true);
    if let Some(body) = document.body() {
        let _ = body.append_child(&link);
    }
    link.click();
    link.remove();
    // Revoking at once may cancel the download in some browsers.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(30),
    );
    Ok(())
}

#[cfg(not(feature = "hydrate"))]
fn save(_file_name: &str, _text: &str) -> Result<(), String> {
    Err("Downloads need the page open in a browser.".into())
}

/// A button that fetches a CSV and saves it as `file_name()`; `busy`
/// while it runs; the outcome goes to `notice`.
#[component]
pub(super) fn CsvButton<F, Fut>(
    id: &'static str,
    label: &'static str,
    fetch: F,
    file_name: impl Fn() -> String + Send + Sync + 'static,
    notice: RwSignal<Option<Notice>>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<TextStream<AppError>, AppError>> + 'static,
{
    let loc = crate::locale::use_locale();
    let busy = RwSignal::new(false);
    let click = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let name = file_name();
        let fut = fetch();
        spawn_local(async move {
            let outcome = match fut.await {
                Ok(stream) => collect(stream).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
            .and_then(|text| save(&name, &text));
            busy.try_set(false);
            notice.try_set(Some(match outcome {
                Ok(()) => Notice::ok(crate::locale::fill(
                    leptos_i18n::td_string!(loc, download.downloaded),
                    &[&name],
                )),
                Err(e) => Notice::error(e),
            }));
        });
    };
    view! {
        <button
            type="button"
            class="sc-button sc-button-subtle sc-admin-download"
            id=id
            aria-busy=move || busy.get().then_some("true")
            disabled=move || busy.get() || disabled.get()
            on:click=click
        >
            <span aria-hidden="true" class="sc-admin-download-icon">"⤓ "</span>
            {move || if busy.get() { leptos_i18n::td_string!(loc, download.preparing) } else { label }}
        </button>
    }
}

/// `file_name` with today's date for a download of `kind` about `title`.
pub(super) fn dated(title: &str, kind: &str) -> String {
    format::file_name(title, kind, &format::today())
}
