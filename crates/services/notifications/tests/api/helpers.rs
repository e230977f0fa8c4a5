//! What the SMTP suites share: an app wired to an SMTP sink, unique addresses, and a
//! reader for the MIME messages the sink receives (headers, parts, transfer encodings).

use std::time::Duration;

use base64::Engine;
use secrecy::SecretString;
use serde_json::json;
use testkit::smtp::{ReceivedMail, SmtpSink};
use testkit::{Backend, TestApp};
use uuid::Uuid;

/// Passes the password policy.
pub const PASSWORD: &str = "correct horse battery staple";
/// Another good password, for resets.
pub const NEW_PASSWORD: &str = "purple elephant juggling seventeen";
/// The envelope sender of the default `mail.from`.
pub const SENDER: &str = "no-reply@mercato.local";
/// Sending attempts the apps here make before giving a mail up.
pub const MAX_ATTEMPTS: usize = 4;
/// Long enough for the event relay, the sender and a retry or two.
pub const PATIENCE: Duration = Duration::from_secs(45);

/// An address no other test uses: `<prefix>-<random>@example.test`.
pub fn unique_email(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}@example.test", &id[..10])
}

/// An app whose mail goes out over SMTP to `sink`, with the dev mailbox off.
pub async fn spawn_with_smtp(backend: Backend, sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    TestApp::spawn_with(backend, move |s| {
        s.mail.dev_mailbox = Some(false);
        s.mail.smtp_url = Some(SecretString::from(url));
        s.mail.max_attempts = MAX_ATTEMPTS as u32;
    })
    .await
}

/// Gives the sender time to do anything it was going to, so a test can assert that
/// nothing more happened.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

/// The accepted mail to `to` whose subject contains `subject`, waiting for it.
pub async fn wait_for_subject(sink: &SmtpSink, to: &str, subject: &str) -> Mime {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = sink
            .received()
            .iter()
            .filter(|m| m.to.iter().any(|r| r == to))
            .map(Mime::of)
            .find(|m| m.header("subject").is_some_and(|s| s.contains(subject)));
        if let Some(mail) = found {
            return mail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail to {to} with a subject containing {subject:?}; the sink has {:?}",
            sink.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `token=` value of the first link in `text`.
pub fn link_token(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Registers `email` as `name`, verifies it with the link the mail over SMTP brought and
/// signs in: the access token of a customer ready to shop.
pub async fn signed_in_customer(app: &TestApp, sink: &SmtpSink, email: &str, name: &str) -> String {
    app.register(email, PASSWORD, name).await.assert_status(201);
    let mail = wait_for_subject(sink, email, "verification code").await;
    let token = link_token(&mail.part("text/plain").text());
    app.post("/api/v1/auth/verify-email", None, json!({"token": token}))
        .await
        .assert_status(204);
    let pair = app.login(email, PASSWORD).await;
    pair["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// A MIME entity: a whole message or one part of a multipart body.
#[derive(Clone, Debug)]
pub struct Mime {
    /// Unfolded, names lower-cased, in order.
    headers: Vec<(String, String)>,
    /// Body lines, still transfer-encoded.
    body: Vec<String>,
}

impl Mime {
    pub fn of(mail: &ReceivedMail) -> Self {
        Self::parse(&mail.data)
    }

    pub fn parse(raw: &str) -> Self {
        let mut lines = raw.lines();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        Self {
            headers,
            body: lines.map(str::to_owned).collect(),
        }
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many headers are called `name`.
    pub fn header_count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).count()
    }

    /// The media type without parameters, lower-cased (`text/plain` when unset).
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .unwrap_or("text/plain")
            .trim()
            .to_ascii_lowercase()
    }

    /// The parts of a multipart body, in order.
    pub fn parts(&self) -> Vec<Mime> {
        let content_type = self.header("content-type").unwrap_or_default();
        let start = content_type
            .find("boundary=")
            .unwrap_or_else(|| panic!("no boundary in Content-Type {content_type:?}"))
            + "boundary=".len();
        let boundary = content_type[start..]
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"');
        let (open, close) = (format!("--{boundary}"), format!("--{boundary}--"));
        let mut parts = Vec::new();
        let mut current: Option<Vec<&str>> = None;
        for line in &self.body {
            if *line == open || *line == close {
                if let Some(lines) = current.take() {
                    parts.push(Mime::parse(&lines.join("\r\n")));
                }
                if *line == close {
                    break;
                }
                current = Some(Vec::new());
            } else if let Some(lines) = current.as_mut() {
                lines.push(line);
            }
        }
        parts
    }

    /// The one part of type `media_type`, or a panic listing the types there are.
    pub fn part(&self, media_type: &str) -> Mime {
        let parts = self.parts();
        let mut matching = parts.iter().filter(|p| p.media_type() == media_type);
        match (matching.next(), matching.next()) {
            (Some(part), None) => part.clone(),
            _ => panic!(
                "expected exactly one {media_type} part, have {:?}",
                parts.iter().map(Mime::media_type).collect::<Vec<_>>()
            ),
        }
    }

    /// The body with its transfer encoding undone, lines joined with `\n`.
    pub fn text(&self) -> String {
        let encoding = self
            .header("content-transfer-encoding")
            .unwrap_or("7bit")
            .trim()
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let joined: String = self.body.iter().map(|l| l.trim()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("a valid base64 body");
                String::from_utf8(bytes).expect("a UTF-8 body")
            }
            "quoted-printable" => quoted_printable(&self.body),
            _ => self.body.join("\n"),
        }
    }
}

fn quoted_printable(lines: &[String]) -> String {
    let mut bytes = Vec::new();
    for line in lines {
        let line = line.trim_end_matches([' ', '\t']);
        let (line, soft_break) = match line.strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let mut rest = line.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            let escaped = (byte == b'=')
                .then(|| tail.get(..2))
                .flatten()
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            match escaped {
                Some(value) => {
                    bytes.push(value);
                    rest = &tail[2..];
                }
                None => {
                    bytes.push(byte);
                    rest = tail;
                }
            }
        }
        if !soft_break {
            bytes.push(b'\n');
        }
    }
    String::from_utf8(bytes).expect("a UTF-8 body")
}
