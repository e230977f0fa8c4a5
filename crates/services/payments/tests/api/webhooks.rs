//! Provider webhooks that are forged, replayed, duplicated, late or concurrent: one
//! charge and one state change, whatever arrives.

use chrono::Utc;
use serde_json::{Value, json};
use testkit::shop::order_when;
use testkit::{Backend, TestApp, TestResponse};

use crate::{Unpaid, eventually, payment_path, steps, stock_when, unpaid};

const WEBHOOK: &str = "/api/v1/payments/webhooks/sandbox";

/// Sends `body` as the sandbox would, signed at `at` (unix seconds) with `secret`.
async fn deliver(app: &TestApp, body: &Value, at: i64, secret: &str) -> TestResponse {
    let raw = body.to_string();
    let signed = format!("{at}.{raw}");
    let mac = platform::crypto::hmac_sha256_hex(secret.as_bytes(), signed.as_bytes());
    let res = app
        .client
        .post(app.url(WEBHOOK))
        .header("content-type", "application/json")
        .header("mercato-signature", format!("t={at},v1={mac}"))
        .body(raw)
        .send()
        .await
        .expect("webhook sent");
    TestApp::read(res).await
}

async fn deliver_now(app: &TestApp, body: &Value) -> TestResponse {
    deliver(app, body, Utc::now().timestamp(), &app.webhook_secret()).await
}

fn event(id: &str, kind: &str, payment: &str, amount: i64) -> Value {
    json!({"id": id, "type": kind, "data": {"payment_id": payment, "amount": amount, "currency": "USD"}})
}

pub async fn forged_and_replayed_webhooks_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        payment,
        ..
    } = unpaid(&app, 1).await;
    let paid = event("evt_forged", "payment.succeeded", &payment, 1750);
    let now = Utc::now().timestamp();

    let wrong_key = deliver(&app, &paid, now, "not-the-secret").await;
    wrong_key.assert_problem(401);
    assert_eq!(wrong_key.body["code"], "bad_signature");
    let unsigned = app
        .post_raw(WEBHOOK, "application/json", paid.to_string())
        .await;
    unsigned.assert_problem(401);
    // A body changed after signing.
    let raw = paid.to_string();
    let mac = platform::crypto::hmac_sha256_hex(
        app.webhook_secret().as_bytes(),
        format!("{now}.{raw}").as_bytes(),
    );
    let tampered = app
        .client
        .post(app.url(WEBHOOK))
        .header("mercato-signature", format!("t={now},v1={mac}"))
        .body(raw.replace("1750", "1"))
        .send()
        .await
        .expect("sent");
    assert_eq!(TestApp::read(tampered).await.status, 401);
    // Correctly signed, but ten minutes old (or ten minutes ahead): a replay.
    let secret = app.webhook_secret();
    let old = deliver(&app, &paid, now - 600, &secret).await;
    old.assert_problem(400);
    assert_eq!(old.body["code"], "stale_webhook");
    deliver(&app, &paid, now + 600, &secret)
        .await
        .assert_problem(400);
    // An unknown provider.
    app.post_raw("/api/v1/payments/webhooks/nobody", "application/json", "{}")
        .await
        .assert_problem(404);

    let p = app.get(&payment_path(&payment), Some(&me)).await;
    assert_eq!(p.body["status"], "requires_payment");
    assert_eq!(p.body["captured"], 0);
    // The same event, properly signed and fresh, is then applied: nothing was recorded
    // for it while it was refused.
    let ok = deliver_now(&app, &paid).await;
    ok.assert_status(200);
    assert_eq!(ok.body["result"], "applied");
}

