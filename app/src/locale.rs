//! The page's language and the app's words (README "Languages").
//!
//! Every user-facing text lives in `app/locales/<lang>.json` and is read
//! through leptos_i18n's macros with an explicit locale
//! (`td_string!(loc, editor.publish)`): the keys are checked when the crate
//! compiles, and a test below refuses a key that one language lacks.
//!
//! Which language: Confluence puts the user's locale into every iframe URL
//! as `loc` (covered by the page JWT's qsh). The server renders the page in
//! it, the browser reads the same parameter from `location.search` when it
//! hydrates, so both render the same words; there is no locale cookie and
//! no switch inside the app. Server functions answer in the language of
//! the `Accept-Language` header the page's client sends with every call
//! (`crate::client`), so a refusal reads like the page around it.
//!
//! Dates and numbers are written by [`course::locale::Lang`] (pure, shared
//! with the server's CSV downloads).

use leptos::prelude::*;

pub use course::locale::Lang;

// `load_locales!` is deprecated in favour of a build script
// (leptos_i18n_build), which compiles ICU's data exporter into the build:
// minutes on our 2 cores for formatters we do not use. The macro reads the
// same files and generates the same `i18n` module.
#[allow(deprecated)]
mod generated {
    leptos_i18n::load_locales!();
}
pub use generated::i18n;
pub use i18n::Locale;

/// leptos_i18n's locale for one of our languages.
pub fn locale_of(lang: Lang) -> Locale {
    match lang {
        Lang::En => Locale::en,
        Lang::De => Locale::de,
    }
}

/// Our language for one of leptos_i18n's locales.
pub fn lang_of(loc: Locale) -> Lang {
    match loc {
        Locale::en => Lang::En,
        Locale::de => Lang::De,
    }
}

/// The page's language, from Confluence's `loc` parameter (English when
/// it is absent or a language we do not speak). The same on the server and
/// in the browser (see [`crate::pages::query_param`]).
pub fn page_lang() -> Lang {
    crate::pages::query_param("loc")
        .map(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

/// The language each module's root puts into context for its views.
#[derive(Clone, Copy, Debug)]
struct PageLang(Lang);

/// Reads the page's language and provides it to every view below.
pub fn provide_page_lang() -> Lang {
    let lang = page_lang();
    provide_context(PageLang(lang));
    lang
}

/// The page's language, for a view.
pub fn use_lang() -> Lang {
    use_context::<PageLang>().map_or_else(page_lang, |p| p.0)
}

/// The page's locale, for the translation macros.
pub fn use_locale() -> Locale {
    locale_of(use_lang())
}

/// A translated text with its placeholders `{0}`, `{1}`, … replaced by
/// `args` in order. (Our own placeholders rather than leptos_i18n's
/// `{{ name }}`: its string interpolation needs an option its
/// `load_locales!` cannot set, and one syntax for views and server
/// messages alike is easier for translators.)
pub fn fill(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut out = template.to_owned();
    for (i, arg) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), &arg.to_string());
    }
    out
}

/// The language of the current server-function call: its
/// `Accept-Language` header (the page's `loc`, sent by `crate::client`),
/// English without one.
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    // Borrowed, not `use_context` (which clones the request's headers):
    // guards ask for the language on every call.
    with_context::<http::request::Parts, _>(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT_LANGUAGE)?
            .to_str()
            .ok()
            .map(Lang::from_tag)
    })
    .flatten()
    .unwrap_or_default()
}

/// The locale of the current server-function call, for the macros.
#[cfg(feature = "ssr")]
pub fn request_locale() -> Locale {
    locale_of(request_lang())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every text of a locale file by its dotted key.
    fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            serde_json::Value::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            other => panic!("{prefix}: a text must be a string, not {other}"),
        }
    }

    fn locale_file(lang: Lang) -> BTreeMap<String, String> {
        let text = match lang {
            Lang::En => include_str!("../locales/en.json"),
            Lang::De => include_str!("../locales/de.json"),
        };
        let json: serde_json::Value = serde_json::from_str(text).expect("locale file is JSON");
        let mut out = BTreeMap::new();
        flatten("", &json, &mut out);
        out
    }

    /// The placeholders `{0}`, `{1}`… a text uses, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut found: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}'))
            .map(|(inside, _)| inside.to_owned())
            .filter(|inside| inside.chars().all(|c| c.is_ascii_digit()) && !inside.is_empty())
            .collect();
        found.sort();
        found
    }

    /// leptos_i18n only warns about a key one language lacks (and shows the
    /// English text): here it fails. Every language has exactly English's
    /// keys, no text is empty, and each translation uses the same
    /// placeholders as the English text.
    #[test]
    fn every_locale_has_every_key() {
        let en = locale_file(Lang::En);
        assert!(en.len() > 100, "the English file looks truncated");
        for lang in Lang::ALL {
            let other = locale_file(lang);
            let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let surplus: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            assert!(
                surplus.is_empty(),
                "{lang:?} has keys English lacks: {surplus:?}"
            );
            for (key, text) in &other {
                assert!(!text.trim().is_empty(), "{lang:?} {key} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(&en[key]),
                    "{lang:?} {key}: placeholders differ from English"
                );
            }
        }
    }

    #[test]
    fn the_macros_pick_the_pages_language() {
        use i18n::*;
        assert_eq!(td_string!(Locale::en, common.loading), "Loading…");
        assert_eq!(td_string!(Locale::de, common.loading), "Wird geladen …");
        assert_eq!(
            td_string!(locale_of(Lang::from_tag("de-AT")), common.loading),
            "Wird geladen …"
        );
    }

    #[test]
    fn placeholders_are_filled_in_order() {
        assert_eq!(fill("{0} of {1}", &[&2, &"3"]), "2 of 3");
        assert_eq!(fill("no args", &[&1]), "no args");
        assert_eq!(placeholders("{1} x {0} {{ y }}"), vec!["0", "1"]);
    }
}
