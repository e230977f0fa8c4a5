//! `/api/v1/staff/me/totp` and the staff sign-in's second factor: enrolment confirmed
//! by a first code, codes taken once (a replayed or an earlier code is refused), recovery
//! codes good once, and `auth.staff_2fa = "required"` holding a member without one to
//! enrolment until they have one.

use serde_json::{Value, json};
use testkit::{Backend, TestApp, totp_code};

use crate::helpers::{STAFF_PASSWORD, staff_refresh, text};

const TOTP: &str = "/api/v1/staff/me/totp";
const LOGIN: &str = "/api/v1/staff/auth/login";

async fn login(app: &TestApp, email: &str, extra: Value) -> testkit::TestResponse {
    let mut body = json!({"email": email, "password": STAFF_PASSWORD});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.post(LOGIN, None, body).await
}

/// A code of none of the steps a server could take now.
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-1..=1).map(|d| totp_code(secret, d)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7_919) % 1_000_000))
        .find(|c| !near.contains(c))
        .expect("a code")
}

/// Enrols `token`'s member: the secret and recovery codes, once confirmed.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let started = app.post(TOTP, Some(token), json!({})).await;
    started.assert_status(201);
    let secret = text(&started.body, "secret").to_owned();
    assert!(
        text(&started.body, "otpauth_uri").starts_with("otpauth://totp/"),
        "{:?}",
        started.body
    );
    let codes: Vec<String> = started.body["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    // Until confirmed, sign-in asks for nothing more.
    let wrong = app
        .post(
            &format!("{TOTP}/confirm"),
            Some(token),
            json!({"code": wrong_code(&secret)}),
        )
        .await;
    wrong.assert_problem(403);
    assert_eq!(wrong.body["code"], "totp_invalid");
    let malformed = app
        .post(&format!("{TOTP}/confirm"), Some(token), json!({"code": ""}))
        .await;
    malformed.assert_problem(422);
    assert_eq!(malformed.body["errors"][0]["field"], "code");
    app.post(
        &format!("{TOTP}/confirm"),
        Some(token),
        json!({"code": totp_code(&secret, 0)}),
    )
    .await
    .assert_status(204);
    (secret, codes)
}

