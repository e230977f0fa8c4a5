//! The shop run from the dashboard, end to end, in the browser at a tablet's width
//! (768 px): the owner signs in and sets up an authenticator app (the key read off the
//! page, typed into the test's own TOTP), creates a category and a product, chooses two
//! pictures at once in the real file input and makes the second primary, sets the stock
//! and adds a banner; a customer buys the product; a clerk sees the order on the home
//! page and in the list and ships it with a tracking number; an accountant refunds part;
//! the owner signs in again with a code and finds each action in the audit log under the
//! member who did it. axe on every page it opens, and nothing scrolls sideways.

use std::path::{Path, PathBuf};

use serde_json::json;
use testkit::browser::{self, Browser};
use testkit::images::png;
use testkit::{Backend, TestApp, totp_code};

use crate::assert_fits_the_screen;

const WIDTH: u32 = 768;

/// The ids of the product's pictures, in order.
async fn gallery(app: &TestApp, token: &str, product: &str) -> Vec<String> {
    let res = app
        .get(&format!("/api/v1/products/{product}/images"), Some(token))
        .await;
    res.body
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A staff member made the way `mercato admin create-staff` makes them; their id.
async fn member(app: &TestApp, role: &str) -> (String, String) {
    let email = format!("{}@shop.test", testkit::unique(role));
    app.staff_with_role(&email, role).await;
    let admin = app.staff_token("admin").await;
    let listed = app.get("/api/v1/staff?limit=100", Some(&admin)).await;
    let id = listed.body["items"]
        .as_array()
        .expect("staff")
        .iter()
        .find(|m| m["email"] == email.as_str())
        .and_then(|m| m["id"].as_str())
        .expect("the member is listed")
        .to_owned();
    (email, id)
}

/// Signs in on the dashboard's form; `code` when the member has a second factor.
async fn sign_in(b: &Browser, app: &TestApp, email: &str, code: Option<String>) {
    b.open(&app.url("/admin/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", testkit::STAFF_PASSWORD).await;
    b.click("form[action='/admin/login'] button[type='submit']")
        .await;
    if let Some(code) = code {
        b.wait_for_text("Your account signs in with a second factor")
            .await;
        b.assert_accessible().await;
        b.fill("#password", testkit::STAFF_PASSWORD).await;
        b.fill("#code", &code).await;
        b.click("form[action='/admin/login'] button[type='submit']")
            .await;
    }
    b.wait_for_text("paid, to fulfil").await;
}

async fn sign_out(b: &Browser) {
    b.click("form[action='/admin/logout'] button[type='submit']")
        .await;
    b.find("form[action='/admin/login']").await;
}

/// Opens `path` and checks it as every page here is checked.
async fn visit(b: &Browser, app: &TestApp, path: &str, text: &str) {
    b.open(&app.url(path)).await;
    b.wait_for_text(text).await;
    checked(b, path).await;
}

async fn checked(b: &Browser, what: &str) {
    b.assert_accessible().await;
    assert_fits_the_screen(b, what).await;
}

fn pictures(dir: &Path) -> Vec<PathBuf> {
    [("front.png", (60, 40)), ("side.png", (40, 60))]
        .iter()
        .map(|(name, (w, h))| {
            let path = dir.join(name);
            std::fs::write(&path, png(*w, *h)).expect("picture written");
            path
        })
        .collect()
}

pub(crate) async fn the_shop_is_run_from_the_dashboard(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    testkit::shop::shipping_to_indonesia(&app).await;
    let (owner, owner_id) = member(&app, "admin").await;
    let (clerk, clerk_id) = member(&app, "inventory").await;
    let (accountant, accountant_id) = member(&app, "finance").await;
    let files = tempfile::tempdir().expect("a directory");
    let paths = pictures(files.path());
    let chosen: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let b = Browser::start("journey", WIDTH).await;

    // The owner signs in and sets up an authenticator app.
    sign_in(&b, &app, &owner, None).await;
    checked(&b, "/admin").await;
    visit(&b, &app, "/admin/security", "Set up an authenticator app").await;
    b.click("form[action='/admin/security/totp'] button[type='submit']")
        .await;
    b.find("#totp-secret").await;
    let secret = b
        .script(
            "return document.getElementById('totp-secret').textContent.replace(/ /g, '');",
            json!([]),
        )
        .await
        .as_str()
        .expect("the key")
        .to_owned();
    checked(&b, "/admin/security (set-up)").await;
    b.fill("#code", &totp_code(&secret, 0)).await;
    b.click("form[action='/admin/security/totp/confirm'] button[type='submit']")
        .await;
    b.wait_for_text("from your next sign-in on").await;

    // A category and a product in it, with two pictures and its stock.
    visit(&b, &app, "/admin/categories", "New category").await;
    b.fill("#name", "Tea ware").await;
    b.click("form[action='/admin/categories'] button[type='submit']")
        .await;
    b.wait_for_text("The category is created").await;
    let tree = app.get("/api/v1/categories", None).await;
    let category = tree.body["items"][0]["id"]
        .as_str()
        .expect("the category")
        .to_owned();
    visit(&b, &app, "/admin/products/new", "Create product").await;
    for (field, value) in [
        ("#name", "Celadon mug"),
        ("#description", "Hand-thrown stoneware."),
        ("#price", "12.50"),
        ("#currency", "USD"),
        ("#weight_grams", "400"),
        ("#length_mm", "120"),
        ("#width_mm", "90"),
        ("#height_mm", "100"),
        ("#stock", "3"),
    ] {
        b.fill(field, value).await;
    }
    b.click(&format!("input[name='category_ids'][value='{category}']"))
        .await;
    b.click("form[action='/admin/products'] button[type='submit']")
        .await;
    b.wait_for_text("The product is created and on sale").await;
    checked(&b, "/admin/products/{id}").await;
    let at = b.script("return location.pathname;", json!([])).await;
    let product = at
        .as_str()
        .and_then(|p| p.strip_prefix("/admin/products/"))
        .expect("the product's page")
        .to_owned();
    b.fill("#on_hand", "8").await;
    b.click(&format!(
        "form[action='/admin/products/{product}/stock'] button[type='submit']"
    ))
    .await;
    b.wait_for_text("The stock is updated").await;
    b.screenshot(&browser::screenshot_dir().join("admin-product.png"))
        .await;

    let inventory = app.staff_token("inventory").await;
    let images = format!("/admin/products/{product}/images");
    visit(&b, &app, &images, "No pictures yet").await;
    b.choose_files("#file", &chosen).await;
    b.fill("#alt", "Celadon mug").await;
    b.click("form[enctype='multipart/form-data'] button[type='submit']")
        .await;
    b.wait_for_text("Uploaded.").await;
    let ids = gallery(&app, &inventory, &product).await;
    assert_eq!(ids.len(), 2, "both files arrived");
    // The gallery refreshes itself (htmx) until both are rendered.
    b.find(&format!("#picture-{} img", ids[1])).await;
    checked(&b, &images).await;
    b.click(&format!("#picture-{} button[value='primary']", ids[1]))
        .await;
    b.wait_for_text("That picture is now the primary one").await;
    assert_eq!(
        gallery(&app, &inventory, &product).await,
        [ids[1].clone(), ids[0].clone()]
    );

    // A banner, with its picture.
    visit(&b, &app, "/admin/banners", "No banners yet").await;
    b.choose_files("#file", &chosen[..1]).await;
    b.fill("#title", "Spring tea").await;
    b.fill("#link", "/search?q=tea").await;
    b.click("form[action='/admin/banners'] button[type='submit']")
        .await;
    b.wait_for_text("The banner is added").await;
    checked(&b, "/admin/banners").await;
    sign_out(&b).await;

    // A customer buys two.
    testkit::shop::known_to_shipping(&app, &product).await;
    let customer = app.customer_token().await;
    let order = testkit::shop::paid_order(&app, &customer, &product, 2).await;
    let order_id = order["id"].as_str().expect("order id").to_owned();

    // The clerk finds it on the home page and in the list, and ships it.
    sign_in(&b, &app, &clerk, None).await;
    let waiting = b
        .script(
            "return document.getElementById('to-fulfil').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(waiting.as_str().map(str::trim), Some("1"));
    b.screenshot(&browser::screenshot_dir().join("admin-home.png"))
        .await;
    b.click("a[href='/admin/orders?status=paid']").await;
    b.wait_for_text("Every status").await;
    checked(&b, "/admin/orders?status=paid").await;
    b.click(&format!("a[href='/admin/orders/{order_id}']"))
        .await;
    b.find("#order-status").await;
    checked(&b, "/admin/orders/{id}").await;
    crate::pack_and_ship(&b).await;
    sign_out(&b).await;

    // The accountant refunds part of it.
    sign_in(&b, &app, &accountant, None).await;
    visit(&b, &app, &format!("/admin/orders/{order_id}"), "Refund").await;
    b.fill("#amount", "5.00").await;
    b.fill("#reason", "A chipped handle").await;
    b.click("form[action$='/refund'] button[type='submit']")
        .await;
    b.wait_for_text("The refund is on its way").await;
    sign_out(&b).await;

    // The owner, with a code now, reads who did what.
    sign_in(&b, &app, &owner, Some(totp_code(&secret, 1))).await;
    visit(&b, &app, "/admin/audit", "Audit log").await;
    b.screenshot(&browser::screenshot_dir().join("admin-audit.png"))
        .await;
    let rows = b
        .script(
            "return [...document.querySelectorAll('table.audit tbody tr')].map(r => \
               [r.cells[2].textContent.trim(), r.cells[1].querySelector('a').getAttribute('href')]);",
            json!([]),
        )
        .await;
    let rows: Vec<(String, String)> = serde_json::from_value(rows).expect("rows");
    let by = |action: &str| -> Vec<&str> {
        rows.iter()
            .filter(|(a, _)| a == action)
            .map(|(_, href)| href.trim_start_matches("/admin/staff/"))
            .collect()
    };
    let admin = owner_id.as_str();
    for (action, actors) in [
        ("staff.2fa_enabled", vec![admin]),
        ("category.created", vec![admin]),
        ("product.created", vec![admin]),
        ("stock.changed", vec![admin]),
        ("image.uploaded", vec![admin, admin]),
        ("images.reordered", vec![admin]),
        ("order.status_changed", vec![clerk_id.as_str(); 2]),
        ("payment.refund_requested", vec![accountant_id.as_str()]),
    ] {
        assert_eq!(by(action), actors, "{action} in {rows:?}");
    }
    let refunded = app
        .get(&format!("/api/v1/orders/{order_id}"), Some(&customer))
        .await;
    assert_eq!(refunded.body["status"], "shipped", "{}", refunded.body);
}
