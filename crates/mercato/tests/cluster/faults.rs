//! Faults under load: replicas killed mid-saga, and the bus gone for ten seconds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use testkit::ShopClient;
use testkit::cluster::Cluster;
use testkit::shop;

use crate::open_shop;

/// How many units the crash test's product has: about what the shoppers buy while
/// the replicas die, so it may sell out under them.
const STOCK: i64 = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_killed_mid_saga_lose_nothing_and_double_nothing() {
    let Some((_alone, mut shop, inventory)) = open_shop().await else {
        return;
    };
    let product = shop::product(&shop, &inventory, 700, STOCK).await;
    let buyers = customers(&shop, 8).await;

    // Eight shoppers buy one unit at a time without pause, retrying what failed with
    // the same idempotency keys, while a replica of a saga service dies every few
    // seconds (SIGKILL) and comes back.
    let stop = Arc::new(AtomicBool::new(false));
    let shoppers: Vec<_> = buyers
        .iter()
        .map(|customer| tokio::spawn(Buyer::new(&shop, customer, &product).buy_until(stop.clone())))
        .collect();
    let victims: Vec<usize> = shop
        .replicas
        .iter()
        .enumerate()
        .filter(|(_, r)| ["orders", "payments", "catalog", "notifications"].contains(&r.kind))
        .map(|(i, _)| i)
        .collect();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    eprintln!("crash order seed {seed}");
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let victim = victims[(seed >> 33) as usize % victims.len()];
        shop.crash_and_restart(victim).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut orders = Vec::new();
    for (shopper, (token, _)) in shoppers.into_iter().zip(&buyers) {
        for id in shopper.await.expect("a shopper") {
            orders.push((token.clone(), id));
        }
    }
    assert!(!orders.is_empty(), "orders were placed");

    let statuses =
        settled_and_consistent(&shop, &inventory, &product, STOCK, &buyers, &orders).await;
    eprintln!("{} orders placed: {statuses:?}", orders.len());
}

