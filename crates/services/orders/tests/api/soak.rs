//! A bounded soak of the whole purchase saga: shoppers check out side by side and pay,
//! fail to pay, cancel or walk away, the app crashes twice with sagas in flight, and
//! afterwards the books must agree: every unit reserved belongs to an order awaiting
//! payment, no order has two payments, no cancelled order has an open one, every
//! outbox is empty and nothing was given up on.

use std::collections::HashMap;

use rand::Rng;
use serde_json::{Value, json};
use testkit::shop::{
    CARD_DECLINED, CARD_OK, PATIENCE, add, address, order_awaiting_payment, order_when, pay, place,
};
use testkit::{Backend, TestApp};

use crate::checkout::shipping_to_indonesia;
use crate::product;

const SHOPPERS: usize = 6;
const PURCHASES: usize = 3;
const PHASES: usize = 3;

/// What a shopper does with one order.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Pay,
    Decline,
    Cancel,
    /// Leaves it awaiting payment.
    Walk,
    /// Places it and does not wait: the crash that follows finds its saga in flight.
    InFlight,
}

fn ending(rng: &mut impl Rng, last: bool) -> Ending {
    match rng.gen_range(0..if last { 5 } else { 4 }) {
        0 => Ending::Pay,
        1 => Ending::Decline,
        2 => Ending::Cancel,
        3 => Ending::Walk,
        _ => Ending::InFlight,
    }
}

async fn shop_once(app: &TestApp, me: &str, home: &str, products: &[String], end: Ending) {
    let product = &products[rand::thread_rng().gen_range(0..products.len())];
    let quantity = rand::thread_rng().gen_range(1..=2);
    add(app, me, product, quantity).await;
    if let Ending::InFlight = end {
        place(app, me, home).await;
        return;
    }
    let order = order_awaiting_payment(app, me, home).await;
    let id = order["id"].as_str().expect("id");
    let payment = order["payment"]["id"].as_str().expect("payment");
    match end {
        Ending::Pay => {
            pay(app, me, payment, CARD_OK).await.assert_status(202);
            order_when(app, me, id, "paid", |o| o["status"] == "paid").await;
        }
        Ending::Decline => {
            pay(app, me, payment, CARD_DECLINED)
                .await
                .assert_status(202);
            order_when(app, me, id, "payment failed", |o| {
                o["status"] == "payment_failed"
            })
            .await;
        }
        Ending::Cancel => {
            app.post(&format!("/api/v1/orders/{id}/cancel"), Some(me), json!({}))
                .await
                .assert_status(200);
        }
        Ending::Walk | Ending::InFlight => {}
    }
}

/// Every item of a staff list, following its cursors.
async fn all(app: &TestApp, staff: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = format!("{path}?limit=100");
    loop {
        let page = app.get(&url, Some(staff)).await;
        page.assert_status(200);
        items.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => url = format!("{path}?limit=100&cursor={cursor}"),
            None => return items,
        }
    }
}

/// What is wrong with the books now, if anything.
async fn disagreement(app: &TestApp, admin: &str, products: &[String]) -> Option<String> {
    let outbox = app.outbox_rows().await;
    if outbox > 0 {
        return Some(format!("{outbox} events still in outboxes"));
    }
    let orders = all(app, admin, "/api/v1/admin/orders").await;
    if let Some(o) = orders.iter().find(|o| o["status"] == "pending") {
        return Some(format!("order {} still pending", o["id"]));
    }
    let mut awaiting: HashMap<String, i64> = HashMap::new();
    for o in orders.iter().filter(|o| o["status"] == "awaiting_payment") {
        for line in o["lines"].as_array().expect("lines") {
            *awaiting
                .entry(line["product_id"].as_str().expect("product").to_owned())
                .or_default() += line["quantity"].as_i64().expect("quantity");
        }
    }
    for p in products {
        let stock = &app
            .get(&format!("/api/v1/products/{p}"), Some(admin))
            .await
            .body["stock"];
        let expected = awaiting.get(p).copied().unwrap_or(0);
        if stock["reserved"] != expected {
            return Some(format!(
                "product {p}: {} reserved, orders awaiting payment hold {expected}",
                stock["reserved"]
            ));
        }
    }
    let payments = all(app, admin, "/api/v1/admin/payments").await;
    let mut per_order: HashMap<&str, Vec<&Value>> = HashMap::new();
    for p in &payments {
        per_order
            .entry(p["order_id"].as_str().expect("order"))
            .or_default()
            .push(p);
    }
    for o in &orders {
        let id = o["id"].as_str().expect("id");
        let of_order = per_order.get(id).map(Vec::as_slice).unwrap_or_default();
        if of_order.len() > 1 {
            return Some(format!("order {id} has {} payments", of_order.len()));
        }
        let open = of_order.iter().any(|p| {
            ["requires_payment", "processing"].contains(&p["status"].as_str().unwrap_or_default())
        });
        if o["status"] == "cancelled" && open {
            return Some(format!("cancelled order {id} has an open payment"));
        }
        if o["status"] == "awaiting_payment" && of_order.is_empty() {
            return Some(format!("order {id} awaits payment without one"));
        }
    }
    let dead = app.bus.dead_letters(10).await.expect("dead letters");
    if !dead.is_empty() {
        return Some(format!("dead-lettered: {dead:?}"));
    }
    None
}

pub async fn the_books_agree_after_concurrent_checkouts_cancels_declines_and_crashes(
    backend: Backend,
) {
    let mut app = TestApp::spawn(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let mut products = Vec::new();
    for _ in 0..3 {
        products.push(product(&app, &inventory, 1250, 1_000).await);
    }
    let mut shoppers = Vec::new();
    for _ in 0..SHOPPERS {
        let me = app.customer_token().await;
        let home = address(&app, &me).await;
        shoppers.push((me, home));
    }
    for phase in 0..PHASES {
        let last_phase = phase == PHASES - 1;
        let rounds = shoppers.iter().map(|(me, home)| {
            let (app, products) = (&app, &products);
            async move {
                for n in 0..PURCHASES {
                    let end = ending(&mut rand::thread_rng(), n == PURCHASES - 1 && !last_phase);
                    shop_once(app, me, home, products, end).await;
                }
            }
        });
        futures::future::join_all(rounds).await;
        if !last_phase {
            // A crash with sagas in flight: whatever was committed must carry on.
            app.restart(|_| {}).await;
        }
    }

    let admin = app.staff_token("admin").await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let Some(problem) = disagreement(&app, &admin, &products).await else {
            break;
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "the books disagree: {problem}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

testkit::backend_tests!(the_books_agree_after_concurrent_checkouts_cancels_declines_and_crashes);
