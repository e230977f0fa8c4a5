//! The storefront in a real browser (headless Chromium over WebDriver): a new visitor's
//! journey, with axe-core checking every page it visits at a phone's width and a
//! laptop's. Skipped (saying so) without Chromium outside CI; required in CI.

mod admin;
mod journey;
mod sessions;

use admin::{
    a_clerk_ships_a_paid_order_from_the_dashboard, an_admins_dashboard_pages_are_accessible,
};
use journey::the_shop_is_run_from_the_dashboard;
use serde_json::json;
use sessions::keep_me_signed_in_outlives_the_browser_and_a_plain_sign_in_does_not;
use testkit::browser::{self, Browser};
use testkit::{Backend, TestApp, unique};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A product on the home page, in stock; returns its slug.
async fn teapot(app: &TestApp) -> String {
    testkit::shop::product_on_home(app, "Celadon Teapot", 4200, 7)
        .await
        .1
}

async fn a_new_visitor_registers_verifies_signs_in_searches_and_opens_a_product(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let slug = teapot(&app).await;
    let b = Browser::start("journey", 1280).await;
    let shots = browser::screenshot_dir();

    b.open(&app.url("/")).await;
    b.wait_for_text("Celadon Teapot").await;
    b.assert_accessible().await;
    b.screenshot(&shots.join("home.png")).await;

    b.click("a[href='/register']").await;
    b.find("form[action='/register']").await;
    b.assert_accessible().await;
    let email = format!("{}@example.test", unique("browser"));
    b.fill("#name", "Ann Browser").await;
    b.fill("#email", &email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/register'] button[type='submit']")
        .await;
    b.wait_for_text("We sent you an email").await;
    b.assert_accessible().await;

    // The link in the mail, opened in the browser: its button verifies.
    let mail = app.wait_for_mails(&email, 1).await.remove(0);
    let token = mail.link_token().expect("a link token");
    b.open(&app.url(&format!("/verify-email?token={token}")))
        .await;
    b.assert_accessible().await;
    b.click("form[action='/verify-email'] button[type='submit']")
        .await;
    b.wait_for_text("Your email address is verified").await;

    b.fill("#email", &email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/login'] button[type='submit']").await;
    b.find("a[href='/account']").await;

    b.fill("#site-search", "teapot").await;
    b.click("form.search button").await;
    b.wait_for_text("Results for").await;
    b.assert_accessible().await;
    b.click(&format!("a[href='/products/{slug}']")).await;
    b.wait_for_text("Hand-thrown stoneware.").await;
    b.assert_accessible().await;
    b.screenshot(&shots.join("product.png")).await;
    assert!(b.url().await.ends_with(&format!("/products/{slug}")));
}

async fn the_pages_are_accessible_and_usable_at_a_phones_width(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let slug = teapot(&app).await;
    let b = Browser::start("phone", 375).await;
    for path in [
        "/".to_owned(),
        format!("/products/{slug}"),
        "/search?q=teapot".to_owned(),
        "/login".to_owned(),
        "/register".to_owned(),
        "/forgot-password".to_owned(),
        "/no-such-page".to_owned(),
    ] {
        b.open(&app.url(&path)).await;
        b.find("main").await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, &path).await;
    }
    b.open(&app.url(&format!("/products/{slug}"))).await;
    b.wait_for_text("Celadon Teapot").await;
    b.screenshot(&browser::screenshot_dir().join("product-phone.png"))
        .await;
}

/// The whole purchase in the browser: add two to the cart, check out to a new address,
/// pay with the sandbox's test card and watch the order turn paid without reloading;
/// a declined card shows the failure. Another customer's order is the 404 page.
async fn a_customer_buys_two_pays_by_card_and_watches_the_order_turn_paid(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    testkit::shop::shipping_to_indonesia(&app).await;
    let slug = teapot(&app).await;
    let email = format!("{}@example.test", unique("buyer"));
    app.verified_customer(&email, PASSWORD).await;
    let b = Browser::start("purchase", 1280).await;
    sign_in(&b, &app, &email, PASSWORD).await;

    b.open(&app.url(&format!("/products/{slug}"))).await;
    b.fill("#quantity", "2").await;
    b.click("form.buy button[type='submit']").await;
    b.wait_for_text("Subtotal of 2 items to buy").await;
    b.assert_accessible().await;
    b.click("a[href='/checkout']").await;
    b.find("form[action='/checkout/address']").await;
    b.assert_accessible().await;
    for (field, value) in [
        ("#recipient_name", "Ann Buyer"),
        ("#phone", "+62 812 3456 7890"),
        ("#line1", "Jalan Sudirman 1"),
        ("#city", "Jakarta"),
        ("#postal_code", "10110"),
        ("#country", "ID"),
    ] {
        b.fill(field, value).await;
    }
    b.click("form[action='/checkout/address'] button[type='submit']")
        .await;
    b.wait_for_text("Mercato Post Standard").await;
    b.assert_accessible().await;
    b.click("form[action='/checkout'][method='post'] button[type='submit']")
        .await;
    b.wait_for_text("Placed").await;

    // The page follows the saga by itself: mark it, and the mark must survive.
    b.script("window.stillTheSamePage = true;", json!([])).await;
    b.wait_for_text("Pay now").await;
    b.assert_accessible().await;
    b.screenshot(&browser::screenshot_dir().join("order-awaiting-payment.png"))
        .await;
    let order_url = b.url().await;
    b.click("#order-status a.button").await;
    b.find("#card_number").await;
    b.assert_accessible().await;
    b.fill("#card_number", "4242 4242 4242 4242").await;
    b.fill("#expiry", "12/39").await;
    b.fill("#cvc", "123").await;
    b.click("form[action^='/pay/'] button[type='submit']").await;
    b.find("#order-status").await;
    b.script("window.stillTheSamePage = true;", json!([])).await;
    b.wait_for_text("Paid: we are preparing it").await;
    assert_eq!(
        b.script("return window.stillTheSamePage === true;", json!([]))
            .await,
        json!(true),
        "the status changed without a reload"
    );
    assert_eq!(b.url().await, order_url);
    b.assert_accessible().await;
    b.screenshot(&browser::screenshot_dir().join("order.png"))
        .await;

    // A declined card: the failure shows, and the cart is the way to try again.
    b.open(&app.url(&format!("/products/{slug}"))).await;
    b.click("form.buy button[type='submit']").await;
    b.wait_for_text("Subtotal of 1 item to buy").await;
    b.click("a[href='/checkout']").await;
    b.wait_for_text("Mercato Post Standard").await;
    b.click("form[action='/checkout'][method='post'] button[type='submit']")
        .await;
    b.wait_for_text("Pay now").await;
    b.click("#order-status a.button").await;
    b.fill("#card_number", "4000 0000 0000 0002").await;
    b.fill("#expiry", "12/39").await;
    b.fill("#cvc", "123").await;
    b.click("form[action^='/pay/'] button[type='submit']").await;
    b.wait_for_text("The payment failed").await;
    b.find("#order-status a[href='/cart']").await;

    // Another customer opening this order's address sees the 404 page.
    let other = format!("{}@example.test", unique("other"));
    app.verified_customer(&other, PASSWORD).await;
    let b2 = Browser::start("other-customer", 1280).await;
    sign_in(&b2, &app, &other, PASSWORD).await;
    b2.open(&order_url).await;
    b2.wait_for_text("Page not found").await;
    b2.assert_accessible().await;
}

/// A customer who forgot their password resets it through the mailed link, then tends
/// their account on a phone: details, password, an address, the wishlist and orders,
/// each page accessible and none wider than the screen.
async fn a_customer_resets_a_forgotten_password_and_tends_their_account_on_a_phone(
    backend: Backend,
) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let slug = teapot(&app).await;
    let email = format!("{}@example.test", unique("forgetful"));
    app.verified_customer(&email, PASSWORD).await;
    let b = Browser::start("account-phone", 375).await;

    b.open(&app.url("/login")).await;
    b.click("a[href='/forgot-password']").await;
    b.fill("#email", &email).await;
    b.click("form[action='/forgot-password'] button[type='submit']")
        .await;
    b.wait_for_text("a reset link is on its way").await;
    b.assert_accessible().await;
    let mail = app
        .wait_for_mails(&email, 2)
        .await
        .into_iter()
        .find(|m| m.text.contains("/reset-password?token="))
        .expect("the reset mail");
    let token = mail.link_token().expect("a link token");
    b.open(&app.url(&format!("/reset-password?token={token}")))
        .await;
    b.assert_accessible().await;
    let new_password = "a new and longer passphrase";
    b.fill("#password", new_password).await;
    b.click("form[action='/reset-password'] button[type='submit']")
        .await;
    b.wait_for_text("Your password is changed").await;
    b.fill("#email", &email).await;
    b.fill("#password", new_password).await;
    b.click("form[action='/login'] button[type='submit']").await;
    b.find("a[href='/account']").await;

    b.open(&app.url(&format!("/products/{slug}"))).await;
    b.click("form.wish button[type='submit']").await;
    b.wait_for_text("Saved to your wishlist").await;
    b.open(&app.url("/account/addresses")).await;
    for (field, value) in [
        ("#recipient_name", "Ann Phone"),
        ("#phone", "+62 812 3456 7890"),
        ("#line1", "Jalan Sudirman 1"),
        ("#city", "Jakarta"),
        ("#postal_code", "10110"),
        ("#country", "ID"),
    ] {
        b.fill(field, value).await;
    }
    b.click("form[action='/account/addresses'] button[type='submit']")
        .await;
    b.wait_for_text("The address is saved.").await;

    for (path, text) in [
        ("/account", "Your account"),
        ("/account/profile", "Your details"),
        ("/account/password", "Change your password"),
        ("/account/addresses", "Jalan Sudirman 1"),
        ("/account/orders", "No orders yet"),
        ("/account/reviews", "No reviews yet"),
        ("/wishlist", "Celadon Teapot"),
    ] {
        b.open(&app.url(path)).await;
        b.wait_for_text(text).await;
        b.assert_accessible().await;
        assert_fits_the_screen(&b, path).await;
    }
}

