//! Categories in the staff dashboard over HTTP: the tree, create, rename, move, show on
//! the home page, put in order among its siblings, and deleting, refused with the reason
//! while the category is in use.

use serde_json::json;
use testkit::Backend;
use testkit::pages::{Browser, Page};

use crate::shop as open_shop;

/// The id of the category named `name` in the API's tree.
async fn category_id(app: &testkit::TestApp, name: &str) -> String {
    fn find(nodes: &serde_json::Value, name: &str) -> Option<String> {
        nodes.as_array()?.iter().find_map(|n| {
            if n["name"] == name {
                n["id"].as_str().map(str::to_owned)
            } else {
                find(&n["children"], name)
            }
        })
    }
    let tree = app.get("/api/v1/categories", None).await;
    find(&tree.body["items"], name).unwrap_or_else(|| panic!("no category {name}: {}", tree.body))
}

fn version_of(page: &Page) -> String {
    page.input_value("version").expect("the version read")
}

pub async fn staff_keep_the_category_tree(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get("/admin/categories")
        .await
        .assert_status(200)
        .assert_contains("No categories yet");

    let nameless = clerk
        .post_form("/admin/categories", &[("name", ""), ("parent_id", "")])
        .await;
    nameless.assert_status(422);
    assert!(
        nameless.html.contains("name-error"),
        "{:.3000}",
        nameless.html
    );

    clerk
        .post_form(
            "/admin/categories",
            &[
                ("name", "Kitchen"),
                ("parent_id", ""),
                ("show_on_home", "true"),
            ],
        )
        .await
        .assert_status(303);
    let kitchen = category_id(&app, "Kitchen").await;
    clerk
        .post_form(
            "/admin/categories",
            &[("name", "Mugs"), ("parent_id", &kitchen)],
        )
        .await
        .assert_status(303);
    let mugs = category_id(&app, "Mugs").await;
    let tree = clerk.get("/admin/categories?done=created").await;
    tree.assert_contains("The category is created")
        .assert_contains("on the home page")
        .assert_contains(&format!(
            "<li class=\"depth-1\"><a href=\"/admin/categories/{mugs}\">Mugs</a>"
        ));

    // Renamed, with the version read; a second tab's older version is told.
    let path = format!("/admin/categories/{mugs}");
    let page = clerk.get(&path).await;
    let version = version_of(&page);
    let form = [
        ("name", "Cups"),
        ("slug", ""),
        ("description", ""),
        ("parent_id", kitchen.as_str()),
        ("version", version.as_str()),
    ];
    clerk.post_form(&path, &form).await.assert_status(303);
    let mut stale = form;
    stale[0] = ("name", "Beakers");
    let clash = clerk.post_form(&path, &stale).await;
    clash
        .assert_status(412)
        .assert_contains("Someone else saved this category")
        .assert_contains("Cups");
    assert_eq!(
        clash.input_value("name").as_deref(),
        Some("Beakers"),
        "the edit is kept"
    );

    // A category cannot move below itself: the page does not offer it, the API refuses it.
    let kitchen_page = clerk.get(&format!("/admin/categories/{kitchen}")).await;
    assert!(
        !kitchen_page
            .html
            .contains(&format!("<option value=\"{mugs}\"")),
        "its own subcategory is not offered as a parent"
    );
    let loop_form = [
        ("name", "Kitchen"),
        ("slug", ""),
        ("description", ""),
        ("parent_id", mugs.as_str()),
        ("show_on_home", "true"),
        ("version", &version_of(&kitchen_page)),
    ];
    let refused = clerk
        .post_form(&format!("/admin/categories/{kitchen}"), &loop_form)
        .await;
    assert!(matches!(refused.status, 409 | 422), "{}", refused.status);

    // In use, it stays, and the page says why; once empty, it goes.
    let inventory = app.staff_token("inventory").await;
    let product = app
        .post(
            "/api/v1/products",
            Some(&inventory),
            json!({"name": "Blue Cup", "description": "A cup.", "price": 900, "currency": "USD",
                   "weight_grams": 200, "length_mm": 80, "width_mm": 80, "height_mm": 90,
                   "category_ids": [mugs], "stock": 3}),
        )
        .await;
    product.assert_status(201);
    let product_id = product.body["id"].as_str().expect("id").to_owned();
    clerk
        .post_form(&format!("/admin/categories/{kitchen}/delete"), &[])
        .await
        .assert_status(409)
        .assert_contains("it has subcategories");
    clerk
        .post_form(&format!("{path}/delete"), &[])
        .await
        .assert_status(409)
        .assert_contains("Move those products to another category, or archive them");
    app.delete(&format!("/api/v1/products/{product_id}"), Some(&inventory))
        .await
        .assert_status(204);
    let gone = clerk.post_form(&format!("{path}/delete"), &[]).await;
    gone.assert_status(303);
    assert_eq!(gone.location(), Some("/admin/categories?done=deleted"));
    assert!(!clerk.get("/admin/categories").await.html.contains("Cups"));
}

pub async fn staff_put_categories_in_the_order_they_choose(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    for name in ["Aprons", "Zesters"] {
        clerk
            .post_form("/admin/categories", &[("name", name), ("parent_id", "")])
            .await
            .assert_status(303);
    }
    let zesters = category_id(&app, "Zesters").await;
    let listed = |page: &Page| {
        let a = page.html.find(">Aprons</a>").expect("Aprons listed");
        let z = page.html.find(">Zesters</a>").expect("Zesters listed");
        (a, z)
    };
    let (a, z) = listed(&clerk.get("/admin/categories").await);
    assert!(a < z, "equal places go by name");

    let path = format!("/admin/categories/{zesters}");
    let page = clerk.get(&path).await;
    assert_eq!(page.input_value("position").as_deref(), Some("0"));
    let with_place = |place: &'static str, version: String| {
        let (clerk, path) = (&clerk, path.clone());
        async move {
            let form = [
                ("name", "Zesters"),
                ("slug", ""),
                ("description", ""),
                ("parent_id", ""),
                ("position", place),
                ("version", version.as_str()),
            ];
            clerk.post_form(&path, &form).await
        }
    };
    let typo = with_place("first", version_of(&page)).await;
    typo.assert_status(422)
        .assert_contains("id=\"position-error\"")
        .assert_contains("must be a whole number");
    assert_eq!(typo.input_value("position").as_deref(), Some("first"));
    with_place("2000000", version_of(&page))
        .await
        .assert_status(422)
        .assert_contains("id=\"position-error\"");
    with_place("-5", version_of(&page)).await.assert_status(303);
    let (a, z) = listed(&clerk.get("/admin/categories").await);
    assert!(z < a, "a lower place comes first");
    let tree = app.get("/api/v1/categories", None).await;
    assert_eq!(tree.body["items"][0]["position"], -5);
}
