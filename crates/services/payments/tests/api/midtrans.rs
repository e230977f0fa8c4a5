//! The Midtrans adapter against a local fake that follows Midtrans' public docs: Snap
//! transactions with Basic auth on the server key, notifications signed with
//! SHA-512(order_id + status_code + gross_amount + server_key), refunds through the Core
//! API answered by a `refund` / `partial_refund` notification.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use testkit::shop::{
    CARD_OK, add, address, order_awaiting_payment, order_when, pay, place, ships_to_indonesia,
};
use testkit::{Backend, TestApp, TestResponse};

use crate::{customer, eventually, payment_path};

const SERVER_KEY: &str = "SB-Mid-server-test-key";
/// How many Snap requests fail before Snap comes back.
const OUTAGE: usize = 12;

#[derive(Clone, Default)]
struct Fake {
    base: Arc<Mutex<String>>,
    /// Where notifications go (the shop's webhook), once the shop runs.
    notify_to: Arc<Mutex<Option<String>>>,
    transactions: Arc<Mutex<Vec<Value>>>,
    refunds: Arc<Mutex<Vec<Value>>>,
    /// Snap answers 503 to this many more requests: an outage.
    down_for: Arc<AtomicUsize>,
    /// Every Snap request, answered or not.
    snap_calls: Arc<AtomicUsize>,
}

fn authorised(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SERVER_KEY}:"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn sign(order_id: &str, status_code: &str, gross_amount: &str) -> String {
    platform::crypto::sha512_hex(
        format!("{order_id}{status_code}{gross_amount}{SERVER_KEY}").as_bytes(),
    )
}

/// A notification as Midtrans would post it.
fn notification(order_id: &str, status: &str, gross: i64, extra: Value) -> Value {
    let gross_amount = format!("{gross}.00");
    let mut n = json!({
        "transaction_time": "2026-11-21 10:00:00", "transaction_status": status,
        "transaction_id": format!("tx-{order_id}"), "status_message": "midtrans payment notification",
        "status_code": "200", "signature_key": sign(order_id, "200", &gross_amount),
        "payment_type": "credit_card", "order_id": order_id, "merchant_id": "G000000000",
        "gross_amount": gross_amount, "fraud_status": "accept", "currency": "IDR",
    });
    if let (Some(n), Some(extra)) = (n.as_object_mut(), extra.as_object()) {
        n.extend(extra.clone());
    }
    n
}

async fn snap(
    State(f): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error_messages": ["Access denied"]})),
        );
    }
    f.snap_calls.fetch_add(1, Ordering::SeqCst);
    let outage = f
        .down_for
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if outage.is_ok() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error_messages": ["Service temporarily unavailable"]})),
        );
    }
    let order_id = body["transaction_details"]["order_id"].clone();
    let mut seen = f.transactions.lock().expect("lock");
    if seen
        .iter()
        .any(|t| t["transaction_details"]["order_id"] == order_id)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error_messages": ["transaction_details.order_id has already been taken"]}),
            ),
        );
    }
    seen.push(body);
    let token = uuid::Uuid::new_v4().to_string();
    let base = f.base.lock().expect("lock").clone();
    (
        StatusCode::CREATED,
        Json(json!({"token": token, "redirect_url": format!("{base}/snap/v2/vtweb/{token}")})),
    )
}

