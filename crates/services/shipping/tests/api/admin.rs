//! `/admin/shipping/zones` and `/admin/shipping/rates`: admins only, every field
//! checked, edits against the version read.

use reqwest::Method;
use serde_json::json;
use testkit::{Backend, TestApp};

use crate::{RATES, ZONES, rate, rate_body, zone};

pub async fn zones_are_created_edited_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;

    let created = app
        .post(
            ZONES,
            Some(&admin),
            json!({"name": "Remote", "country": "us", "postal_prefixes": ["995", " 99-6 ", "995"]}),
        )
        .await;

    created.assert_status(201);
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["country"], "US");
    assert_eq!(
        created.body["postal_prefixes"],
        json!(["995", "996"]),
        "normalised, once each"
    );
    let id = crate::id(&created.body);
    let path = format!("{ZONES}/{id}");
    let edited = app
        .patch(&path, Some(&admin), json!({"name": "Alaska", "version": 1}))
        .await;
    edited.assert_status(200);
    assert_eq!(edited.body["name"], "Alaska");
    assert_eq!(
        edited.body["postal_prefixes"],
        json!(["995", "996"]),
        "kept"
    );
    app.patch(&path, Some(&admin), json!({"name": "Stale", "version": 1}))
        .await
        .assert_problem(412);
    app.patch(&path, Some(&admin), json!({"name": "Blind"}))
        .await
        .assert_problem(428);
    let listed = app.get(ZONES, Some(&admin)).await;
    assert_eq!(listed.body["items"][0]["name"], "Alaska");

    let r = rate(&app, &admin, rate_body(&id, "standard")).await;
    let refused = app.delete(&path, Some(&admin)).await;
    refused.assert_problem(409);
    assert_eq!(refused.body["code"], "zone_has_rates");
    app.delete(&format!("{RATES}/{r}"), Some(&admin))
        .await
        .assert_status(204);
    app.delete(&path, Some(&admin)).await.assert_status(204);
    app.delete(&path, Some(&admin)).await.assert_problem(404);

    // Each change is in shipping's trail, the zone's alone when asked for.
    let trail = app
        .get(
            &format!("/api/v1/admin/shipping/audit-log?target_kind=zone&target_id={id}"),
            Some(&admin),
        )
        .await;
    trail.assert_status(200);
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["zone.deleted", "zone.updated", "zone.created"]);
}

pub async fn zone_fields_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    for (body, fields) in [
        (json!({}), vec!["name", "country"]),
        (json!({"name": "X", "country": "XX"}), vec!["country"]),
        (json!({"name": " ", "country": "US"}), vec!["name"]),
        (
            json!({"name": "X", "country": "US", "postal_prefixes": ["ok", "--"]}),
            vec!["postal_prefixes[1]"],
        ),
        (
            json!({"name": "X", "country": "US", "version": 3}),
            vec!["version"],
        ),
    ] {
        let res = app.post(ZONES, Some(&admin), body.clone()).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), fields, "{body}");
    }
    app.post(
        ZONES,
        Some(&admin),
        json!({"name": "X", "country": "US", "colour": "red"}),
    )
    .await
    .assert_problem(422);
}

pub async fn rates_are_created_edited_and_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    let z = zone(&app, &admin, json!({"name": "US", "country": "US"})).await;
    let r = rate(&app, &admin, rate_body(&z, "Standard")).await;
    let path = format!("{RATES}/{r}");

    let edited = app
        .send_with(
            Method::PATCH,
            &path,
            Some(&admin),
            &[("if-match", "\"1\"")],
            Some(json!({"free_over": 5000, "max_days": 6})),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(edited.body["service_code"], "standard", "lower-cased");
    assert_eq!(edited.body["free_over"], 5000);
    assert_eq!(edited.body["max_days"], 6);
    let cleared = app
        .patch(
            &path,
            Some(&admin),
            json!({"free_over": null, "version": 2}),
        )
        .await;
    cleared.assert_status(200);
    assert_eq!(cleared.body["free_over"], json!(null));
    app.patch(&path, Some(&admin), json!({"name": "Late", "version": 2}))
        .await
        .assert_problem(412);
    app.patch(&path, Some(&admin), json!({"zone_id": z, "version": 3}))
        .await
        .assert_problem(422);

    let duplicate = app
        .post(RATES, Some(&admin), rate_body(&z, "standard"))
        .await;
    duplicate.assert_problem(422);
    assert_eq!(duplicate.error_fields(), ["service_code"]);
    let mut bad = rate_body(&z, "x");
    bad["brackets"] = json!([{"up_to_grams": 5000, "price": 1}, {"up_to_grams": 1000, "price": 2}]);
    bad["currency"] = json!("dollars");
    bad["min_days"] = json!(5);
    bad["max_days"] = json!(2);
    let res = app.post(RATES, Some(&admin), bad).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["currency", "brackets", "max_days"]);
    let mut orphan = rate_body(&uuid::Uuid::now_v7().to_string(), "y");
    orphan["name"] = json!("Orphan");
    let res = app.post(RATES, Some(&admin), orphan).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["zone_id"]);
    let only_zone = app.get(&format!("{RATES}?zone_id={z}"), Some(&admin)).await;
    assert_eq!(only_zone.body["items"].as_array().map(Vec::len), Some(1));
}

pub async fn only_admins_manage_shipping(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.staff_token("admin").await;
    let inventory = app.staff_token("inventory").await;
    let shopper = app.customer_token().await;
    let z = zone(&app, &admin, json!({"name": "US", "country": "US"})).await;
    let r = rate(&app, &admin, rate_body(&z, "standard")).await;
    let zone_path = format!("{ZONES}/{z}");
    let rate_path = format!("{RATES}/{r}");
    for who in [
        None,
        Some("not-a-token"),
        Some(inventory.as_str()),
        Some(shopper.as_str()),
    ] {
        let status = if who.is_some_and(|t| t != "not-a-token") {
            403
        } else {
            401
        };
        app.get(ZONES, who).await.assert_problem(status);
        app.get(RATES, who).await.assert_problem(status);
        app.post(ZONES, who, json!({"name": "X", "country": "US"}))
            .await
            .assert_problem(status);
        app.post(RATES, who, rate_body(&z, "other"))
            .await
            .assert_problem(status);
        app.patch(&zone_path, who, json!({"name": "X", "version": 1}))
            .await
            .assert_problem(status);
        app.patch(&rate_path, who, json!({"name": "X", "version": 1}))
            .await
            .assert_problem(status);
        app.delete(&rate_path, who).await.assert_problem(status);
        app.delete(&zone_path, who).await.assert_problem(status);
    }
    assert_eq!(
        app.get(RATES, Some(&admin)).await.body["items"][0]["version"],
        1,
        "nothing changed"
    );
}

testkit::backend_tests!(
    zones_are_created_edited_and_deleted,
    zone_fields_are_validated,
    rates_are_created_edited_and_validated,
    only_admins_manage_shipping,
);
