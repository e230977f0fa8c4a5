//! Registering, verifying, signing in and out, resetting a password, and the CSRF guard.

use testkit::pages::Browser;
use testkit::{Backend, unique};

use crate::shop;

const PASSWORD: &str = "correct horse battery staple";

pub async fn a_visitor_registers_verifies_by_the_mailed_link_and_signs_in(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let email = format!("{}@example.test", unique("web"));
    browser
        .get("/register")
        .await
        .assert_status(200)
        .assert_contains("<label for=\"email\">Email</label>");

    let registered = browser
        .post_form(
            "/register",
            &[("name", "Ann"), ("email", &email), ("password", PASSWORD)],
        )
        .await;

    registered
        .assert_status(200)
        .assert_contains("We sent you an email");
    let mail = app.wait_for_mails(&email, 1).await.remove(0);
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/verify-email?token="))
        .expect("a link in the mail")
        .to_owned();
    let path = link.trim_start_matches("http://shop.test");
    // Opening the link shows a button; only pressing it spends the token, so a mail
    // scanner following the link verifies nothing.
    let opened = browser.get(path).await;
    opened.assert_status(200).assert_contains("Verify my email");
    let opened_again = browser.get(path).await;
    let token = opened_again
        .input_value("token")
        .expect("the token in the form");
    let verified = browser
        .post_form("/verify-email", &[("token", &token)])
        .await;
    verified.assert_status(303);
    assert_eq!(verified.location(), Some("/login?verified=1"));
    browser
        .get("/login?verified=1")
        .await
        .assert_contains("Your email address is verified");

    browser.sign_in(&email, PASSWORD).await;

    let account = browser.get("/account").await;
    account
        .assert_status(200)
        .assert_contains(&email)
        .assert_contains("Sign out");
    assert!(!account.html.contains("not verified yet"));
    let out = browser.post_form("/logout", &[]).await;
    out.assert_status(303);
    let after = browser.get("/account").await;
    after.assert_status(303);
    // The session ended at the API too: the old tokens are worthless.
    assert_eq!(after.location(), Some("/login?next=%2Faccount"));
}

pub async fn a_wrong_password_is_shown_on_the_form_and_keeps_the_email(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let email = format!("{}@example.test", unique("wrong"));
    app.verified_customer(&email, PASSWORD).await;

    let page = browser
        .post_form(
            "/login",
            &[("email", &email), ("password", "not my password at all")],
        )
        .await;

    page.assert_status(422)
        .assert_contains("The email or password is wrong.")
        .assert_contains(&format!("value=\"{email}\""));
    let bad = browser
        .post_form("/login", &[("email", "nope"), ("password", "x")])
        .await;
    bad.assert_status(422)
        .assert_contains("id=\"email-error\"")
        .assert_contains("aria-invalid=\"true\"");
}

pub async fn a_forgotten_password_is_reset_through_the_mailed_link(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let email = format!("{}@example.test", unique("forgot"));
    app.verified_customer(&email, PASSWORD).await;
    let before = app.mails_to(&email).await.len();

    let asked = browser
        .post_form("/forgot-password", &[("email", &email)])
        .await;

    asked
        .assert_status(200)
        .assert_contains("a reset link is on its way");
    let mails = app.wait_for_mails(&email, before + 1).await;
    let mail = mails
        .iter()
        .find(|m| m.text.contains("/reset-password?token="))
        .expect("a reset mail");
    let token = mail.link_token().expect("token");
    let form = browser.get(&format!("/reset-password?token={token}")).await;
    form.assert_status(200)
        .assert_contains("Choose a new password");
    let weak = browser
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", "short")],
        )
        .await;
    weak.assert_status(422)
        .assert_contains("id=\"password-error\"");
    let new_password = "purple elephant juggling seventeen";
    let done = browser
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    done.assert_status(303);
    assert_eq!(done.location(), Some("/login?reset=1"));
    let spent = browser
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    spent
        .assert_status(400)
        .assert_contains("This reset link is used, expired or mistyped");
    browser.sign_in(&email, new_password).await;
}

pub async fn the_account_page_sends_a_visitor_to_sign_in_and_back(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let email = format!("{}@example.test", unique("back"));
    app.verified_customer(&email, PASSWORD).await;

    let away = browser.get("/account").await;

    away.assert_status(303);
    assert_eq!(away.location(), Some("/login?next=%2Faccount"));
    let form = browser.get("/login?next=%2Faccount").await;
    assert_eq!(form.input_value("next").as_deref(), Some("/account"));
    let signed_in = browser
        .post_form(
            "/login",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    signed_in.assert_status(303);
    assert_eq!(signed_in.location(), Some("/account"));
    // A next page elsewhere is not followed.
    let elsewhere = browser
        .post_form(
            "/login",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(elsewhere.location(), Some("/"));
}

pub async fn a_cross_site_form_post_is_refused(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let email = format!("{}@example.test", unique("csrf"));
    app.verified_customer(&email, PASSWORD).await;
    browser.sign_in(&email, PASSWORD).await;

    let forged = browser.post_form_from("/logout", &[], "cross-site").await;

    forged.assert_status(403);
    assert!(
        forged.html.contains("cross_site_request"),
        "{}",
        forged.html
    );
    browser
        .get("/account")
        .await
        .assert_status(200)
        .assert_contains(&email);
}