async fn refund(
    State(f): State<Fake>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"status_code": "401"})),
        );
    }
    let gross = {
        let txs = f.transactions.lock().expect("lock");
        txs.iter()
            .find(|t| t["transaction_details"]["order_id"] == order_id.as_str())
            .and_then(|t| t["transaction_details"]["gross_amount"].as_i64())
            .unwrap_or(0)
    };
    let (refunds, refunded) = {
        let mut all = f.refunds.lock().expect("lock");
        all.push(json!({"order_id": order_id, "body": body.clone()}));
        let mine: Vec<Value> = all
            .iter()
            .filter(|r| r["order_id"] == order_id.as_str())
            .map(|r| json!({"refund_key": r["body"]["refund_key"], "refund_amount": r["body"]["amount"]}))
            .collect();
        let total: i64 = mine
            .iter()
            .filter_map(|r| r["refund_amount"].as_i64())
            .sum();
        (mine, total)
    };
    let status = if refunded >= gross {
        "refund"
    } else {
        "partial_refund"
    };
    let note = notification(
        &order_id,
        status,
        gross,
        json!({"refunds": refunds, "refund_amount": refunded}),
    );
    if let Some(to) = f.notify_to.lock().expect("lock").clone() {
        // Midtrans notifies after answering the request.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let _ = reqwest::Client::new().post(to).json(&note).send().await;
        });
    }
    (
        StatusCode::OK,
        Json(
            json!({"status_code": "200", "status_message": "Success, refund request is approved",
                    "refund_key": body["refund_key"], "refund_amount": body["amount"]}),
        ),
    )
}

async fn start_fake() -> Fake {
    let fake = Fake::default();
    let app = axum::Router::new()
        .route("/snap/v1/transactions", post(snap))
        .route("/v2/{order_id}/refund", post(refund))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    *fake.base.lock().expect("lock") = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    fake
}

async fn notify(app: &TestApp, body: &Value) -> TestResponse {
    app.post("/api/v1/payments/webhooks/midtrans", None, body.clone())
        .await
}

/// A shop taking payments through the fake Midtrans.
async fn midtrans_shop(backend: Backend, fake: &Fake) -> TestApp {
    let base = fake.base.lock().expect("lock").clone();
    let app = TestApp::spawn_with(backend, |s| {
        s.payments.provider_retry_ms = 100;
        s.payments.provider = "midtrans".into();
        s.payments.midtrans_server_key = Some(SERVER_KEY.to_owned().into());
        s.payments.midtrans_snap_url = base.clone();
        s.payments.midtrans_api_url = base.clone();
    })
    .await;
    *fake.notify_to.lock().expect("lock") = Some(app.url("/api/v1/payments/webhooks/midtrans"));
    app
}

/// A shop selling in rupiah: a 50,000 IDR kettle, 10,000 IDR shipping. Returns a
/// customer's token and address with the kettle in the cart.
async fn kettle_in_cart(app: &TestApp) -> (String, String) {
    ships_to_indonesia(
        app,
        json!({"carrier": "JNE", "service_code": "standard", "name": "Reguler", "currency": "IDR",
               "brackets": [{"up_to_grams": 5000, "price": 1_000_000}], "min_days": 2, "max_days": 3}),
    )
    .await;
    let inventory = app.staff_token("inventory").await;
    let kettle = app
        .post(
            "/api/v1/products",
            Some(&inventory),
            json!({"name": testkit::unique("Kettle"), "description": "Boils.", "price": 5_000_000, "currency": "IDR",
                   "weight_grams": 900, "length_mm": 200, "width_mm": 200, "height_mm": 200, "stock": 3}),
        )
        .await;
    kettle.assert_status(201);
    let (_, me) = customer(app).await;
    let home = address(app, &me).await;
    add(app, &me, kettle.body["id"].as_str().expect("id"), 1).await;
    (me, home)
}

