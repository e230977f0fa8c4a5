//! The home page, listings and product pages.

use std::time::Duration;

use testkit::Backend;
use testkit::pages::{Browser, Page};

use crate::{product_on_home, shop};

/// Pages show what catalog's events have reached its read side; give them a moment.
async fn until(browser: &Browser<'_>, path: &str, text: &str) -> Page {
    for _ in 0..300 {
        let page = browser.get(path).await;
        if page.status == 200 && page.html.contains(text) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.get(path).await;
    page.assert_contains(text);
    page
}

pub async fn the_home_page_shows_the_categories_marked_for_it_with_their_products(
    backend: Backend,
) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let empty = browser.get("/").await;
    empty
        .assert_status(200)
        .assert_contains("The shop has no products on show yet");
    let (_, slug, category) = product_on_home(&app, "Blue Mug", 12).await;

    let home = until(&browser, "/", "Blue Mug").await;

    home.assert_contains(&format!("href=\"/products/{slug}\""))
        .assert_contains(&format!("href=\"/categories/{category}\""))
        .assert_contains("USD 12.50")
        .assert_contains("<main id=\"main\"")
        .assert_contains("role=\"search\"");
    assert_eq!(
        home.headers["content-type"].to_str().expect("ascii"),
        "text/html; charset=utf-8"
    );
    let csp = home.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

pub async fn a_product_page_shows_price_stock_measures_and_search_engine_data(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let (_, slug, _) = product_on_home(&app, "Serving Platter", 3).await;

    let page = until(&browser, &format!("/products/{slug}"), "Serving Platter").await;

    page.assert_contains("<h1 id=\"product-name\">Serving Platter</h1>")
        .assert_contains("USD 12.50")
        .assert_contains("Only 3 left")
        .assert_contains("1.25 kg")
        .assert_contains("30 × 20 × 4.5 cm")
        .assert_contains("No reviews yet")
        .assert_contains(&format!(
            "<link rel=\"canonical\" href=\"http://shop.test/products/{slug}\">"
        ))
        .assert_contains("<meta property=\"og:title\" content=\"Serving Platter\">")
        .assert_contains("\"@type\":\"Product\"")
        .assert_contains("\"priceCurrency\":\"USD\"")
        .assert_contains("\"price\":\"12.50\"");
}

pub async fn a_product_named_like_a_script_shows_as_text_on_every_page(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let name = "<script>alert(1)</script> & \"quotes\"";
    let (_, slug, category) = product_on_home(&app, name, 12).await;
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";

    let home = until(&browser, "/", "alert(1)").await;
    let product = browser.get(&format!("/products/{slug}")).await;
    let listing = until(&browser, &format!("/categories/{category}"), "alert(1)").await;
    let search = until(&browser, "/search?q=alert", "alert(1)").await;

    for page in [&home, &product, &listing, &search] {
        page.assert_status(200);
        assert!(
            !page.html.contains("<script>alert(1)"),
            "unescaped: {:.3000}",
            page.html
        );
        let shown = page.html.contains(escaped)
            || page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        assert!(shown, "the name is shown as text: {:.3000}", page.html);
    }
    // In the search-engine data it is a JSON string that cannot end the script element.
    product.assert_contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e");
}

pub async fn listings_search_filter_and_explain_bad_filters_beside_them(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let (_, _, category) = product_on_home(&app, "Teapot Deluxe", 2).await;
    product_on_home(&app, "Sold-out Teapot", 0).await;

    let found = until(&browser, "/search?q=teapot", "Teapot Deluxe").await;
    found
        .assert_contains("Sold-out Teapot")
        .assert_contains("Results for “teapot”");
    let in_stock = browser.get("/search?q=teapot&in_stock=true").await;
    in_stock.assert_status(200).assert_contains("Teapot Deluxe");
    assert!(
        !in_stock.html.contains("Sold-out Teapot"),
        "{:.2000}",
        in_stock.html
    );
    let cheap = browser.get("/search?q=teapot&max_price=5").await;
    cheap
        .assert_status(200)
        .assert_contains("No products match");
    let by_category = until(
        &browser,
        &format!("/categories/{category}"),
        "Teapot Deluxe",
    )
    .await;
    by_category.assert_status(200);

    let bad = browser.get("/search?q=teapot&min_price=cheap").await;

    bad.assert_status(200)
        .assert_contains("aria-invalid=\"true\" aria-describedby=\"min_price-error\"")
        .assert_contains("id=\"min_price-error\">must be an amount like 12 or 12.50</p>");
}

pub async fn unknown_pages_and_products_get_the_not_found_page(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    for path in [
        "/no/such/page",
        "/products/no-such-product",
        "/categories/nothing",
    ] {
        let page = browser.get(path).await;
        page.assert_status(404).assert_contains("Page not found");
        assert!(
            page.headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html"),
            "{path}"
        );
    }
    // The API keeps its own answers.
    let api = browser.get("/api/v1/nothing").await;
    api.assert_status(404);
    assert!(
        api.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/problem+json")
    );
}

pub async fn assets_are_immutable_and_compressed(backend: Backend) {
    let app = shop(backend).await;
    let browser = Browser::new(&app);
    let home = browser.get("/").await;
    let css = home
        .html
        .split("href=\"/assets/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a stylesheet link");

    let res = app
        .client
        .get(app.url(&format!("/assets/{css}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("asset");

    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let missing = app
        .client
        .get(app.url("/assets/shop.000000000000.css"))
        .send()
        .await
        .expect("asset");
    assert_eq!(missing.status(), 404);
}
