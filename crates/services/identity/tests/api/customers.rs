//! `/api/v1/admin/customers`: staff of any role find customers by part of their email
//! or name, page through them newest first and read one profile with its addresses;
//! customers and anonymous callers are refused, and every look lands in the audit trail.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};

use crate::helpers::{PASSWORD, customer, text, unique_email};

const CUSTOMERS: &str = "/api/v1/admin/customers";

fn one(id: &str) -> String {
    format!("{CUSTOMERS}/{id}")
}

/// The access token of a new staff member with `role`.
async fn staff(app: &TestApp, role: &str) -> String {
    let pair = app
        .staff_with_role(&format!("{}@shop.test", testkit::unique(role)), role)
        .await;
    text(&pair, "access_token").to_owned()
}

/// Registers a customer named `name`; returns their id.
async fn register(app: &TestApp, email: &str, name: &str) -> String {
    let res = app.register(email, PASSWORD, name).await;
    res.assert_status(201);
    text(&res.body, "id").to_owned()
}

/// The ids of a search answer's items, in order.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("{CUSTOMERS}?{query}"), Some(token)).await;
    res.assert_status(200);
    res.body.clone()
}

pub async fn staff_find_customers_by_part_of_their_email_or_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = staff(&app, "finance").await;
    let ann_email = unique_email("annie");
    let ann = register(&app, &ann_email, "Ann Lee").await;
    let bob = register(&app, &unique_email("bob"), "Bob Marley").await;
    let zed = register(&app, &unique_email("zed"), "Zed Hannover").await;

    // By name and email alike, in any case, newest first.
    let found = search(&app, &token, "q=ANN").await;
    assert_eq!(ids(&found), vec![zed.clone(), ann.clone()]);
    assert!(found["next_cursor"].is_null());
    // By a part of the email only this customer has.
    let local = ann_email.split('@').next().expect("local part");
    let by_email = search(&app, &token, &format!("q={}", &local[3..])).await;
    assert_eq!(ids(&by_email), vec![ann.clone()]);
    let item = &by_email["items"][0];
    assert_eq!(item["email"], ann_email.as_str());
    assert_eq!(item["name"], "Ann Lee");
    assert_eq!(item["email_verified"], false);
    assert!(item["created_at"].is_string());
    assert!(item.get("password_hash").is_none());
    // By a name with surrounding spaces, trimmed.
    assert_eq!(
        ids(&search(&app, &token, "q=%20marley%20").await),
        vec![bob.clone()]
    );
    // Without words, everyone; LIKE's wildcards are plain characters.
    assert_eq!(ids(&search(&app, &token, "q=").await), vec![zed, bob, ann]);
    for wildcard in ["%25", "_", "!"] {
        let none = search(&app, &token, &format!("q={wildcard}")).await;
        assert_eq!(ids(&none), Vec::<String>::new(), "q={wildcard}");
    }
}

pub async fn the_customer_search_is_paged_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = staff(&app, "inventory").await;
    let mut registered = Vec::new();
    for i in 0..3 {
        registered.push(register(&app, &unique_email(&format!("page{i}")), "Paged Person").await);
    }
    registered.reverse();

    let first = search(&app, &token, "q=paged&limit=2").await;
    assert_eq!(ids(&first), registered[..2].to_vec());
    let cursor = text(&first, "next_cursor").to_owned();
    let second = search(&app, &token, &format!("q=paged&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), registered[2..].to_vec());
    assert!(second["next_cursor"].is_null());
}

pub async fn bad_search_parameters_are_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = staff(&app, "admin").await;

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=garbage!", "cursor"),
        ("q=%00", "q"),
    ] {
        let res = app.get(&format!("{CUSTOMERS}?{query}"), Some(&token)).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec![field], "{query}");
    }
    let long = "a".repeat(255);
    let res = app
        .get(&format!("{CUSTOMERS}?q={long}&limit=0"), Some(&token))
        .await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["limit", "q"], "every field at once");
    app.get(&format!("{CUSTOMERS}?limit=-1"), Some(&token))
        .await
        .assert_problem(422);
}

