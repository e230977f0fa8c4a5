//! The OpenAPI document's frame: title, version and the bearer security scheme. The
//! paths come from the handlers themselves (`#[utoipa::path]`, registered with
//! `routes!`), so the document cannot drift from the routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Mercato API", description = "Mercato's public HTTP API. Errors are RFC 9457 problem+json; lists are cursor-paginated; money is in minor units."),
    modifiers(&BearerAuth),
    tags(
        (name = "identity", description = "Customer accounts, sessions and addresses"),
        (name = "staff", description = "Staff accounts, sessions and the audit trail"),
        (name = "catalog", description = "Categories, products, stock and search"),
        (name = "reviews", description = "Product reviews by verified buyers, and their moderation"),
        (name = "media", description = "Product images, banners and the image files"),
        (name = "shipping", description = "Shipping zones, rates and quotes"),
        (name = "orders", description = "Cart, wishlist, checkout and orders"),
        (name = "payments", description = "Payments, provider webhooks and refunds"),
        (name = "operations", description = "The event bus as operators see it: dead letters to replay or discard"),
        (name = "development", description = "Aids available only in development setups"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
