//! A customer's session across a browser restart: "Keep me signed in" outlives the
//! browser, a plain sign-in ends with it.

use testkit::browser::{self, Browser};
use testkit::{Backend, TestApp, unique};

use crate::PASSWORD;

pub async fn keep_me_signed_in_outlives_the_browser_and_a_plain_sign_in_does_not(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let email = format!("{}@example.test", unique("remember"));
    app.verified_customer(&email, PASSWORD).await;
    let mut b = Browser::start("remember", 1280).await;

    sign_in(&b, &app, &email, true).await;
    b.restart().await;
    b.open(&app.url("/account")).await;
    b.find("form[action='/logout']").await;
    assert!(
        b.url().await.ends_with("/account"),
        "still signed in after the browser closed"
    );

    b.click("form[action='/logout'] button[type='submit']")
        .await;
    b.find("a[href='/login']").await;
    sign_in(&b, &app, &email, false).await;
    b.open(&app.url("/account")).await;
    b.find("form[action='/logout']").await;
    b.restart().await;
    b.open(&app.url("/account")).await;
    b.find("form[action='/login']").await;
    assert!(
        b.url().await.contains("/login?next=%2Faccount"),
        "a plain sign-in ends with the browser: {}",
        b.url().await
    );
}

async fn sign_in(b: &Browser, app: &TestApp, email: &str, remember: bool) {
    b.open(&app.url("/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    if remember {
        b.click("#remember_me").await;
    }
    b.click("form[action='/login'] button[type='submit']").await;
    b.find("a[href='/account']").await;
}
