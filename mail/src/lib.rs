//! Outgoing e-mail over SMTP (server only).
//!
//! One [`Mailer`] per server process, built from [`SmtpSettings`] — a
//! connection URL and a sender — and shared by the jobs that send mail
//! (the reminder job first). With no SMTP settings configured the server
//! builds no mailer and sends nothing.
//!
//! The URL follows lettre's forms (`AsyncSmtpTransport::from_url`):
//!
//! | URL | connection |
//! |---|---|
//! | `smtps://user:pass@smtp.example.com` | TLS from the first byte (port 465 unless given); **recommended** |
//! | `smtp://user:pass@smtp.example.com?tls=required` | STARTTLS, required (port 587 unless given) |
//! | `smtp://127.0.0.1:2525` | no TLS: a relay on this machine, or a test server |
//!
//! User names and passwords with special characters are percent-encoded in
//! the URL. A path segment sets the name the mailer gives in `EHLO`
//! (default: the machine's host name).
//!
//! Two things are refused when the mailer is built, not at the first send:
//! a sender that is not a mailbox, and **credentials over a connection that
//! may be unencrypted** (`smtp://` without `tls=required`) to any host
//! other than this machine — a password must not cross a network in the
//! clear. Plain `smtp://` without credentials stays allowed (an internal
//! relay that trusts its network), with a warning in the log.
//!
//! TLS is rustls with Mozilla's root certificates; no OpenSSL.
//!
//! Errors never carry the URL (it holds the password): they say which part
//! is wrong, and send errors carry the server's reply.

use std::{net::IpAddr, time::Duration};

use lettre::{
    message::{
        header::{ContentType, HeaderName, HeaderValue},
        Mailbox,
    },
    transport::smtp::Error as SmtpError,
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How long one SMTP conversation may stall (connect, each reply) before
/// the send fails: long enough for a slow submission server, short enough
/// that one dead server does not hold up a reminder run for minutes.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and as whom mail is sent (server configuration).
#[derive(Clone, Debug, Deserialize)]
pub struct SmtpSettings {
    /// The SMTP server as a URL, credentials included (see the crate docs).
    /// Secret: `Debug` prints `[REDACTED]`.
    pub url: SecretString,
    /// The sender, e.g. `Smart Courses <courses@example.com>`.
    pub from: String,
}

/// What went wrong building or sending a mail. The text is safe to log: it
/// never contains the SMTP URL or its password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configured sender is not a mailbox.
    #[error(
        "the sender address is not valid (expected e.g. `Smart Courses <courses@example.com>`)"
    )]
    InvalidFrom,
    /// The configured SMTP URL is unusable; the text says which part.
    #[error("the SMTP URL is not valid: {0}")]
    InvalidUrl(String),
    /// The URL holds a password but the connection may be unencrypted.
    #[error(
        "the SMTP URL sends credentials without TLS; use smtps:// or smtp://…?tls=required \
         (plain smtp:// with credentials only to this machine)"
    )]
    InsecureCredentials,
    /// The recipient is not an e-mail address.
    #[error("the recipient address is not valid")]
    InvalidRecipient,
    /// The message could not be put together.
    #[error("could not build the message: {0}")]
    Message(#[from] lettre::error::Error),
    /// Connecting to the server, or the server's answer, failed.
    #[error("sending failed: {0}")]
    Send(#[from] SmtpError),
}

impl MailError {
    /// Whether sending this mail again cannot help: a bad recipient, or a
    /// server that refused it for good (5xx). A job keeps its "sent" record
    /// for these, so a mailbox that does not exist is not retried on every
    /// run; anything else (a network failure, a 4xx) is worth another try.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::InvalidRecipient | MailError::Message(_) => true,
            MailError::Send(e) => e.is_permanent(),
            MailError::InvalidFrom | MailError::InvalidUrl(_) | MailError::InsecureCredentials => {
                false
            }
        }
    }
}

/// Sends plain-text mail through one SMTP server. Cheap to clone; each
/// send opens its own connection (see the workspace manifest on `pool`).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For `Debug` and logs: the host, never the URL.
    host: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings and builds the mailer; connects to nothing yet.
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailError> {
        let from: Mailbox = settings.from.parse().map_err(|_| MailError::InvalidFrom)?;
        let raw = settings.url.expose_secret();
        let host = check_url(raw)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(raw)
            // Reached only for what `check_url` lets through and lettre
            // still refuses; lettre's text names no credentials.
            .map_err(|e| MailError::InvalidUrl(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            transport,
            from,
            host,
        })
    }

    /// The sender every mail goes out as.
    pub fn sender(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one plain-text (UTF-8) mail to `to`, a bare address such as
    /// Confluence shares. `Ok` once the server accepted it for delivery.
    ///
    /// Besides `Date`, the mail carries a `Message-ID` at the sender's
    /// domain (not every submission server adds one, and spam filters
    /// count its absence) and `Auto-Submitted: auto-generated` (RFC 3834),
    /// which tells out-of-office responders not to answer it.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to: Address = to.trim().parse().map_err(|_| MailError::InvalidRecipient)?;
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            self.from.email.domain()
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(message_id))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())?;
        self.transport.send(message).await?;
        Ok(())
    }

    /// Connects, greets the server and says goodbye: a startup check that
    /// the server is reachable (and, with credentials, that they work).
    pub async fn check(&self) -> Result<(), MailError> {
        if self.transport.test_connection().await? {
            Ok(())
        } else {
            Err(MailError::InvalidUrl(
                "the server did not answer the greeting".to_owned(),
            ))
        }
    }
}

