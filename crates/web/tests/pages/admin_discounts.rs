//! Discount codes in the staff dashboard over HTTP, for finance staff and admins: codes
//! set up from the form and listed with what they take off, paged by the API's cursor,
//! the API's messages beside the fields with the typed input kept, edits saved against
//! the version read (a stale one explained), deleting, and the refusal page (and no
//! link) for other roles.

use serde_json::json;
use testkit::pages::{Browser, Page};
use testkit::{Backend, TestApp};

use crate::shop as open_shop;

testkit::backend_tests!(
    finance_sets_up_percentage_and_fixed_amount_discount_codes_and_sees_them_listed,
    a_refused_discount_form_tells_each_field_and_keeps_what_was_typed,
    a_discount_code_edit_saves_and_a_stale_one_is_told_so,
    a_deleted_discount_code_leaves_the_list,
    the_discount_code_list_pages_by_the_next_cursor,
    inventory_staff_see_no_discount_codes_link_and_are_refused_the_discount_pages,
);

const DISCOUNTS_LINK: &str = "href=\"/admin/discounts\"";

/// A new-code form: `kind` with its figure, everything else empty, active.
fn code_form<'a>(code: &'a str, kind: &'a str, figure: &'a str) -> Vec<(&'a str, &'a str)> {
    let (percent, amount) = match kind {
        "percentage" => (figure, ""),
        _ => ("", figure),
    };
    vec![
        ("code", code),
        ("kind", kind),
        ("percent", percent),
        ("amount", amount),
        ("currency", ""),
        ("min_subtotal", ""),
        ("starts_at", ""),
        ("ends_at", ""),
        ("usage_limit", ""),
        ("per_customer_limit", ""),
        ("product_ids", ""),
        ("active", "true"),
    ]
}

/// `form` with `field` set to `value`.
fn with<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    field: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    form.retain(|(k, _)| *k != field);
    form.push((field, value));
    form
}

#[track_caller]
fn assert_created(added: &Page) {
    added.assert_status(303);
    assert_eq!(added.location(), Some("/admin/discounts?done=created"));
}

/// The address of the code's page linked from the list.
#[track_caller]
fn code_path(list: &Page, code: &str) -> String {
    let at = list
        .html
        .find(&format!("\">{code}</a>"))
        .unwrap_or_else(|| panic!("{code} listed: {:.3000}", list.html));
    let marker = "href=\"/admin/discounts/";
    let from = list.html[..at].rfind(marker).expect("a code link") + "href=\"".len();
    list.html[from..at].to_owned()
}

