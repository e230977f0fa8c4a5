//! The staff dashboard at `/admin`: staff sign in with their own session (cookies
//! scoped to `/admin`, ending with the browser), and work the shop through the same
//! public API as every client, with their own token. A page offers only the actions the
//! member's role allows; the API decides, and a refusal is a clear page, never a crash.

mod audit;
mod banners;
mod categories;
mod customers;
mod discount_form;
mod discounts;
mod events;
mod home;
mod order_list;
mod orders;
mod product_form;
mod product_images;
mod products;
mod reviews;
mod security;
mod shipping;
mod shipping_quote;
mod shipping_rate_form;
mod shipping_rates;
mod sign_in;
mod staff;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::WebState;
use crate::api::Problem;
use crate::assets;
use crate::pages::{busy_or_broken, render_status, retry_after};
use crate::session::StaffMember;

/// `upload_limit`: the largest upload form, the media API's own limit.
pub(crate) fn router(upload_limit: usize) -> Router<WebState> {
    // The two upload forms take a file's worth of body; every other form the kernel's
    // small JSON-sized limit.
    let uploads = Router::new()
        .route(
            "/admin/products/{id}/images",
            get(product_images::page).post(product_images::upload),
        )
        .route("/admin/banners", get(banners::list).post(banners::create))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .merge(uploads)
        .route(
            "/admin/products/{id}/images/{image_id}",
            post(product_images::change),
        )
        .route("/admin/banners/{id}", post(banners::save))
        .route("/admin/banners/{id}/delete", post(banners::delete))
        .route("/admin", get(home::page))
        .route("/admin/login", get(sign_in::form).post(sign_in::login))
        .route("/admin/logout", post(sign_in::logout))
        .route("/admin/security", get(security::page))
        .route("/admin/security/totp", post(security::start))
        .route("/admin/security/totp/confirm", post(security::confirm))
        .route("/admin/security/totp/remove", post(security::remove))
        .route("/admin/orders", get(order_list::list))
        .route("/admin/orders/{id}", get(orders::detail))
        .route("/admin/orders/{id}/status", post(orders::set_status))
        .route("/admin/orders/{id}/refund", post(orders::refund))
        .route(
            "/admin/products",
            get(products::list).post(products::create),
        )
        .route("/admin/products/new", get(products::new_form))
        .route(
            "/admin/products/{id}",
            get(products::detail).post(products::save),
        )
        .route("/admin/products/{id}/stock", post(products::stock))
        .route("/admin/products/{id}/archive", post(products::archive))
        .route(
            "/admin/categories",
            get(categories::list).post(categories::create),
        )
        .route(
            "/admin/categories/{id}",
            get(categories::detail).post(categories::save),
        )
        .route("/admin/categories/{id}/delete", post(categories::delete))
        .route("/admin/customers", get(customers::list))
        .route("/admin/customers/{id}", get(customers::detail))
        .route("/admin/reviews", get(reviews::list))
        .route("/admin/reviews/{id}", post(reviews::moderate))
        .route(
            "/admin/shipping",
            get(shipping::list).post(shipping::create_zone),
        )
        .route(
            "/admin/shipping/zones/{id}",
            get(shipping::zone).post(shipping::save_zone),
        )
        .route(
            "/admin/shipping/zones/{id}/delete",
            post(shipping::delete_zone),
        )
        .route(
            "/admin/shipping/zones/{id}/rates",
            post(shipping_rates::create),
        )
        .route(
            "/admin/shipping/zones/{id}/rates/{rate_id}",
            get(shipping_rates::detail).post(shipping_rates::save),
        )
        .route(
            "/admin/shipping/zones/{id}/rates/{rate_id}/delete",
            post(shipping_rates::delete),
        )
        .route(
            "/admin/discounts",
            get(discounts::list).post(discounts::create),
        )
        .route(
            "/admin/discounts/{id}",
            get(discounts::detail).post(discounts::save),
        )
        .route("/admin/discounts/{id}/delete", post(discounts::delete))
        .route("/admin/audit", get(audit::page))
        .route("/admin/events", get(events::list))
        .route("/admin/events/{id}/replay", post(events::replay))
        .route("/admin/events/{id}/discard", post(events::discard))
        .route("/admin/staff", get(staff::list).post(staff::create))
        .route("/admin/staff/{id}", get(staff::detail))
        .route("/admin/staff/{id}/role", post(staff::set_role))
        .route("/admin/staff/{id}/password", post(staff::reset_password))
        .route("/admin/staff/{id}/disable", post(staff::disable))
}

/// The frame of every dashboard page.
pub struct AdminLayout {
    pub shop: String,
    pub css: String,
    pub htmx: String,
    pub signed_in: bool,
    /// The member's role, as the header shows it.
    pub role: String,
    /// The section the page belongs to, marked in the navigation.
    pub section: &'static str,
}

