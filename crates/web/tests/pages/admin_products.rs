//! Products in the staff dashboard over HTTP: create, edit with the version read (a
//! save someone made first shown beside one's own), stock, archive.

use testkit::Backend;
use testkit::pages::{Browser, Page};

use crate::shop as open_shop;

fn product_form<'a>(name: &'a str, price: &'a str, version: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("slug", ""),
        ("description", "Thrown by hand."),
        ("price", price),
        ("currency", "USD"),
        ("weight_grams", "350"),
        ("length_mm", "90"),
        ("width_mm", "90"),
        ("height_mm", "100"),
        ("stock", "12"),
        ("version", version),
    ]
}

/// The product's id from the page a creation or save redirected to.
fn id_from(page: &Page) -> String {
    let location = page.location().expect("a redirect");
    let rest = location
        .strip_prefix("/admin/products/")
        .expect("a product page");
    rest.split('?').next().expect("an id").to_owned()
}

pub async fn staff_create_edit_stock_and_archive_a_product(backend: Backend) {
    let app = open_shop(backend).await;
    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get("/admin/products/new")
        .await
        .assert_status(200)
        .assert_contains("Create product");

    // What the page cannot read is said beside the field; what the API refuses too.
    let wrong = clerk
        .post_form("/admin/products", &product_form("Blue Mug", "12,50", "0"))
        .await;
    wrong
        .assert_status(422)
        .assert_contains("must be an amount in USD, like 12.50");
    assert_eq!(wrong.input_value("name").as_deref(), Some("Blue Mug"));
    let nameless = clerk
        .post_form("/admin/products", &product_form("", "12.50", "0"))
        .await;
    nameless.assert_status(422);
    assert!(
        nameless.html.contains("name-error"),
        "{:.3000}",
        nameless.html
    );

    let created = clerk
        .post_form("/admin/products", &product_form("Blue Mug", "12.50", "0"))
        .await;
    created.assert_status(303);
    let id = id_from(&created);
    let path = format!("/admin/products/{id}");
    let page = clerk.get(&format!("{path}?done=created")).await;
    page.assert_status(200)
        .assert_contains("The product is created")
        .assert_contains("Reserved");
    assert_eq!(page.input_value("price").as_deref(), Some("12.50"));
    clerk
        .get("/admin/products?q=blue")
        .await
        .assert_contains("Blue Mug")
        .assert_contains("USD 12.50");

    // An edit, with the version read.
    let version = product_version(&page, &id);
    let saved = clerk
        .post_form(&path, &product_form("Blue Mug", "9.99", &version))
        .await;
    saved.assert_status(303);
    let api = app.get(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(api.body["price"], 999, "{}", api.body);

    // Stock: set, adjusted, and a form that says neither.
    let page = clerk.get(&path).await;
    let first_stock = stock_version(&page);
    let stock = format!("{path}/stock");
    clerk
        .post_form(
            &stock,
            &[
                ("on_hand", "20"),
                ("adjust_by", ""),
                ("version", &first_stock),
            ],
        )
        .await
        .assert_status(303);
    let page = clerk.get(&path).await;
    let newer = stock_version(&page);
    clerk
        .post_form(
            &stock,
            &[("on_hand", ""), ("adjust_by", "-3"), ("version", &newer)],
        )
        .await
        .assert_status(303);
    clerk
        .get(&path)
        .await
        .assert_contains("<dd id=\"on-hand\">17</dd>");
    clerk
        .post_form(
            &stock,
            &[("on_hand", ""), ("adjust_by", ""), ("version", &newer)],
        )
        .await
        .assert_status(422)
        .assert_contains("not both");
    // The version read before the last change: told, with the counts as they are.
    clerk
        .post_form(
            &stock,
            &[
                ("on_hand", "5"),
                ("adjust_by", ""),
                ("version", &first_stock),
            ],
        )
        .await
        .assert_status(412)
        .assert_contains("The stock changed while you were looking");

    // Archived: gone from the shop and from the default list, there when asked for.
    clerk
        .post_form(&format!("{path}/archive"), &[])
        .await
        .assert_status(303);
    assert!(!clerk.get("/admin/products").await.html.contains("Blue Mug"));
    clerk
        .get("/admin/products?archived=true")
        .await
        .assert_contains("Blue Mug")
        .assert_contains("Archived");
    app.get(&format!("/api/v1/products/{id}"), None)
        .await
        .assert_status(404);

    // Finance reads the product and is offered no edit.
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    let read_only = finance.get(&path).await;
    read_only.assert_status(200);
    assert!(
        !read_only.html.contains("Update stock"),
        "stock is inventory's"
    );
    assert!(read_only.input_value("name").is_none(), "no edit form");
}

/// The stock form's version.
fn stock_version(page: &Page) -> String {
    version_after(page, "/stock\" method=\"post\"")
}

/// The version carried by the form whose opening tag ends with `marker`.
fn version_after(page: &Page, marker: &str) -> String {
    let form = page.html.split(marker).nth(1).expect("the form");
    let value = form
        .split("name=\"version\" value=\"")
        .nth(1)
        .expect("its version");
    value.split('"').next().expect("a value").to_owned()
}

/// The product form's version on the page of product `id`.
fn product_version(page: &Page, id: &str) -> String {
    version_after(
        page,
        &format!("action=\"/admin/products/{id}\" method=\"post\""),
    )
}

/// Two clerks edit one product from the same version: the second is shown the first's
/// save beside their own edit, which stays in the form; saving again keeps theirs.
pub async fn a_product_saved_meanwhile_is_shown_beside_ones_own_edit(backend: Backend) {
    let app = open_shop(backend).await;
    let first = Browser::new(&app);
    first.sign_in_staff("inventory").await;
    let created = first
        .post_form("/admin/products", &product_form("Teapot", "30.00", "0"))
        .await;
    let id = id_from(&created);
    let path = format!("/admin/products/{id}");
    let second = Browser::new(&app);
    second.sign_in_staff("inventory").await;
    let read = second.get(&path).await;
    let version = product_version(&read, &id);

    first
        .post_form(&path, &product_form("Celadon Teapot", "30.00", &version))
        .await
        .assert_status(303);
    let clash = second
        .post_form(&path, &product_form("Teapot", "27.00", &version))
        .await;

    clash
        .assert_status(412)
        .assert_contains("Someone else saved this product")
        .assert_contains("Celadon Teapot")
        .assert_contains("Saved meanwhile, and your edit");
    assert_eq!(
        clash.input_value("price").as_deref(),
        Some("27.00"),
        "the edit is kept"
    );
    let current = product_version(&clash, &id);
    assert_ne!(current, version, "the form now carries the saved version");
    second
        .post_form(&path, &product_form("Teapot", "27.00", &current))
        .await
        .assert_status(303);
    let api = app.get(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(api.body["price"], 2_700);
}
