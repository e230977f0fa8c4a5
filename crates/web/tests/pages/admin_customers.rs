//! Customers in the staff dashboard over HTTP: the search and its paged list, one
//! customer's profile with their addresses and orders, and the pages for no session,
//! an unknown customer and refused search words.

use testkit::pages::Browser;
use testkit::shop::{self, shipping_to_indonesia};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

/// A verified customer's `(id, email, access token)`.
async fn customer(app: &TestApp) -> (String, String, String) {
    let token = app.customer_token().await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    me.assert_status(200);
    let field = |k: &str| me.body[k].as_str().expect(k).to_owned();
    (field("id"), field("email"), token)
}

pub async fn staff_find_a_customer_and_read_their_profile_and_orders(backend: Backend) {
    let app = open_shop(backend).await;
    shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(&app, &inventory, 1_250, 10).await;
    let (id, email, token) = customer(&app).await;
    let order = shop::paid_order(&app, &token, &product, 2).await;
    let order_id = order["id"].as_str().expect("order id").to_owned();
    let (other_id, other_email, other_token) = customer(&app).await;
    let other_order = shop::paid_order(&app, &other_token, &product, 1).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("finance").await;

    let everyone = clerk.get("/admin/customers").await;
    everyone
        .assert_status(200)
        .assert_contains("aria-current=\"page\">Customers")
        .assert_contains(&email)
        .assert_contains(&other_email);
    // Part of the email, in other case: only that customer.
    let local = email.split('@').next().expect("local part").to_uppercase();
    let found = clerk
        .get(&format!("/admin/customers?q={}", &local[local.len() - 6..]))
        .await;
    found
        .assert_status(200)
        .assert_contains(&format!(
            "<a href=\"/admin/customers/{id}\">Test Customer</a>"
        ))
        .assert_contains(&email);
    assert!(!found.html.contains(&other_email), "{:.3000}", found.html);
    clerk
        .get("/admin/customers?q=nobody-is-called-this")
        .await
        .assert_status(200)
        .assert_contains("No customer matches");

    let profile = clerk.get(&format!("/admin/customers/{id}")).await;
    profile
        .assert_status(200)
        .assert_contains("<h1>Test Customer</h1>")
        .assert_contains(&email)
        .assert_contains("Jl. Sudirman 1")
        .assert_contains("10220 Jakarta")
        .assert_contains(&format!("href=\"/admin/orders/{order_id}\""))
        .assert_contains("Paid: to fulfil");
    let other_order_id = other_order["id"].as_str().expect("order id");
    assert!(
        !profile.html.contains(other_order_id),
        "only this customer's orders: {:.3000}",
        profile.html
    );
    clerk
        .get(&format!("/admin/customers/{other_id}"))
        .await
        .assert_status(200)
        .assert_contains(other_order_id);

    // Each look is in the audit trail.
    let admin = app.staff_token("admin").await;
    let trail = app.get("/api/v1/staff/audit-log", Some(&admin)).await;
    let viewed = trail.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "customer.viewed" && e["target_id"] == id.as_str())
        .count();
    assert_eq!(viewed, 1, "{}", trail.body);
}

pub async fn the_customer_pages_send_staff_to_sign_in_and_explain_what_they_cannot_show(
    backend: Backend,
) {
    let app = open_shop(backend).await;
    let (id, _, _) = customer(&app).await;
    let browser = Browser::new(&app);
    let page = browser.get("/admin/customers").await;
    page.assert_status(303);
    assert_eq!(
        page.location(),
        Some("/admin/login?next=%2Fadmin%2Fcustomers")
    );
    let page = browser.get(&format!("/admin/customers/{id}")).await;
    page.assert_status(303);
    assert_eq!(
        page.location(),
        Some(format!("/admin/login?next=%2Fadmin%2Fcustomers%2F{id}").as_str())
    );

    browser.sign_in_staff("inventory").await;
    for path in [
        "/admin/customers/not-a-uuid",
        "/admin/customers/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
    ] {
        browser
            .get(path)
            .await
            .assert_status(404)
            .assert_contains("Not found");
    }
    let long = "x".repeat(300);
    let refused = browser.get(&format!("/admin/customers?q={long}")).await;
    refused
        .assert_status(422)
        .assert_contains("id=\"q-error\"")
        .assert_contains("must be at most 254 characters");
    assert!(!refused.html.contains("No customers yet"));
}
