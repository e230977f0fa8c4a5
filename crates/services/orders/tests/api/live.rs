//! Following an order without polling: the long poll on `GET /orders/{id}` answers when
//! the order changes (and only then, or at its timeout), and `GET /orders/{id}/events`
//! streams every change as a Server-Sent Event.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::shop::{CARD_OK, order_awaiting_payment, pay};
use testkit::{Backend, TestApp};

use crate::checkout::{ready_customer, shipping_to_indonesia};

fn waiting(id: &str, version: &Value, timeout_ms: u64) -> String {
    format!("/api/v1/orders/{id}?wait_for_change_from={version}&timeout_ms={timeout_ms}")
}

pub async fn a_long_poll_answers_when_the_order_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    let order = order_awaiting_payment(&app, &me, &home).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let version = order["version"].clone();

    // Nothing moves an order awaiting payment: the poll waits out its timeout and
    // answers the order as it is.
    let started = Instant::now();
    let idle = app.get(&waiting(&id, &version, 300), Some(&me)).await;
    idle.assert_status(200);
    assert_eq!(idle.body["version"], version);
    assert!(started.elapsed() >= Duration::from_millis(250), "it waited");

    // A version the order has left: the answer comes at once, with the order as it is.
    let stale = app
        .get(&waiting(&id, &Value::from(0), 20_000), Some(&me))
        .await;
    stale.assert_status(200);
    assert_eq!(stale.body["version"], version);

    // A poll waiting while the customer pays is answered by the change, long before
    // its 20 s: a timed-out answer would carry the version it waited on.
    let poll = {
        let (app, me, url) = (&app, &me, waiting(&id, &version, 20_000));
        async move { app.get(&url, Some(me)).await }
    };
    let payment = order["payment"]["id"].as_str().expect("payment id");
    let (changed, paid) = tokio::join!(poll, async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        pay(&app, &me, payment, CARD_OK).await
    });
    paid.assert_status(202);
    changed.assert_status(200);
    assert_ne!(changed.body["version"], version, "{}", changed.body);
    assert!(changed.body["version"].as_i64() > version.as_i64());

    // Another customer learns nothing, waiting or not.
    let stranger = app.customer_token().await;
    app.get(&waiting(&id, &version, 100), Some(&stranger))
        .await
        .assert_problem(404);
}

pub async fn a_long_poll_is_bounded_and_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let me = app.customer_token().await;
    let id = uuid::Uuid::now_v7();
    for (query, field) in [
        ("wait_for_change_from=1&timeout_ms=0", "timeout_ms"),
        ("wait_for_change_from=1&timeout_ms=30001", "timeout_ms"),
        ("wait_for_change_from=-1", "wait_for_change_from"),
    ] {
        let res = app
            .get(&format!("/api/v1/orders/{id}?{query}"), Some(&me))
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{query}");
    }
    app.get(
        &format!("/api/v1/orders/{id}?wait_for_change_from=1&timeout_ms=50"),
        Some(&me),
    )
    .await
    .assert_problem(404);
}

/// One `order` event of a stream: its id and the order it carries.
struct OrderEvent {
    id: i64,
    order: Value,
}

/// Reads Server-Sent Events from `res` until `stop` accepts one or the stream ends.
async fn read_events(
    res: &mut reqwest::Response,
    stop: impl Fn(&OrderEvent) -> bool,
) -> Vec<OrderEvent> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    loop {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("the stream goes quiet")
            .expect("the stream breaks");
        let Some(chunk) = chunk else { return events };
        buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
            };
            if field("event:").as_deref() != Some("order") {
                continue; // a keep-alive comment
            }
            let event = OrderEvent {
                id: field("id:").and_then(|v| v.parse().ok()).expect("an id"),
                order: serde_json::from_str(&field("data:").expect("data")).expect("json"),
            };
            let done = stop(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }
}

