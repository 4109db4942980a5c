//! Markdown → safe HTML (server only).
//!
//! [`render_markdown`] parses CommonMark with tables, strikethrough and task
//! lists (`pulldown-cmark`), then sanitises the HTML with `ammonia` against a
//! small allow-list. Authors may write raw HTML in Markdown (and GIFT
//! `[html]` text ends up here too); whatever they write, the output keeps
//! only:
//!
//! * tags: `p br hr h1–h6 em strong del s blockquote ul ol li pre code a img
//!   table thead tbody tr th td`;
//! * attributes: `a[href title]`, `img[src alt title]`, `ol[start]`,
//!   `th/td[style]` limited to exactly `text-align: left|center|right`;
//! * URLs: links `http:`, `https:`, `mailto:`; images `https:`, or a
//!   picture the app serves itself (`/media/<name>.svg|png|jpg|jpeg|gif|webp`,
//!   from `public/media/`: the iframe is on the app's origin, which the CSP
//!   allows); every other relative URL is dropped (it would point into the
//!   app's iframe);
//! * every link gets `rel="noopener noreferrer"` and `target="_blank"`.
//!
//! Everything else goes: `script`, `style`, `iframe`, `object`, `svg`,
//! `math`, `form`s and their contents, event handlers (`on*`), `style`
//! elsewhere, `class`/`id`, `javascript:`/`data:`/`vbscript:` URLs and HTML
//! comments. Task-list checkboxes are rendered as ☑/☐ text rather than
//! `<input>` elements, so no form control is ever allowed.

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{html, Event, Options, Parser};

/// Renders author Markdown as sanitised HTML, safe to inject into a page.
///
/// A pure function of the text: published versions never change, so the
/// learning service renders each one once and keeps the HTML.
pub fn render_markdown(md: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(md, options).map(|event| match event {
        Event::TaskListMarker(done) => Event::Text(if done { "☑ " } else { "☐ " }.into()),
        other => other,
    });
    let mut raw = String::with_capacity(md.len() + md.len() / 2);
    html::push_html(&mut raw, events);
    sanitize_html(&raw)
}

/// Sanitises HTML with the same allow-list as [`render_markdown`].
pub fn sanitize_html(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

fn sanitizer() -> &'static Builder<'static> {
    static SANITIZER: OnceLock<Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "hr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "em",
            "strong",
            "del",
            "s",
            "blockquote",
            "ul",
            "ol",
            "li",
            "pre",
            "code",
            "a",
            "img",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        ]
        .into_iter()
        .collect();
        // Dropped together with everything inside them.
        let clean_content: HashSet<&str> = [
            "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
            "noscript", "noembed", "noframes", "template", "textarea", "select", "form", "title",
            "xmp", "svg", "math",
        ]
        .into_iter()
        .collect();
        let attrs = |names: &[&'static str]| names.iter().copied().collect::<HashSet<_>>();
        let tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::from([
            ("a", attrs(&["href", "title"])),
            ("img", attrs(&["src", "alt", "title"])),
            ("ol", attrs(&["start"])),
            ("th", attrs(&["style"])),
            ("td", attrs(&["style"])),
        ]);
        let mut b = Builder::empty();
        b.tags(tags)
            .clean_content_tags(clean_content)
            .tag_attributes(tag_attributes)
            .generic_attributes(HashSet::new())
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            // Only the app's own pictures (and `filter_attribute` keeps them
            // to images).
            .url_relative(UrlRelative::Custom(Box::new(keep_own_picture)))
            .link_rel(Some("noopener noreferrer"))
            .set_tag_attribute_value("a", "target", "_blank")
            .strip_comments(true)
            .attribute_filter(filter_attribute);
        b
    })
}

/// A picture the app itself serves from `public/media/`, as a root-relative
/// path: `/media/` then letters, digits, `-`, `_`, `.` and `/` (no `..`),
/// ending in a picture's extension.
fn is_own_picture(url: &str) -> bool {
    let Some(name) = url.strip_prefix("/media/") else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && [".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"]
            .iter()
            .any(|ext| lower.len() > ext.len() && lower.ends_with(ext))
}

