//! Sessions in the browser: two cookies holding the token pair the API issued at
//! sign-in, both httpOnly (no script reads them), SameSite=Strict (no other site's
//! request carries them) and Secure. A customer's pair is scoped to the whole site; a
//! staff member's ([`STAFF`]) to `/admin` and to the browser's life, so the two never
//! replace each other in one browser.
//!
//! The access token lives 15 minutes. A middleware renews it before a page calls the
//! API when it has expired (or is about to), by spending the refresh token as any API
//! client would, and sends the new cookies with the page. A refresh the API refuses
//! (revoked, reused, expired; for staff also disabled or given another role) ends the
//! session: the cookies are cleared.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use contracts::claims::AccessClaims;
use serde::Deserialize;

use crate::WebState;
use crate::api::Caller;

/// Which session a cookie pair holds.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    access: &'static str,
    refresh: &'static str,
    /// Whether the session outlives the browser (customers who asked to be remembered).
    remember: &'static str,
    path: &'static str,
    /// Where the API renews this kind of session.
    renew_at: &'static str,
}

/// A customer's session, for every page.
pub const CUSTOMER: Kind = Kind {
    access: ACCESS,
    refresh: REFRESH,
    remember: "mercato_web_remember",
    path: "/",
    renew_at: "/api/v1/auth/refresh",
};

/// A staff member's session, for the dashboard's pages only.
pub const STAFF: Kind = Kind {
    access: "mercato_staff_access",
    refresh: "mercato_staff_refresh",
    remember: "mercato_staff_remember",
    path: "/admin",
    renew_at: "/api/v1/staff/auth/refresh",
};

/// The customer's access token.
pub const ACCESS: &str = "mercato_web_access";
/// The customer's refresh token.
pub const REFRESH: &str = "mercato_web_refresh";
/// Renew this many seconds before the access token expires, so no call races it.
const RENEW_EARLY_SECS: i64 = 30;

/// The token pair the API answers a sign-in or refresh with.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// The visitor as the pages see them: the caller to make API calls as, and whether
/// they are signed in.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub caller: Caller,
    pub signed_in: bool,
}

/// Cookie changes a handler asks for (sign-in, sign-out), applied to its response.
#[derive(Clone, Debug, Default)]
pub struct CookieJar {
    set: Vec<HeaderValue>,
}

impl CookieJar {
    /// Keeps `tokens` as the `kind` session; `remember` keeps it across browser restarts.
    pub fn sign_in(&mut self, kind: Kind, tokens: &Tokens, remember: bool, web: &WebState) {
        let days = web.remember_days;
        let age = remember.then(|| i64::try_from(days * 86_400).unwrap_or(i64::MAX));
        let secure = web.secure_cookies;
        self.set
            .extend(cookie(kind, kind.access, &tokens.access_token, age, secure));
        self.set.extend(cookie(
            kind,
            kind.refresh,
            &tokens.refresh_token,
            age,
            secure,
        ));
        // Whether to remember is kept with the session, so renewals keep the choice.
        let flag = if remember { "1" } else { "0" };
        self.set
            .extend(cookie(kind, kind.remember, flag, age, secure));
    }

    pub fn sign_out(&mut self, kind: Kind, secure: bool) {
        for name in [kind.access, kind.refresh, kind.remember] {
            self.set.extend(cookie(kind, name, "", Some(0), secure));
        }
    }

    pub fn apply(self, res: &mut Response) {
        for value in self.set {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

fn cookie(
    kind: Kind,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut c = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Strict",
        kind.path
    );
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={}", age.max(0)));
    }
    HeaderValue::from_str(&c).ok()
}

/// The value of cookie `name` in the request.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty()).then_some(v)
        })
}

/// A JWT's claims, read without checking the signature: the API checks it; this only
/// decides whether to renew first, and which actions a page offers.
pub fn claims_of(token: &str) -> Option<AccessClaims> {
    serde_json::from_slice(&payload(token)?).ok()
}

/// Seconds until a JWT's `exp`.
fn seconds_left(token: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Exp {
        exp: i64,
    }
    let exp: Exp = serde_json::from_slice(&payload(token)?).ok()?;
    Some(exp.exp - Utc::now().timestamp())
}

fn payload(token: &str) -> Option<Vec<u8>> {
    let payload = token.split('.').nth(1)?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
}

/// A caller with no session, from this machine: for a handler run without the session
/// middleware.
fn nobody() -> Caller {
    Caller {
        token: None,
        peer: SocketAddr::from(([127, 0, 0, 1], 0)),
        forwarded_for: None,
    }
}

/// The caller a request makes API calls as, before its session is known.
fn anonymous(req: &Request) -> Caller {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |c| c.0);
    Caller {
        token: None,
        peer,
        forwarded_for: req.headers().get("x-forwarded-for").cloned(),
    }
}

