//! The measured part: `concurrency` workers, each looping through its own customers
//! (so no customer is ever in two checkouts at once), each iteration a whole purchase
//! as a shopper makes it through the public API:
//!
//! 1. `POST /cart/items`: one or two units of a random product;
//! 2. `POST /checkout` with a fresh `Idempotency-Key`: the order, `pending`;
//! 3. poll `GET /orders/{id}` until it is `awaiting_payment` with a payment (catalog
//!    reserved the stock, payments opened a payment: two event hops);
//! 4. `POST /payments/{id}/sandbox/pay` with the card that always succeeds;
//! 5. poll until the order is `paid` (the sandbox's webhook, then an event to orders).
//!
//! A checkout's latency runs from sending step 2 to seeing `paid`; the cart step is
//! outside it but inside the throughput. Waiting is polling, so latencies include up to
//! one polling interval per wait. Checkouts started during the warm-up are not counted,
//! as in `bench::load`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::load::percentile;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::prepare::Customer;

/// Orders past `paid` count as paid: only staff move them further, but a checkout that
/// got there did succeed.
const PAID_OR_LATER: [&str; 4] = ["paid", "processing", "shipped", "delivered"];
/// A checkout still unfinished this long after it was placed is a failure.
const GIVE_UP: Duration = Duration::from_secs(30);
/// The steps a completed checkout is timed at, from sending the checkout request.
pub const STAGES: [&str; 4] = [
    "checkout answered",
    "awaiting payment seen",
    "pay answered",
    "paid seen",
];

/// How hard, how long and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub poll: Duration,
}

/// What the scenario measured.
#[derive(Debug)]
pub struct Outcome {
    /// Checkouts started in the measured window that reached `paid`.
    pub completed: u64,
    pub per_second: f64,
    /// From sending the checkout to seeing `paid`.
    pub p50: Duration,
    pub p99: Duration,
    /// p50 and p99 of the time from sending the checkout to each of [`STAGES`].
    pub stages: Vec<(Duration, Duration)>,
    /// Failures in the measured window by kind, with the first one's detail.
    pub failures: BTreeMap<String, (u64, String)>,
    /// `GET /orders/{id}` sent by the checkouts counted (completed or failed): the
    /// polling is load on the shop too.
    pub polls: u64,
}

impl Outcome {
    pub fn failed(&self) -> u64 {
        self.failures.values().map(|(n, _)| n).sum()
    }
}

/// Why a checkout did not reach `paid`: a kind to count by and a detail to show once.
struct Failure {
    kind: String,
    detail: String,
}

fn failure(kind: impl Into<String>, detail: impl Into<String>) -> Failure {
    Failure {
        kind: kind.into(),
        detail: detail.into(),
    }
}

/// What the workers share.
struct Shared {
    base_url: String,
    product_ids: Vec<Uuid>,
    poll: Duration,
}

/// One worker's tally: per completed checkout the microseconds to each stage.
#[derive(Default)]
struct Tally {
    marks: Vec<[u32; 4]>,
    failures: BTreeMap<String, (u64, String)>,
    polls: u64,
}

/// Runs the scenario with `customers` (at least one per worker) buying `product_ids`.
pub async fn run(
    base_url: &str,
    product_ids: Vec<Uuid>,
    customers: &[Customer],
    plan: Plan,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        customers.len() >= plan.concurrency,
        "{} customers cannot keep {} workers busy without sharing",
        customers.len(),
        plan.concurrency
    );
    let shop = Arc::new(Shared {
        base_url: base_url.to_owned(),
        product_ids,
        poll: plan.poll,
    });
    let measure_from = Instant::now() + plan.warmup;
    let until = measure_from + plan.duration;
    let mut workers = Vec::with_capacity(plan.concurrency);
    for w in 0..plan.concurrency {
        // Worker w owns customers w, w + C, w + 2C, …: disjoint sets.
        let mine: Vec<Customer> = customers
            .iter()
            .skip(w)
            .step_by(plan.concurrency)
            .cloned()
            .collect();
        // One connection per worker, as in `bench::load`: its requests are sequential.
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .context("building a worker client")?;
        let shop = shop.clone();
        workers.push(tokio::spawn(async move {
            worker(client, shop, mine, measure_from, until).await
        }));
    }
    let mut marks = Vec::new();
    let mut failures: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut polls = 0;
    for w in workers {
        let tally = w.await.context("a checkout worker failed")?;
        marks.extend(tally.marks);
        polls += tally.polls;
        for (kind, (n, detail)) in tally.failures {
            failures.entry(kind).or_insert((0, detail)).0 += n;
        }
    }
    let stage = |i: usize| {
        let mut v: Vec<u32> = marks.iter().map(|m| m[i]).collect();
        v.sort_unstable();
        v
    };
    let total = stage(STAGES.len() - 1);
    let completed = total.len() as u64;
    Ok(Outcome {
        completed,
        per_second: completed as f64 / plan.duration.as_secs_f64(),
        p50: percentile(&total, 0.50),
        p99: percentile(&total, 0.99),
        stages: (0..STAGES.len())
            .map(|i| {
                let v = stage(i);
                (percentile(&v, 0.50), percentile(&v, 0.99))
            })
            .collect(),
        failures,
        polls,
    })
}

