//! Review moderation in the staff dashboard over HTTP: the queue with its tabs, hiding
//! and showing a review, a stale button explained, and catalog staff only.

use serde_json::json;
use testkit::pages::Browser;
use testkit::shop::{self, shipping_to_indonesia};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

/// A delivered purchase reviewed by its buyer; returns the product and the review.
async fn reviewed(app: &TestApp) -> (String, serde_json::Value) {
    shipping_to_indonesia(app).await;
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(app, &inventory, 1_250, 10).await;
    let customer = app.customer_token().await;
    let order = shop::paid_order(app, &customer, &product, 1).await;
    shop::deliver(app, &order).await;
    let review = shop::review(
        app,
        &customer,
        &product,
        json!({"rating": 2, "title": "Chipped on arrival", "body": "The handle was cracked."}),
    )
    .await;
    (product, review)
}

pub async fn a_clerk_hides_a_review_and_shows_it_again(backend: Backend) {
    let app = open_shop(backend).await;
    let (product, review) = reviewed(&app).await;
    let id = review["id"].as_str().expect("id");
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    let queue = clerk.get("/admin/reviews").await;
    queue
        .assert_status(200)
        .assert_contains("Chipped on arrival")
        .assert_contains("The handle was cracked.")
        .assert_contains(&format!("action=\"/admin/reviews/{id}\""))
        .assert_contains(">Hide</button>");
    let version = queue.input_value("version").expect("the version read");

    let form = [
        ("hidden", "true"),
        ("version", version.as_str()),
        ("show", "all"),
    ];
    let hidden = clerk
        .post_form(&format!("/admin/reviews/{id}"), &form)
        .await;
    hidden.assert_status(303);
    assert_eq!(
        hidden.location(),
        Some("/admin/reviews?show=all&done=hidden")
    );
    let public = app
        .get(&format!("/api/v1/products/{product}/reviews"), None)
        .await;
    assert_eq!(
        public.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        public.body
    );
    clerk
        .get("/admin/reviews?show=hidden")
        .await
        .assert_contains("Chipped on arrival")
        .assert_contains(">Show again</button>");
    clerk
        .get("/admin/reviews?show=visible")
        .await
        .assert_lacks("Chipped on arrival")
        .assert_contains("No reviews here.");

    // The first page's button again: its version is stale now.
    let stale = clerk
        .post_form(&format!("/admin/reviews/{id}"), &form)
        .await;
    assert_eq!(stale.location(), Some("/admin/reviews?show=all&done=stale"));
    clerk
        .get("/admin/reviews?show=all&done=stale")
        .await
        .assert_contains("Someone changed that review first");

    let fresh = clerk.get("/admin/reviews?show=hidden").await;
    let version = fresh.input_value("version").expect("the version read");
    let shown = clerk
        .post_form(
            &format!("/admin/reviews/{id}"),
            &[
                ("hidden", "false"),
                ("version", version.as_str()),
                ("show", "hidden"),
            ],
        )
        .await;
    assert_eq!(
        shown.location(),
        Some("/admin/reviews?show=hidden&done=shown")
    );
    let public = app
        .get(&format!("/api/v1/products/{product}/reviews"), None)
        .await;
    assert_eq!(public.body["items"].as_array().map(Vec::len), Some(1));
}

pub async fn finance_gets_no_review_moderation(backend: Backend) {
    let app = open_shop(backend).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    finance
        .get("/admin")
        .await
        .assert_status(200)
        .assert_lacks("href=\"/admin/reviews\"");
    finance
        .get("/admin/reviews")
        .await
        .assert_status(403)
        .assert_contains("Not allowed for your role");
}
