//! Shipping in the staff dashboard over HTTP, for admins only: zones with their rates,
//! a quote preview asked of the real quote API, the API's messages beside the fields
//! with the typed input kept, stale edits explained, and the refusal page (and no
//! link) for other roles.

use testkit::pages::{Browser, Page};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

testkit::backend_tests!(
    an_admin_adds_a_zone_and_a_rate_and_sees_them,
    the_quote_preview_shows_the_option_a_rate_gives_with_its_price,
    a_bad_field_is_told_beside_it_and_what_was_typed_is_kept,
    a_stale_zone_or_rate_edit_is_explained_and_the_edit_kept,
    other_roles_get_the_refusal_page_and_no_shipping_link,
);

const SHIPPING_LINK: &str = "href=\"/admin/shipping\"";

/// The zone's page address from the redirect after adding it.
#[track_caller]
fn zone_path(added: &Page) -> String {
    added.assert_status(303);
    let to = added.location().expect("a redirect");
    let path = to
        .strip_suffix("?done=created")
        .expect("to the zone's page");
    assert!(path.starts_with("/admin/shipping/zones/"), "{to}");
    path.to_owned()
}

async fn add_zone(admin: &Browser<'_>, name: &str, country: &str, prefixes: &str) -> String {
    let added = admin
        .post_form(
            "/admin/shipping",
            &[
                ("name", name),
                ("country", country),
                ("postal_prefixes", prefixes),
            ],
        )
        .await;
    zone_path(&added)
}

/// A rate form: one bracket up to `grams` at `price`, free over `free_over`.
fn rate<'a>(
    code: &'a str,
    name: &'a str,
    grams: &'a str,
    price: &'a str,
    free_over: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("carrier", "Mercato Post"),
        ("service_code", code),
        ("rate_name", name),
        ("currency", "USD"),
        ("up_to_grams", grams),
        ("bracket_price", price),
        ("up_to_grams", ""),
        ("bracket_price", ""),
        ("free_over", free_over),
        ("min_days", "1"),
        ("max_days", "2"),
        ("active", "true"),
    ]
}

/// The address of the zone page's first rate.
#[track_caller]
fn first_rate_path(zone_page: &Page, zone: &str) -> String {
    let marker = format!("href=\"{zone}/rates/");
    let from = zone_page.html.find(&marker).expect("a rate link") + "href=\"".len();
    let to = zone_page.html[from..].find('"').expect("link end") + from;
    zone_page.html[from..to].to_owned()
}

async fn zone_count(app: &TestApp) -> usize {
    let admin = app.staff_token("admin").await;
    let zones = app.get("/api/v1/admin/shipping/zones", Some(&admin)).await;
    zones.assert_status(200);
    zones.body["items"].as_array().map_or(0, Vec::len)
}

pub async fn an_admin_adds_a_zone_and_a_rate_and_sees_them(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin
        .get("/admin/shipping")
        .await
        .assert_status(200)
        .assert_contains(SHIPPING_LINK)
        .assert_contains("No zones yet");

    let zone = add_zone(&admin, "Java", "id", "10, 12").await;
    admin
        .get(&format!("{zone}?done=created"))
        .await
        .assert_status(200)
        .assert_contains("The zone is added");

    let added = admin
        .post_form(
            &format!("{zone}/rates"),
            &rate("express", "Express", "1000", "12.50", "75.00"),
        )
        .await;
    added.assert_status(303);
    assert_eq!(
        added.location(),
        Some(format!("{zone}?done=rate-created").as_str())
    );

    let list = admin.get("/admin/shipping").await;
    list.assert_status(200)
        .assert_contains("Java")
        .assert_contains("<span class=\"tag\">ID</span>")
        .assert_contains("postal codes starting 10, 12")
        .assert_contains("Express")
        .assert_contains("Mercato Post")
        .assert_contains("up to 1 kg: USD 12.50")
        .assert_contains("USD 75.00")
        .assert_contains("1–2 days");

    // In use, the zone stays, and says why; its rate edited, then deleted, it goes.
    admin
        .post_form(&format!("{zone}/delete"), &[])
        .await
        .assert_status(409)
        .assert_contains("it still has rates");
    let rate_path = first_rate_path(&admin.get(&zone).await, &zone);
    let rate_page = admin.get(&rate_path).await;
    rate_page.assert_status(200);
    assert_eq!(
        rate_page.input_value("bracket_price").as_deref(),
        Some("12.50")
    );
    let version = rate_page.input_value("version").expect("the version read");
    let mut edit = rate("express", "Express", "2000", "9.99", "");
    edit.push(("version", &version));
    let saved = admin.post_form(&rate_path, &edit).await;
    saved.assert_status(303);
    let zone_page = admin.get(&format!("{zone}?done=rate-saved")).await;
    zone_page
        .assert_contains("The rate is saved")
        .assert_contains("up to 2 kg: USD 9.99")
        .assert_contains("never free")
        .assert_lacks("USD 12.50");
    admin
        .post_form(&format!("{rate_path}/delete"), &[])
        .await
        .assert_status(303);
    let gone = admin.post_form(&format!("{zone}/delete"), &[]).await;
    gone.assert_status(303);
    assert_eq!(gone.location(), Some("/admin/shipping?done=deleted"));
    admin
        .get("/admin/shipping?done=deleted")
        .await
        .assert_contains("The zone is deleted")
        .assert_lacks("Java");
    assert_eq!(zone_count(&app).await, 0);
}

