//! `/api/v1/admin/events/dead-letters`: an admin sees the events a consumer gave up on,
//! and replays or discards them, each recorded in the audit trail.

use serde_json::{Value, json};
use testkit::{Backend, TestApp};
use uuid::Uuid;

const LETTERS: &str = "/api/v1/admin/events/dead-letters";

/// A shop whose consumers give up after two quick attempts.
async fn shop(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.bus.max_deliveries = 2;
        s.bus.retry_base_ms = 20;
        s.bus.retry_max_ms = 50;
    })
    .await
}

/// Notifications' dead letter for `event`, once it is there.
async fn letter_of(app: &TestApp, admin: &str, event: Uuid) -> Value {
    for _ in 0..150 {
        let res = app.get(&format!("{LETTERS}?limit=100"), Some(admin)).await;
        res.assert_status(200);
        let found = res.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|l| {
                l["event_id"] == event.to_string() && l["consumer"] == "notifications-identity"
            })
            .cloned();
        if let Some(letter) = found {
            return letter;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no dead letter for {event}");
}

async fn audited(app: &TestApp, admin: &str) -> Vec<(String, String)> {
    let log = app
        .get("/api/v1/staff/audit-log?limit=100", Some(admin))
        .await;
    log.assert_status(200);
    log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("action"), text("target_id"))
        })
        .collect()
}

pub async fn an_admin_discards_and_replays_dead_letters_on_the_record(backend: Backend) {
    let app = shop(backend).await;
    let admin = app.staff_token("admin").await;
    let (dropped, replayed) = (
        app.publish_unreadable_event().await,
        app.publish_unreadable_event().await,
    );
    let gone = letter_of(&app, &admin, dropped).await;
    let again = letter_of(&app, &admin, replayed).await;
    assert_eq!(
        gone["event_type"],
        "identity.customer.verification_requested.v1"
    );
    assert_eq!(gone["attempts"], 2, "{gone}");
    assert!(
        gone["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{gone}"
    );
    let listed = app.get(LETTERS, Some(&admin)).await;
    assert!(
        listed.body["total"].as_u64().expect("total") >= 2,
        "{}",
        listed.body
    );

    let (gone_id, again_id) = (text(&gone["id"]), text(&again["id"]));
    app.post(
        &format!("{LETTERS}/{gone_id}/discard"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_status(204);
    app.post(
        &format!("{LETTERS}/{gone_id}/discard"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_problem(404);
    app.post(
        &format!("{LETTERS}/{again_id}/replay"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_status(204);
    let ids: Vec<String> = app
        .get(&format!("{LETTERS}?limit=100"), Some(&admin))
        .await
        .body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| text(&l["id"]))
        .collect();
    assert!(
        !ids.contains(&gone_id),
        "a discarded letter is gone: {ids:?}"
    );

    let log = audited(&app, &admin).await;
    assert!(
        log.contains(&("dead_letter.discarded".into(), gone_id.clone())),
        "{log:?}"
    );
    assert!(
        log.contains(&("dead_letter.replayed".into(), again_id.clone())),
        "{log:?}"
    );
    // Still unreadable, the replayed event fails its fresh attempts and is dead again.
    let back = letter_of(&app, &admin, replayed).await;
    assert_eq!(back["attempts"], 2, "{back}");
}

pub async fn dead_letters_are_for_admins_only_and_bad_requests_are_explained(backend: Backend) {
    let app = shop(backend).await;
    app.get(LETTERS, None).await.assert_problem(401);
    for role in ["inventory", "finance"] {
        let token = app.staff_token(role).await;
        app.get(LETTERS, Some(&token)).await.assert_problem(403);
        app.post(
            &format!("{LETTERS}/1-notifications-identity/replay"),
            Some(&token),
            json!({}),
        )
        .await
        .assert_problem(403);
    }
    let customer = app.customer_token().await;
    app.get(LETTERS, Some(&customer)).await.assert_problem(403);

    let admin = app.staff_token("admin").await;
    for limit in ["0", "101", "many"] {
        let res = app
            .get(&format!("{LETTERS}?limit={limit}"), Some(&admin))
            .await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec!["limit"], "{}", res.body);
    }
    for id in ["999999-notifications-identity", "999999", "nothing"] {
        app.post(&format!("{LETTERS}/{id}/replay"), Some(&admin), json!({}))
            .await
            .assert_problem(404);
        app.post(&format!("{LETTERS}/{id}/discard"), Some(&admin), json!({}))
            .await
            .assert_problem(404);
    }
}

fn text(v: &Value) -> String {
    v.as_str().expect("a string").to_owned()
}

testkit::backend_tests!(
    an_admin_discards_and_replays_dead_letters_on_the_record,
    dead_letters_are_for_admins_only_and_bad_requests_are_explained,
);
