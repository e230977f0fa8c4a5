//! Mail over SMTP: with the dev mailbox off, identity's mails leave through lettre as
//! multipart text + HTML messages, a transient refusal is retried with the same
//! Message-ID, a mail that keeps being refused is given up, and the dev mailbox is gone.

use serde_json::json;
use testkit::smtp::SmtpSink;
use testkit::{Backend, TestApp};
use uuid::Uuid;

use crate::helpers::{
    MAX_ATTEMPTS, Mime, NEW_PASSWORD, PASSWORD, PATIENCE, SENDER, link_token, settle,
    spawn_with_smtp, unique_email, wait_for_subject,
};

const VERIFY_SUBJECT: &str = "Your Mercato verification code is ";
const RESET_SUBJECT: &str = "Reset your Mercato password";

/// Registers `email` and returns the verification mail as the SMTP server got it.
async fn registered(app: &TestApp, sink: &SmtpSink, email: &str) -> Mime {
    app.register(email, PASSWORD, "Ann Lee")
        .await
        .assert_status(201);
    wait_for_subject(sink, email, VERIFY_SUBJECT).await
}

/// The uuid inside a `<uuid@mercato.local>` Message-ID.
fn message_uuid(mail: &Mime) -> Uuid {
    let id = mail.header("message-id").expect("a Message-ID header");
    let inner = id
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix("@mercato.local>"))
        .unwrap_or_else(|| panic!("Message-ID {id:?} is not <uuid@mercato.local>"));
    Uuid::parse_str(inner).unwrap_or_else(|e| panic!("Message-ID {id:?}: {e}"))
}

pub async fn a_registration_mail_goes_out_over_smtp_as_text_and_html(backend: Backend) {
    let sink = SmtpSink::start(0).await;
    let app = spawn_with_smtp(backend, &sink).await;
    let email = unique_email("smtp");

    app.register(&email, PASSWORD, "Ann Lee")
        .await
        .assert_status(201);

    let received = sink.wait_for(1, PATIENCE).await;
    assert_eq!(received.len(), 1, "one mail: {received:?}");
    assert_eq!(received[0].from, SENDER, "the envelope sender");
    assert_eq!(
        received[0].to,
        vec![email.clone()],
        "the envelope recipient"
    );
    let mail = Mime::of(&received[0]);
    assert!(
        mail.header("from").is_some_and(|f| f.contains(SENDER)),
        "{:?}",
        mail.header("from")
    );
    assert!(
        mail.header("to").is_some_and(|t| t.contains(&email)),
        "{:?}",
        mail.header("to")
    );
    let subject = mail.header("subject").expect("a Subject header");
    let code = subject
        .strip_prefix(VERIFY_SUBJECT)
        .unwrap_or_else(|| panic!("unexpected subject {subject:?}"));
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "a six-digit code in {subject:?}"
    );
    assert_eq!(mail.header_count("message-id"), 1);
    message_uuid(&mail);
    assert_eq!(mail.media_type(), "multipart/alternative");
    let text = mail.part("text/plain").text();
    let html = mail.part("text/html").text();
    assert!(text.contains(&format!("code: {code}")), "{text}");
    assert!(
        text.contains("http://shop.test/verify-email?token="),
        "{text}"
    );
    assert!(html.contains(code), "{html}");
    assert!(html.contains(&link_token(&text)), "{html}");
    assert!(!text.contains(PASSWORD) && !html.contains(PASSWORD));
    // The code that went over the wire is the live one.
    app.post(
        "/api/v1/auth/verify-email",
        None,
        json!({"email": email, "code": code}),
    )
    .await
    .assert_status(204);
}

pub async fn a_transient_smtp_failure_is_retried_and_the_mail_arrives_once(backend: Backend) {
    let sink = SmtpSink::start(1).await;
    let app = spawn_with_smtp(backend, &sink).await;
    let email = unique_email("retry");

    app.register(&email, PASSWORD, "Ann Lee")
        .await
        .assert_status(201);

    sink.wait_for(1, PATIENCE).await;
    settle().await;
    let (received, refused) = (sink.received(), sink.refused());
    assert_eq!(refused.len(), 1, "the first attempt was refused");
    assert_eq!(received.len(), 1, "delivered exactly once: {received:?}");
    assert_eq!(received[0].to, vec![email]);
    assert_eq!(
        message_uuid(&Mime::of(&refused[0])),
        message_uuid(&Mime::of(&received[0])),
        "a retry keeps the Message-ID, so a server can drop a copy it already has"
    );
}

pub async fn a_mail_the_server_keeps_refusing_is_given_up_after_max_attempts(backend: Backend) {
    let sink = SmtpSink::start(usize::MAX).await;
    let app = spawn_with_smtp(backend, &sink).await;
    let email = unique_email("refused");

    app.register(&email, PASSWORD, "Ann Lee")
        .await
        .assert_status(201);

    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sink.refused().len() < MAX_ATTEMPTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {MAX_ATTEMPTS} attempts were made",
            sink.refused().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    settle().await;
    assert_eq!(
        sink.refused().len(),
        MAX_ATTEMPTS,
        "no attempt past the limit"
    );
    assert!(sink.received().is_empty());
}

pub async fn the_dev_mailbox_is_404_when_mail_goes_over_smtp(backend: Backend) {
    let sink = SmtpSink::start(0).await;
    let app = spawn_with_smtp(backend, &sink).await;

    let res = app.get("/api/v1/dev/mailbox", None).await;

    res.assert_problem(404);
    let doc = app.get("/api/v1/openapi.json", None).await;
    doc.assert_status(200);
    assert!(
        doc.body["paths"].get("/api/v1/dev/mailbox").is_none(),
        "the OpenAPI document does not list the mailbox either"
    );
}

pub async fn a_password_reset_mail_goes_out_over_smtp(backend: Backend) {
    let sink = SmtpSink::start(0).await;
    let app = spawn_with_smtp(backend, &sink).await;
    let email = unique_email("reset");
    let verification = registered(&app, &sink, &email).await;

    app.post(
        "/api/v1/auth/password/forgot",
        None,
        json!({"email": email}),
    )
    .await
    .assert_status(202);

    let mail = wait_for_subject(&sink, &email, RESET_SUBJECT).await;
    assert_eq!(mail.header("subject"), Some(RESET_SUBJECT));
    assert_ne!(message_uuid(&mail), message_uuid(&verification));
    assert_eq!(mail.media_type(), "multipart/alternative");
    let text = mail.part("text/plain").text();
    assert!(
        text.contains("http://shop.test/reset-password?token="),
        "{text}"
    );
    let token = link_token(&text);
    assert!(mail.part("text/html").text().contains(&token));
    app.post(
        "/api/v1/auth/password/reset",
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await
    .assert_status(204);
    app.login(&email, NEW_PASSWORD).await;
    wait_for_subject(&sink, &email, "password was changed").await;
}

testkit::backend_tests!(
    a_registration_mail_goes_out_over_smtp_as_text_and_html,
    a_transient_smtp_failure_is_retried_and_the_mail_arrives_once,
    a_mail_the_server_keeps_refusing_is_given_up_after_max_attempts,
    the_dev_mailbox_is_404_when_mail_goes_over_smtp,
    a_password_reset_mail_goes_out_over_smtp,
);