/// The `kind` session's access token, renewed first when it is due; the cookie changes
/// that go on the response.
pub async fn current(
    web: &WebState,
    kind: Kind,
    headers: &HeaderMap,
    caller: &Caller,
) -> (Option<String>, CookieJar) {
    renew(web, kind, headers, caller, false).await
}

/// The `kind` session renewed now, whatever its access token's age: for a page after
/// which the token's claims are out of date (a second factor just enrolled).
pub async fn renewed(
    web: &WebState,
    kind: Kind,
    headers: &HeaderMap,
    caller: &Caller,
) -> (Option<String>, CookieJar) {
    renew(web, kind, headers, caller, true).await
}

async fn renew(
    web: &WebState,
    kind: Kind,
    headers: &HeaderMap,
    caller: &Caller,
    now: bool,
) -> (Option<String>, CookieJar) {
    let access = read_cookie(headers, kind.access).map(str::to_owned);
    let refresh = read_cookie(headers, kind.refresh).map(str::to_owned);
    let remember = read_cookie(headers, kind.remember) == Some("1");
    let mut jar = CookieJar::default();
    let due = now
        || access
            .as_deref()
            .is_none_or(|t| seconds_left(t).is_none_or(|left| left < RENEW_EARLY_SECS));
    let token = match (access, refresh) {
        (Some(access), _) if !due => Some(access),
        (_, Some(refresh)) => {
            let body = serde_json::json!({"refresh_token": refresh});
            match web
                .api
                .post::<_, Tokens>(caller, kind.renew_at, &body)
                .await
            {
                Ok(tokens) => {
                    jar.sign_in(kind, &tokens, remember, web);
                    Some(tokens.access_token)
                }
                Err(p) if p.is(401) => {
                    jar.sign_out(kind, web.secure_cookies);
                    None
                }
                // The API is unreachable: keep the cookies for the next page.
                Err(_) => None,
            }
        }
        (Some(_), None) => {
            jar.sign_out(kind, web.secure_cookies);
            None
        }
        (None, None) => None,
    };
    (token, jar)
}

/// Works out the visitor (renewing their access token if it is due) and puts a
/// [`Visitor`] in the request for the handlers; cookie changes go on the response.
pub async fn middleware(State(web): State<WebState>, mut req: Request, next: Next) -> Response {
    let caller = anonymous(&req);
    let (token, jar) = current(&web, CUSTOMER, req.headers(), &caller).await;
    let visitor = Visitor {
        signed_in: token.is_some(),
        caller: caller.with_token(token),
    };
    req.extensions_mut().insert(visitor);
    let mut res = next.run(req).await;
    jar.apply(&mut res);
    res
}

/// The staff member's session for the dashboard's pages, as [`middleware`] does the
/// customer's.
pub async fn staff_middleware(
    State(web): State<WebState>,
    mut req: Request,
    next: Next,
) -> Response {
    let caller = anonymous(&req);
    let (token, jar) = current(&web, STAFF, req.headers(), &caller).await;
    let claims = token.as_deref().and_then(claims_of);
    let enrolling = claims.as_ref().is_some_and(|c| c.enrolling);
    let member = StaffMember {
        role: claims.and_then(|c| c.role),
        caller: caller.with_token(token),
    };
    // A member the shop requires a second factor of, who has none yet, may only set
    // one up or sign out: every other page sends them to set it up (the API would
    // refuse each of its calls anyway).
    let path = req.uri().path();
    let open = path.starts_with("/admin/security") || path == "/admin/logout";
    let mut res = if enrolling && !open {
        Redirect::to("/admin/security?done=required").into_response()
    } else {
        req.extensions_mut().insert(member);
        next.run(req).await
    };
    jar.apply(&mut res);
    res
}

/// A staff member as the dashboard sees them; `role` is `None` when not signed in.
#[derive(Clone, Debug)]
pub struct StaffMember {
    pub caller: Caller,
    pub role: Option<contracts::claims::StaffRole>,
}

impl StaffMember {
    pub fn signed_in(&self) -> bool {
        self.role.is_some()
    }

    /// Whether the API would let this member act where `role` is asked for (pages
    /// offer only those actions; the API decides).
    pub fn may(&self, role: contracts::claims::StaffRole) -> bool {
        self.role.is_some_and(|mine| mine.satisfies(role))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for StaffMember {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<StaffMember>()
            .cloned()
            .unwrap_or(StaffMember {
                caller: nobody(),
                role: None,
            }))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or(Visitor {
                caller: nobody(),
                signed_in: false,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mercato_web_access=tok; mercato_web_accessx=no"),
        );
        assert_eq!(read_cookie(&h, ACCESS), Some("tok"));
        assert_eq!(read_cookie(&h, REFRESH), None);
    }

    #[test]
    fn an_expiry_is_read_from_the_token_without_its_signature() {
        let exp = Utc::now().timestamp() + 600;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp}}}"));
        let left = seconds_left(&format!("h.{payload}.s")).expect("readable");
        assert!((590..=600).contains(&left));
        assert_eq!(seconds_left("garbage"), None);
    }
}
