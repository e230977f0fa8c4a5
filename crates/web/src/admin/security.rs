//! A staff member's own sign-in security: setting up an authenticator app (a QR code
//! drawn here, the secret to type instead, ten recovery codes shown once, confirmed by a
//! first code), and removing it. Where the shop requires a second factor, a member
//! without one lands here and nowhere else until it is set up.

use askama::Template;
use axum::Form as Posted;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminLayout, DoneQuery, failure, sign_in_first};
use crate::WebState;
use crate::api::FieldError;
use crate::pages::render_status;
use crate::session::{self, StaffMember};
use crate::view::Form;

const HERE: &str = "/admin/security";

#[derive(Deserialize)]
struct ApiStatus {
    enabled: bool,
    required: bool,
    recovery_codes_left: u64,
}

#[derive(Deserialize)]
struct ApiEnrolment {
    secret: String,
    otpauth_uri: String,
    recovery_codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/security.html")]
struct SecurityPage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    enabled: bool,
    required: bool,
    codes_left: u64,
    form: Form,
}

#[derive(Template)]
#[template(path = "admin/security_setup.html")]
struct SetupPage {
    layout: AdminLayout,
    /// The QR code as an SVG drawn here from the `otpauth://` URI: no text of anyone's
    /// goes into it, only its squares.
    qr_svg: String,
    secret: String,
    /// The secret in groups of four, for typing.
    secret_grouped: String,
    recovery_codes: Vec<String>,
    recovery_joined: String,
    uri: String,
    form: Form,
}

pub(super) async fn page(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let notice = query.ok().and_then(|Query(q)| match q.done.as_str() {
        "required" => Some(
            "This shop requires staff to sign in with a second factor: set up an authenticator app to go on.",
        ),
        "enabled" => Some("Done: from your next sign-in on, the dashboard asks for a code."),
        "removed" => Some("The authenticator app is removed: your password alone signs you in."),
        _ => None,
    });
    show(&web, &staff, notice, Form::default(), StatusCode::OK).await
}

async fn show(
    web: &WebState,
    staff: &StaffMember,
    notice: Option<&'static str>,
    form: Form,
    status: StatusCode,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let current: ApiStatus = match web.api.get(&staff.caller, "/api/v1/staff/me/totp").await {
        Ok(current) => current,
        Err(p) => return failure(web, staff, HERE, &p),
    };
    render_status(
        status,
        &SecurityPage {
            layout: AdminLayout::new(web, staff, "security"),
            notice,
            enabled: current.enabled,
            required: current.required,
            codes_left: current.recovery_codes_left,
            form,
        },
    )
}