pub async fn the_quote_preview_shows_the_option_a_rate_gives_with_its_price(backend: Backend) {
    let app = open_shop(backend).await;
    let inventory = app.staff_token("inventory").await;
    // USD 9.00, 300 g, a 10 cm cube (200 g by volume): charged by 300 g.
    let product = testkit::shop::product(&app, &inventory, 900, 10).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    let zone = add_zone(&admin, "Indonesia", "ID", "").await;
    admin
        .post_form(
            &format!("{zone}/rates"),
            &rate("express", "Express", "1000", "7.25", "20.00"),
        )
        .await
        .assert_status(303);

    let preview = |country: &str, quantity: u32| {
        format!(
            "/admin/shipping?country={country}&postal_code=&product_id={product}&quantity={quantity}"
        )
    };
    let one = admin.get(&preview("ID", 1)).await;
    one.assert_status(200)
        .assert_contains("Zone: Indonesia. Charged by 300 g.")
        .assert_contains(
            "<td>Mercato Post Express (express)</td><td>1–2 days</td><td>USD 7.25</td>",
        )
        .assert_contains(&format!("<option value=\"{product}\" selected>"));

    // Three are worth USD 27.00, over the threshold, and 900 g still fit the bracket.
    admin
        .get(&preview("ID", 3))
        .await
        .assert_contains("Charged by 900 g.")
        .assert_contains("<td>Free</td>")
        .assert_lacks("<td>USD 7.25</td>");
    // Four weigh 1.2 kg: the rate does not carry them.
    admin
        .get(&preview("ID", 4))
        .await
        .assert_contains("Nothing would be offered")
        .assert_lacks("Mercato Post Express (express)");
    admin
        .get(&preview("GB", 1))
        .await
        .assert_contains("No zone covers this destination");
    // The quote API's own message, beside the country.
    let wrong = admin.get(&preview("Java", 1)).await;
    wrong
        .assert_contains("id=\"quote-country-error\"")
        .assert_contains("id=\"quote-country\" name=\"country\" type=\"text\" value=\"Java\"");
}

pub async fn a_bad_field_is_told_beside_it_and_what_was_typed_is_kept(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;

    let refused = admin
        .post_form(
            "/admin/shipping",
            &[
                ("name", "Java"),
                ("country", "Java"),
                ("postal_prefixes", "10 abcdefghijkl"),
            ],
        )
        .await;
    refused
        .assert_status(422)
        .assert_contains("<p class=\"error\" id=\"country-error\">must be an ISO 3166-1 alpha-2 code like US or ID</p>")
        .assert_contains("\u{201c}abcdefghijkl\u{201d} must be 1 to 10 letters or digits");
    assert_eq!(refused.input_value("name").as_deref(), Some("Java"));
    assert_eq!(refused.input_value("country").as_deref(), Some("Java"));
    assert_eq!(
        refused.input_value("postal_prefixes").as_deref(),
        Some("10 abcdefghijkl")
    );
    assert_eq!(zone_count(&app).await, 0);

    let zone = add_zone(&admin, "Java", "ID", "").await;
    // The API's message for the code, beside it.
    let bad_code = admin
        .post_form(
            &format!("{zone}/rates"),
            &rate("no spaces!", "Express", "1000", "12.50", ""),
        )
        .await;
    bad_code.assert_status(422).assert_contains(
        "<p class=\"error\" id=\"rate-service_code-error\">1 to 40 letters, digits, - or _</p>",
    );
    assert_eq!(
        bad_code.input_value("service_code").as_deref(),
        Some("no spaces!")
    );
    assert_eq!(
        bad_code.input_value("rate_name").as_deref(),
        Some("Express")
    );
    // A price in more decimals than the currency has, beside the brackets.
    let bad_price = admin
        .post_form(
            &format!("{zone}/rates"),
            &rate("express", "Express", "1000", "12.505", ""),
        )
        .await;
    bad_price.assert_status(422).assert_contains(
        "id=\"rate-brackets-error\">row 1: the price must be an amount in USD, like 12.50</p>",
    );
    assert_eq!(
        bad_price.input_value("bracket_price").as_deref(),
        Some("12.505")
    );
    assert_eq!(
        bad_price.input_value("up_to_grams").as_deref(),
        Some("1000")
    );
    admin
        .get(&zone)
        .await
        .assert_contains("No rates: nothing is offered here yet.");
}

