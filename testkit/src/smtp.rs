//! [`SmtpSink`]: a real SMTP server on `127.0.0.1:0` that accepts every
//! mail and keeps it, so tests send through the same client, protocol and
//! sockets as production and then assert on what arrived.
//!
//! The protocol is the `mailin` crate's state machine (greeting, `EHLO` /
//! `HELO`, `MAIL FROM`, `RCPT TO`, `DATA` with dot-unstuffing, `RSET`,
//! `NOOP`, `QUIT`, and the replies to commands out of order); this module
//! only carries lines between it and a tokio socket. The crates that run
//! whole servers (`mailin-embedded`, mail catchers) either block a thread
//! per server, cannot listen on port 0 and report the port, or bring an
//! HTTP UI along — none of which a test wants. What arrived is read back
//! with `mail-parser` (headers unfolded and decoded, the body decoded from
//! whatever transfer encoding the sender chose).
//!
//! Plain SMTP only (no TLS, no AUTH): a mailer pointed at the sink uses
//! `smtp://127.0.0.1:PORT`, which the mailer allows for loopback only.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use mailin::{response, Action, Handler, Response, SessionBuilder};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

/// The longest line the sink reads (RFC 5321 allows 1000 octets; a client
/// sending more is broken, and the connection is closed).
const MAX_LINE: u64 = 64 * 1024;

/// One mail the sink accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message as transmitted (headers and body, CRLF line ends),
    /// dot-unstuffed. It may end in one more empty line than the sender's
    /// body (lettre ends every message with CRLF before the final dot).
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// The decoded `Subject` header.
    pub fn subject(&self) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(&self.data)?;
        message.subject().map(str::to_owned)
    }

    /// The decoded text of the first text part (the whole body of a plain
    /// text mail), whatever its transfer encoding.
    pub fn text(&self) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(&self.data)?;
        message.body_text(0).map(|t| t.into_owned())
    }

    /// A header's value as sent (unfolded, not decoded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(&self.data)?;
        let raw = message.header_raw(name)?;
        Some(
            raw.split(['\r', '\n'])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

/// What the sink shares with its connections.
#[derive(Debug, Default)]
struct Inbox {
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    /// Answer every `MAIL FROM` with a temporary failure (451).
    failing: AtomicBool,
}

/// A running SMTP server that keeps what it receives; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on `127.0.0.1` and a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("the SMTP sink's address");
        let inbox = Arc::new(Inbox::default());
        let session = SessionBuilder::new("smtp-sink.test");
        let shared = inbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let conversation = serve(stream, peer.ip(), session.clone(), shared.clone());
                tokio::spawn(async move {
                    // A client that hangs up mid-way is the client's
                    // problem; the sink keeps serving the others.
                    let _ = conversation.await;
                });
            }
        });
        Self { addr, inbox, task }
    }

    /// The URL a mailer uses: `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The address the sink listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every mail accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inbox.mails.lock().expect("inbox lock").clone()
    }

    /// Waits until at least `n` mails arrived or `timeout` passed, and
    /// returns every mail accepted by then (check the count: fewer than `n`
    /// means the timeout passed).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before counting, so a mail that arrives between
            // the count and the wait still wakes us.
            let arrived = self.inbox.arrived.notified();
            let mails = self.messages();
            if mails.len() >= n {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.messages();
            }
        }
    }

    /// From now on refuses each mail with `451` (a temporary failure, at
    /// `MAIL FROM`: the mailer reports an error and nothing is kept), until
    /// called with `false`.
    pub fn fail_deliveries(&self, failing: bool) {
        self.inbox.failing.store(failing, Ordering::SeqCst);
    }

    /// Forgets the mails received so far.
    pub fn clear(&self) {
        self.inbox.mails.lock().expect("inbox lock").clear();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP conversation: lines in, `mailin`'s replies out.
async fn serve(
    stream: TcpStream,
    peer: IpAddr,
    builder: SessionBuilder,
    inbox: Arc<Inbox>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut session = builder.build(peer, Collector::new(inbox));
    write.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut read)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        let reply = session.process(&line);
        match reply.action {
            Action::NoReply => {}
            Action::Reply => write.write_all(&reply.buffer()?).await?,
            // STARTTLS is not offered, so `UpgradeTls` does not come; close
            // rather than pretend.
            Action::Close | Action::UpgradeTls => {
                write.write_all(&reply.buffer()?).await?;
                return Ok(());
            }
        }
    }
}