pub async fn the_event_stream_tells_every_change_until_the_order_is_paid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    let order = order_awaiting_payment(&app, &me, &home).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let url = app.url(&format!("/api/v1/orders/{id}/events"));

    let mut stream = app
        .client
        .get(&url)
        .bearer_auth(&me)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .expect("a text content type")
            .starts_with("text/event-stream")
    );
    let first = read_events(&mut stream, |_| true).await;
    assert_eq!(first[0].order["status"], "awaiting_payment");
    assert_eq!(
        first[0].id,
        first[0].order["version"].as_i64().expect("a version")
    );

    let payment = order["payment"]["id"].as_str().expect("payment id");
    pay(&app, &me, payment, CARD_OK).await.assert_status(202);
    let later = read_events(&mut stream, |e| e.order["status"] == "paid").await;
    let last = later.last().expect("events after paying");
    assert_eq!(last.order["status"], "paid");
    let ids: Vec<i64> = std::iter::once(first[0].id)
        .chain(later.iter().map(|e| e.id))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "versions only grow: {ids:?}"
    );

    // Reconnecting with the last id: only what is newer, and nothing is.
    let mut again = app
        .client
        .get(&url)
        .bearer_auth(&me)
        .header("last-event-id", last.id.to_string())
        .send()
        .await
        .expect("stream");
    assert_eq!(again.status(), 200);
    let quiet = tokio::time::timeout(Duration::from_millis(300), again.chunk()).await;
    assert!(
        quiet.is_err(),
        "nothing is sent again to a client that has it"
    );

    // The order is not a stranger's to follow.
    let stranger = app.customer_token().await;
    let res = app
        .client
        .get(&url)
        .bearer_auth(&stranger)
        .send()
        .await
        .expect("stream");
    assert_eq!(res.status(), 404);
}

/// Shutting down (as on SIGTERM) with a long poll and an event stream waiting: the
/// process first says it is not ready while it still serves, then answers the poll and
/// ends the stream cleanly instead of holding its exit for them, and exits. The waits
/// are far longer than the shutdown bound, so a wait left to run would be cut off and
/// show as a broken connection, not as an answer.
pub async fn shutting_down_answers_the_waits_before_it_exits(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, |s| {
        s.http.shutdown_delay_ms = 1_000;
        s.http.shutdown_timeout_secs = 5;
    })
    .await;
    shipping_to_indonesia(&app).await;
    let (me, home, _) = ready_customer(&app).await;
    let order = order_awaiting_payment(&app, &me, &home).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let version = order["version"].clone();

    let mut stream = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/events")))
        .bearer_auth(&me)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert_eq!(read_events(&mut stream, |_| true).await.len(), 1);
    let poll = tokio::spawn(
        app.client
            .get(app.url(&waiting(&id, &version, 30_000)))
            .bearer_auth(&me)
            .send(),
    );
    let (client, readyz) = (app.client.clone(), app.url("/readyz"));
    let healthz = app.url("/healthz");
    let during = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ready = client
            .get(&readyz)
            .send()
            .await
            .expect("readyz while draining");
        let status = ready.status();
        let body: Value = ready.json().await.expect("json");
        let alive = client.get(&healthz).send().await.expect("still serving");
        (status, body, alive.status())
    };
    let (stopped, (ready, body, alive)) = tokio::join!(app.shut_down(), during);
    stopped.expect("the app stops cleanly");
    assert_eq!((ready.as_u16(), alive.as_u16()), (503, 200), "{body}");
    assert_eq!(body["status"], "draining");

    let answered = poll
        .await
        .expect("poll task")
        .expect("the long poll is answered");
    assert_eq!(answered.status(), 200);
    let body: Value = answered.json().await.expect("the whole answer");
    assert_eq!(body["version"], version, "answered as it is, unchanged");
    let rest = read_events(&mut stream, |_| false).await;
    assert!(rest.is_empty(), "the stream ends without a new event");
    assert!(
        client.get(&healthz).send().await.is_err(),
        "a stopped app takes no connections"
    );
}

testkit::backend_tests!(
    a_long_poll_answers_when_the_order_changes,
    a_long_poll_is_bounded_and_checked,
    the_event_stream_tells_every_change_until_the_order_is_paid,
    shutting_down_answers_the_waits_before_it_exits,
);
