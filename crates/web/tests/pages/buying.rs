//! The cart, checkout and order pages over HTTP.

use testkit::pages::Browser;
use testkit::shop::{address, shipping_to_indonesia};
use testkit::{Backend, unique};

use crate::{product_on_home, shop};

const PASSWORD: &str = "correct horse battery staple";

pub async fn buying_pages_send_a_visitor_to_sign_in_and_back(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    for (path, next) in [
        ("/cart", "%2Fcart"),
        ("/checkout", "%2Fcheckout"),
        (
            "/orders/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
            "%2Forders%2F0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
        ),
    ] {
        let page = browser.get(path).await;
        page.assert_status(303);
        assert_eq!(
            page.location(),
            Some(format!("/login?next={next}").as_str())
        );
    }
}

/// The header counts the units in a signed-in customer's cart on every page, and shows
/// nothing for an empty cart or a visitor.
pub async fn the_header_counts_the_units_in_the_cart(backend: Backend) {
    let app = shop(backend).await;
    let (product_id, slug, _) = product_on_home(&app, "Tea Cup", 10).await;
    let badge = |n: &str| format!("class=\"cart-count\">{n}<span class=\"visually-hidden\">");
    Browser::new(&app)
        .get("/")
        .await
        .assert_status(200)
        .assert_lacks("cart-count");

    let email = format!("{}@example.test", unique("count"));
    app.verified_customer(&email, PASSWORD).await;
    let browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    browser
        .get("/")
        .await
        .assert_status(200)
        .assert_lacks("cart-count");
    browser
        .post_form(
            "/cart/add",
            &[("product_id", &product_id), ("quantity", "3")],
        )
        .await
        .assert_status(303);
    for path in [
        "/".to_owned(),
        format!("/products/{slug}"),
        "/cart".to_owned(),
    ] {
        browser
            .get(&path)
            .await
            .assert_status(200)
            .assert_contains(&badge("3"))
            .assert_contains(" items</span>");
    }
    browser
        .post_form(
            "/cart/add",
            &[("product_id", &product_id), ("quantity", "1")],
        )
        .await
        .assert_status(303);
    browser
        .get("/account")
        .await
        .assert_status(200)
        .assert_contains(&badge("4"));
}

/// A double click on "Place order" submits the rendered form twice with its one key:
/// one order, and both submissions land on it.
pub async fn placing_an_order_twice_from_one_form_makes_one_order(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (product_id, _, _) = product_on_home(&app, "Rice Bowl", 10).await;
    let email = format!("{}@example.test", unique("twice"));
    let pair = app.verified_customer(&email, PASSWORD).await;
    let token = pair["access_token"].as_str().expect("token");
    let home = address(&app, token).await;
    let browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    browser
        .post_form(
            "/cart/add",
            &[("product_id", &product_id), ("quantity", "2")],
        )
        .await
        .assert_status(303);
    let cart = browser.get("/cart").await;
    cart.assert_status(200)
        .assert_contains("Rice Bowl")
        .assert_contains("USD 25.00");
    let checkout = browser.get(&format!("/checkout?address={home}")).await;
    checkout
        .assert_status(200)
        .assert_contains("Mercato Post Standard");
    let key = checkout.input_value("key").expect("the form's key");
    let form = [
        ("address_id", home.as_str()),
        ("shipping_service", "standard"),
        ("key", key.as_str()),
    ];

    let first = browser.post_form("/checkout", &form).await;
    let second = browser.post_form("/checkout", &form).await;

    first.assert_status(303);
    second.assert_status(303);
    assert_eq!(first.location(), second.location(), "one order");
    let order = browser.get(first.location().expect("location")).await;
    order.assert_status(200).assert_contains("Rice Bowl");
    let orders = app.get("/api/v1/orders", Some(token)).await;
    assert_eq!(orders.body["items"].as_array().expect("items").len(), 1);

    // Another customer gets the not-found page for it.
    let other = format!("{}@example.test", unique("nosy"));
    app.verified_customer(&other, PASSWORD).await;
    let nosy = Browser::new(&app);
    nosy.sign_in(&other, PASSWORD).await;
    nosy.get(first.location().expect("location"))
        .await
        .assert_status(404)
        .assert_contains("Page not found");
}