async fn codes(app: &TestApp) -> Vec<String> {
    let finance = app.staff_token("finance").await;
    let list = app
        .get("/api/v1/admin/discounts?limit=100", Some(&finance))
        .await;
    list.assert_status(200);
    list.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|d| d["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn finance_sets_up_percentage_and_fixed_amount_discount_codes_and_sees_them_listed(
    backend: Backend,
) {
    let app = open_shop(backend).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    finance
        .get("/admin/discounts")
        .await
        .assert_status(200)
        .assert_contains(DISCOUNTS_LINK)
        .assert_contains("No discount codes yet")
        .assert_contains("Times are in UTC");

    let spring = code_form("SPRING10", "percentage", "10");
    let spring = with(spring, "usage_limit", "10");
    let spring = with(spring, "starts_at", "2026-12-01T09:00");
    assert_created(&finance.post_form("/admin/discounts", &spring).await);
    let ten_off = code_form("TENOFF", "fixed_amount", "5.00");
    let ten_off = with(ten_off, "currency", "usd");
    let ten_off = with(ten_off, "min_subtotal", "50.00");
    let ten_off = with(ten_off, "per_customer_limit", "1");
    assert_created(&finance.post_form("/admin/discounts", &ten_off).await);
    let free = code_form("SHIPFREE", "free_shipping", "");
    let free = with(free, "active", "false");
    assert_created(&finance.post_form("/admin/discounts", &free).await);

    let list = finance.get("/admin/discounts?done=created").await;
    list.assert_status(200)
        .assert_contains("The code is set up.")
        .assert_contains(">SPRING10</a>")
        .assert_contains("<td>10 %</td>")
        .assert_contains("<td>0 of 10</td>")
        .assert_contains("From 1 Dec 2026 09:00 UTC")
        .assert_contains(">TENOFF</a>")
        .assert_contains("USD 5.00 <span class=\"hint\">on goods of USD 50.00 or more</span>")
        .assert_contains("<td>0 (no limit), 1 per customer</td>")
        .assert_contains(">SHIPFREE</a>")
        .assert_contains("<td>Free shipping</td>")
        .assert_contains("<td>Always</td>")
        .assert_contains("<td>No</td>");

    // What the API holds: minor units, the currency as the API spells it, UTC.
    let token = app.staff_token("finance").await;
    let saved = app
        .get("/api/v1/admin/discounts?limit=10", Some(&token))
        .await;
    let items = saved.body["items"].as_array().expect("codes");
    let find = |code: &str| {
        items
            .iter()
            .find(|d| d["code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} saved"))
    };
    let ten_off = find("TENOFF");
    assert_eq!(ten_off["amount"], 500);
    assert_eq!(ten_off["currency"], "USD");
    assert_eq!(ten_off["min_subtotal"], 5_000);
    assert_eq!(ten_off["percent"], serde_json::Value::Null);
    let spring = find("SPRING10");
    assert_eq!(spring["percent"], 10);
    assert_eq!(spring["usage_limit"], 10);
    assert_eq!(spring["starts_at"], "2026-12-01T09:00:00Z");
    assert_eq!(find("SHIPFREE")["active"], false);
}

pub async fn a_refused_discount_form_tells_each_field_and_keeps_what_was_typed(backend: Backend) {
    let app = open_shop(backend).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;

    // The API's words: a code it cannot take, an amount without its currency.
    let refused = finance
        .post_form(
            "/admin/discounts",
            &code_form("no spaces!", "fixed_amount", "5.00"),
        )
        .await;
    refused
        .assert_status(422)
        .assert_contains("Some fields need another look")
        .assert_contains("<p class=\"error\" id=\"code-error\">3 to 32 letters, digits, - or _</p>")
        .assert_contains(
            "<p class=\"error\" id=\"currency-error\">is required with an amount or a minimum subtotal</p>",
        )
        .assert_contains("<option value=\"fixed_amount\" selected>");
    assert_eq!(refused.input_value("code").as_deref(), Some("no spaces!"));
    assert_eq!(refused.input_value("amount").as_deref(), Some("5.00"));

    // What the page cannot read itself, told before asking.
    let unreadable = code_form("GOOD10", "fixed_amount", "5.005");
    let unreadable = with(unreadable, "currency", "USD");
    let unreadable = with(unreadable, "ends_at", "next friday");
    let unreadable = with(unreadable, "product_ids", "nope");
    let refused = finance.post_form("/admin/discounts", &unreadable).await;
    refused
        .assert_status(422)
        .assert_contains(
            "<p class=\"error\" id=\"amount-error\">must be an amount in USD, like 12.50</p>",
        )
        .assert_contains("id=\"ends_at-error\">must be a date and time in UTC")
        .assert_contains("id=\"product_ids-error\">\u{201c}nope\u{201d} is not a product id</p>")
        .assert_contains(">nope</textarea>");
    assert_eq!(refused.input_value("amount").as_deref(), Some("5.005"));
    assert_eq!(refused.input_value("currency").as_deref(), Some("USD"));
    assert_eq!(refused.input_value("code").as_deref(), Some("GOOD10"));

    // A code spelled as a live one, beside the code.
    assert_created(
        &finance
            .post_form("/admin/discounts", &code_form("TAKEN", "percentage", "5"))
            .await,
    );
    let taken = finance
        .post_form("/admin/discounts", &code_form("TAKEN", "percentage", "7"))
        .await;
    taken
        .assert_status(409)
        .assert_contains("id=\"code-error\">another live code is spelled so; choose another</p>");
    assert_eq!(taken.input_value("percent").as_deref(), Some("7"));
    assert_eq!(codes(&app).await, ["TAKEN"]);
}

pub async fn a_discount_code_edit_saves_and_a_stale_one_is_told_so(backend: Backend) {
    let app = open_shop(backend).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    let form = code_form("TENOFF", "fixed_amount", "10.00");
    let form = with(form, "currency", "USD");
    let form = with(form, "ends_at", "2027-01-01T00:00");
    assert_created(&finance.post_form("/admin/discounts", &form).await);
    let path = code_path(&finance.get("/admin/discounts").await, "TENOFF");

    let page = finance.get(&path).await;
    page.assert_status(200)
        .assert_contains("<h1>Code TENOFF</h1>")
        .assert_contains("Until 1 Jan 2027 00:00 UTC");
    assert_eq!(page.input_value("amount").as_deref(), Some("10.00"));
    assert_eq!(page.input_value("currency").as_deref(), Some("USD"));
    assert_eq!(
        page.input_value("ends_at").as_deref(),
        Some("2027-01-01T00:00")
    );
    let version = page.input_value("version").expect("the version read");

    let edit = with(form.clone(), "amount", "12.50");
    let edit = with(edit, "version", &version);
    let saved = finance.post_form(&path, &edit).await;
    saved.assert_status(303);
    assert_eq!(
        saved.location(),
        Some(format!("{path}?done=saved").as_str())
    );
    let page = finance.get(&format!("{path}?done=saved")).await;
    page.assert_contains("Saved.").assert_contains("USD 12.50");
    let newer = page.input_value("version").expect("the version now saved");
    assert_ne!(newer, version, "the version moves on");

    // A second tab, still on the first version: told, its edit kept, the version now
    // saved in the form.
    let stale = with(form.clone(), "amount", "15.00");
    let stale = with(stale, "version", &version);
    let clash = finance.post_form(&path, &stale).await;
    clash
        .assert_status(412)
        .assert_contains("Someone else saved this code")
        .assert_contains("taking off USD 12.50");
    assert_eq!(clash.input_value("amount").as_deref(), Some("15.00"));
    assert_eq!(
        clash.input_value("version").as_deref(),
        Some(newer.as_str())
    );

    // Saved again against it, and made free shipping: the amount is no longer sent.
    let again = with(form, "kind", "free_shipping");
    let again = with(again, "version", &newer);
    finance.post_form(&path, &again).await.assert_status(303);
    finance
        .get(&path)
        .await
        .assert_contains("<dd>Free shipping, carts in USD only</dd>")
        .assert_contains("<option value=\"free_shipping\" selected>");
}

pub async fn a_deleted_discount_code_leaves_the_list(backend: Backend) {
    let app = open_shop(backend).await;
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    for code in ["KEEPME", "GONE10"] {
        assert_created(
            &finance
                .post_form("/admin/discounts", &code_form(code, "percentage", "10"))
                .await,
        );
    }
    let path = code_path(&finance.get("/admin/discounts").await, "GONE10");
    let gone = finance.post_form(&format!("{path}/delete"), &[]).await;
    gone.assert_status(303);
    assert_eq!(gone.location(), Some("/admin/discounts?done=deleted"));
    finance
        .get("/admin/discounts?done=deleted")
        .await
        .assert_contains("The code is deleted")
        .assert_contains(">KEEPME</a>")
        .assert_lacks("GONE10");
    finance
        .get(&path)
        .await
        .assert_status(404)
        .assert_contains("Not found");
    assert_eq!(codes(&app).await, ["KEEPME"]);
}

/// The codes a list page links to, in its order.
fn listed(list: &Page) -> Vec<String> {
    list.html
        .split("href=\"/admin/discounts/")
        .skip(1)
        .filter_map(|rest| {
            let code = rest.split_once("\">")?.1;
            code.split_once("</a>").map(|(code, _)| code.to_owned())
        })
        .collect()
}

pub async fn the_discount_code_list_pages_by_the_next_cursor(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("finance").await;
    // One more than a page of the list.
    for n in 0..26 {
        app.post(
            "/api/v1/admin/discounts",
            Some(&token),
            json!({"code": format!("PAGED{n:02}"), "kind": "percentage", "percent": 5}),
        )
        .await
        .assert_status(201);
    }
    let finance = Browser::new(&app);
    finance.sign_in_staff("finance").await;
    let first = finance.get("/admin/discounts").await;
    first.assert_status(200).assert_lacks("First page");
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 25, "a page of codes");
    let marker = "href=\"/admin/discounts?cursor=";
    let from = first.html.find(marker).expect("a next page link") + "href=\"".len();
    let to = first.html[from..].find('"').expect("link end") + from;
    assert!(first.html[to..].starts_with("\" rel=\"next\">Next page</a>"));
    let next = first.html[from..to].replace("&amp;", "&");
    let second = finance.get(&next).await;
    second
        .assert_status(200)
        .assert_contains("First page")
        .assert_lacks("rel=\"next\"");
    seen.extend(listed(&second));
    seen.sort();
    let all: Vec<String> = (0..26).map(|n| format!("PAGED{n:02}")).collect();
    assert_eq!(seen, all, "every code once, over the two pages");
}

