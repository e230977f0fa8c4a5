//! The staff dashboard in the browser: a clerk signs in, finds a paid order and ships
//! it, and an admin opens the rest; axe checks every dashboard page at a laptop's width and a
//! phone's.

use testkit::browser::{self, Browser};
use testkit::{Backend, TestApp};

use crate::assert_fits_the_screen;

pub(crate) async fn a_clerk_ships_a_paid_order_from_the_dashboard(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    testkit::shop::shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = testkit::shop::product(&app, &inventory, 1_250, 5).await;
    let customer = app.customer_token().await;
    let order = testkit::shop::paid_order(&app, &customer, &product, 1).await;
    let id = order["id"].as_str().expect("order id").to_owned();
    let category = app
        .post(
            "/api/v1/categories",
            Some(&inventory),
            serde_json::json!({"name": "Tea ware", "show_on_home": true}),
        )
        .await;
    category.assert_status(201);
    let category = category.body["id"].as_str().expect("id").to_owned();
    let email = format!("{}@shop.test", testkit::unique("clerk"));
    app.staff_with_role(&email, "inventory").await;

    for width in [1280, 375] {
        let b = Browser::start(&format!("dashboard-{width}"), width).await;
        b.open(&app.url("/admin")).await;
        b.find("form[action='/admin/login']").await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, "/admin/login").await;
        b.fill("#email", &email).await;
        b.fill("#password", testkit::STAFF_PASSWORD).await;
        b.click("form[action='/admin/login'] button[type='submit']")
            .await;
        b.wait_for_text("paid, to fulfil").await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, "/admin").await;
        b.click("a[href='/admin/orders?status=paid']").await;
        b.wait_for_text("Every status").await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, "/admin/orders?status=paid").await;
        // Every order (the first round ships it, so the second finds it shipped).
        b.open(&app.url("/admin/orders")).await;
        b.wait_for_text("Every status").await;
        b.click(&format!("a[href='/admin/orders/{id}']")).await;
        b.find("#order-status").await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, "/admin/orders/{id}").await;
        for path in [
            "/admin/products".to_owned(),
            "/admin/products/new".to_owned(),
            format!("/admin/products/{product}"),
            "/admin/categories".to_owned(),
            format!("/admin/categories/{category}"),
        ] {
            b.open(&app.url(&path)).await;
            b.find("main h1").await;
            b.assert_accessible().await;
            assert_fits_the_screen(&b, &path).await;
        }
        b.open(&app.url(&format!("/admin/orders/{id}"))).await;
        b.find("#order-status").await;
        if width == 1280 {
            crate::pack_and_ship(&b).await;
            b.assert_accessible().await;
            b.screenshot(&browser::screenshot_dir().join("admin-order.png"))
                .await;
        }
    }
    let shipped = app
        .get(&format!("/api/v1/orders/{id}"), Some(&customer))
        .await;
    assert_eq!(shipped.body["status"], "shipped", "{}", shipped.body);
}

/// An admin opens every page the dashboard added for admins and catalog staff, with
/// something on each: axe finds no serious problem and nothing scrolls sideways.
pub(crate) async fn an_admins_dashboard_pages_are_accessible(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    testkit::shop::shipping_to_indonesia(&app).await;
    let inventory = app.staff_token("inventory").await;
    let product = testkit::shop::product(&app, &inventory, 1_250, 5).await;
    let customer = app.customer_token().await;
    let order = testkit::shop::paid_order(&app, &customer, &product, 1).await;
    testkit::shop::deliver(&app, &order).await;
    testkit::shop::review(
        &app,
        &customer,
        &product,
        serde_json::json!({"rating": 4, "title": "Good cup", "body": "Holds tea well."}),
    )
    .await;
    let me = app.get("/api/v1/me", Some(&customer)).await;
    let customer_id = me.body["id"].as_str().expect("customer id").to_owned();
    let zones = app
        .get(
            "/api/v1/admin/shipping/zones",
            Some(&app.staff_token("admin").await),
        )
        .await;
    let zone = zones.body["items"][0]["id"]
        .as_str()
        .expect("a zone")
        .to_owned();
    let code = app
        .post(
            "/api/v1/admin/discounts",
            Some(&app.staff_token("finance").await),
            serde_json::json!({"code": "SPRING10", "kind": "percentage", "percent": 10, "usage_limit": 50}),
        )
        .await;
    code.assert_status(201);
    let code = code.body["id"].as_str().expect("a code").to_owned();
    let email = format!("{}@shop.test", testkit::unique("owner"));
    app.staff_with_role(&email, "admin").await;
    let members = app
        .get("/api/v1/staff", Some(&app.staff_token("admin").await))
        .await;
    let member = members.body["items"][0]["id"]
        .as_str()
        .expect("a member")
        .to_owned();

    for width in [1280, 375] {
        let b = Browser::start(&format!("admin-pages-{width}"), width).await;
        b.open(&app.url("/admin/login")).await;
        b.fill("#email", &email).await;
        b.fill("#password", testkit::STAFF_PASSWORD).await;
        b.click("form[action='/admin/login'] button[type='submit']")
            .await;
        b.wait_for_text("paid, to fulfil").await;
        for path in [
            "/admin/reviews".to_owned(),
            "/admin/shipping".to_owned(),
            format!("/admin/shipping/zones/{zone}"),
            "/admin/customers".to_owned(),
            format!("/admin/customers/{customer_id}"),
            "/admin/staff".to_owned(),
            format!("/admin/staff/{member}"),
            "/admin/events".to_owned(),
            "/admin/discounts".to_owned(),
            format!("/admin/discounts/{code}"),
        ] {
            b.open(&app.url(&path)).await;
            b.find("main h1").await;
            b.assert_accessible().await;
            assert_fits_the_screen(&b, &path).await;
        }
    }
}
