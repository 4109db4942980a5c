//! The mailer against a real SMTP server (testkit's sink on a loopback
//! port): what goes out is what arrives, and every failure is an `Err`.

use std::time::Duration;

use mail::{MailError, Mailer, SmtpSettings};
use testkit::SmtpSink;

const WAIT: Duration = Duration::from_secs(5);

/// The mail's decoded text with `\n` line ends and no trailing blank
/// (the client may end the data with one more line end than the body).
fn text(mail: &testkit::ReceivedMail) -> String {
    mail.text()
        .expect("a text part")
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}

fn mailer_for(url: &str) -> Mailer {
    Mailer::new(&SmtpSettings {
        url: url.to_owned().into(),
        from: "Smart Courses <courses@example.com>".into(),
    })
    .expect("valid settings")
}

#[tokio::test]
async fn a_mail_arrives_with_its_sender_recipient_subject_and_body() {
    // Arrange
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url());

    // Act
    mailer
        .send(
            "ada@example.com",
            "Reminder: \"Fire safety\" is due on 2026-01-01",
            "Hello Ada,\n\nThe course is due.\n",
        )
        .await
        .expect("sent");

    // Assert: the server has it once `send` returns (it answered the data).
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "courses@example.com");
    assert_eq!(mail.to, ["ada@example.com"]);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Reminder: \"Fire safety\" is due on 2026-01-01")
    );
    assert_eq!(
        mail.header("from").as_deref(),
        Some("\"Smart Courses\" <courses@example.com>")
    );
    assert_eq!(mail.header("to").as_deref(), Some("ada@example.com"));
    assert!(mail
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; charset=utf-8")));
    assert!(mail.header("date").is_some());
    assert!(mail
        .header("message-id")
        .is_some_and(|id| id.starts_with('<') && id.ends_with("@example.com>")));
    assert_eq!(
        mail.header("auto-submitted").as_deref(),
        Some("auto-generated"),
        "out-of-office replies stay away"
    );
    assert_eq!(text(mail), "Hello Ada,\n\nThe course is due.");
}

#[tokio::test]
async fn unicode_long_lines_and_leading_dots_arrive_intact() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url());
    let subject = "Erinnerung: „Brandschutz“ ist am 2026-01-01 fällig — bitte abschließen";
    let body = format!("Grüße, Zoë!\n.\n..two dots\n{}end", "long line ".repeat(40));

    mailer
        .send("zoe@example.com", subject, &body)
        .await
        .expect("sent");

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0].subject().as_deref(), Some(subject));
    assert_eq!(text(&mails[0]), body);
}

#[tokio::test]
async fn a_subject_cannot_add_headers_or_recipients() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url());

    mailer
        .send(
            "ada@example.com",
            "Hello\r\nBcc: eve@example.com\r\n\r\nInjected body",
            "body",
        )
        .await
        .expect("sent");

    let mail = &sink.wait_for(1, WAIT).await[0];
    assert_eq!(mail.to, ["ada@example.com"], "no extra envelope recipient");
    assert_eq!(mail.header("bcc"), None);
    assert_eq!(text(mail), "body");
}

#[tokio::test]
async fn a_bad_sender_is_a_clear_error_when_the_mailer_is_built() {
    let err = Mailer::new(&SmtpSettings {
        url: "smtp://127.0.0.1:2525".to_owned().into(),
        from: "Smart Courses".into(),
    })
    .unwrap_err();

    assert!(matches!(err, MailError::InvalidFrom), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the sender address is not valid (expected e.g. `Smart Courses <courses@example.com>`)"
    );
}

#[tokio::test]
async fn a_bad_recipient_is_refused_before_connecting_and_for_good() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url());

    let err = mailer.send("not an address", "s", "b").await.unwrap_err();

    assert!(matches!(err, MailError::InvalidRecipient), "{err:?}");
    assert!(err.is_permanent());
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_is_down_is_an_error_worth_retrying() {
    // A port that was free a moment ago: nothing listens there now.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let mailer = mailer_for(&format!("smtp://user:hunter2@127.0.0.1:{port}"));

    let err = mailer.send("ada@example.com", "s", "b").await.unwrap_err();

    assert!(matches!(err, MailError::Send(_)), "{err:?}");
    assert!(!err.is_permanent(), "a network failure may pass");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    assert!(mailer.check().await.is_err());
}

#[tokio::test]
async fn a_temporary_refusal_is_an_error_worth_retrying() {
    let sink = SmtpSink::start().await;
    let mailer = mailer_for(&sink.url());
    mailer.check().await.expect("the sink greets");
    sink.fail_deliveries(true);

    let err = mailer.send("ada@example.com", "s", "b").await.unwrap_err();

    assert!(matches!(err, MailError::Send(_)), "{err:?}");
    assert!(!err.is_permanent(), "451 is temporary");
    assert!(sink.messages().is_empty());

    sink.fail_deliveries(false);
    mailer
        .send("ada@example.com", "s", "b")
        .await
        .expect("sent once the server takes mail again");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn tls_to_a_server_that_does_not_speak_it_fails_cleanly() {
    // The sink speaks plain SMTP: the TLS handshake (rustls) must fail as
    // an error, and the STARTTLS form must refuse to go on without TLS.
    let sink = SmtpSink::start().await;
    let port = sink.addr().port();
    for url in [
        format!("smtps://user:hunter2@127.0.0.1:{port}"),
        format!("smtp://user:hunter2@127.0.0.1:{port}?tls=required"),
    ] {
        let err = mailer_for(&url)
            .send("ada@example.com", "s", "b")
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::Send(_)), "{url}: {err:?}");
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }
    assert!(sink.messages().is_empty());
}
