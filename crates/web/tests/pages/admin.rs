//! The staff dashboard over HTTP: its own session beside a customer's, orders listed
//! and moved through fulfilment, refunds, and what each role is offered.

use testkit::pages::Browser;
use testkit::shop::{self, shipping_to_indonesia};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

/// A paid order of two units at USD 12.50: (order id, its short number, customer token).
async fn paid_order(app: &TestApp) -> (String, String, String) {
    shipping_to_indonesia(app).await;
    let inventory = app.staff_token("inventory").await;
    let product = shop::product(app, &inventory, 1_250, 10).await;
    let customer = app.customer_token().await;
    let order = shop::paid_order(app, &customer, &product, 2).await;
    let id = order["id"].as_str().expect("order id").to_owned();
    let number = id[id.len() - 8..].to_owned();
    (id, number, customer)
}

pub async fn the_dashboard_sends_staff_to_sign_in_and_back(backend: Backend) {
    let app = open_shop(backend).await;
    let browser = Browser::new(&app);
    let page = browser.get("/admin/orders").await;
    page.assert_status(303);
    assert_eq!(page.location(), Some("/admin/login?next=%2Fadmin%2Forders"));
    browser.get("/admin/login").await.assert_status(200);

    // A wrong password is said on the form, which keeps the email.
    let email = format!("{}@shop.test", testkit::unique("clerk"));
    app.staff_with_role(&email, "inventory").await;
    let wrong = browser
        .post_form(
            "/admin/login",
            &[
                ("email", &email),
                ("password", "not it"),
                ("next", "/admin/orders"),
            ],
        )
        .await;
    wrong.assert_status(422);
    assert_eq!(wrong.input_value("email").as_deref(), Some(email.as_str()));

    // Signed in, the member is sent back where they were going, never elsewhere.
    let right = browser
        .post_form(
            "/admin/login",
            &[
                ("email", &email),
                ("password", testkit::STAFF_PASSWORD),
                ("next", "https://evil.test/admin"),
            ],
        )
        .await;
    right.assert_status(303);
    assert_eq!(right.location(), Some("/admin"));
    let cookies: Vec<_> = right
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(!cookies.is_empty(), "a session");
    for cookie in &cookies {
        assert!(
            cookie.contains("Path=/admin;"),
            "scoped to the dashboard: {cookie}"
        );
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Max-Age"),
            "ends with the browser: {cookie}"
        );
    }
    browser.get("/admin/orders").await.assert_status(200);

    // Signing out ends it.
    browser
        .post_form("/admin/logout", &[])
        .await
        .assert_status(303);
    browser.get("/admin/orders").await.assert_status(303);
}

/// One browser, a customer and a staff member signed in side by side: neither session
/// replaces the other, and a customer's session opens nothing in the dashboard.
pub async fn staff_and_customer_sessions_live_side_by_side(backend: Backend) {
    let app = open_shop(backend).await;
    let email = format!("{}@example.test", testkit::unique("both"));
    let password = "correct horse battery staple";
    app.verified_customer(&email, password).await;
    let browser = Browser::new(&app);
    browser.sign_in(&email, password).await;
    let page = browser.get("/admin/orders").await;
    page.assert_status(303);
    assert!(
        page.location()
            .is_some_and(|l| l.starts_with("/admin/login"))
    );

    browser.sign_in_staff("inventory").await;
    browser.get("/admin/orders").await.assert_status(200);
    browser
        .get("/account")
        .await
        .assert_status(200)
        .assert_contains(&email);
    browser.post_form("/admin/logout", &[]).await;
    browser.get("/account").await.assert_status(200);
}