/// The QR code of `uri`, as SVG markup to put in the page.
fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // The XML declaration belongs to a file, not to markup inside a page.
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The set-up page, never kept by a cache: it holds the secret and the codes.
fn setup(
    web: &WebState,
    staff: &StaffMember,
    enrolment: ApiEnrolment,
    form: Form,
    status: StatusCode,
) -> Response {
    let Some(qr_svg) = qr_svg(&enrolment.otpauth_uri) else {
        return failure(
            web,
            staff,
            HERE,
            &crate::api::Problem::unreachable("no QR code"),
        );
    };
    let mut res = render_status(
        status,
        &SetupPage {
            layout: AdminLayout::new(web, staff, "security"),
            qr_svg,
            secret_grouped: grouped(&enrolment.secret),
            recovery_joined: enrolment.recovery_codes.join(" "),
            secret: enrolment.secret,
            recovery_codes: enrolment.recovery_codes,
            uri: enrolment.otpauth_uri,
            form,
        },
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// Starts setting up an app: the API makes the secret and the codes.
pub(super) async fn start(State(web): State<WebState>, staff: StaffMember) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let answer = web
        .api
        .post::<_, ApiEnrolment>(&staff.caller, "/api/v1/staff/me/totp", &json!({}))
        .await;
    match answer {
        Ok(enrolment) => setup(&web, &staff, enrolment, Form::default(), StatusCode::OK),
        Err(p) if p.status == 409 => Redirect::to(HERE).into_response(),
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    code: String,
    /// The set-up being confirmed, carried by the form so a mistyped code can be tried
    /// again on the same page (the API shows the secret only once).
    #[serde(default)]
    secret: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    recovery: String,
}

/// Confirms the set-up with the app's first code, and renews the session so a member
/// held to enrolment is let through at once.
pub(super) async fn confirm(
    State(web): State<WebState>,
    staff: StaffMember,
    headers: HeaderMap,
    Posted(f): Posted<ConfirmForm>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let answer: Result<Value, _> = web
        .api
        .request(
            &staff.caller,
            Method::POST,
            "/api/v1/staff/me/totp/confirm",
            Some(&json!({"code": f.code.trim()})),
            &[],
        )
        .await;
    match answer {
        Ok(_) => {
            let (_, jar) = session::renewed(&web, session::STAFF, &headers, &staff.caller).await;
            let mut res = Redirect::to(&format!("{HERE}?done=enabled")).into_response();
            jar.apply(&mut res);
            res
        }
        // A mistyped code (403 `totp_invalid`) or one not six digits (422).
        Err(p) if matches!(p.status, 403 | 422) && f.uri.starts_with("otpauth://") => {
            let enrolment = ApiEnrolment {
                secret: f.secret,
                otpauth_uri: f.uri,
                recovery_codes: f.recovery.split_whitespace().map(str::to_owned).collect(),
            };
            let form = Form {
                problem: Some("That code did not match. Type the code the app shows now.".into()),
                errors: vec![FieldError {
                    field: "code".into(),
                    message: "is not the code the app shows now".into(),
                }],
            };
            setup(
                &web,
                &staff,
                enrolment,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        // Nothing pending (confirmed in another tab, or started again there).
        Err(p) if matches!(p.status, 409 | 422) => Redirect::to(HERE).into_response(),
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    code: String,
}

/// Removes the app, proven by its current code or a recovery code.
pub(super) async fn remove(
    State(web): State<WebState>,
    staff: StaffMember,
    Posted(f): Posted<RemoveForm>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let body = proof(&f.code);
    let answer: Result<Value, _> = web
        .api
        .request(
            &staff.caller,
            Method::DELETE,
            "/api/v1/staff/me/totp",
            Some(&body),
            &[],
        )
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("{HERE}?done=removed")).into_response(),
        Err(p) if matches!(p.status, 403 | 409 | 422 | 429) => {
            let mut form = Form::refused(&p);
            form.errors = vec![FieldError {
                field: "code".into(),
                message: p
                    .errors
                    .first()
                    .map_or_else(|| p.detail.clone(), |e| e.message.clone()),
            }];
            // A wrong code is a field to correct on this page, whatever the API called it.
            let status = match p.status {
                403 => StatusCode::UNPROCESSABLE_ENTITY,
                other => StatusCode::from_u16(other).unwrap_or(StatusCode::BAD_REQUEST),
            };
            show(&web, &staff, None, form, status).await
        }
        Err(p) => failure(&web, &staff, HERE, &p),
    }
}

/// A typed code as the API takes it: six digits are the app's code, anything else a
/// recovery code.
pub(super) fn proof(code: &str) -> Value {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        json!({"totp_code": code})
    } else {
        json!({"recovery_code": code})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_markup_without_a_file_header() {
        let svg = qr_svg("otpauth://totp/Mercato:ana@shop.test?secret=ABC").expect("drawn");
        assert!(svg.starts_with("<svg"), "{svg:.60}");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn six_digits_are_a_code_and_the_rest_a_recovery_code() {
        assert_eq!(proof(" 123456 "), json!({"totp_code": "123456"}));
        assert_eq!(
            proof("k7d2m-q9x4p"),
            json!({"recovery_code": "k7d2m-q9x4p"})
        );
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