/// Validates the URL against the rules in the crate docs and returns its
/// host. Messages name the part that is wrong, never the URL.
fn check_url(raw: &str) -> Result<String, MailError> {
    let invalid = |why: &str| MailError::InvalidUrl(why.to_owned());
    let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let encrypted = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => true,
        ("smtp", Some("required")) => true,
        ("smtp", None | Some("opportunistic")) => false,
        ("smtp" | "smtps", Some(_)) => {
            return Err(invalid(
                "`tls` must be `required` or `opportunistic`, and only with smtp://",
            ))
        }
        _ => return Err(invalid("the scheme must be smtp:// or smtps://")),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("it names no host"))?
        .to_owned();
    if !encrypted {
        let local = is_loopback(&host);
        if url.password().is_some() && !local {
            return Err(MailError::InsecureCredentials);
        }
        if !local {
            tracing::warn!(
                smtp_host = %host,
                "SMTP without TLS: mail crosses the network unencrypted"
            );
        }
    }
    Ok(host)
}

/// `localhost`, or an address on this machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, from: &str) -> SmtpSettings {
        SmtpSettings {
            url: SecretString::from(url.to_owned()),
            from: from.to_owned(),
        }
    }

    fn error(url: &str) -> String {
        Mailer::new(&settings(url, "courses@example.com"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_documented_url_forms_are_accepted() {
        for url in [
            "smtps://user:pa%40ss@smtp.example.com",
            "smtps://smtp.example.com:2465",
            "smtp://user:pass@smtp.example.com:587?tls=required",
            "smtp://relay.internal:25",
            "smtp://127.0.0.1:2525",
            "smtp://user:pass@localhost:2525",
            "smtp://user:pass@[::1]:2525",
            "smtp://127.0.0.1:2525/courses.example.com",
        ] {
            Mailer::new(&settings(url, "Smart Courses <courses@example.com>"))
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn credentials_never_go_out_unencrypted_to_another_host() {
        for url in [
            "smtp://user:pass@smtp.example.com",
            "smtp://user:pass@smtp.example.com?tls=opportunistic",
            "smtp://user:pass@10.0.0.5:25",
        ] {
            assert!(
                matches!(
                    Mailer::new(&settings(url, "courses@example.com")),
                    Err(MailError::InsecureCredentials)
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for (url, says) in [
            ("http://user:hunter2@smtp.example.com", "scheme"),
            (
                "smtps://user:hunter2@smtp.example.com?tls=required",
                "`tls`",
            ),
            ("smtp://user:hunter2@smtp.example.com?tls=maybe", "`tls`"),
            ("user:hunter2@smtp", "scheme"),
            ("not a url hunter2", "relative URL"),
            ("smtps://user:hunter2@[::1", "invalid IPv6"),
        ] {
            let e = error(url);
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{url}: {e}");
        }
    }

    #[test]
    fn a_sender_that_is_not_a_mailbox_is_refused() {
        for from in ["", "courses", "Smart Courses <courses>", "a@b@c"] {
            assert!(
                matches!(
                    Mailer::new(&settings("smtp://127.0.0.1:2525", from)),
                    Err(MailError::InvalidFrom)
                ),
                "{from:?}"
            );
        }
    }

    #[test]
    fn debug_shows_neither_the_url_nor_the_password() {
        let s = settings("smtps://user:hunter2@smtp.example.com", "c@example.com");
        let mailer = Mailer::new(&s).unwrap();
        for shown in [format!("{s:?}"), format!("{mailer:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert!(format!("{mailer:?}").contains("smtp.example.com"));
    }

    #[test]
    fn settings_read_from_configuration() {
        let s: SmtpSettings = serde_json::from_str(
            r#"{"url": "smtps://u:p@smtp.example.com", "from": "c@example.com"}"#,
        )
        .unwrap();
        assert_eq!(s.url.expose_secret(), "smtps://u:p@smtp.example.com");
        assert_eq!(s.from, "c@example.com");
    }
}
