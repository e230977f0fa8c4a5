//! SIGTERM against a real `mercato serve`: the process stops saying it is ready while it
//! still serves, then closes its listener, lets the request in flight finish, and exits
//! with success.

use std::time::Duration;

use serde_json::json;
use testkit::process::{ProcessTag, ShopProcess, backend_env, free_port};
use testkit::{Backend, distributed_backends_available};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

async fn sigterm_lets_the_request_in_flight_finish(backend: Backend) {
    if backend == Backend::Distributed && !distributed_backends_available() {
        return;
    }
    let tag = ProcessTag::new(backend);
    let dir = tempfile::tempdir().expect("dir");
    let mut env = backend_env(backend, &tag.tag);
    env.extend([
        ("MERCATO_HTTP__SHUTDOWN_DELAY_MS".into(), "1500".into()),
        ("MERCATO_HTTP__SHUTDOWN_TIMEOUT_SECS".into(), "20".into()),
    ]);
    let port = free_port();
    let mut shop = ShopProcess::start(BIN, dir.path(), port, &env).await;

    // A registration whose body is only half sent when the signal comes.
    let body = json!({"email": format!("late-{}@example.com", tag.tag),
                      "password": "correct horse battery staple", "name": "Late"})
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(first.as_bytes())
        .await
        .expect("half the body");
    tokio::time::sleep(Duration::from_millis(200)).await;

    shop.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::new();
    let ready = client
        .get(shop.url("/readyz"))
        .send()
        .await
        .expect("still serving while draining");
    assert_eq!(ready.status(), 503, "not ready once shutting down");
    let alive = client
        .get(shop.url("/healthz"))
        .send()
        .await
        .expect("healthz while draining");
    assert_eq!(alive.status(), 200, "alive while draining");

    // Past the delay the listener is closed: new connections are refused while the
    // request in flight goes on.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the listener closes after the delay");
    assert!(
        shop.exited(Duration::ZERO).await.is_none(),
        "the process waits for the request in flight"
    );

    conn.write_all(rest.as_bytes())
        .await
        .expect("the rest of the body");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.expect("an answer");
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight is answered: {answer}"
    );

    let status = shop
        .exited(Duration::from_secs(30))
        .await
        .expect("the process exits");
    assert!(status.success(), "a clean exit: {status}");
}

testkit::backend_tests!(sigterm_lets_the_request_in_flight_finish);