pub async fn a_stale_zone_or_rate_edit_is_explained_and_the_edit_kept(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    let zone = add_zone(&admin, "Java", "ID", "").await;

    // Two tabs read the same version; the second save is told, and keeps its edit.
    let version = admin
        .get(&zone)
        .await
        .input_value("version")
        .expect("the version read");
    let edit = |name: &'static str| {
        [
            ("name", name),
            ("country", "ID"),
            ("postal_prefixes", ""),
            ("version", version.as_str()),
        ]
    };
    admin
        .post_form(&zone, &edit("Jawa"))
        .await
        .assert_status(303);
    let clash = admin.post_form(&zone, &edit("Java Island")).await;
    clash
        .assert_status(412)
        .assert_contains("Someone else saved this zone")
        .assert_contains("\u{201c}Jawa\u{201d}");
    assert_eq!(clash.input_value("name").as_deref(), Some("Java Island"));
    let newer = clash.input_value("version").expect("the version now saved");
    assert_ne!(newer, version);
    admin
        .post_form(
            &zone,
            &[
                ("name", "Java Island"),
                ("country", "ID"),
                ("postal_prefixes", ""),
                ("version", newer.as_str()),
            ],
        )
        .await
        .assert_status(303);

    admin
        .post_form(
            &format!("{zone}/rates"),
            &rate("express", "Express", "1000", "12.50", ""),
        )
        .await
        .assert_status(303);
    let rate_path = first_rate_path(&admin.get(&zone).await, &zone);
    let version = admin
        .get(&rate_path)
        .await
        .input_value("version")
        .expect("the version read");
    let mut first = rate("express", "Express", "1000", "8.00", "");
    first.push(("version", &version));
    admin.post_form(&rate_path, &first).await.assert_status(303);
    let mut second = rate("express", "Express", "1000", "6.00", "");
    second.push(("version", &version));
    let clash = admin.post_form(&rate_path, &second).await;
    clash
        .assert_status(412)
        .assert_contains("Someone else saved this rate")
        .assert_contains("USD 8.00 up to 1 kg");
    assert_eq!(clash.input_value("bracket_price").as_deref(), Some("6.00"));
}

pub async fn other_roles_get_the_refusal_page_and_no_shipping_link(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin
        .get("/admin")
        .await
        .assert_status(200)
        .assert_contains(SHIPPING_LINK);
    let zone = add_zone(&admin, "Java", "ID", "").await;

    for role in ["inventory", "finance"] {
        let clerk = Browser::new(&app);
        clerk.sign_in_staff(role).await;
        clerk
            .get("/admin")
            .await
            .assert_status(200)
            .assert_lacks(SHIPPING_LINK);
        for path in ["/admin/shipping", zone.as_str()] {
            clerk
                .get(path)
                .await
                .assert_status(403)
                .assert_contains("Not allowed for your role")
                .assert_lacks(SHIPPING_LINK)
                .assert_lacks("Java");
        }
        clerk
            .post_form(
                "/admin/shipping",
                &[
                    ("name", "Sneaky"),
                    ("country", "US"),
                    ("postal_prefixes", ""),
                ],
            )
            .await
            .assert_status(403)
            .assert_contains("Not allowed for your role");
        clerk
            .post_form(&format!("{zone}/delete"), &[])
            .await
            .assert_status(403);
    }
    assert_eq!(zone_count(&app).await, 1, "nothing added or deleted");
}
