//! The measured part: `concurrency` workers, each looping through its own customers
//! (so no customer is ever in two checkouts at once), each iteration a whole purchase
//! as a shopper makes it through the public API:
//!
//! 1. `POST /cart/items`: one or two units of a random product;
//! 2. `POST /checkout` with a fresh `Idempotency-Key`: the order, `pending`;
//! 3. wait until the order is `awaiting_payment` with a payment (catalog reserved the
//!    stock, payments opened a payment: two event hops);
//! 4. `POST /payments/{id}/sandbox/pay` with the card that always succeeds;
//! 5. wait until the order is `paid` (the sandbox's webhook, then an event to orders).
//!
//! Waiting is a long poll (`GET /orders/{id}?wait_for_change_from=<version>`, answered
//! when the order changes), or with `--poll-ms` the old way, a look every so often, so
//! that the two can be compared.
//!
//! A checkout's latency runs from sending step 2 to seeing `paid`; the cart step is
//! outside it but inside the throughput. Checkouts started during the warm-up are not
//! counted, as in `bench::load`. In the closed loop each shopper starts its next
//! purchase when the last one ended; in the open loop (`--rate`) purchases start at a
//! fixed rate whatever the shop's pace, each as a customer not already shopping.
//!
//! The shoppers run on their own threads (`bench-client`), so the CPU the shop itself
//! spent in the window is the process's less theirs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::cpu::{self, Spent};
use bench::hops::{self, Hop};
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

/// The name prefix of the shoppers' threads.
const CLIENT_THREADS: &str = "bench-client";

/// How hard, how long and how to wait.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Shoppers in the closed loop.
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// `None`: long polls; `Some`: look at the order this often.
    pub poll: Option<Duration>,
    /// Purchases started per second, for the open loop.
    pub rate: Option<f64>,
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
    /// CPU spent in the measured window.
    pub cpu: Spent,
    /// The process's peak resident memory in the window, and its size when it began.
    pub peak_rss: Option<u64>,
    pub rss_before: Option<u64>,
    /// Each consumer's and relay's delay after an event was committed, in the window
    /// (events still in flight when it ended are not counted).
    pub hops: Vec<Hop>,
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
    poll: Option<Duration>,
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
    let metrics_url = base_url.to_owned();
    let window = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        cpu::reset_peak_rss();
        let (start, rss_before) = (cpu::snapshot(CLIENT_THREADS), cpu::rss());
        let first = hops::scrape(&metrics_url).await.unwrap_or_default();
        tokio::time::sleep_until(until.into()).await;
        let spent = start.until(&cpu::snapshot(CLIENT_THREADS));
        let last = hops::scrape(&metrics_url).await.unwrap_or_default();
        (spent, cpu::peak_rss(), rss_before, first.until(&last))
    });
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(CLIENT_THREADS)
        .enable_all()
        .build()
        .context("starting the shoppers' runtime")?;
    let mut workers = Vec::new();
    match plan.rate {
        None => {
            for w in 0..plan.concurrency {
                // Worker w owns customers w, w + C, w + 2C, …: disjoint sets.
                let mine: Vec<Customer> = customers
                    .iter()
                    .skip(w)
                    .step_by(plan.concurrency)
                    .cloned()
                    .collect();
                // One connection per worker, as in `bench::load`: its requests are
                // sequential.
                let client = reqwest::Client::builder()
                    .http1_only()
                    .pool_max_idle_per_host(1)
                    .build()
                    .context("building a worker client")?;
                let shop = shop.clone();
                workers.push(
                    client_runtime.spawn(async move {
                        worker(client, shop, mine, measure_from, until).await
                    }),
                );
            }
        }
        Some(rate) => {
            let client = reqwest::Client::builder()
                .http1_only()
                .build()
                .context("building the shoppers' client")?;
            let free = customers.iter().cloned().collect();
            workers.push(client_runtime.spawn(open_loop(
                client,
                shop.clone(),
                free,
                rate,
                measure_from,
                until,
            )));
        }
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
    client_runtime.shutdown_background();
    let (cpu, peak_rss, rss_before, hops) = window.await.context("the CPU window")?;
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
        cpu,
        peak_rss,
        rss_before,
        hops,
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
        let (started, polls, result) = one_purchase(&client, &shop, customer, &mut rng).await;
        if started < measure_from {
            continue;
        }
        let failed = result.is_err();
        tally.record(result, polls);
        if failed {
            // A refused connection fails in microseconds; do not spin on it.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    tally
}

/// Starts a purchase every `1 / rate` seconds until `until`, each as a customer not
/// already shopping (a start with none free is a failure: the shop fell behind).
async fn open_loop(
    client: reqwest::Client,
    shop: Arc<Shared>,
    free: VecDeque<Customer>,
    rate: f64,
    measure_from: Instant,
    until: Instant,
) -> Tally {
    let free = Arc::new(Mutex::new(free));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.01)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut running = Vec::new();
    while Instant::now() < until {
        tick.tick().await;
        let Some(customer) = free.lock().expect("lock").pop_front() else {
            if Instant::now() >= measure_from {
                let mut t = tally.lock().expect("lock");
                t.failures
                    .entry("no customer free: the shop fell behind the rate".into())
                    .or_insert((0, String::new()))
                    .0 += 1;
            }
            continue;
        };
        let (client, shop, free, tally) =
            (client.clone(), shop.clone(), free.clone(), tally.clone());
        running.push(tokio::spawn(async move {
            let mut rng = StdRng::from_entropy();
            let (started, polls, result) = one_purchase(&client, &shop, &customer, &mut rng).await;
            free.lock().expect("lock").push_back(customer);
            if started >= measure_from {
                let mut t = tally.lock().expect("lock");
                t.record(result, polls);
            }
        }));
    }
    for task in running {
        let _ = task.await;
    }
    Arc::try_unwrap(tally)
        .map(|m| m.into_inner().unwrap_or_default())
        .unwrap_or_default()
}

