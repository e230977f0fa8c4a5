//! What the HTTP kernel refuses before a handler runs, and what it shows only to the
//! shop's own machine: slow and huge requests, floods of requests, the dev mailbox,
//! `/metrics` and caching of private answers.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use mercato::app::{self, AppOptions};
use platform::config::Settings;
use serde_json::json;
use testkit::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for any answer the shop gives at once; a test reading a connection gives
/// up after it, so a shop that holds a connection instead of answering fails the test.
const PATIENCE: Duration = Duration::from_secs(20);

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Writes `head` (and `body`) on a raw connection and reads what comes back until the
/// shop closes it or `PATIENCE` passes.
async fn raw(app: &TestApp, head: &str, body: &[u8]) -> String {
    let mut conn = TcpStream::connect(host_port(app)).await.expect("connect");
    conn.write_all(head.as_bytes()).await.expect("write head");
    conn.write_all(body).await.expect("write body");
    read_answer(&mut conn).await
}

async fn read_answer(conn: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                // One answer is enough: stop at the end of a complete body.
                if answer_complete(&out) {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .is_some_and(|len| body.len() >= len)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn a_huge_request_head_is_refused_with_431(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let big = "a".repeat(64 * 1024);
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: shop\r\nX-Padding: {big}\r\nConnection: close\r\n\r\n"
    );

    let answer = raw(&app, &head, b"").await;

    assert_eq!(status_of(&answer), 431, "{answer:.200}");
}

async fn a_client_that_never_finishes_its_head_is_disconnected(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.http.header_read_timeout_secs = 1).await;
    let mut conn = TcpStream::connect(host_port(&app)).await.expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: shop\r\n")
        .await
        .expect("write");

    // A slow client sends a byte now and then; the shop closes the connection anyway.
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if conn.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(10), conn.read(&mut buf)).await
        {
            closed = true;
            break;
        }
    }

    assert!(closed, "the shop kept a dribbling connection open for 20 s");
}

async fn a_declared_body_over_the_limit_is_refused_before_it_is_sent(backend: Backend) {
    // Without the early check the request would wait for its body until the request
    // timeout, which is set beyond the test's patience.
    let app = TestApp::spawn_with(backend, |s| s.http.request_timeout_secs = 600).await;
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
                Content-Length: 1073741824\r\nConnection: close\r\n\r\n";

    let answer = raw(&app, head, b"{").await;

    assert_eq!(status_of(&answer), 413, "{answer:.300}");
    assert!(answer.contains("application/problem+json"), "{answer:.300}");
}

async fn a_body_that_stalls_is_answered_408(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http.body_read_timeout_secs = 1;
        s.http.request_timeout_secs = 600;
    })
    .await;
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\nConnection: close\r\n\r\n";

    let answer = raw(&app, head, b"{\"email\": ").await;

    assert_eq!(status_of(&answer), 408, "{answer:.300}");
}