pub async fn inventory_staff_see_no_discount_codes_link_and_are_refused_the_discount_pages(
    backend: Backend,
) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin
        .get("/admin")
        .await
        .assert_status(200)
        .assert_contains(DISCOUNTS_LINK);
    assert_created(
        &admin
            .post_form(
                "/admin/discounts",
                &code_form("SPRING10", "percentage", "10"),
            )
            .await,
    );
    let path = code_path(&admin.get("/admin/discounts").await, "SPRING10");

    let clerk = Browser::new(&app);
    clerk.sign_in_staff("inventory").await;
    clerk
        .get("/admin")
        .await
        .assert_status(200)
        .assert_lacks(DISCOUNTS_LINK)
        .assert_lacks("Discount codes");
    for page in ["/admin/discounts", path.as_str()] {
        clerk
            .get(page)
            .await
            .assert_status(403)
            .assert_contains("Not allowed for your role")
            .assert_lacks(DISCOUNTS_LINK)
            .assert_lacks("SPRING10");
    }
    clerk
        .post_form(
            "/admin/discounts",
            &code_form("SNEAKY", "percentage", "100"),
        )
        .await
        .assert_status(403)
        .assert_contains("Not allowed for your role");
    clerk
        .post_form(&format!("{path}/delete"), &[])
        .await
        .assert_status(403);
    assert_eq!(codes(&app).await, ["SPRING10"], "nothing added or deleted");
}