/// Checks out for its customers in turn until `until`; counts what started after
/// `measure_from`.
async fn worker(
    client: reqwest::Client,
    shop: Arc<Shared>,
    customers: Vec<Customer>,
    measure_from: Instant,
    until: Instant,
) -> Tally {
    let mut rng = StdRng::from_entropy();
    let mut tally = Tally::default();
    for customer in customers.iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        let mut visit = Visit {
            client: &client,
            shop: &shop,
            token: &customer.token,
            started: Instant::now(),
            polls: 0,
        };
        let result = visit.purchase(customer.address_id, &mut rng).await;
        if visit.started < measure_from {
            continue;
        }
        tally.polls += u64::from(visit.polls);
        match result {
            Ok(marks) => tally.marks.push(marks),
            Err(f) => {
                tally.failures.entry(f.kind).or_insert((0, f.detail)).0 += 1;
                // A refused connection fails in microseconds; do not spin on it.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    tally
}

/// One purchase by one customer over one worker's connection.
struct Visit<'a> {
    client: &'a reqwest::Client,
    shop: &'a Shared,
    token: &'a str,
    /// When the checkout was sent: the purchase's place in the window, and where its
    /// latency starts.
    started: Instant,
    /// Order look-ups so far.
    polls: u32,
}

impl Visit<'_> {
    /// Buys one or two units of a random product; the microseconds from sending the
    /// checkout to each of [`STAGES`].
    async fn purchase(&mut self, address_id: Uuid, rng: &mut StdRng) -> Result<[u32; 4], Failure> {
        let (client, base, token) = (self.client, &self.shop.base_url, self.token);
        let product = self.shop.product_ids[rng.gen_range(0..self.shop.product_ids.len())];
        let quantity: i64 = rng.gen_range(1..=2);
        let cart = client
            .post(format!("{base}/api/v1/cart/items"))
            .bearer_auth(token)
            .json(&json!({"product_id": product, "quantity": quantity}));
        send(cart, StatusCode::OK, "add to cart").await?;

        self.started = Instant::now();
        let checkout = client
            .post(format!("{base}/api/v1/checkout"))
            .bearer_auth(token)
            .header("idempotency-key", key(rng))
            .json(&json!({"address_id": address_id, "shipping_service": "standard"}));
        let order = match send(checkout, StatusCode::CREATED, "checkout").await {
            Ok(order) => order,
            Err(f) => {
                // The cart still holds the line; left there, it would ride along in
                // this customer's next checkout.
                let _ = client
                    .delete(format!("{base}/api/v1/cart/items/{product}"))
                    .bearer_auth(token)
                    .send()
                    .await;
                return Err(f);
            }
        };
        let placed = self.elapsed();
        let order_id = order["id"].as_str().unwrap_or_default().to_owned();
        let order = self
            .wait_for(&order_id, "awaiting payment", |o| {
                o["status"] == "awaiting_payment" && o["payment"]["id"].is_string()
            })
            .await?;
        let awaiting = self.elapsed();
        let payment_id = order["payment"]["id"].as_str().unwrap_or_default();
        let pay = client
            .post(format!("{base}/api/v1/payments/{payment_id}/sandbox/pay"))
            .bearer_auth(token)
            .header("idempotency-key", key(rng))
            .json(&json!({"card_number": "4242424242424242", "exp_month": 12,
                          "exp_year": 2099, "cvc": "123"}));
        send(pay, StatusCode::ACCEPTED, "pay").await?;
        let paid_sent = self.elapsed();
        self.wait_for(&order_id, "paid", |o| {
            PAID_OR_LATER.iter().any(|s| o["status"] == *s)
        })
        .await?;
        Ok([placed, awaiting, paid_sent, self.elapsed()])
    }

    /// Microseconds since the checkout was sent.
    fn elapsed(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_micros()).unwrap_or(u32::MAX)
    }

    /// Polls the order every `shop.poll` until `reached` accepts it; fails when it ends
    /// in a status it can no longer leave or [`GIVE_UP`] after the checkout was sent.
    async fn wait_for(
        &mut self,
        order_id: &str,
        what: &str,
        reached: impl Fn(&Value) -> bool,
    ) -> Result<Value, Failure> {
        let url = format!("{}/api/v1/orders/{order_id}", self.shop.base_url);
        loop {
            self.polls += 1;
            let get = self.client.get(&url).bearer_auth(self.token);
            let order = send(get, StatusCode::OK, "get order").await?;
            if reached(&order) {
                return Ok(order);
            }
            let status = order["status"].as_str().unwrap_or_default();
            if ["rejected", "cancelled", "payment_failed", "refunded"].contains(&status) {
                return Err(failure(
                    format!("ended {status} before {what}"),
                    order["timeline"].to_string(),
                ));
            }
            if self.started.elapsed() > GIVE_UP {
                return Err(failure(
                    format!("not {what} within {GIVE_UP:?}"),
                    format!("order {order_id} still {status}"),
                ));
            }
            tokio::time::sleep(self.shop.poll).await;
        }
    }
}

/// A fresh idempotency key: 128 random bits.
fn key(rng: &mut StdRng) -> String {
    format!("bench-{:032x}", rng.r#gen::<u128>())
}

/// Sends `req`; the JSON answer when the status is `expected`.
async fn send(
    req: reqwest::RequestBuilder,
    expected: StatusCode,
    what: &str,
) -> Result<Value, Failure> {
    let res = req
        .send()
        .await
        .map_err(|e| failure(format!("{what}: transport error"), e.to_string()))?;
    let status = res.status();
    let body = res.bytes().await.unwrap_or_default();
    if status != expected {
        return Err(failure(
            format!("{what} answered {}", status.as_u16()),
            String::from_utf8_lossy(&body),
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|e| failure(format!("{what}: unreadable answer"), e.to_string()))
}
