//! The signed-in customer's own pages: details, password, addresses, order history,
//! wishlist, and the shipping estimate on a product's page.

use testkit::pages::Browser;
use testkit::shop::{deliver, paid_order, shipping_to_indonesia};
use testkit::{Backend, unique};

use crate::{product_on_home, shop};

const PASSWORD: &str = "correct horse battery staple";

/// A verified customer signed in to `browser`; answers their email and API token.
async fn signed_in(app: &testkit::TestApp, browser: &Browser<'_>, tag: &str) -> (String, String) {
    let email = format!("{}@example.test", unique(tag));
    let pair = app.verified_customer(&email, PASSWORD).await;
    browser.sign_in(&email, PASSWORD).await;
    let token = pair["access_token"].as_str().expect("token").to_owned();
    (email, token)
}

pub async fn the_account_pages_send_a_visitor_to_sign_in_and_back(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    for (path, next) in [
        ("/account/profile", "%2Faccount%2Fprofile"),
        ("/account/password", "%2Faccount%2Fpassword"),
        ("/account/addresses", "%2Faccount%2Faddresses"),
        ("/account/orders", "%2Faccount%2Forders"),
        ("/account/reviews", "%2Faccount%2Freviews"),
        ("/wishlist", "%2Fwishlist"),
    ] {
        let page = browser.get(path).await;
        page.assert_status(303);
        assert_eq!(
            page.location(),
            Some(format!("/login?next={next}").as_str()),
            "{path}"
        );
    }
    // A form posted by a visitor whose session ended goes to sign in too, not to an error.
    let posted = browser
        .post_form(
            "/account/profile",
            &[("name", "Ann"), ("email", "a@b.test")],
        )
        .await;
    posted.assert_status(303);
}

pub async fn a_customer_changes_their_name_and_asks_to_change_their_email(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let (email, token) = signed_in(&app, &browser, "details").await;
    let form = browser.get("/account/profile").await;
    form.assert_status(200);
    assert_eq!(form.input_value("email").as_deref(), Some(email.as_str()));

    // A bad field comes back beside itself, keeping what was typed.
    let refused = browser
        .post_form(
            "/account/profile",
            &[("name", "Ann Lee"), ("email", "not an address")],
        )
        .await;
    refused
        .assert_status(422)
        .assert_contains("aria-invalid=\"true\" aria-describedby=\"email-error\"");
    assert_eq!(refused.input_value("name").as_deref(), Some("Ann Lee"));
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.body["name"],
        "Test Customer",
        "a refused form changes nothing"
    );

    let new_email = format!("{}@example.test", unique("moved"));
    let saved = browser
        .post_form(
            "/account/profile",
            &[("name", "Ann Lee"), ("email", &new_email)],
        )
        .await;

    saved.assert_status(303);
    assert_eq!(saved.location(), Some("/account/profile?saved=1"));
    let page = browser.get("/account/profile?saved=1").await;
    page.assert_contains("Your details are saved.")
        .assert_contains(&format!("We sent a link to {new_email}"));
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["name"], "Ann Lee");
    assert_eq!(me.body["email"], email.as_str(), "changes once verified");
    let mail = app.wait_for_mails(&new_email, 1).await.remove(0);
    assert!(mail.text.contains("/verify-email?token="), "{}", mail.text);
}