/// The `mailin` handler of one connection: gathers a mail, hands it to the
/// inbox when its data ends.
struct Collector {
    inbox: Arc<Inbox>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Collector {
    fn new(inbox: Arc<Inbox>) -> Self {
        Self {
            inbox,
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        }
    }
}

impl Handler for Collector {
    /// The failure switch refuses here, at `MAIL FROM`, rather than at the
    /// end of the data: `mailin` stays in its data state after a refused
    /// end of data, and would read the client's next command as mail text.
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.inbox.failing.load(Ordering::SeqCst) {
            return response::INTERNAL_ERROR;
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        from.clone_into(&mut self.from);
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = ReceivedMail {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        };
        self.inbox.mails.lock().expect("inbox lock").push(mail);
        self.inbox.arrived.notify_waiters();
        response::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::tcp::OwnedReadHalf;

    /// Reads one (possibly multi-line) reply.
    async fn read_reply(read: &mut BufReader<OwnedReadHalf>, replies: &mut Vec<String>) {
        loop {
            let mut l = String::new();
            read.read_line(&mut l).await.unwrap();
            let last = l.as_bytes().get(3) != Some(&b'-');
            replies.push(l.trim_end().to_owned());
            if last {
                return;
            }
        }
    }

    /// Sends `lines` one by one and returns every reply line.
    async fn converse(sink: &SmtpSink, lines: &[&str]) -> Vec<String> {
        let (read, mut write) = TcpStream::connect(sink.addr()).await.unwrap().into_split();
        let mut read = BufReader::new(read);
        let mut replies = Vec::new();
        read_reply(&mut read, &mut replies).await;
        let mut in_data = false;
        for line in lines {
            write
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .unwrap();
            // Lines of a mail's data get no reply; its end and commands do.
            if in_data && *line != "." {
                continue;
            }
            read_reply(&mut read, &mut replies).await;
            in_data = replies.last().is_some_and(|r| r.starts_with("354"));
        }
        replies
    }

    #[tokio::test]
    async fn the_sink_speaks_smtp_and_keeps_the_unstuffed_mail() {
        let sink = SmtpSink::start().await;
        assert!(sink.url().starts_with("smtp://127.0.0.1:"));
        let replies = converse(
            &sink,
            &[
                "EHLO client.test",
                "NOOP",
                "MAIL FROM:<a@example.com>",
                "RCPT TO:<b@example.com>",
                "RSET",
                "MAIL FROM:<c@example.com>",
                "RCPT TO:<d@example.com>",
                "RCPT TO:<e@example.com>",
                "DATA",
                "Subject: Hi",
                "",
                "..leading dot",
                "body",
                ".",
                "QUIT",
            ],
        )
        .await;
        assert!(replies[0].starts_with("220 "), "{replies:?}");
        assert!(replies.iter().any(|r| r.starts_with("354")), "{replies:?}");
        assert!(replies.last().unwrap().starts_with("221"), "{replies:?}");
        let mails = sink.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(mails.len(), 1, "RSET dropped the first transaction");
        assert_eq!(mails[0].from, "c@example.com");
        assert_eq!(mails[0].to, ["d@example.com", "e@example.com"]);
        assert_eq!(
            mails[0].data,
            b"Subject: Hi\r\n\r\n.leading dot\r\nbody\r\n"
        );
        assert_eq!(mails[0].subject().as_deref(), Some("Hi"));
        assert_eq!(mails[0].header("subject").as_deref(), Some("Hi"));
        assert_eq!(mails[0].text().as_deref(), Some(".leading dot\r\nbody\r\n"));
    }

    #[tokio::test]
    async fn commands_out_of_order_are_refused_and_failing_mode_keeps_nothing() {
        let sink = SmtpSink::start().await;
        let replies = converse(&sink, &["RCPT TO:<b@example.com>"]).await;
        assert!(replies[1].starts_with('5'), "{replies:?}");

        sink.fail_deliveries(true);
        let replies = converse(
            &sink,
            &[
                "HELO client.test",
                "MAIL FROM:<a@example.com>",
                "RCPT TO:<b@example.com>",
                "RSET",
                "QUIT",
            ],
        )
        .await;
        assert!(replies[2].starts_with("451"), "{replies:?}");
        assert!(replies[4].starts_with("250"), "{replies:?}");
        assert!(replies[5].starts_with("221"), "{replies:?}");
        assert!(sink.messages().is_empty());
        assert!(sink.wait_for(1, Duration::from_millis(50)).await.is_empty());
    }
}
