//! The shop-wide audit log in the dashboard over HTTP: every service's trail in one
//! list, newest first, narrowed by entity and dates (refused beside their fields), shown
//! escaped, and to admins only.

use serde_json::json;
use testkit::pages::Browser;
use testkit::{Backend, STAFF_PASSWORD};

use crate::shop as open_shop;

pub async fn the_audit_log_merges_every_services_trail_newest_first(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    // One action in each of three services, in this order.
    let zone = app
        .post(
            "/api/v1/admin/shipping/zones",
            Some(&token),
            json!({"name": "<b>Isles</b>", "country": "ID"}),
        )
        .await;
    zone.assert_status(201);
    let zone_id = zone.body["id"].as_str().expect("zone id").to_owned();
    let category = app
        .post(
            "/api/v1/categories",
            Some(&token),
            json!({"name": testkit::unique("Mugs")}),
        )
        .await;
    category.assert_status(201);
    let category_id = category.body["id"]
        .as_str()
        .expect("category id")
        .to_owned();
    let email = format!("{}@shop.test", testkit::unique("sam"));
    app.post(
        "/api/v1/staff",
        Some(&token),
        json!({"email": email, "name": "Sam Stock", "role": "inventory", "password": STAFF_PASSWORD}),
    )
    .await
    .assert_status(201);

    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    let log = admin.get("/admin/audit").await;
    log.assert_status(200)
        .assert_contains("aria-current=\"page\">Audit log")
        .assert_contains("&#60;b&#62;Isles&#60;/b&#62;")
        .assert_lacks("<b>Isles");
    let at = |action: &str| {
        log.html
            .find(&format!("<code>{action}</code>"))
            .unwrap_or_else(|| panic!("{action} is listed: {:.4000}", log.html))
    };
    assert!(at("staff.created") < at("category.created"));
    assert!(at("category.created") < at("zone.created"));
    // Each entry links to its entity and to the log narrowed to it.
    log.assert_contains(&format!("href=\"/admin/categories/{category_id}\""))
        .assert_contains(&format!("target={category_id}"));

    let zones = admin
        .get(&format!("/admin/audit?kind=zone&target={zone_id}"))
        .await;
    zones
        .assert_status(200)
        .assert_contains("<code>zone.created</code>")
        .assert_lacks("<code>category.created</code>")
        .assert_contains("Clear the filters");
    admin
        .get("/admin/audit?kind=zone&from=2999-01-01")
        .await
        .assert_status(200)
        .assert_contains("No action matches these filters.");

    let wrong = admin
        .get("/admin/audit?from=2026-12-05&to=2026-12-01")
        .await;
    wrong
        .assert_status(422)
        .assert_contains("id=\"to-error\"")
        .assert_contains("must be on or after the first day")
        .assert_contains("value=\"2026-12-05\"");
    admin
        .get(&format!("/admin/audit?kind={}", "k".repeat(41)))
        .await
        .assert_status(422)
        .assert_contains("id=\"kind-error\"");
}

pub async fn only_admins_read_the_audit_log(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get("/admin/audit")
        .await
        .assert_status(403)
        .assert_contains("Not allowed for your role");
    clerk
        .get("/admin")
        .await
        .assert_status(200)
        .assert_lacks("href=\"/admin/audit\"");
    let visitor = Browser::new(&app);
    let away = visitor.get("/admin/audit").await;
    assert_eq!(away.location(), Some("/admin/login?next=%2Fadmin%2Faudit"));
}
