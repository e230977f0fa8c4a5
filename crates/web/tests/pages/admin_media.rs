//! Pictures and banners in the staff dashboard over HTTP: several pictures uploaded in
//! one form (what the API refuses named by file), put in order, one made primary,
//! deleted; banners uploaded, edited with the version read, deleted. Only the roles
//! allowed see the pages.

use std::time::Duration;

use serde_json::Value;
use testkit::images::png;
use testkit::pages::{Browser, Page};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

/// The product's images as the media API lists them, in order.
async fn gallery(app: &TestApp, token: &str, product: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/products/{product}/images"), Some(token))
        .await;
    res.assert_status(200);
    res.body.as_array().expect("a list").clone()
}

fn ids(images: &[Value]) -> Vec<String> {
    images
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The page once no picture on it is still being rendered.
async fn rendered(clerk: &Browser<'_>, path: &str) -> Page {
    for _ in 0..200 {
        let page = clerk.get(path).await;
        page.assert_status(200);
        if !page.html.contains("Being rendered") {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the pictures at {path} were never rendered");
}

pub async fn staff_upload_order_and_delete_a_products_pictures(backend: Backend) {
    let app = open_shop(backend).await;
    let inventory = app.staff_token("inventory").await;
    let product = testkit::shop::product(&app, &inventory, 1250, 5).await;
    let path = format!("/admin/products/{product}/images");
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get(&format!("/admin/products/{product}"))
        .await
        .assert_contains(&format!("href=\"{path}\""));
    clerk
        .get(&path)
        .await
        .assert_status(200)
        .assert_contains("No pictures yet");

    // Nothing chosen is said on the page; nothing reaches the API.
    clerk
        .post_files(&path, &[("alt", "")], &[])
        .await
        .assert_status(422)
        .assert_contains("Choose one or more pictures");

    // Three files in one form: the two pictures are kept, the text file is named with
    // the API's reason, and the description goes with each picture.
    let sent = clerk
        .post_files(
            &path,
            &[("alt", "Celadon mug, <b>side</b>")],
            &[
                ("file", "front.png", png(40, 30)),
                ("file", "notes.txt", b"not a picture at all".to_vec()),
                ("file", "side.png", png(30, 40)),
            ],
        )
        .await;
    sent.assert_status(422)
        .assert_contains("Not uploaded")
        .assert_contains("notes.txt:")
        .assert_lacks("front.png:");
    let images = gallery(&app, &inventory, &product).await;
    assert_eq!(images.len(), 2, "{images:?}");
    assert_eq!(images[0]["width"], 40, "uploaded in the form's order");
    assert_eq!(images[1]["alt"], "Celadon mug, <b>side</b>");
    let [front, side] = [ids(&images)[0].clone(), ids(&images)[1].clone()];

    // Once rendered, each picture shows; the first is the primary one.
    let page = rendered(&clerk, &path).await;
    page.assert_contains(&format!("/media/{front}/thumb"))
        .assert_contains("<strong>Primary.</strong>")
        .assert_contains("40 × 30 px, PNG")
        .assert_contains("alt=\"Celadon mug, &#60;b&#62;side&#60;/b&#62;\"");

    // The second made primary, then moved back one place.
    let primary = clerk
        .post_form(&format!("{path}/{side}"), &[("action", "primary")])
        .await;
    primary.assert_status(303);
    assert_eq!(
        primary.location(),
        Some(format!("{path}?done=primary").as_str())
    );
    assert_eq!(
        ids(&gallery(&app, &inventory, &product).await),
        [side.clone(), front.clone()]
    );
    clerk
        .post_form(&format!("{path}/{side}"), &[("action", "later")])
        .await
        .assert_status(303);
    assert_eq!(
        ids(&gallery(&app, &inventory, &product).await),
        [front.clone(), side.clone()]
    );

    // Deleted; an action on a picture that is gone says the gallery changed.
    clerk
        .post_form(&format!("{path}/{front}"), &[("action", "delete")])
        .await
        .assert_status(303);
    assert_eq!(
        ids(&gallery(&app, &inventory, &product).await),
        std::slice::from_ref(&side)
    );
    let gone = clerk
        .post_form(&format!("{path}/{front}"), &[("action", "primary")])
        .await;
    assert_eq!(
        gone.location(),
        Some(format!("{path}?done=changed").as_str())
    );
    clerk
        .get(&format!("{path}?done=changed"))
        .await
        .assert_contains("changed meanwhile");

    // A role that may not touch pictures gets the dashboard's refusal, not a crash.
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    finance
        .get(&path)
        .await
        .assert_status(403)
        .assert_contains("Not allowed for your role");
    finance
        .post_files(&path, &[], &[("file", "x.png", png(8, 8))])
        .await
        .assert_status(403);
    assert_eq!(gallery(&app, &inventory, &product).await.len(), 1);
}

/// The banners as an admin lists them.
async fn banners(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.get("/api/v1/banners", Some(admin)).await;
    res.assert_status(200);
    res.body["items"].as_array().expect("items").clone()
}

pub async fn an_admin_adds_edits_and_deletes_a_banner(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin
        .get("/admin/banners")
        .await
        .assert_status(200)
        .assert_contains("No banners yet");

    // What the page or the API refuses is said beside its field, and the rest is kept.
    let fields = |link: &'static str| {
        vec![
            ("title", "Spring tea"),
            ("link", link),
            ("position", ""),
            ("alt", "Cups in a row"),
        ]
    };
    let pictureless = admin
        .post_files("/admin/banners", &fields("/categories/tea"), &[])
        .await;
    pictureless
        .assert_status(422)
        .assert_contains("choose the banner&#39;s picture");
    let wrong_link = admin
        .post_files(
            "/admin/banners",
            &fields("javascript:alert(1)"),
            &[("file", "spring.png", png(64, 32))],
        )
        .await;
    wrong_link.assert_status(422).assert_contains("link-error");
    assert_eq!(
        wrong_link.input_value("title").as_deref(),
        Some("Spring tea")
    );
    assert!(banners(&app, &token).await.is_empty());

    let created = admin
        .post_files(
            "/admin/banners",
            &fields("/categories/tea"),
            &[("file", "spring.png", png(64, 32))],
        )
        .await;
    created.assert_status(303);
    let listed = banners(&app, &token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["title"], "Spring tea");
    assert_eq!(listed[0]["image"]["alt"], "Cups in a row");
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    let version = listed[0]["version"].to_string();
    admin
        .get("/admin/banners?done=created")
        .await
        .assert_contains("The banner is added")
        .assert_contains(&format!("id=\"title-{id}\""));

    // A position that is no number is said beside it.
    let edit = |title: &'static str, position: &'static str, version: &str| {
        vec![
            ("title", title),
            ("link", "/categories/tea"),
            ("position", position),
            ("version", version),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect::<Vec<_>>()
    };
    let post = |form: Vec<(&'static str, String)>| {
        let admin = &admin;
        let path = format!("/admin/banners/{id}");
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post_form(&path, &form).await
        }
    };
    post(edit("Spring tea", "first", &version))
        .await
        .assert_status(422)
        .assert_contains(&format!("position-{id}-error"));

    // Two members edit from the same page: the second save shows the first one's
    // banner, keeps its own edit in the form, and overwrites nothing.
    post(edit("Spring teas", "3", &version))
        .await
        .assert_status(303);
    let late = post(edit("Tea in spring", "5", &version)).await;
    late.assert_status(409)
        .assert_contains("Someone else saved this banner")
        .assert_contains("“Spring teas”, linking to /categories/tea, at position 3");
    assert_eq!(late.input_value("title").as_deref(), Some("Tea in spring"));
    assert_eq!(banners(&app, &token).await[0]["title"], "Spring teas");
    let current = banners(&app, &token).await[0]["version"].to_string();
    assert_eq!(late.input_value("version"), Some(current));

    admin
        .post_form(&format!("/admin/banners/{id}/delete"), &[])
        .await
        .assert_status(303);
    assert!(banners(&app, &token).await.is_empty());
    let again = admin
        .post_form(&format!("/admin/banners/{id}/delete"), &[])
        .await;
    assert_eq!(again.location(), Some("/admin/banners?done=gone"));

    // Banners are an admin's: other roles are refused before the API is asked.
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get("/admin/banners")
        .await
        .assert_status(403)
        .assert_contains("Not allowed for your role");
}