pub async fn a_staff_member_enrols_totp_and_each_code_signs_in_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = format!("{}@shop.test", testkit::unique("otp"));
    let pair = app.staff_with_role(&email, "inventory").await;
    let token = text(&pair, "access_token").to_owned();
    let status = app.get(TOTP, Some(&token)).await;
    status.assert_status(200);
    assert_eq!(status.body["enabled"], false);
    let (secret, recovery) = enrol(&app, &token).await;
    let status = app.get(TOTP, Some(&token)).await;
    assert_eq!(status.body["enabled"], true);
    assert_eq!(status.body["recovery_codes_left"], 10);
    // A second enrolment would let a stolen session swap in its own app.
    app.post(TOTP, Some(&token), json!({}))
        .await
        .assert_problem(409);

    // The password alone no longer signs in, nor a wrong code.
    let bare = login(&app, &email, json!({})).await;
    bare.assert_problem(401);
    assert_eq!(bare.body["code"], "totp_required");
    let wrong = login(&app, &email, json!({"totp_code": wrong_code(&secret)})).await;
    wrong.assert_problem(401);
    assert_eq!(wrong.body["code"], "totp_invalid");

    // The next code signs in once; replayed, or the earlier one, it is refused.
    let next = totp_code(&secret, 1);
    login(&app, &email, json!({"totp_code": next}))
        .await
        .assert_status(200);
    let replayed = login(&app, &email, json!({"totp_code": next})).await;
    replayed.assert_problem(401);
    assert_eq!(replayed.body["code"], "totp_invalid");
    login(&app, &email, json!({"totp_code": totp_code(&secret, 0)}))
        .await
        .assert_problem(401);

    // A recovery code, typed any way, works once.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    login(&app, &email, json!({"recovery_code": typed}))
        .await
        .assert_status(200);
    let again = login(&app, &email, json!({"recovery_code": recovery[3]})).await;
    again.assert_problem(401);
    assert_eq!(again.body["code"], "totp_invalid");
    assert_eq!(
        app.get(TOTP, Some(&token)).await.body["recovery_codes_left"],
        9
    );

    // Removing it takes a code; then the password signs in alone again.
    let refused = app
        .send(
            reqwest::Method::DELETE,
            TOTP,
            Some(&token),
            Some(json!({"totp_code": wrong_code(&secret)})),
        )
        .await;
    refused.assert_problem(403);
    assert_eq!(refused.body["code"], "totp_invalid");
    let long = app
        .send(
            reqwest::Method::DELETE,
            TOTP,
            Some(&token),
            Some(json!({"recovery_code": "x".repeat(65)})),
        )
        .await;
    long.assert_problem(422);
    assert_eq!(long.body["errors"][0]["field"], "recovery_code");
    // A wrong code refuses the act and leaves the session as it was.
    app.get(TOTP, Some(&token)).await.assert_status(200);
    app.send(
        reqwest::Method::DELETE,
        TOTP,
        Some(&token),
        Some(json!({"recovery_code": recovery[0]})),
    )
    .await
    .assert_status(204);
    login(&app, &email, json!({})).await.assert_status(200);

    // Set up again and lost with the phone and the codes: an admin removes it, which
    // ends the member's sessions, and the password alone signs in again.
    enrol(&app, &token).await;
    login(&app, &email, json!({})).await.assert_problem(401);
    let admin = app.staff_token("admin").await;
    let staff = app.get("/api/v1/staff?limit=100", Some(&admin)).await;
    let member = staff.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["email"] == email.as_str())
        .expect("the member is listed")
        .clone();
    let path = format!("/api/v1/staff/{}", text(&member, "id"));
    app.patch(&path, Some(&admin), json!({"remove_second_factor": true}))
        .await
        .assert_status(200);
    staff_refresh(&app, &pair).await.assert_problem(401);
    login(&app, &email, json!({})).await.assert_status(200);

    // Each change is in the audit log (this shop has no other member's).
    let log = app
        .get("/api/v1/staff/audit-log?limit=100", Some(&admin))
        .await;
    log.assert_status(200);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"staff.2fa_enabled"), "{actions:?}");
    assert!(actions.contains(&"staff.2fa_removed"), "{actions:?}");
}

pub async fn a_required_second_factor_holds_a_member_to_enrolment(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.auth.staff_2fa = platform::config::StaffTwoFactor::Required;
    })
    .await;
    let email = format!("{}@shop.test", testkit::unique("must"));
    let first = app.staff_with_role(&email, "admin").await;
    let token = text(&first, "access_token").to_owned();

    // Signed in, but every other endpoint says what to do first.
    let held = app.get("/api/v1/staff", Some(&token)).await;
    held.assert_problem(403);
    assert_eq!(held.body["code"], "two_factor_required");
    app.get("/api/v1/products", Some(&token))
        .await
        .assert_status(200);
    let (secret, _) = enrol(&app, &token).await;

    // The next refresh lets the session through; removal is refused here.
    let refreshed = staff_refresh(&app, &first).await;
    refreshed.assert_status(200);
    let token = text(&refreshed.body, "access_token").to_owned();
    app.get("/api/v1/staff", Some(&token))
        .await
        .assert_status(200);
    let kept = app
        .send(
            reqwest::Method::DELETE,
            TOTP,
            Some(&token),
            Some(json!({"totp_code": totp_code(&secret, 1)})),
        )
        .await;
    kept.assert_problem(409);
    assert_eq!(kept.body["code"], "totp_required");
    login(&app, &email, json!({})).await.assert_problem(401);
}

testkit::backend_tests!(
    a_staff_member_enrols_totp_and_each_code_signs_in_once,
    a_required_second_factor_holds_a_member_to_enrolment,
);