pub async fn duplicate_and_late_webhooks_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        inventory,
        product: mug,
        order,
        payment,
    } = unpaid(&app, 1).await;

    // The success overtakes the processing notice.
    let paid = event("evt_paid", "payment.succeeded", &payment, 1750);
    assert_eq!(deliver_now(&app, &paid).await.body["result"], "applied");
    let late = deliver_now(
        &app,
        &event("evt_processing", "payment.processing", &payment, 1750),
    )
    .await;
    assert_eq!(late.body["result"], "ignored");
    // The same success again, and a second success under a new id.
    assert_eq!(deliver_now(&app, &paid).await.body["result"], "duplicate");
    let again = deliver_now(
        &app,
        &event("evt_paid_2", "payment.succeeded", &payment, 1750),
    )
    .await;
    assert_eq!(again.body["result"], "ignored");
    // A failure after the success.
    let failed = json!({"id": "evt_failed", "type": "payment.failed",
                        "data": {"payment_id": payment, "failure_code": "card_declined"}});
    assert_eq!(deliver_now(&app, &failed).await.body["result"], "ignored");

    let o = order_when(&app, &me, &order, "paid", |o| o["status"] == "paid").await;
    let p = app.get(&payment_path(&payment), Some(&me)).await;
    assert_eq!(p.body["status"], "succeeded");
    assert_eq!(p.body["captured"], 1750);
    // One payment, one sale: let every event settle, then count.
    stock_when(&app, &inventory, &mug, "sold", |p| p["units_sold"] == 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let o2 = app.get(&format!("/api/v1/orders/{order}"), Some(&me)).await;
    assert_eq!(steps(&o2.body), steps(&o));
    assert_eq!(steps(&o2.body), ["pending", "awaiting_payment", "paid"]);
    let product = app
        .get(&format!("/api/v1/products/{mug}"), Some(&inventory))
        .await;
    assert_eq!(product.body["units_sold"], 1);
    assert_eq!(product.body["stock"]["on_hand"], 4);
}

pub async fn a_webhook_delivered_ten_times_at_once_applies_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        order,
        payment,
        ..
    } = unpaid(&app, 1).await;
    let paid = event("evt_storm", "payment.succeeded", &payment, 1750);
    let answers = futures::future::join_all((0..10).map(|_| deliver_now(&app, &paid))).await;
    let mut results: Vec<String> = answers
        .iter()
        .map(|a| {
            a.assert_status(200);
            a.body["result"].as_str().expect("result").to_owned()
        })
        .collect();
    results.sort();
    assert_eq!(
        results.iter().filter(|r| *r == "applied").count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| *r == "duplicate").count(),
        9,
        "{results:?}"
    );
    let o = order_when(&app, &me, &order, "paid", |o| o["status"] == "paid").await;
    assert_eq!(steps(&o).iter().filter(|s| *s == "paid").count(), 1);
}

pub async fn money_other_than_the_total_does_not_pay_the_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Unpaid {
        customer: me,
        inventory,
        product,
        order,
        payment,
    } = unpaid(&app, 1).await;
    let short = event("evt_short", "payment.succeeded", &payment, 1749);
    assert_eq!(deliver_now(&app, &short).await.body["result"], "applied");

    // The payment fails, and what the provider took anyway goes back in full.
    let p = eventually(&app, &me, &payment_path(&payment), "refunded", |p| {
        p["status"] == "refunded"
    })
    .await;
    assert_eq!(p["failure_reason"], "amount_mismatch");
    assert_eq!(
        (&p["captured"], &p["refunded"]),
        (&json!(1749), &json!(1749))
    );
    assert_eq!(p["refunds"].as_array().map(Vec::len), Some(1));
    assert_eq!(p["refunds"][0]["status"], "succeeded");
    let o = order_when(&app, &me, &order, "refunded while unpaid", |o| {
        o["status"] == "payment_failed" && o["totals"]["refunded"] == 1749
    })
    .await;
    assert_eq!(steps(&o).iter().filter(|s| *s == "paid").count(), 0);
    stock_when(&app, &inventory, &product, "released", |p| {
        p["stock"]["reserved"] == 0
    })
    .await;
}

testkit::backend_tests!(
    forged_and_replayed_webhooks_change_nothing,
    duplicate_and_late_webhooks_change_nothing,
    a_webhook_delivered_ten_times_at_once_applies_once,
    money_other_than_the_total_does_not_pay_the_order,
);