/// Signs in through the sign-in page, as a person would.
async fn sign_in(b: &Browser, app: &TestApp, email: &str, password: &str) {
    b.open(&app.url("/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("form[action='/login'] button[type='submit']").await;
    b.find("a[href='/cart']").await;
}

/// On a paid order's dashboard page: starts packing, then ships with a tracking number.
pub(crate) async fn pack_and_ship(b: &Browser) {
    b.click("form[action$='/status'] button[type='submit']")
        .await;
    b.wait_for_text("The order is being packed").await;
    b.fill("#tracking_number", "JNE-778899").await;
    b.click("form[action$='/status'] button[type='submit']")
        .await;
    b.wait_for_text("The order is marked shipped").await;
}

/// Nothing wider than the screen: no sideways scrolling on a phone.
pub(crate) async fn assert_fits_the_screen(b: &Browser, path: &str) {
    let overflow = b
        .script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .await;
    if overflow.as_i64().unwrap_or(0) > 0 {
        // Name the last elements that reach past the edge, so the failure says where.
        let culprits = b
            .script(
                "const w = document.documentElement.clientWidth; \
                 return [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > w + 1) \
                   .slice(-5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));",
                json!([]),
            )
            .await;
        panic!("{path} scrolls sideways by {overflow} px: {culprits}");
    }
}

/// The accessibility check itself finds what it should, so a clean page means clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_reports_a_picture_without_text_and_a_field_without_a_label() {
    if !browser::available() {
        return;
    }
    let b = Browser::start("axe-self-check", 1280).await;
    b.open("data:text/html,<html lang=en><title>t</title><main><img src=x.png><input type=text></main></html>")
        .await;

    let problems = b.accessibility_problems().await;

    assert!(
        problems.iter().any(|p| p.starts_with("image-alt")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("label")),
        "{problems:?}"
    );
}

testkit::backend_tests!(
    a_customer_buys_two_pays_by_card_and_watches_the_order_turn_paid,
    a_new_visitor_registers_verifies_signs_in_searches_and_opens_a_product,
    the_pages_are_accessible_and_usable_at_a_phones_width,
    a_customer_resets_a_forgotten_password_and_tends_their_account_on_a_phone,
    a_clerk_ships_a_paid_order_from_the_dashboard,
    an_admins_dashboard_pages_are_accessible,
    the_shop_is_run_from_the_dashboard,
    keep_me_signed_in_outlives_the_browser_and_a_plain_sign_in_does_not,
);