impl AdminLayout {
    pub fn new(web: &WebState, staff: &StaffMember, section: &'static str) -> Self {
        Self {
            shop: web.shop.to_string(),
            css: assets::css_url(),
            htmx: assets::htmx_url(),
            signed_in: staff.signed_in(),
            role: staff
                .role
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            section,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/status.html")]
struct StatusPage {
    layout: AdminLayout,
    title: String,
    message: String,
}

fn status_page(
    web: &WebState,
    staff: &StaffMember,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    render_status(
        status,
        &StatusPage {
            layout: AdminLayout::new(web, staff, ""),
            title: title.to_owned(),
            message: message.to_owned(),
        },
    )
}

/// What became of an action (`?done=…`), for the notice on the page after it.
#[derive(serde::Deserialize)]
pub(super) struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// To the sign-in page, and back to `here` after.
fn sign_in_first(here: &str) -> Response {
    let next = crate::view::form_urlencoded(here);
    Redirect::to(&format!("/admin/login?next={next}")).into_response()
}

/// A page for an API answer the page cannot work with: the session ended (sign in
/// again), the role does not allow it, nothing there, busy, or broken.
fn failure(web: &WebState, staff: &StaffMember, here: &str, p: &Problem) -> Response {
    let (status, title, message) = match p.status {
        401 => return sign_in_first(here),
        403 if p.code == "two_factor_required" => {
            return Redirect::to("/admin/security?done=required").into_response();
        }
        403 => (
            StatusCode::FORBIDDEN,
            "Not allowed for your role",
            "Your role does not allow this. An admin can change your role, or do it for you.",
        ),
        404 => (
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing at this address. It may have been removed, or the link may be mistyped.",
        ),
        _ => busy_or_broken(p),
    };
    let mut res = status_page(web, staff, status, title, message);
    retry_after(&mut res, p);
    res
}

/// An amount as staff type it in major units ("12.50", "12"), in minor units; `None`
/// when left empty (everything still refundable).
pub(crate) fn parse_amount(text: &str, currency: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let decimals = contracts::money::decimals(currency);
    let wrong = || {
        if decimals == 0 {
            format!("must be a whole amount in {currency}, like 15000")
        } else {
            format!("must be an amount in {currency}, like 12.50")
        }
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) {
        return Err(wrong());
    }
    if fraction.len() > decimals as usize || (text.contains('.') && fraction.is_empty()) {
        return Err(wrong());
    }
    let scale = 10_i64.pow(decimals);
    let whole: i64 = whole.parse().map_err(|_| wrong())?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<width$}", width = decimals as usize)
            .parse()
            .map_err(|_| wrong())?
    };
    let minor = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(wrong)?;
    if minor == 0 {
        return Err("must be more than nothing".into());
    }
    Ok(Some(minor))
}

/// What the dashboard page `here` shows for the path's `id`, read from `api(id)`: the
/// sign-in page without a session, the not-found page for an id that is no UUID (the
/// API is not asked), the failure page for the API's refusal.
async fn load_by_id<T: serde::de::DeserializeOwned>(
    web: &WebState,
    staff: &StaffMember,
    here: &str,
    id: &str,
    api: impl FnOnce(uuid::Uuid) -> String,
) -> Result<T, Response> {
    if !staff.signed_in() {
        return Err(sign_in_first(here));
    }
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(not_found(web, staff));
    };
    web.api
        .get(&staff.caller, &api(id))
        .await
        .map_err(|p| failure(web, staff, here, &p))
}

/// The dashboard's page for an address that names nothing.
fn not_found(web: &WebState, staff: &StaffMember) -> Response {
    refused_as(web, staff, 404)
}

/// The dashboard's page for a member whose role does not allow what they asked for,
/// when the page knows it without asking the API.
fn forbidden(web: &WebState, staff: &StaffMember) -> Response {
    refused_as(web, staff, 403)
}

fn refused_as(web: &WebState, staff: &StaffMember, status: u16) -> Response {
    let refusal = Problem {
        status,
        code: String::new(),
        detail: String::new(),
        errors: Vec::new(),
        retry_after: None,
    };
    failure(web, staff, "/admin", &refusal)
}

/// Where a sign-in may send the member back to: a dashboard page, nothing else.
fn safe_next(next: &str) -> String {
    let ok = (next == "/admin" || next.starts_with("/admin/"))
        && !next.contains("//")
        && !next.contains('\\');
    if ok { next.to_owned() } else { "/admin".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_major_units() {
        assert_eq!(parse_amount("12.50", "USD"), Ok(Some(1_250)));
        assert_eq!(parse_amount(" 12 ", "USD"), Ok(Some(1_200)));
        assert_eq!(parse_amount("0.5", "USD"), Ok(Some(50)));
        assert_eq!(parse_amount("", "USD"), Ok(None));
        assert_eq!(parse_amount("1500", "JPY"), Ok(Some(1_500)));
        for wrong in [
            "12.505",
            "-1",
            "1e3",
            "12.",
            ".5",
            "abc",
            "99999999999999999999",
        ] {
            assert!(parse_amount(wrong, "USD").is_err(), "{wrong}");
        }
        assert!(parse_amount("1.5", "JPY").is_err());
        assert!(parse_amount("0.00", "USD").is_err());
    }

    #[test]
    fn a_sign_in_returns_only_to_a_dashboard_page() {
        assert_eq!(safe_next("/admin/orders/1"), "/admin/orders/1");
        for elsewhere in [
            "https://evil.test/admin",
            "//evil.test",
            "/account",
            "/admin//x",
            "/adminx",
        ] {
            assert_eq!(safe_next(elsewhere), "/admin", "{elsewhere}");
        }
    }
}