pub async fn a_customer_changes_their_password_and_stays_signed_in(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let (email, _) = signed_in(&app, &browser, "passwd").await;
    let other_device = Browser::new(&app);
    other_device.sign_in(&email, PASSWORD).await;

    let wrong = browser
        .post_form(
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    wrong
        .assert_status(422)
        .assert_contains("id=\"current_password-error\">is wrong</p>");

    let changed = browser
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;

    changed.assert_status(303);
    browser
        .get("/account/password?saved=1")
        .await
        .assert_contains("Your password is changed.");
    browser.get("/account").await.assert_status(200);
    // The other device's session ended with the change (once its access token lapses,
    // its refresh is refused); signing in needs the new password.
    let again = Browser::new(&app);
    again.sign_in(&email, "a brand new passphrase").await;
}

/// The address form's fields, with `country` as given.
fn address_in(country: &str) -> [(&str, &str); 6] {
    [
        ("recipient_name", "Ann Lee"),
        ("phone", "+62 812 0000 0000"),
        ("line1", "Jl. Merdeka 1"),
        ("city", "Bandung"),
        ("postal_code", "40111"),
        ("country", country),
    ]
}

pub async fn addresses_are_added_listed_refused_beside_their_fields_and_removed(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let (_, token) = signed_in(&app, &browser, "addr").await;
    browser
        .get("/account/addresses")
        .await
        .assert_status(200)
        .assert_contains("No saved addresses yet");

    let refused = browser
        .post_form("/account/addresses", &address_in("XX"))
        .await;
    refused
        .assert_status(422)
        .assert_contains("aria-describedby=\"country-error\"");
    assert_eq!(
        refused.input_value("line1").as_deref(),
        Some("Jl. Merdeka 1")
    );

    let added = browser
        .post_form("/account/addresses", &address_in("id"))
        .await;
    added.assert_status(303);
    let list = browser.get("/account/addresses?added=1").await;
    list.assert_contains("The address is saved.")
        .assert_contains("Jl. Merdeka 1, Bandung, 40111, ID");
    let saved = app.get("/api/v1/me/addresses", Some(&token)).await;
    let id = saved.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let removed = browser
        .post_form(&format!("/account/addresses/{id}/delete"), &[])
        .await;

    removed.assert_status(303);
    let after = app.get("/api/v1/me/addresses", Some(&token)).await;
    assert_eq!(after.body["items"].as_array().expect("items").len(), 0);
}

pub async fn order_history_lists_the_customers_orders_only(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (product_id, _, _) = product_on_home(&app, "Teak Spoon", 10).await;
    let browser = Browser::new(&app);
    let (_, token) = signed_in(&app, &browser, "history").await;
    browser
        .get("/account/orders")
        .await
        .assert_status(200)
        .assert_contains("No orders yet");
    let order = paid_order(&app, &token, &product_id, 1).await;
    let id = order["id"].as_str().expect("id");

    let history = browser.get("/account/orders").await;

    history
        .assert_status(200)
        .assert_contains(&format!("href=\"/orders/{id}\""))
        .assert_contains(&id[id.len() - 8..])
        .assert_contains("Paid: we are preparing it");
    let stranger = Browser::new(&app);
    signed_in(&app, &stranger, "stranger").await;
    let theirs = stranger.get("/account/orders").await;
    theirs.assert_contains("No orders yet");
    assert!(
        !theirs.html.contains(id),
        "another customer's order is not listed"
    );
}

pub async fn a_product_is_saved_to_the_wishlist_and_moved_to_the_cart(backend: Backend) {
    let app = shop(backend).await;
    let (product_id, slug, _) = product_on_home(&app, "Clay Pot", 4).await;
    let browser = Browser::new(&app);
    let (_, token) = signed_in(&app, &browser, "wish").await;
    let product = format!("/products/{slug}");
    browser
        .get(&product)
        .await
        .assert_contains("Save to wishlist");

    let saved = browser
        .post_form(
            &format!("/wishlist/{product_id}"),
            &[("action", "add"), ("back", &product)],
        )
        .await;

    saved.assert_status(303);
    assert_eq!(saved.location(), Some(product.as_str()));
    browser
        .get(&product)
        .await
        .assert_contains("Saved to your wishlist");
    let list = browser.get("/wishlist").await;
    list.assert_status(200)
        .assert_contains("Clay Pot")
        .assert_contains("USD 12.50");
    browser
        .post_form(
            "/cart/add",
            &[("product_id", &product_id), ("quantity", "1")],
        )
        .await
        .assert_status(303);
    let cart = app.get("/api/v1/cart", Some(&token)).await;
    assert_eq!(cart.body["lines"][0]["product_id"], product_id.as_str());

    // A `back` elsewhere is not followed.
    let removed = browser
        .post_form(
            &format!("/wishlist/{product_id}"),
            &[("action", "remove"), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(removed.location(), Some("/wishlist"));
    browser
        .get("/wishlist")
        .await
        .assert_contains("Nothing saved yet");
}

pub async fn a_product_page_estimates_shipping_to_a_postal_code(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (_, slug, _) = product_on_home(&app, "Bamboo Mat", 4).await;
    let browser = Browser::new(&app);

    let estimate = browser
        .get(&format!("/products/{slug}?country=ID&postal_code=40111"))
        .await;

    estimate
        .assert_status(200)
        .assert_contains("Mercato Post Standard")
        .assert_contains("days)");
    let nowhere = browser
        .get(&format!("/products/{slug}?country=FR&postal_code=75001"))
        .await;
    nowhere.assert_contains("We do not ship there yet.");
    let bad = browser
        .get(&format!("/products/{slug}?country=France"))
        .await;
    bad.assert_status(200)
        .assert_contains("aria-describedby=\"country-error\"");
}

pub async fn a_delivered_order_prompts_a_review_the_buyer_then_writes(backend: Backend) {
    let app = shop(backend).await;
    shipping_to_indonesia(&app).await;
    let (product_id, slug, _) = product_on_home(&app, "Rattan Basket", 10).await;
    let browser = Browser::new(&app);
    let (_, token) = signed_in(&app, &browser, "reviewer").await;
    let order = paid_order(&app, &token, &product_id, 1).await;
    let id = order["id"].as_str().expect("id").to_owned();
    browser
        .get(&format!("/orders/{id}"))
        .await
        .assert_status(200);
    assert!(
        !browser
            .get(&format!("/orders/{id}"))
            .await
            .html
            .contains("Review Rattan Basket"),
        "no prompt before delivery"
    );
    deliver(&app, &order).await;
    let review_url = format!("/reviews/new?product={product_id}");
    browser
        .get(&format!("/orders/{id}"))
        .await
        .assert_contains(&format!("href=\"{}\"", review_url.replace('&', "&amp;")))
        .assert_contains("Review Rattan Basket");
    browser
        .get(&review_url)
        .await
        .assert_status(200)
        .assert_contains("Your rating");

    // No stars chosen: said beside the stars, the text kept.
    let unrated = browser
        .post_form(
            "/reviews/new",
            &[
                ("product_id", &product_id),
                ("body", "Sturdy <b>and</b> light"),
            ],
        )
        .await;
    unrated
        .assert_status(422)
        .assert_contains("id=\"rating-error\"")
        .assert_contains("Sturdy &#60;b&#62;and&#60;/b&#62; light");

    // Someone who did not buy it is told why.
    let stranger = Browser::new(&app);
    signed_in(&app, &stranger, "notbuyer").await;
    stranger
        .post_form(
            "/reviews/new",
            &[("product_id", &product_id), ("rating", "1")],
        )
        .await
        .assert_status(422)
        .assert_contains("Only customers with a paid order");

    let form = [
        ("product_id", product_id.as_str()),
        ("rating", "5"),
        ("title", "Lovely"),
        ("body", "Sturdy and light."),
    ];
    // Catalog hears of the purchase from the bus a moment after the order is paid.
    let mut written = browser.post_form("/reviews/new", &form).await;
    for _ in 0..100 {
        if written.status == 303 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        written = browser.post_form("/reviews/new", &form).await;
    }
    written.assert_status(303);
    let back = written.location().expect("location").to_owned();
    assert!(
        back.starts_with(&format!("/products/{slug}?reviewed=1")),
        "{back}"
    );
    browser
        .get(&format!("/products/{slug}?reviewed=1"))
        .await
        .assert_contains("your review is published")
        .assert_contains("Lovely");
    browser
        .get("/account/reviews")
        .await
        .assert_status(200)
        .assert_contains(&format!("href=\"/products/{slug}\""))
        .assert_contains("5 out of 5 · Lovely");
    // A second review of it is refused with the API's reason.
    browser
        .post_form("/reviews/new", &form)
        .await
        .assert_status(422)
        .assert_contains("already reviewed");
}