/// How long the bus is gone in the outage test.
const OUTAGE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_outage_holds_the_sagas_back_and_loses_nothing() {
    let Some((_alone, mut shop, inventory)) = open_shop().await else {
        return;
    };
    let stock = 1_000;
    let product = shop::product(&shop, &inventory, 700, stock).await;
    let buyers = customers(&shop, 4).await;
    let team: Vec<Buyer> = buyers
        .iter()
        .map(|customer| Buyer::new(&shop, customer, &product))
        .collect();
    let first = team[0].buy_one().await.expect("an order before the outage");
    let mut orders = vec![(team[0].token.clone(), first)];

    // NATS stops. Shoppers go on checking out: every checkout is accepted at once,
    // its events waiting in the orders outbox.
    shop.stop_bus().await;
    let outage_ends = tokio::time::Instant::now() + OUTAGE;
    let during: Vec<_> = team
        .iter()
        .cloned()
        .map(|buyer| {
            tokio::spawn(async move {
                let mut placed = Vec::new();
                while tokio::time::Instant::now() < outage_ends {
                    placed.push(buyer.place().await.expect("not sold out"));
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                placed
            })
        })
        .collect();
    // Meanwhile every process stays in service, saying where the bus is.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for replica in &shop.replicas {
        let res = shop
            .client
            .get(replica.process().url("/readyz"))
            .send()
            .await
            .expect("/readyz answers");
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, 200, "{} is out of service: {body}", replica.kind);
        assert_eq!(
            body["checks"]["bus"], "unavailable",
            "{}: {body}",
            replica.kind
        );
    }
    let metrics = shop.metrics_of("orders").await;
    assert!(
        metrics.lines().any(|l| l == "bus_connected 0"),
        "the bus's state in /metrics: {}",
        metrics
            .lines()
            .filter(|l| l.contains("bus"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut held = Vec::new();
    for (buyer, placing) in team.iter().zip(during) {
        for id in placing.await.expect("a shopper") {
            held.push((buyer, id));
        }
    }
    assert!(held.len() >= 8, "checkouts went on: {}", held.len());
    for (buyer, id) in &held {
        let order = shop
            .get(&format!("/api/v1/orders/{id}"), Some(&buyer.token))
            .await;
        assert!(
            order.body["payment"]["id"].is_null(),
            "with no bus no saga moved on: {}",
            order.body
        );
    }

    // NATS is back: every saga held completes, nothing lost or doubled.
    shop.start_bus().await;
    for (buyer, id) in &held {
        buyer.pay(id).await;
        orders.push((buyer.token.clone(), id.clone()));
    }
    let statuses =
        settled_and_consistent(&shop, &inventory, &product, stock, &buyers, &orders).await;
    assert_eq!(
        statuses,
        BTreeMap::from([("paid".to_owned(), orders.len())]),
        "every order placed was paid"
    );
    let metrics = shop.metrics_of("orders").await;
    assert!(
        metrics.lines().any(|l| l == "bus_connected 1"),
        "reconnected"
    );
    let retried: usize = team.iter().map(|b| b.retried.load(Ordering::Relaxed)).sum();
    assert_eq!(retried, 0, "no request failed for want of the bus");
}

/// `n` customers, each with a verified account and an address: (token, address id).
async fn customers(shop: &Cluster, n: usize) -> Vec<(String, String)> {
    let mut customers = Vec::new();
    for _ in 0..n {
        let token = shop.customer_token().await;
        let address = shop::address(shop, &token).await;
        customers.push((token, address));
    }
    customers
}

/// Waits for every order to end, in a state its payment explains, then checks what the
/// whole shop agrees on: no unit oversold and the stock's arithmetic right, each event
/// mailed at most once, every outbox drained, nothing dead-lettered. Returns how many
/// orders ended in each status.
async fn settled_and_consistent(
    shop: &Cluster,
    inventory: &str,
    product: &str,
    stock_at_start: i64,
    buyers: &[(String, String)],
    orders: &[(String, String)],
) -> BTreeMap<String, usize> {
    let mut statuses = BTreeMap::new();
    // Every order ends, and in a state its payment explains.
    let mut sold = 0;
    for (token, id) in orders {
        let order = shop::order_when(shop, token, id, "settled", |o| {
            ["paid", "rejected", "payment_failed", "cancelled"]
                .contains(&o["status"].as_str().unwrap_or(""))
        })
        .await;
        *statuses
            .entry(order["status"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
        if order["status"] == "paid" {
            let payment = order["payment"]["id"].as_str().expect("a payment");
            let paid = shop
                .get(&format!("/api/v1/payments/{payment}"), Some(token))
                .await;
            assert_eq!(
                paid.body["status"], "succeeded",
                "order {id}: {}",
                paid.body
            );
            sold += order["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .map(|l| l["quantity"].as_i64().expect("quantity"))
                .sum::<i64>();
        }
    }
    assert!(sold <= stock_at_start, "{sold} sold of {stock_at_start}");
    // Catalog hears of the sales through the bus: its count settles on what was paid.
    let deadline = tokio::time::Instant::now() + shop::PATIENCE;
    loop {
        let view = shop
            .get(&format!("/api/v1/products/{product}"), Some(inventory))
            .await;
        let stock = &view.body["stock"];
        if stock["available"] == stock_at_start - sold
            && stock["reserved"].as_i64().unwrap_or(0) == 0
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sold} sold of {stock_at_start}, yet the stock reads {stock}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Each event mailed at most once.
    for (token, _) in buyers {
        let me = shop.get("/api/v1/me", Some(token)).await;
        let email = me.body["email"].as_str().expect("email").to_owned();
        let mails = shop.mails_to(&email).await;
        let mut subjects: Vec<_> = mails.iter().map(|m| m.subject.clone()).collect();
        let all = subjects.len();
        subjects.sort_unstable();
        subjects.dedup();
        assert_eq!(
            subjects.len(),
            all,
            "a mail went twice to {email}: {mails:?}"
        );
    }

    // Every outbox drains; nothing was given up on.
    let deadline = tokio::time::Instant::now() + shop::PATIENCE;
    while shop.outbox_rows().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outboxes did not drain"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let letters = shop.dead_letters();
    assert!(letters.contains("no dead letters"), "{letters}");
    statuses
}

/// A customer who buys one unit at a time.
#[derive(Clone)]
struct Buyer {
    shop: ShopClient,
    token: String,
    address: String,
    product: String,
    /// Requests sent again because the entry point or a replica failed them.
    retried: Arc<AtomicUsize>,
}

impl Buyer {
    fn new(shop: &Cluster, (token, address): &(String, String), product: &str) -> Self {
        Self {
            shop: (**shop).clone(),
            token: token.clone(),
            address: address.clone(),
            product: product.to_owned(),
            retried: Arc::default(),
        }
    }

    /// The orders placed until told to stop or sold out.
    async fn buy_until(self, stop: Arc<AtomicBool>) -> Vec<String> {
        let mut placed = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match self.buy_one().await {
                Some(id) => placed.push(id),
                None => break, // sold out
            }
            // A shopper's pace, so the purchases span the crashes.
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        placed
    }

    /// Places and pays one order; `None` when the product is sold out.
    async fn buy_one(&self) -> Option<String> {
        let id = self.place().await?;
        self.pay(&id).await;
        Some(id)
    }

    /// Puts one unit in the cart and checks out; the order's id, or `None` when the
    /// product is sold out.
    async fn place(&self) -> Option<String> {
        let item = json!({"product_id": self.product, "quantity": 1});
        self.until_answered(Method::POST, "/api/v1/cart/items", None, &item)
            .await;
        let key = testkit::unique("checkout");
        let body = json!({"address_id": self.address, "shipping_service": "standard"});
        let (status, placed) = self
            .until_answered(Method::POST, shop::CHECKOUT, Some(&key), &body)
            .await;
        if status == 409 || status == 422 {
            return None;
        }
        assert_eq!(status, 201, "{placed}");
        Some(placed["id"].as_str().expect("order id").to_owned())
    }

    /// Waits for the order's payment to open, then pays it once (the same key on every
    /// retry); returns at once if the order was rejected instead.
    async fn pay(&self, id: &str) {
        let path = format!("/api/v1/orders/{id}");
        let deadline = tokio::time::Instant::now() + shop::PATIENCE;
        let payment = loop {
            let (_, order) = self
                .until_answered(Method::GET, &path, None, &Value::Null)
                .await;
            if let Some(p) = order["payment"]["id"].as_str() {
                break p.to_owned();
            }
            if order["status"] == "rejected" {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no payment for {order}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let pay = format!("/api/v1/payments/{payment}/sandbox/pay");
        let card =
            json!({"card_number": shop::CARD_OK, "exp_month": 12, "exp_year": 2099, "cvc": "123"});
        let key = testkit::unique("pay");
        self.until_answered(Method::POST, &pay, Some(&key), &card)
            .await;
    }

    /// Sends until an answer comes that is not the entry point's or a dying replica's
    /// failure (502, 503, 504, or no answer), for up to `shop::PATIENCE`.
    async fn until_answered(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let deadline = tokio::time::Instant::now() + shop::PATIENCE;
        loop {
            let mut req = self
                .shop
                .client
                .request(method.clone(), self.shop.url(path))
                .bearer_auth(&self.token);
            if let Some(key) = key {
                req = req.header("idempotency-key", key);
            }
            if !body.is_null() {
                req = req.json(body);
            }
            if let Ok(res) = req.send().await {
                let status = res.status().as_u16();
                if !matches!(status, 502..=504) {
                    let body = res.json().await.unwrap_or(Value::Null);
                    return (status, body);
                }
            }
            self.retried.fetch_add(1, Ordering::Relaxed);
            assert!(
                tokio::time::Instant::now() < deadline,
                "{method} {path} never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
