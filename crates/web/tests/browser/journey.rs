//! The staff dashboard's pictures, banners and second factor in the browser: files
//! chosen in the real file input (two at once), the second made primary, a banner
//! added, an authenticator app set up by scanning's stand-in (the key typed into the
//! test's own TOTP) and asked for at the next sign-in. axe on every page it opens, at a
//! laptop's width and a tablet's.

use testkit::browser::{self, Browser};
use testkit::images::png;
use testkit::{Backend, TestApp, totp_code};

use crate::assert_fits_the_screen;

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

pub(crate) async fn an_admin_adds_pictures_a_banner_and_a_second_factor(backend: Backend) {
    if !browser::available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let inventory = app.staff_token("inventory").await;
    let product = testkit::shop::product(&app, &inventory, 1_250, 5).await;
    let email = format!("{}@shop.test", testkit::unique("owner"));
    app.staff_with_role(&email, "admin").await;
    let files = tempfile::tempdir().expect("a directory");
    let paths: Vec<std::path::PathBuf> = [("front.png", (60, 40)), ("side.png", (40, 60))]
        .iter()
        .map(|(name, (w, h))| {
            let path = files.path().join(name);
            std::fs::write(&path, png(*w, *h)).expect("picture written");
            path
        })
        .collect();

    let b = Browser::start("admin-media", 1280).await;
    b.open(&app.url("/admin/login")).await;
    b.fill("#email", &email).await;
    b.fill("#password", testkit::STAFF_PASSWORD).await;
    b.click("form[action='/admin/login'] button[type='submit']")
        .await;
    b.wait_for_text("paid, to fulfil").await;

    // Two pictures chosen at once; once rendered, the second is made primary.
    let pictures = format!("/admin/products/{product}/images");
    b.open(&app.url(&pictures)).await;
    b.wait_for_text("No pictures yet").await;
    let chosen: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    b.choose_files("#file", &chosen).await;
    b.fill("#alt", "Celadon mug").await;
    b.click("form[enctype='multipart/form-data'] button[type='submit']")
        .await;
    b.wait_for_text("Uploaded.").await;
    let ids = gallery(&app, &inventory, &product).await;
    assert_eq!(ids.len(), 2, "both files arrived");
    // The gallery refreshes itself (htmx) until both are rendered.
    b.find(&format!("#picture-{} img", ids[1])).await;
    b.assert_accessible().await;
    assert_fits_the_screen(&b, &pictures).await;
    b.click(&format!("#picture-{} button[value='primary']", ids[1]))
        .await;
    b.wait_for_text("That picture is now the primary one").await;
    assert_eq!(
        gallery(&app, &inventory, &product).await,
        [ids[1].clone(), ids[0].clone()]
    );

    // A banner, with its picture.
    b.open(&app.url("/admin/banners")).await;
    b.wait_for_text("No banners yet").await;
    b.assert_accessible().await;
    b.choose_files("#file", &chosen[..1]).await;
    b.fill("#title", "Spring tea").await;
    b.fill("#link", "/search?q=tea").await;
    b.click("form[action='/admin/banners'] button[type='submit']")
        .await;
    b.wait_for_text("The banner is added").await;
    b.assert_accessible().await;
    assert_fits_the_screen(&b, "/admin/banners").await;

    // An authenticator app: the key read off the page, its code typed back.
    b.open(&app.url("/admin/security")).await;
    b.assert_accessible().await;
    b.click("form[action='/admin/security/totp'] button[type='submit']")
        .await;
    let secret = b
        .script(
            "return document.getElementById('totp-secret').textContent.replace(/ /g, '');",
            serde_json::json!([]),
        )
        .await
        .as_str()
        .expect("the key")
        .to_owned();
    b.assert_accessible().await;
    assert_fits_the_screen(&b, "/admin/security (set-up)").await;
    b.fill("#code", &totp_code(&secret, 0)).await;
    b.click("form[action='/admin/security/totp/confirm'] button[type='submit']")
        .await;
    b.wait_for_text("from your next sign-in on").await;

    // Signed out and in again: the code is asked for.
    b.click("form[action='/admin/logout'] button[type='submit']")
        .await;
    b.find("form[action='/admin/login']").await;
    b.fill("#email", &email).await;
    b.fill("#password", testkit::STAFF_PASSWORD).await;
    b.click("form[action='/admin/login'] button[type='submit']")
        .await;
    b.wait_for_text("Your account signs in with a second factor")
        .await;
    b.assert_accessible().await;
    b.fill("#password", testkit::STAFF_PASSWORD).await;
    b.fill("#code", &totp_code(&secret, 1)).await;
    b.click("form[action='/admin/login'] button[type='submit']")
        .await;
    b.wait_for_text("paid, to fulfil").await;
}