pub async fn a_customers_profile_shows_their_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, pair) = customer(&app, "profile").await;
    let customer_token = text(&pair, "access_token").to_owned();
    let address = json!({"label": "Home", "recipient_name": "Ann Lee", "phone": "+62 812-3456-7890",
                         "line1": "Jl. Sudirman 1", "city": "Jakarta", "postal_code": "10220", "country": "ID"});
    let added = app
        .post("/api/v1/me/addresses", Some(&customer_token), address)
        .await;
    added.assert_status(201);
    let me = app.get("/api/v1/me", Some(&customer_token)).await;
    let id = text(&me.body, "id").to_owned();
    let token = staff(&app, "inventory").await;

    let res = app.get(&one(&id), Some(&token)).await;

    res.assert_status(200);
    let p = &res.body;
    assert_eq!(p["id"], id.as_str());
    assert_eq!(p["email"], email.as_str());
    assert_eq!(p["name"], "Test Customer");
    assert_eq!(p["email_verified"], true);
    assert_eq!(p["created_at"], me.body["created_at"]);
    assert!(p.get("password_hash").is_none());
    assert_eq!(
        res.headers["etag"],
        format!("\"{}\"", p["version"]).as_str()
    );
    let addresses = p["addresses"].as_array().expect("addresses");
    assert_eq!(addresses.len(), 1);
    assert_eq!(addresses[0]["id"], added.body["id"]);
    assert_eq!(addresses[0]["line1"], "Jl. Sudirman 1");
    assert_eq!(addresses[0]["country"], "ID");
}

pub async fn an_unknown_customer_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = staff(&app, "finance").await;

    app.get(&one("0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b"), Some(&token))
        .await
        .assert_problem(404);
    app.get(&one("not-a-uuid"), Some(&token))
        .await
        .assert_problem(400);
}

pub async fn customers_and_anonymous_callers_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "nosy").await;
    let customer_token = text(&pair, "access_token").to_owned();
    let id = text(
        &app.get("/api/v1/me", Some(&customer_token)).await.body,
        "id",
    )
    .to_owned();

    for path in [CUSTOMERS.to_owned(), one(&id)] {
        app.get(&path, None).await.assert_problem(401);
        app.get(&path, Some(&customer_token))
            .await
            .assert_problem(403);
    }
}

pub async fn every_look_at_customers_is_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = register(&app, &unique_email("watched"), "Watched Walter").await;
    let finance_email = format!("{}@shop.test", testkit::unique("finance"));
    let pair = app.staff_with_role(&finance_email, "finance").await;
    let finance = text(&pair, "access_token").to_owned();
    let admin = text(
        &app.staff_with_role("admin@shop.test", "admin").await,
        "access_token",
    )
    .to_owned();

    search(&app, &finance, "q=walter").await;
    app.get(&one(&id), Some(&finance)).await.assert_status(200);
    app.get(&one("0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b"), Some(&finance))
        .await
        .assert_problem(404);
    app.get(&format!("{CUSTOMERS}?limit=0"), Some(&finance))
        .await
        .assert_problem(422);

    let trail = app.get("/api/v1/staff/audit-log", Some(&admin)).await;
    trail.assert_status(200);
    let entries: Vec<&Value> = trail.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["target_kind"] == "customer")
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        vec!["customer.viewed", "customer.searched"],
        "one entry per read that showed something, newest first"
    );
    let staff_list = app.get("/api/v1/staff", Some(&admin)).await;
    let finance_id = staff_list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["email"] == finance_email.as_str())
        .map(|m| m["id"].clone())
        .expect("the finance member");
    for entry in &entries {
        assert_eq!(entry["actor_id"], finance_id);
        assert!(entry["client_ip"].is_string() && entry["at"].is_string());
    }
    assert_eq!(entries[0]["target_id"], id.as_str());
    assert_eq!(entries[1]["details"]["q"], "walter");
    assert_eq!(entries[1]["details"]["customer_ids"], json!([id]));
}

testkit::backend_tests!(
    staff_find_customers_by_part_of_their_email_or_name,
    the_customer_search_is_paged_newest_first,
    bad_search_parameters_are_refused_by_field,
    a_customers_profile_shows_their_addresses,
    an_unknown_customer_is_not_found,
    customers_and_anonymous_callers_are_refused,
    every_look_at_customers_is_audited,
);
