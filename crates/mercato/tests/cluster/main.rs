//! The distributed topology for real: every service as two processes on PostgreSQL,
//! NATS JetStream and Redis, behind Debian's nginx with the project's configuration
//! (`testkit::cluster`). A customer's whole purchase passes through nginx; a rolling
//! restart fails no request; replicas killed mid-saga and a bus outage (`faults`) lose
//! and double nothing.
//!
//! Needs nginx and the three servers: with CI=true their absence is a failure;
//! elsewhere the suite says it skipped and passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use testkit::ShopClient;
use testkit::cluster::{self, Cluster};
use testkit::shop;

mod faults;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

pub(crate) fn can_run() -> bool {
    if cluster::available() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "CI=true but the cluster suite cannot run: it needs {}, {} and PostgreSQL, NATS and Redis",
        cluster::NGINX,
        cluster::NATS_SERVER
    );
    eprintln!(
        "SKIPPED the cluster suite: it needs {}, {} and PostgreSQL, NATS and Redis",
        cluster::NGINX,
        cluster::NATS_SERVER
    );
    false
}

/// One cluster at a time: each is seventeen processes on two cores.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A cluster of its own (held while the guard lives) that ships to Indonesia, and an
/// inventory clerk's token; `None` when this machine cannot run one.
pub(crate) async fn open_shop() -> Option<(tokio::sync::MutexGuard<'static, ()>, Cluster, String)> {
    if !can_run() {
        return None;
    }
    let alone = ONE_AT_A_TIME.lock().await;
    let shop = Cluster::start(BIN, 2).await;
    shop::shipping_to_indonesia(&shop).await;
    let inventory = shop.staff_token("inventory").await;
    Some((alone, shop, inventory))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_from_registration_to_refund_passes_through_nginx() {
    if !can_run() {
        return;
    }
    let _alone = ONE_AT_A_TIME.lock().await;
    let shop = Cluster::start(BIN, 2).await;

    // The storefront and the API's document answer through the entry point.
    let home = shop.get("/", None).await;
    home.assert_status(200);
    assert!(home.text.contains("<html"), "the home page: {}", home.text);
    // The whole API document from any process, whichever services it runs.
    let mut documents = Vec::new();
    for kind in ["catalog", "payments", "web"] {
        let replica = shop.of(kind).next().expect("a replica");
        let url = replica.process().url("/api/v1/openapi.json");
        let doc: serde_json::Value = shop
            .client
            .get(url)
            .send()
            .await
            .expect("the document")
            .json()
            .await
            .expect("json");
        let paths: std::collections::BTreeSet<String> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .cloned()
            .collect();
        documents.push((kind, paths));
    }
    for (kind, paths) in &documents {
        assert_eq!(paths, &documents[0].1, "{kind} serves another document");
    }
    for path in [
        "/api/v1/auth/register",
        "/api/v1/checkout",
        "/api/v1/banners",
    ] {
        assert!(documents[0].1.contains(path), "the document lacks {path}");
    }
    shop.get("/api/v1/openapi.json", None)
        .await
        .assert_status(200);

    // Staff set the shop up.
    shop::shipping_to_indonesia(&shop).await;
    let inventory = shop.staff_token("inventory").await;
    let product = shop::product(&shop, &inventory, 2_600, 5).await;

    // Each catalog replica caches the product's public answer (in Redis); a price
    // change through one of them is what both answer next.
    let price_at = |shop: &Cluster, replica: &cluster::Replica| {
        let url = replica
            .process()
            .url(&format!("/api/v1/products/{product}"));
        let client = shop.client.clone();
        async move {
            let res = client.get(url).send().await.expect("a product");
            let body: Value = res.json().await.expect("json");
            body["price"].clone()
        }
    };
    for replica in shop.of("catalog") {
        assert_eq!(price_at(&shop, replica).await, 2_600);
        assert_eq!(price_at(&shop, replica).await, 2_600, "a cached read");
    }
    shop.patch(
        &format!("/api/v1/products/{product}"),
        Some(&inventory),
        json!({"price": 2_500, "version": 1}),
    )
    .await
    .assert_status(200);
    for replica in shop.of("catalog") {
        assert_eq!(
            price_at(&shop, replica).await,
            2_500,
            "stale on {}",
            replica.port
        );
    }

    // A customer registers, verifies from the mail, and buys.
    let customer = shop.customer_token().await;
    let order = shop::paid_order(&shop, &customer, &product, 2).await;
    let order_id = order["id"].as_str().expect("order id").to_owned();
    assert_eq!(order["status"], "paid");
    let stock = shop
        .get(&format!("/api/v1/products/{product}"), Some(&inventory))
        .await;
    stock.assert_status(200);
    assert_eq!(stock.body["stock"]["available"], 3, "{}", stock.body);

    // Staff ship it; the customer reviews what was delivered.
    let delivered = shop::deliver(&shop, &order).await;
    assert_eq!(delivered["status"], "delivered");
    let review = shop::review(
        &shop,
        &customer,
        &product,
        json!({"rating": 5, "title": "Sturdy", "body": "Keeps tea hot."}),
    )
    .await;
    assert_eq!(review["rating"], 5);

    // Finance refunds part of it; the order and the payment agree.
    let finance = shop.staff_token("finance").await;
    let payment = order["payment"]["id"].as_str().expect("payment id");
    shop::refund(
        &shop,
        &finance,
        payment,
        json!({"amount": 1_000, "reason": "A chipped mug"}),
    )
    .await
    .assert_status(202);
    let refunded = shop::order_when(&shop, &customer, &order_id, "partly refunded", |o| {
        o["totals"]["refunded"] == 1_000
    })
    .await;
    assert_eq!(refunded["status"], "delivered", "{refunded}");
    let paid = shop
        .get(&format!("/api/v1/payments/{payment}"), Some(&customer))
        .await;
    assert_eq!(paid.body["refunded"], 1_000, "{}", paid.body);

    // Every step mailed the customer once, through the replicas of notifications.
    let me = shop.get("/api/v1/me", Some(&customer)).await;
    let email = me.body["email"].as_str().expect("email").to_owned();
    let mails = shop.wait_for_mails(&email, 5).await;
    let subjects: Vec<_> = mails.iter().map(|m| m.subject.as_str()).collect();
    let mut unique = subjects.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), subjects.len(), "no mail twice: {subjects:?}");

    // nginx spread the requests over both replicas of a service.
    let identity: std::collections::BTreeSet<_> =
        shop.upstreams_of("/api/v1/auth/").into_iter().collect();
    assert!(
        identity.len() >= 2,
        "both identity replicas served: {identity:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_traffic_fails_no_request() {
    let Some((_alone, mut shop, inventory)) = open_shop().await else {
        return;
    };
    let product = shop::product(&shop, &inventory, 1_200, 1_000).await;
    let customer = shop.customer_token().await;
    let order = shop::paid_order(&shop, &customer, &product, 1).await;
    let payment = order["payment"]["id"].as_str().expect("payment").to_owned();
    shop::add(&shop, &customer, &product, 1).await;

    // Shoppers touch every kind of process without pause, writes included (a PATCH
    // and a POST, which nginx never resends to another replica).
    let stop = Arc::new(AtomicBool::new(false));
    let visit = Visit {
        shop: (*shop).clone(),
        token: customer,
        product,
        payment,
    };
    let shoppers: Vec<_> = (0..4)
        .map(|n| tokio::spawn(visit.clone().shop_until(stop.clone(), n)))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Every service's first replicas, then its second ones: each waits for SIGTERM's
    // drain, exits, and its replacement is ready before the next round.
    for nth in 0..2 {
        for (kind, status) in shop.restart_round(nth).await {
            assert!(status.success(), "{kind} exited with {status} on SIGTERM");
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut served = 0;
    let mut failures = Vec::new();
    for shopper in shoppers {
        let (ok, failed) = shopper.await.expect("a shopper");
        served += ok;
        failures.extend(failed);
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during the rolling restart: {failures:#?}\nnginx: {}",
        failures.len(),
        served + failures.len(),
        shop.nginx_errors()
    );
    assert!(served > 100, "the shoppers kept going: {served} requests");
}

/// What a shopper does over and over during the restarts.
#[derive(Clone)]
struct Visit {
    shop: ShopClient,
    token: String,
    product: String,
    payment: String,
}

impl Visit {
    /// Returns how many requests were answered well, and what went wrong with the rest.
    async fn shop_until(self, stop: Arc<AtomicBool>, n: i64) -> (usize, Vec<String>) {
        let (product, payment) = (&self.product, &self.payment);
        let quote = json!({"destination": {"country": "ID", "postal_code": "10220"},
                           "items": [{"product_id": product, "quantity": 1}]});
        let steps: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/".into(), None),
            (Method::GET, format!("/api/v1/products/{product}"), None),
            (Method::GET, "/api/v1/banners".into(), None),
            (Method::GET, "/api/v1/me".into(), None),
            (Method::POST, "/api/v1/shipping/quote".into(), Some(quote)),
            (Method::GET, "/api/v1/orders".into(), None),
            (Method::GET, format!("/api/v1/payments/{payment}"), None),
            (
                Method::GET,
                "/api/v1/dev/mailbox?to=nobody%40example.com".into(),
                None,
            ),
        ];
        let (mut ok, mut failed) = (0, Vec::new());
        let mut round = 0i64;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            let quantity = json!({"quantity": 1 + (round + n) % 3});
            let patch = (
                Method::PATCH,
                format!("/api/v1/cart/items/{product}"),
                Some(quantity),
            );
            for (method, path, body) in steps.iter().cloned().chain([patch]) {
                let mut req = self
                    .shop
                    .client
                    .request(method.clone(), self.shop.url(&path))
                    .bearer_auth(&self.token);
                if let Some(body) = body {
                    req = req.json(&body);
                }
                match req.send().await {
                    Ok(res) if res.status().is_success() => ok += 1,
                    Ok(res) => failed.push(format!("{method} {path}: {}", res.status())),
                    Err(e) => failed.push(format!("{method} {path}: {e}")),
                }
            }
        }
        (ok, failed)
    }
}