pub async fn midtrans_takes_an_order_through_snap_and_refunds_it(backend: Backend) {
    let fake = start_fake().await;
    let base = fake.base.lock().expect("lock").clone();
    let app = midtrans_shop(backend, &fake).await;
    let (me, home) = kettle_in_cart(&app).await;
    // Snap is down for longer than the bus would redeliver an event (8 times here): the
    // payment is still opened, by asking again until Snap answers.
    fake.down_for.store(OUTAGE, Ordering::SeqCst);

    let order = order_awaiting_payment(&app, &me, &home).await;
    let id = order["id"].as_str().expect("id");
    let payment = order["payment"]["id"].as_str().expect("payment").to_owned();
    let url = order["payment"]["checkout_url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{base}/snap/v2/vtweb/")), "{url}");
    assert!(fake.snap_calls.load(Ordering::SeqCst) > OUTAGE);
    {
        let txs = fake.transactions.lock().expect("lock");
        assert_eq!(txs.len(), 1);
        assert_eq!(txs[0]["transaction_details"]["order_id"], payment.as_str());
        assert_eq!(txs[0]["transaction_details"]["gross_amount"], 60_000);
    }

    // A forged notification (signed with another key) and one for another amount.
    let mut forged = notification(&payment, "settlement", 60_000, json!({}));
    forged["signature_key"] = json!(platform::crypto::sha512_hex(b"guess"));
    notify(&app, &forged).await.assert_problem(401);
    let pending = notification(&payment, "pending", 60_000, json!({}));
    assert_eq!(notify(&app, &pending).await.body["result"], "applied");
    let settled = notification(&payment, "settlement", 60_000, json!({}));
    assert_eq!(notify(&app, &settled).await.body["result"], "applied");
    assert_eq!(notify(&app, &settled).await.body["result"], "duplicate");
    let paid = order_when(&app, &me, id, "paid", |o| o["status"] == "paid").await;
    assert_eq!(paid["payment"]["status"], "succeeded");

    // Finance refunds 10,000 IDR; Midtrans confirms with a partial_refund notification.
    let finance = app.staff_token("finance").await;
    let refund =
        testkit::shop::refund(&app, &finance, &payment, json!({"amount": 1_000_000})).await;
    refund.assert_status(202);
    let p = eventually(&app, &me, &payment_path(&payment), "partly refunded", |p| {
        p["status"] == "partially_refunded"
    })
    .await;
    assert_eq!(p["refunded"], 1_000_000);
    let asked = fake.refunds.lock().expect("lock").clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["body"]["amount"], 10_000);
    assert_eq!(asked[0]["body"]["refund_key"], refund.body["id"]);
}

/// A payment recorded while Snap was down, and the shop then stops offering Midtrans:
/// the payment is opened with the provider the shop has now, and the order can be paid.
pub async fn a_payment_never_opened_follows_the_shop_to_its_new_provider(backend: Backend) {
    let fake = start_fake().await;
    fake.down_for.store(usize::MAX, Ordering::SeqCst);
    let mut app = midtrans_shop(backend, &fake).await;
    let (me, home) = kettle_in_cart(&app).await;
    let placed = place(&app, &me, &home).await;
    let id = placed["id"].as_str().expect("id").to_owned();
    // Payments recorded the payment for Midtrans and keeps asking Snap.
    let deadline = tokio::time::Instant::now() + testkit::shop::PATIENCE;
    while fake.snap_calls.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Snap was never asked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let waiting = app.get(&format!("/api/v1/orders/{id}"), Some(&me)).await;
    assert!(
        waiting.body["payment"].is_null(),
        "Snap never answered: {}",
        waiting.body
    );

    app.restart(|s| {
        s.payments.provider = "sandbox".into();
        s.payments.midtrans_server_key = None;
    })
    .await;
    let order = order_when(&app, &me, &id, "given a sandbox payment", |o| {
        o["payment"]["checkout_url"]
            .as_str()
            .is_some_and(|u| u.contains("/sandbox/pay"))
    })
    .await;
    let payment = order["payment"]["id"].as_str().expect("payment");
    pay(&app, &me, payment, CARD_OK).await.assert_status(202);
    order_when(&app, &me, &id, "paid", |o| o["status"] == "paid").await;
    assert!(fake.transactions.lock().expect("lock").is_empty());
}

testkit::backend_tests!(
    midtrans_takes_an_order_through_snap_and_refunds_it,
    a_payment_never_opened_follows_the_shop_to_its_new_provider,
);