/// `url_relative`'s rule: the app's own pictures stay, nothing else.
fn keep_own_picture(url: &str) -> Option<Cow<'_, str>> {
    is_own_picture(url).then_some(Cow::Borrowed(url))
}

/// Per-attribute rules the allow-list cannot express.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        // Images: https only (no plain http, which a learner's browser
        // would fetch unencrypted from inside the Confluence page, no
        // mailto:, no data:).
        ("img", "src") => {
            let v = value.trim_start().to_ascii_lowercase();
            (v.starts_with("https://") || is_own_picture(value)).then(|| value.into())
        }
        // Links never point into the app's iframe.
        ("a", "href") if is_own_picture(value) => None,
        // Table alignment from Markdown, nothing else.
        ("th" | "td", "style") => {
            let v: String = value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            let v = v.trim_end_matches(';');
            ["left", "center", "right"]
                .into_iter()
                .find(|align| v == format!("text-align:{align}"))
                .map(|align| Cow::Owned(format!("text-align: {align}")))
        }
        _ => Some(value.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes the entities html5ever writes in attribute values.
    fn decode(v: &str) -> String {
        let mut out = String::new();
        let mut rest = v;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            let Some(end) = rest.find(';') else { break };
            let entity = &rest[1..end];
            let decoded = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "nbsp" => Some('\u{a0}'),
                e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            match decoded {
                Some(c) => {
                    out.push(c);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// `(tag name, [(attribute, decoded value)])` for every tag in `html`.
    /// In serialised HTML every literal `<` starts a tag (text has `&lt;`).
    fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut out = Vec::new();
        let chars: Vec<char> = html.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '<' {
                i += 1;
                continue;
            }
            i += 1;
            let mut name = String::new();
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '>' {
                name.push(chars[i]);
                i += 1;
            }
            let mut attrs = Vec::new();
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '/') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '>' {
                    i += 1;
                    break;
                }
                let mut attr = String::new();
                while i < chars.len() && !matches!(chars[i], '=' | '>' | ' ' | '/') {
                    attr.push(chars[i]);
                    i += 1;
                }
                let mut value = String::new();
                if i < chars.len() && chars[i] == '=' {
                    i += 1;
                    if i < chars.len() && chars[i] == '"' {
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            value.push(chars[i]);
                            i += 1;
                        }
                        i += 1;
                    }
                }
                attrs.push((attr.to_ascii_lowercase(), decode(&value)));
            }
            out.push((name.to_ascii_lowercase(), attrs));
        }
        out
    }

    fn assert_safe(payload: &str, out: &str) {
        let lower = out.to_ascii_lowercase();
        for bad in [
            "<script",
            "<iframe",
            "<style",
            "<svg",
            "<math",
            "<form",
            "<object",
            "<embed",
            "<input",
            "<button",
            "<base",
            "<meta",
            "<link",
            "<body",
            "<details",
            "<marquee",
            "<noscript",
            "<textarea",
        ] {
            assert!(!lower.contains(bad), "{payload:?} → {out:?} contains {bad}");
        }
        for (tag, attrs) in tags(out) {
            for (name, value) in attrs {
                assert!(
                    !name.starts_with("on"),
                    "{payload:?} → {out:?}: event handler {name} on <{tag}>"
                );
                let squashed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "data:", "vbscript:"] {
                    assert!(
                        !squashed.contains(scheme),
                        "{payload:?} → {out:?}: {scheme} in {name} of <{tag}>"
                    );
                }
                assert!(
                    name != "style" || value.starts_with("text-align: "),
                    "{payload:?} → {out:?}: style {value:?}"
                );
                assert!(
                    ["href", "src", "alt", "title", "rel", "target", "start", "style"]
                        .contains(&name.as_str()),
                    "{payload:?} → {out:?}: unexpected attribute {name}"
                );
            }
        }
    }

    const XSS_PAYLOADS: &[&str] = &[
        // Script tags, plain and disguised.
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        "<<script>script>alert(1)<</script>/script>",
        "<img \"\"\"><script>alert(1)</script>\">",
        // Event handlers.
        "<img src=x onerror=alert(1)>",
        "<img src=\"https://example.com/a.png\" onload=\"alert(1)\">",
        "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
        "<details open ontoggle=alert(1)>x</details>",
        "<body onload=alert(1)>",
        "<marquee onstart=alert(1)>x</marquee>",
        "<input autofocus onfocus=alert(1)>",
        // javascript: links, obfuscated.
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript&colon;alert(1)\">x</a>",
        "<a href=javascript&colon;alert(1)>x</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<a href=\"java\nscript:alert(1)\">x</a>",
        "<a href=\" \x01javascript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        // SVG / MathML / frames / objects.
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">x</text></a></svg>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<base href=\"javascript:/\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        // Styles.
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<p style=\"width: expression(alert(1))\">x</p>",
        "<style>@import 'javascript:alert(1)';</style>",
        "| a |\n|---|\n| <td style=\"background:url(javascript:alert(1))\">x |",
        // data: URLs.
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
        // Markdown link / image syntax.
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](java&#115;cript:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](<javascript:alert(1)>)",
        "[click](javascript:alert(1) \"title\")",
        "![img](javascript:alert(1))",
        "![img](data:image/png;base64,AAAA)",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<javascript:alert(1)>",
        // Comments and unclosed tags.
        "<!-- <script>alert(1)</script> -->",
        "<!--><img src=x onerror=alert(1)>-->",
        "<img src=x onerror=alert(1)",
        "<a href=\"javascript:alert(1)\"",
        "<script>alert(1)",
        // Mutation-XSS classics.
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        "<table><td background=\"javascript:alert(1)\">x</td></table>",
        "<form action=\"javascript:alert(1)\"><button>go</button></form>",
        "<a href=\"mailto:x@example.com\" onmouseover=alert(1)>mail</a>",
    ];

    #[test]
    fn xss_payloads_are_neutralised() {
        assert!(XSS_PAYLOADS.len() >= 25);
        for payload in XSS_PAYLOADS {
            let out = render_markdown(payload);
            assert_safe(payload, &out);
            // Also when the payload is embedded in ordinary Markdown.
            let embedded = format!("# Title\n\nSome *text* {payload} more.\n\n- item\n");
            assert_safe(payload, &render_markdown(&embedded));
            // And through the plain sanitiser.
            assert_safe(payload, &sanitize_html(payload));
        }
        // Beyond attributes: "javascript:" survives nowhere, except as inert
        // visible text (an autolink whose href was removed; an unclosed tag
        // shown escaped as "&lt;a href=..."), and "data:" nowhere at all.
        let mentions: Vec<&str> = XSS_PAYLOADS
            .iter()
            .copied()
            .filter(|p| {
                render_markdown(p)
                    .to_ascii_lowercase()
                    .contains("javascript:")
            })
            .collect();
        assert_eq!(
            mentions,
            ["<javascript:alert(1)>", "<a href=\"javascript:alert(1)\""]
        );
        assert_eq!(
            render_markdown("<a href=\"javascript:alert(1)\""),
            "<p>&lt;a href=\"javascript:alert(1)\"</p>\n"
        );
        assert_eq!(
            render_markdown("<javascript:alert(1)>"),
            "<p><a target=\"_blank\" rel=\"noopener noreferrer\">javascript:alert(1)</a></p>\n"
        );
        for payload in XSS_PAYLOADS {
            let out = render_markdown(payload).to_ascii_lowercase();
            assert!(!out.contains("data:"), "{payload:?} → {out:?}");
            assert!(!out.contains("<script"), "{payload:?} → {out:?}");
        }
    }

    #[test]
    fn no_javascript_text_survives_in_links() {
        // Where a payload was a link, the link text may remain but never the URL.
        let out = render_markdown("[click](javascript:alert(1))");
        assert_eq!(
            out,
            "<p><a target=\"_blank\" rel=\"noopener noreferrer\">click</a></p>\n"
        );
        let out = render_markdown("<img src=x onerror=alert(1)>");
        assert!(!out.contains("onerror"), "{out}");
    }

    #[test]
    fn legit_markdown_survives() {
        let md = "# Heading\n\n\
                  Some *em*, **strong** and ~~gone~~ text with `<b>inline</b>`.\n\n\
                  [Atlassian](https://www.atlassian.com \"Home\") and [mail](mailto:help@example.com).\n\n\
                  ![Logo](https://example.com/logo.png \"The logo\")\n\n\
                  ```html\n<script>alert(1)</script>\n```\n\n\
                  > quoted\n\n\
                  1. one\n2. two\n\n\
                  - [x] done\n- [ ] todo\n\n\
                  | Left | Centre | Right |\n|:-----|:------:|------:|\n| a | b | c |\n";
        let out = render_markdown(md);
        for expected in [
            "<h1>Heading</h1>",
            "<em>em</em>",
            "<strong>strong</strong>",
            "<del>gone</del>",
            "<code>&lt;b&gt;inline&lt;/b&gt;</code>",
            "<a href=\"https://www.atlassian.com\" title=\"Home\" target=\"_blank\" rel=\"noopener noreferrer\">Atlassian</a>",
            "<a href=\"mailto:help@example.com\" target=\"_blank\" rel=\"noopener noreferrer\">mail</a>",
            "<img src=\"https://example.com/logo.png\" alt=\"Logo\" title=\"The logo\">",
            "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>",
            "<blockquote>\n<p>quoted</p>\n</blockquote>",
            "<ol>\n<li>one</li>\n<li>two</li>\n</ol>",
            "<li>☑ done</li>",
            "<li>☐ todo</li>",
            "<th style=\"text-align: left\">Left</th>",
            "<th style=\"text-align: center\">Centre</th>",
            "<td style=\"text-align: right\">c</td>",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        assert_safe(md, &out);
    }

    #[test]
    fn images_need_https_and_relative_urls_are_dropped() {
        let out = render_markdown("![a](mailto:x@example.com) ![b](/local.png) [c](/wiki/page)");
        assert!(!out.contains("src="), "{out}");
        assert!(!out.contains("href="), "{out}");
        let out = render_markdown("![a](http://example.com/x.png)");
        assert!(
            !out.contains("src="),
            "plain-http images are dropped: {out}"
        );
        let out = render_markdown("![a](https://example.com/x.png)");
        assert!(out.contains("src=\"https://example.com/x.png\""), "{out}");
    }

    #[test]
    fn the_apps_own_pictures_are_the_only_relative_urls_kept() {
        let out = render_markdown("![map](/media/demo/floor-plan.svg)");
        assert!(out.contains("src=\"/media/demo/floor-plan.svg\""), "{out}");
        for md in [
            "![a](/media/../api/whoami.svg)",
            "![a](/media/x.svg?y=1)",
            "![a](/media/.svg)",
            "![a](/media/x.html)",
            "![a](//evil.example/media/x.svg)",
            "![a](/pkg/x.svg)",
            "![a](media/x.svg)",
            "[a](/media/x.svg)",
        ] {
            let out = render_markdown(md);
            assert!(!out.contains("src="), "{md}: {out}");
            assert!(!out.contains("href="), "{md}: {out}");
        }
    }

    #[test]
    fn empty_and_plain_text() {
        assert_eq!(render_markdown(""), "");
        assert_eq!(render_markdown("a < b & c"), "<p>a &lt; b &amp; c</p>\n");
    }
}