/// The cart's code field: a code that does not apply is refused beside the field, one
/// that does shows what it takes off, on the cart, at checkout and on the order.
pub async fn a_discount_code_is_applied_in_the_cart_and_kept_by_the_order(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (product_id, _, _) = product_on_home(&app, "Rice Bowl", 10).await;
    let finance = app.staff_token("finance").await;
    app.post(
        "/api/v1/admin/discounts",
        Some(&finance),
        serde_json::json!({"code": "SPRING10", "kind": "percentage", "percent": 10}),
    )
    .await
    .assert_status(201);
    let email = format!("{}@example.test", unique("code"));
    let pair = app.verified_customer(&email, PASSWORD).await;
    let home = address(&app, pair["access_token"].as_str().expect("token")).await;
    let browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;
    browser
        .post_form(
            "/cart/add",
            &[("product_id", &product_id), ("quantity", "2")],
        )
        .await
        .assert_status(303);

    browser
        .post_form("/cart/discount", &[("code", "NOPE"), ("action", "apply")])
        .await
        .assert_status(422)
        .assert_contains(
            "id=\"discount-code-error\" class=\"error\">There is no such discount code.",
        );
    browser
        .post_form(
            "/cart/discount",
            &[("code", "spring10"), ("action", "apply")],
        )
        .await
        .assert_status(303);
    browser
        .get("/cart")
        .await
        .assert_status(200)
        .assert_contains("<strong>SPRING10</strong>: -USD 2.50")
        .assert_contains("USD 22.50");
    browser
        .post_form("/cart/discount", &[("action", "remove")])
        .await
        .assert_status(303);
    browser
        .get("/cart")
        .await
        .assert_lacks("SPRING10")
        .assert_contains("id=\"discount-code\"");
    browser
        .post_form(
            "/cart/discount",
            &[("code", "SPRING10"), ("action", "apply")],
        )
        .await
        .assert_status(303);
    let checkout = browser.get(&format!("/checkout?address={home}")).await;
    checkout
        .assert_status(200)
        .assert_contains("-USD 2.50 with code SPRING10");
    let key = checkout.input_value("key").expect("the form's key");
    let placed = browser
        .post_form(
            "/checkout",
            &[
                ("address_id", home.as_str()),
                ("shipping_service", "standard"),
                ("key", key.as_str()),
            ],
        )
        .await;
    placed.assert_status(303);
    browser
        .get(placed.location().expect("location"))
        .await
        .assert_status(200)
        .assert_contains("<dt>Discount</dt><dd>-USD 2.50 (SPRING10)</dd>");
}

/// While an order moves, its status block asks for itself again with the version it
/// shows, and that request is answered when the saga moves the order: the page follows
/// the order without a timer.
pub async fn the_order_status_block_follows_the_saga_by_long_poll(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (product_id, _, _) = product_on_home(&app, "Rice Bowl", 10).await;
    let email = format!("{}@example.test", unique("follow"));
    let pair = app.verified_customer(&email, PASSWORD).await;
    let token = pair["access_token"].as_str().expect("token");
    let home = address(&app, token).await;
    testkit::shop::add(&app, token, &product_id, 1).await;
    let order = testkit::shop::order_awaiting_payment(&app, token, &home).await;
    let (id, version) = (order["id"].as_str().expect("id"), &order["version"]);
    let browser = Browser::new(&app);
    browser.sign_in(&email, PASSWORD).await;

    let follow = format!("/orders/{id}/status?after={version}");
    let page = browser.get(&format!("/orders/{id}")).await;
    page.assert_status(200)
        .assert_contains(&format!("hx-get=\"{follow}\""))
        .assert_contains("hx-trigger=\"load\"");

    let payment = order["payment"]["id"].as_str().expect("payment id");
    let (block, paid) = tokio::join!(browser.get(&follow), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        testkit::shop::pay(&app, token, payment, testkit::shop::CARD_OK).await
    });
    paid.assert_status(202);
    block
        .assert_status(200)
        .assert_contains("data-status=\"paid\"");
    assert!(
        !block.html.contains("hx-get"),
        "a settled order stops asking: {}",
        block.html
    );
}
