//! `GET /.well-known/security.txt` (RFC 9116) and `GET /security-policy`
//! (SECURITY.md, compiled in): how to report a vulnerability. Both are
//! public: no token, no tenant, nothing from the database.
//!
//! `Expires` is computed per request ([`EXPIRES_IN`] ahead), so the file
//! never goes stale while the server runs; the RFC recommends less than a
//! year.

use std::time::{Duration, SystemTime};

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use app::state::AppState;

/// Where vulnerabilities are reported. SECURITY.md names the same address
/// (a unit test keeps them equal). `.example` is a reserved domain: set the
/// real address here and in SECURITY.md before the app is published.
pub const CONTACT: &str = "mailto:security@smartcourses.example";

/// How far ahead `Expires` lies from the moment of the request.
pub const EXPIRES_IN: Duration = Duration::from_secs(180 * 24 * 60 * 60);

/// The security policy served at `/security-policy`.
const POLICY: &str = include_str!("../../SECURITY.md");

/// The file's text for an app at `base_url` (no trailing slash), as of `now`.
pub fn render(base_url: &str, now: SystemTime) -> String {
    let expires = OffsetDateTime::from(now + EXPIRES_IN)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::from(now + EXPIRES_IN))
        .format(&Rfc3339)
        .unwrap_or_default();
    format!(
        "# Smart Courses for Confluence: reporting security vulnerabilities\n\
         Contact: {CONTACT}\n\
         Expires: {expires}\n\
         Preferred-Languages: en\n\
         Policy: {base_url}/security-policy\n\
         Canonical: {base_url}/.well-known/security.txt\n"
    )
}

/// `GET /.well-known/security.txt`.
pub async fn get(State(state): State<AppState>) -> Response {
    let body = render(&state.connect.settings.base_url_str(), SystemTime::now());
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

/// `GET /security-policy`: SECURITY.md as plain text.
pub async fn policy() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        POLICY,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .collect()
    }

    #[test]
    fn has_the_required_fields_once_and_absolute_urls() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let text = render("https://courses.example.com", now);
        assert_eq!(field(&text, "Contact"), [CONTACT]);
        // 1_800_000_000 s = 2027-01-15T08:00:00Z; 180 days later:
        assert_eq!(field(&text, "Expires"), ["2027-07-14T08:00:00Z"]);
        assert_eq!(field(&text, "Preferred-Languages"), ["en"]);
        assert_eq!(
            field(&text, "Policy"),
            ["https://courses.example.com/security-policy"]
        );
        assert_eq!(
            field(&text, "Canonical"),
            ["https://courses.example.com/.well-known/security.txt"]
        );
        // RFC 9116 §2.5: every line is a field, a comment or empty.
        for line in text.lines() {
            assert!(
                line.is_empty() || line.starts_with('#') || line.contains(": "),
                "{line}"
            );
        }
    }

    #[test]
    fn expires_in_less_than_a_year() {
        assert!(EXPIRES_IN < Duration::from_secs(365 * 24 * 60 * 60));
        assert!(EXPIRES_IN >= Duration::from_secs(30 * 24 * 60 * 60));
    }

    /// SECURITY.md and security.txt name the same contact.
    #[test]
    fn security_md_names_the_same_contact() {
        let address = CONTACT.strip_prefix("mailto:").unwrap();
        assert!(POLICY.contains(address), "SECURITY.md must name {address}");
    }

    /// SECURITY.md keeps the parts issue #12 asks for.
    #[test]
    fn security_md_has_reporting_response_times_and_incident_response() {
        for heading in [
            "## Reporting a vulnerability",
            "## How fast we answer",
            "## Coordinated disclosure",
            "## Supported versions",
            "## Incident response",
        ] {
            assert!(
                POLICY.lines().any(|l| l == heading),
                "SECURITY.md lacks {heading}"
            );
        }
    }
}
