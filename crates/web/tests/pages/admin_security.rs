//! A staff member's second factor in the dashboard over HTTP: set up from the security
//! page (QR code, key, recovery codes, a first code), asked for at sign-in beside its
//! field, and, where the shop requires it, the only page open until it is set up.

use testkit::pages::{Browser, Page};
use testkit::{Backend, TestApp, totp_code};

use crate::shop as open_shop;

/// The key the set-up page shows, without its spaces.
fn secret_on(page: &Page) -> String {
    let start = page
        .html
        .find("id=\"totp-secret\">")
        .expect("the key is shown")
        + "id=\"totp-secret\">".len();
    let end = start + page.html[start..].find('<').expect("the key ends");
    page.html[start..end].replace(' ', "")
}

/// Sets up an authenticator app from the security page; the secret.
async fn set_up(member: &Browser<'_>) -> String {
    member
        .get("/admin/security")
        .await
        .assert_status(200)
        .assert_contains("Set up an authenticator app");
    let setup = member.post_form("/admin/security/totp", &[]).await;
    setup
        .assert_status(200)
        .assert_contains("<svg")
        .assert_contains("id=\"recovery-codes\"");
    assert_eq!(
        setup
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let secret = secret_on(&setup);
    let hidden = |name: &str| setup.input_value(name).unwrap_or_default();
    let (uri, recovery) = (hidden("uri"), hidden("recovery"));

    // A mistyped code keeps the same set-up on the page.
    let wrong = if totp_code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let again = member
        .post_form(
            "/admin/security/totp/confirm",
            &[
                ("code", wrong),
                ("secret", &secret),
                ("uri", &uri),
                ("recovery", &recovery),
            ],
        )
        .await;
    again
        .assert_status(422)
        .assert_contains("code-error")
        .assert_contains(&recovery[..11]);
    assert_eq!(secret_on(&again), secret);

    let code = totp_code(&secret, 0);
    let on = member
        .post_form(
            "/admin/security/totp/confirm",
            &[
                ("code", &code),
                ("secret", &secret),
                ("uri", &uri),
                ("recovery", &recovery),
            ],
        )
        .await;
    assert_eq!(on.location(), Some("/admin/security?done=enabled"));
    member
        .get("/admin/security?done=enabled")
        .await
        .assert_contains("id=\"totp-on\"")
        .assert_contains("10 recovery codes left");
    secret
}

pub async fn staff_set_up_an_authenticator_and_sign_in_with_its_code(backend: Backend) {
    let app = open_shop(backend).await;
    let member = Browser::new(&app);
    let email = member.sign_in_staff("inventory").await;
    let secret = set_up(&member).await;
    member
        .post_form("/admin/logout", &[])
        .await
        .assert_status(303);

    // The password alone is turned away beside the code's field, then the code passes.
    let sign_in = |code: String| {
        let (member, email) = (&member, email.clone());
        async move {
            member
                .post_form(
                    "/admin/login",
                    &[
                        ("email", email.as_str()),
                        ("password", testkit::STAFF_PASSWORD),
                        ("code", code.as_str()),
                        ("next", "/admin/orders"),
                    ],
                )
                .await
        }
    };
    let bare = sign_in(String::new()).await;
    bare.assert_status(422)
        .assert_contains("code-error")
        .assert_contains("enter the code from your authenticator app");
    assert_eq!(bare.input_value("email").as_deref(), Some(email.as_str()));
    let next = totp_code(&secret, 1);
    let signed_in = sign_in(next.clone()).await;
    assert_eq!(signed_in.location(), Some("/admin/orders"));
    member.get("/admin/orders").await.assert_status(200);

    // The same code again, from another browser, is spent.
    let other = Browser::new(&app);
    let replay = other
        .post_form(
            "/admin/login",
            &[
                ("email", email.as_str()),
                ("password", testkit::STAFF_PASSWORD),
                ("code", next.as_str()),
                ("next", "/admin"),
            ],
        )
        .await;
    replay
        .assert_status(422)
        .assert_contains("is wrong, expired or already used");

    // Removing the app takes a code (the API suite removes it); a spent one is refused
    // beside the field, and the member stays signed in.
    let refused = member
        .post_form("/admin/security/totp/remove", &[("code", next.as_str())])
        .await;
    refused
        .assert_status(422)
        .assert_contains("code-error")
        .assert_contains("is wrong, expired or already used");
    member.get("/admin/orders").await.assert_status(200);
}

pub async fn a_shop_that_requires_a_second_factor_opens_only_its_set_up(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.http.secure_cookies = false;
        s.auth.staff_2fa = platform::config::StaffTwoFactor::Required;
    })
    .await;
    let member = Browser::new(&app);
    member.sign_in_staff("admin").await;
    for page in ["/admin", "/admin/orders", "/admin/staff"] {
        let held = member.get(page).await;
        assert_eq!(
            held.location(),
            Some("/admin/security?done=required"),
            "{page}"
        );
    }
    member
        .get("/admin/security?done=required")
        .await
        .assert_contains("This shop requires staff to sign in with a second factor");
    set_up(&member).await;
    // The set-up renewed the session: the dashboard opens at once, and the app cannot
    // be removed here.
    member.get("/admin/staff").await.assert_status(200);
    member
        .get("/admin/security")
        .await
        .assert_contains("cannot be removed")
        .assert_lacks("Remove the authenticator app");
}
