//! The HTTP kernel as every process serves it: health, readiness, metrics and the API
//! documentation, on both back-ends.

use testkit::{Backend, TestApp};

async fn healthz_and_readyz_answer_with_every_dependency_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/healthz", None).await.assert_status(200);
    let ready = app.get("/readyz", None).await;
    ready.assert_status(200);
    assert_eq!(ready.body["status"], "ready");
    let checks = ready.body["checks"].as_object().expect("checks");
    for name in [
        "bus",
        "identity.database",
        "notifications.database",
        "catalog.database",
        "media.database",
        "media.storage",
        "shipping.database",
        "payments.database",
        "orders.database",
    ] {
        assert_eq!(checks[name], "ok", "{name} in {checks:?}");
    }
    if backend == Backend::Distributed {
        assert_eq!(checks["redis"], "ok");
    }
}

async fn metrics_count_requests_in_prometheus_format(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/me", None).await.assert_status(401);
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("body");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/me\""),
        "requests are labelled by route, not raw path"
    );
}

async fn the_openapi_document_describes_every_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get("/api/v1/openapi.json", None).await;
    doc.assert_status(200);
    assert!(
        doc.body["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/resend-verification",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/password/forgot",
        "/api/v1/auth/password/reset",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/addresses",
        "/api/v1/me/addresses/{id}",
        "/api/v1/staff/auth/login",
        "/api/v1/staff/auth/refresh",
        "/api/v1/staff/auth/logout",
        "/api/v1/staff",
        "/api/v1/staff/{id}",
        "/api/v1/staff/audit-log",
        "/api/v1/admin/customers",
        "/api/v1/admin/customers/{id}",
        "/api/v1/admin/events/dead-letters",
        "/api/v1/admin/events/dead-letters/{id}/replay",
        "/api/v1/admin/events/dead-letters/{id}/discard",
        "/.well-known/jwks.json",
        "/api/v1/dev/mailbox",
        "/api/v1/categories",
        "/api/v1/categories/{id}",
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/products/{id}/stock",
        "/api/v1/catalog/audit-log",
        "/api/v1/catalog/stock-summary",
        "/api/v1/products/{id}/reviews",
        "/api/v1/products/{id}/reviews/{review_id}",
        "/api/v1/admin/reviews",
        "/api/v1/admin/reviews/{review_id}",
        "/api/v1/products/{id}/images",
        "/api/v1/products/{id}/images/{image_id}",
        "/api/v1/products/{id}/images/order",
        "/api/v1/banners",
        "/api/v1/banners/{id}",
        "/media/{image_id}/{file}",
        "/api/v1/shipping/quote",
        "/api/v1/shipping/areas",
        "/api/v1/admin/shipping/zones",
        "/api/v1/admin/shipping/zones/{id}",
        "/api/v1/admin/shipping/rates",
        "/api/v1/admin/shipping/rates/{id}",
        "/api/v1/admin/shipping/audit-log",
        "/api/v1/cart",
        "/api/v1/cart/items",
        "/api/v1/cart/items/{product_id}",
        "/api/v1/cart/discount",
        "/api/v1/wishlist",
        "/api/v1/wishlist/items/{product_id}",
        "/api/v1/checkout",
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/cancel",
        "/api/v1/admin/orders",
        "/api/v1/admin/orders/{id}/status",
        "/api/v1/admin/orders/audit-log",
        "/api/v1/admin/discounts",
        "/api/v1/admin/discounts/{id}",
        "/api/v1/payments/{id}",
        "/api/v1/payments/{id}/sandbox/pay",
        "/api/v1/payments/webhooks/{provider}",
        "/api/v1/admin/payments",
        "/api/v1/admin/payments/{id}/refund",
        "/api/v1/admin/payments/audit-log",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(
        doc.body["components"]["schemas"]["Problem"].is_object(),
        "errors are documented"
    );
}

async fn the_docs_page_loads_its_assets_from_this_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.client.get(app.url("/docs")).send().await.expect("docs");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    for asset in [
        "/docs/assets/swagger-ui.css",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/init.js",
    ] {
        assert!(html.contains(asset), "the page links {asset}");
        let res = app.client.get(app.url(asset)).send().await.expect("asset");
        assert_eq!(res.status(), 200, "{asset}");
        assert!(
            res.bytes().await.expect("bytes").len() > 50,
            "{asset} has content"
        );
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
}

testkit::backend_tests!(
    healthz_and_readyz_answer_with_every_dependency_up,
    metrics_count_requests_in_prometheus_format,
    the_openapi_document_describes_every_route,
    the_docs_page_loads_its_assets_from_this_server,
);