impl Tally {
    fn record(&mut self, result: Result<[u32; 4], Failure>, polls: u32) {
        self.polls += u64::from(polls);
        match result {
            Ok(marks) => self.marks.push(marks),
            Err(f) => self.failures.entry(f.kind).or_insert((0, f.detail)).0 += 1,
        }
    }
}

/// One purchase as `customer`: when its checkout was sent, the order look-ups it made,
/// and how it ended.
async fn one_purchase(
    client: &reqwest::Client,
    shop: &Shared,
    customer: &Customer,
    rng: &mut StdRng,
) -> (Instant, u32, Result<[u32; 4], Failure>) {
    let mut visit = Visit {
        client,
        shop,
        token: &customer.token,
        started: Instant::now(),
        polls: 0,
    };
    let result = visit.purchase(customer.address_id, rng).await;
    (visit.started, visit.polls, result)
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

    /// Waits until `reached` accepts the order: long polls from the version last seen,
    /// or a look every `shop.poll`. Fails when the order ends in a status it can no
    /// longer leave or [`GIVE_UP`] after the checkout was sent.
    async fn wait_for(
        &mut self,
        order_id: &str,
        what: &str,
        reached: impl Fn(&Value) -> bool,
    ) -> Result<Value, Failure> {
        let url = format!("{}/api/v1/orders/{order_id}", self.shop.base_url);
        let mut seen: Option<i64> = None;
        loop {
            self.polls += 1;
            let get = match (seen, self.shop.poll) {
                (Some(version), None) => self.client.get(format!(
                    "{url}?wait_for_change_from={version}&timeout_ms=10000"
                )),
                _ => self.client.get(&url),
            }
            .bearer_auth(self.token);
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
            seen = order["version"].as_i64();
            if let Some(pause) = self.shop.poll {
                tokio::time::sleep(pause).await;
            }
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
