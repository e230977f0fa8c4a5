//! Events given up on, in the staff dashboard over HTTP: an admin sees the count on the
//! home page and the list, and replays or discards an event; other roles see neither.

use testkit::pages::Browser;
use testkit::{Backend, TestApp};

/// A shop whose consumers give up after two quick attempts.
async fn shop(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.http.secure_cookies = false;
        s.bus.max_deliveries = 2;
        s.bus.retry_base_ms = 20;
        s.bus.retry_max_ms = 50;
    })
    .await
}

/// The ids of the dead letters of `notifications-identity`, once there are `n`.
async fn letters(app: &TestApp, n: usize) -> Vec<String> {
    let admin = app.staff_token("admin").await;
    for _ in 0..150 {
        let res = app
            .get("/api/v1/admin/events/dead-letters?limit=100", Some(&admin))
            .await;
        let ids: Vec<String> = res.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|l| l["consumer"] == "notifications-identity")
            .filter_map(|l| l["id"].as_str().map(str::to_owned))
            .collect();
        if ids.len() >= n {
            return ids;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{n} dead letters never appeared");
}

pub async fn an_admin_replays_and_discards_events_given_up_on(backend: Backend) {
    let app = shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin
        .get("/admin/events")
        .await
        .assert_status(200)
        .assert_contains("No event is waiting");

    app.publish_unreadable_event().await;
    app.publish_unreadable_event().await;
    let ids = letters(&app, 2).await;
    let home = admin.get("/admin").await;
    home.assert_status(200)
        .assert_contains("href=\"/admin/events\"")
        .assert_contains("given up on");
    let events = admin.get("/admin/events").await;
    events
        .assert_status(200)
        .assert_contains("identity.customer.verification_requested.v1")
        .assert_contains("notifications-identity");
    for id in &ids {
        events.assert_contains(&format!("action=\"/admin/events/{id}/discard\""));
    }

    let discarded = admin
        .post_form(&format!("/admin/events/{}/discard", ids[0]), &[])
        .await;
    discarded.assert_status(303);
    assert_eq!(discarded.location(), Some("/admin/events?done=discarded"));
    admin
        .get("/admin/events?done=discarded")
        .await
        .assert_contains("The event is discarded.")
        .assert_lacks(&format!("/admin/events/{}/discard", ids[0]));
    let replayed = admin
        .post_form(&format!("/admin/events/{}/replay", ids[1]), &[])
        .await;
    assert_eq!(replayed.location(), Some("/admin/events?done=replayed"));
    // Acted on already, or a made-up id: the list says so, nothing breaks.
    for gone in [ids[0].as_str(), "nothing..here", "999999-nobody"] {
        let again = admin
            .post_form(&format!("/admin/events/{gone}/discard"), &[])
            .await;
        assert_eq!(again.location(), Some("/admin/events?done=gone"), "{gone}");
    }
}

pub async fn only_admins_see_events_given_up_on(backend: Backend) {
    let app = shop(backend).await;
    app.publish_unreadable_event().await;
    letters(&app, 1).await;
    for role in ["inventory", "finance"] {
        let member = Browser::new(&app);
        member.sign_in_staff(role).await;
        member
            .get("/admin")
            .await
            .assert_status(200)
            .assert_lacks("href=\"/admin/events\"");
        member
            .get("/admin/events")
            .await
            .assert_status(403)
            .assert_contains("Not allowed for your role");
    }
}
