//! Order mails over SMTP: a customer who checks out and pays hears about both steps,
//! each mail naming the order by its short reference and listing what was bought.

use testkit::Backend;
use testkit::shop::{paid_order, product, shipping_to_indonesia};
use testkit::smtp::SmtpSink;

use crate::helpers::{signed_in_customer, spawn_with_smtp, unique_email, wait_for_subject};

pub async fn a_paid_order_mails_the_customer_that_it_was_placed_and_paid(backend: Backend) {
    let sink = SmtpSink::start(0).await;
    let app = spawn_with_smtp(backend, &sink).await;
    let email = unique_email("order");
    let token = signed_in_customer(&app, &sink, &email, "Ann Lee").await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product_id = product(&app, &inventory, 1250, 10).await;

    let order = paid_order(&app, &token, &product_id, 2).await;
    let id = order["id"].as_str().expect("order id");
    let reference = id[id.len() - 8..].to_ascii_uppercase();
    let mug = order["lines"][0]["name"].as_str().expect("line name");
    let total = order["totals"]["total"].as_i64().expect("total");
    let total = format!("USD {}.{:02}", total / 100, total % 100);
    let link = format!("http://shop.test/orders/{id}");

    let placed = wait_for_subject(&sink, &email, "We received your order").await;
    assert_eq!(
        placed.header("subject"),
        Some(format!("We received your order {reference}").as_str())
    );
    let text = placed.part("text/plain").text();
    for fact in [
        "Hi Ann Lee,",
        &format!("{mug} × 2: USD 25.00"),
        &total,
        &link,
    ] {
        assert!(text.contains(fact), "{fact:?} in {text}");
    }
    assert!(placed.part("text/html").text().contains(&link));

    let paid = wait_for_subject(&sink, &email, "Payment received for order").await;
    assert_eq!(
        paid.header("subject"),
        Some(format!("Payment received for order {reference}").as_str())
    );
    let text = paid.part("text/plain").text();
    assert!(text.contains(&format!("Total paid: {total}")), "{text}");
}

testkit::backend_tests!(a_paid_order_mails_the_customer_that_it_was_placed_and_paid);