async fn requests_past_the_concurrency_bound_are_shed_with_503(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http.max_concurrent_requests = 2;
        s.http.request_timeout_secs = 600;
        s.http.body_read_timeout_secs = 600;
    })
    .await;
    // Two requests held in flight: their bodies never finish.
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut conn = TcpStream::connect(host_port(&app)).await.expect("connect");
        conn.write_all(head.as_bytes()).await.expect("write");
        held.push(conn);
    }
    // The held requests reach the guard in their own time (on a loaded machine, seconds);
    // until both hold a slot, a probe request may still get through.
    let mut shed = None;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while shed.is_none() && tokio::time::Instant::now() < deadline {
        let res = app.get("/api/v1/categories", None).await;
        if res.status == 503 {
            shed = Some(res);
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let Some(shed) = shed else {
        // Say what became of the held requests: answered (and by what) or still held.
        let mut fates = Vec::new();
        for conn in &mut held {
            let mut buf = [0u8; 512];
            let fate =
                match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await {
                    Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
                    Ok(Err(err)) => format!("read failed: {err}"),
                    Err(_) => "still held".to_owned(),
                };
            fates.push(fate);
        }
        panic!("a third request at once was never shed; the held requests: {fates:?}");
    };
    shed.assert_problem(503);
    assert_eq!(shed.body["code"], "overloaded");
    assert!(shed.headers.contains_key("retry-after"));
    app.get("/readyz", None).await.assert_status(200);
    drop(held);
    let mut served = false;
    for _ in 0..100 {
        if app.get("/api/v1/categories", None).await.status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the slots come back when the held requests end");
}

async fn the_dev_mailbox_answers_only_this_machine(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.http.trust_forwarded_for = true).await;
    app.get("/api/v1/dev/mailbox", None)
        .await
        .assert_status(200);
    for forwarded in ["203.0.113.9", "127.0.0.1, 203.0.113.9", "not-an-address"] {
        let res = app
            .send_with(
                reqwest::Method::GET,
                "/api/v1/dev/mailbox",
                None,
                &[("x-forwarded-for", forwarded)],
                None,
            )
            .await;
        res.assert_problem(404);
    }
    let res = app
        .send_with(
            reqwest::Method::GET,
            "/metrics",
            None,
            &[("forwarded", "for=203.0.113.9")],
            None,
        )
        .await;
    res.assert_problem(404);
}

/// An address of this machine that is not loopback, if it has one (the one its default
/// route leaves by; nothing is sent).
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn settings_on(listen: SocketAddr, data_dir: &std::path::Path) -> Settings {
    let mut s = Settings {
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    };
    s.http.listen = listen;
    s.log.filter = "warn".into();
    s.payments.webhook_secret = Some("whsec-guards-test".to_owned().into());
    s
}

/// A shop reachable from other machines keeps no mail in a mailbox unless told to;
/// told to, its mailbox still answers only this machine, over a real socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_open_to_the_network_needs_smtp_or_an_explicit_dev_mailbox() {
    let dir = tempfile::tempdir().expect("dir");
    let open = SocketAddr::from(([0, 0, 0, 0], 0));
    let refused = app::build(AppOptions::single_process(settings_on(open, dir.path()))).await;
    let err = format!("{:#}", refused.err().expect("the shop refuses to start"));
    assert!(
        err.contains("mail.smtp_url") && err.contains("mail.dev_mailbox"),
        "{err}"
    );

    let Some(ip) = non_loopback_address() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI machines have a network address to test the mailbox from"
        );
        eprintln!("SKIPPED the remote-socket half: this machine has no non-loopback address");
        return;
    };
    let mut settings = settings_on(open, dir.path());
    settings.mail.dev_mailbox = Some(true);
    let shop = app::build(AppOptions::single_process(settings))
        .await
        .expect("an explicit dev mailbox starts");
    let port = shop.port();
    tokio::spawn(shop.run(std::future::pending()));
    let client = reqwest::Client::new();
    let local = client
        .get(format!("http://127.0.0.1:{port}/api/v1/dev/mailbox"))
        .send()
        .await
        .expect("local");
    assert_eq!(local.status(), 200);
    let remote = client
        .get(format!(
            "http://{}/api/v1/dev/mailbox",
            SocketAddr::new(ip, port)
        ))
        .send()
        .await
        .expect("remote");
    assert_eq!(remote.status(), 404, "a client on {ip} reads no mail");
    let remote_metrics = client
        .get(format!("http://{}/metrics", SocketAddr::new(ip, port)))
        .send()
        .await
        .expect("remote");
    assert_eq!(remote_metrics.status(), 404);
}

async fn metrics_move_to_their_own_listener_when_asked(backend: Backend) {
    let port = testkit::process::free_port();
    let app = TestApp::spawn_with(backend, |s| {
        s.http.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], port)));
    })
    .await;
    app.get("/metrics", None).await.assert_problem(404);
    let mut text = None;
    for _ in 0..50 {
        if let Ok(res) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await {
            text = Some(res.text().await.expect("text"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = text.expect("the metrics listener answers");
    assert!(text.contains("http_requests_total"), "{text:.300}");
}

async fn private_answers_are_never_stored_by_caches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = testkit::unique("nostore") + "@example.test";
    let password = "correct horse battery staple";
    let pair = app.verified_customer(&email, password).await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await;
    login.assert_status(200);
    assert_eq!(login.headers["cache-control"], "no-store");
    let token = pair["access_token"].as_str().expect("token");
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.headers["cache-control"], "no-store");
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.headers["cache-control"], "no-store");
    // Public answers keep their own caching.
    let categories = app.get("/api/v1/categories", None).await;
    assert!(
        categories.headers["cache-control"]
            .to_str()
            .expect("ascii")
            .starts_with("public"),
    );
}

testkit::backend_tests!(
    a_huge_request_head_is_refused_with_431,
    a_client_that_never_finishes_its_head_is_disconnected,
    a_declared_body_over_the_limit_is_refused_before_it_is_sent,
    a_body_that_stalls_is_answered_408,
    requests_past_the_concurrency_bound_are_shed_with_503,
    the_dev_mailbox_answers_only_this_machine,
    metrics_move_to_their_own_listener_when_asked,
    private_answers_are_never_stored_by_caches,
);
