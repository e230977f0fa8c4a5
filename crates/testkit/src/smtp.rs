//! An SMTP server small enough to read in one sitting, so the suites can prove that mail
//! really leaves the shop through the SMTP client (lettre) and not only through the dev
//! mailbox, without a mail server on the machine.
//!
//! It listens on `127.0.0.1:0`, speaks plain SMTP without TLS or AUTH (the subset
//! lettre's client uses: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), serves any
//! number of connections, and keeps every accepted message. It can refuse the first
//! transactions with a transient `451`, the way a greylisting or overloaded server
//! does, so the sender's retries can be tested.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One accepted message, as the client handed it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM:<…>`), without the angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO:<…>`), in order.
    pub to: Vec<String>,
    /// Headers and body with the dot-stuffing undone and the final `.` line removed;
    /// bodies are still in their transfer encoding (7bit, quoted-printable or base64).
    pub data: String,
}

/// A running SMTP server; it stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    received: Mailbag,
    refused: Mailbag,
    server: JoinHandle<()>,
}

type Mailbag = Arc<Mutex<Vec<ReceivedMail>>>;

/// What every connection shares.
#[derive(Clone)]
struct Shared {
    received: Mailbag,
    /// Messages answered with `451`, kept so a test can compare them with the retry.
    refused: Mailbag,
    /// Transactions still to refuse; counts down to zero.
    fail_left: Arc<AtomicUsize>,
}

impl SmtpSink {
    /// Starts a server that answers the end of the first `fail_first` messages with
    /// `451 4.3.0 try again later` (after the client has sent everything, the hardest
    /// case for a client) and accepts every later one.
    pub async fn start(fail_first: usize) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("the SMTP sink binds a local port");
        let addr = listener.local_addr().expect("the SMTP sink has an address");
        let shared = Shared {
            received: Arc::default(),
            refused: Arc::default(),
            fail_left: Arc::new(AtomicUsize::new(fail_first)),
        };
        let (received, refused) = (shared.received.clone(), shared.refused.clone());
        let server = tokio::spawn(async move {
            // Owning the connections here means aborting the server ends them too.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                connections.spawn(async move {
                    if let Err(err) = serve(stream, shared).await {
                        tracing::debug!(error = %err, "SMTP sink connection ended with an error");
                    }
                });
            }
        });
        Self {
            addr,
            received,
            refused,
            server,
        }
    }

    /// The URL to give the shop as `mail.smtp_url`: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        snapshot(&self.received)
    }

    /// Every message refused with `451` so far, oldest first.
    pub fn refused(&self) -> Vec<ReceivedMail> {
        snapshot(&self.refused)
    }

    /// Waits until at least `count` messages have been accepted and returns them all;
    /// panics, listing what did arrive, after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            if tokio::time::Instant::now() >= deadline {
                let to: Vec<_> = mails.iter().map(|m| &m.to).collect();
                panic!(
                    "the SMTP sink did not receive {count} mail(s) in {timeout:?}; it has {} to {to:?} and refused {}",
                    mails.len(),
                    self.refused().len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn snapshot(bag: &Mailbag) -> Vec<ReceivedMail> {
    bag.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The address inside `<…>` of a `MAIL FROM:` or `RCPT TO:` argument.
fn address(arg: &str) -> Option<String> {
    let start = arg.find('<')? + 1;
    let end = start + arg[start..].find('>')?;
    Some(arg[start..end].to_owned())
}

async fn reply(out: &mut (impl AsyncWrite + Unpin), text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes()).await?;
    out.write_all(b"\r\n").await?;
    out.flush().await
}

/// One SMTP session, until QUIT or until the client hangs up.
async fn serve(stream: TcpStream, shared: Shared) -> std::io::Result<()> {
    let (read, mut out) = stream.into_split();
    let mut lines = BufReader::new(read);
    let (mut from, mut to) = (None::<String>, Vec::<String>::new());
    let mut line = Vec::new();
    reply(&mut out, "220 127.0.0.1 ESMTP Mercato test sink").await?;
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end();
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => reply(&mut out, "250-127.0.0.1 greets you\r\n250 8BITMIME").await?,
            "HELO" => reply(&mut out, "250 127.0.0.1").await?,
            "MAIL" => match address(arg) {
                Some(sender) => {
                    (from, to) = (Some(sender), Vec::new());
                    reply(&mut out, "250 2.1.0 OK").await?;
                }
                None => reply(&mut out, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" => match (&from, address(arg)) {
                (None, _) => reply(&mut out, "503 5.5.1 MAIL first").await?,
                (_, None) => reply(&mut out, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                (Some(_), Some(rcpt)) => {
                    to.push(rcpt);
                    reply(&mut out, "250 2.1.5 OK").await?;
                }
            },
            "DATA" if to.is_empty() => reply(&mut out, "503 5.5.1 RCPT first").await?,
            "DATA" => {
                reply(&mut out, "354 end data with <CR><LF>.<CR><LF>").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    // Undo dot-stuffing: a line the client started with "." got a second one.
                    let text = String::from_utf8_lossy(&line);
                    data.push_str(text.strip_prefix('.').unwrap_or(&text));
                }
                let mail = ReceivedMail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                let refuse = shared
                    .fail_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let (bag, answer) = if refuse {
                    (&shared.refused, "451 4.3.0 try again later")
                } else {
                    (&shared.received, "250 2.0.0 OK queued")
                };
                bag.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(mail);
                reply(&mut out, answer).await?;
            }
            "RSET" => {
                (from, to) = (None, Vec::new());
                reply(&mut out, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut out, "250 2.0.0 OK").await?,
            "QUIT" => return reply(&mut out, "221 2.0.0 bye").await,
            _ => reply(&mut out, "502 5.5.2 command not recognized").await?,
        }
    }
}