pub async fn staff_fulfil_an_order_step_by_step(backend: Backend) {
    let app = open_shop(backend).await;
    let (id, number, customer) = paid_order(&app).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;

    let list = clerk.get("/admin/orders?status=paid").await;
    list.assert_status(200).assert_contains(&number);
    let other = clerk.get("/admin/orders?status=delivered").await;
    assert!(!other.html.contains(&number), "filtered by status");

    let path = format!("/admin/orders/{id}");
    let page = clerk.get(&path).await;
    page.assert_status(200)
        .assert_contains("Paid: to fulfil")
        .assert_contains("Start packing")
        .assert_contains("Cancel this order")
        .assert_contains("href=\"/admin/customers/");
    assert!(!page.html.contains(">Refund<"), "refunds are finance's");
    let version = page.input_value("version").expect("the version read");

    let status = format!("{path}/status");
    let packed = clerk
        .post_form(&status, &[("status", "processing"), ("version", &version)])
        .await;
    packed.assert_status(303);
    assert_eq!(
        packed.location(),
        Some(format!("{path}?done=processing").as_str())
    );

    // A second tab still showing the old version: told, and shown the order as it is.
    let stale = clerk
        .post_form(&status, &[("status", "processing"), ("version", &version)])
        .await;
    stale
        .assert_status(412)
        .assert_contains("Someone else changed this order");

    let page = clerk.get(&path).await;
    page.assert_contains("Being packed")
        .assert_contains("Mark shipped");
    let version = page.input_value("version").expect("version");
    let untracked = clerk
        .post_form(
            &status,
            &[
                ("status", "shipped"),
                ("version", &version),
                ("tracking_number", ""),
            ],
        )
        .await;
    untracked
        .assert_status(422)
        .assert_contains("is required when shipping");
    clerk
        .post_form(
            &status,
            &[
                ("status", "shipped"),
                ("version", &version),
                ("tracking_number", "JNE-12345"),
            ],
        )
        .await
        .assert_status(303);
    let page = clerk.get(&path).await;
    page.assert_contains("Shipped").assert_contains("JNE-12345");
    let version = page.input_value("version").expect("version");
    clerk
        .post_form(&status, &[("status", "delivered"), ("version", &version)])
        .await
        .assert_status(303);

    let order = app
        .get(&format!("/api/v1/orders/{id}"), Some(&customer))
        .await;
    assert_eq!(order.body["status"], "delivered", "{}", order.body);

    // Cross-site, the same form is refused.
    let forged = clerk
        .post_form_from(
            &status,
            &[("status", "cancelled"), ("version", "9")],
            "cross-site",
        )
        .await;
    forged.assert_status(403);
}

pub async fn finance_refunds_part_of_an_order_from_the_dashboard(backend: Backend) {
    let app = open_shop(backend).await;
    let (id, _, customer) = paid_order(&app).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    let path = format!("/admin/orders/{id}");
    let total = app
        .get(&format!("/api/v1/orders/{id}"), Some(&customer))
        .await
        .body["totals"]["total"]
        .as_i64()
        .expect("a total");
    let money = |minor: i64| format!("USD {}.{:02}", minor / 100, minor % 100);
    let page = finance.get(&path).await;
    page.assert_status(200)
        .assert_contains(&format!("Up to {}", money(total)));
    assert!(
        !page.html.contains("Start packing"),
        "fulfilment is inventory's"
    );
    let key = page.input_value("key").expect("the form's key");

    let refund = format!("{path}/refund");
    let wrong = finance
        .post_form(
            &refund,
            &[("amount", "5,00"), ("reason", ""), ("key", &key)],
        )
        .await;
    wrong
        .assert_status(422)
        .assert_contains("must be an amount in USD, like 12.50");

    let form = [
        ("amount", "5.00"),
        ("reason", "A chipped bowl"),
        ("key", key.as_str()),
    ];
    let first = finance.post_form(&refund, &form).await;
    let again = finance.post_form(&refund, &form).await;
    first.assert_status(303);
    again.assert_status(303);
    assert_eq!(
        first.location(),
        Some(format!("{path}?done=refund").as_str())
    );

    // One refund of 5.00 reaches the order, however often the form was sent.
    let refunded = shop::order_when(&app, &customer, &id, "refunded 5.00", |o| {
        o["totals"]["refunded"] == 500
    })
    .await;
    assert_eq!(refunded["status"], "paid", "{refunded}");
    finance
        .get(&path)
        .await
        .assert_contains("Refunded")
        .assert_contains(&format!("Up to {}", money(total - 500)));
}

pub async fn the_dashboard_home_shows_todays_figures(backend: Backend) {
    let app = open_shop(backend).await;
    let (_, _, _) = paid_order(&app).await;
    // The paid order's product keeps 8 of 10: neither sold out nor low.
    let inventory = app.staff_token("inventory").await;
    shop::product(&app, &inventory, 900, 0).await;
    shop::product(&app, &inventory, 900, 2).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    let home = clerk.get("/admin").await;
    home.assert_status(200)
        .assert_contains("<span class=\"figure\" id=\"to-fulfil\">1</span>")
        .assert_contains("<span class=\"figure\" id=\"failed-today\">0</span>")
        .assert_contains("<span class=\"figure\" id=\"sold-out\">1</span>")
        .assert_contains("<span class=\"figure\" id=\"running-low\">1</span>")
        .assert_contains("</a>: sold out</li>")
        .assert_contains("</a>: 2 left</li>")
        .assert_contains("Today (since midnight UTC)")
        .assert_contains("<td>USD</td><td>1</td><td>1</td>");
}

pub async fn an_unknown_order_is_the_dashboards_not_found_page(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    for path in [
        "/admin/orders/not-a-uuid",
        "/admin/orders/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
    ] {
        clerk
            .get(path)
            .await
            .assert_status(404)
            .assert_contains("Back to the orders");
    }
}
