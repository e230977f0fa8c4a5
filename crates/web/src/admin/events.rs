//! Events given up on (dead letters), for admins: what failed, where and why, and the
//! two things to do about it once the cause is fixed: hand the event back to its
//! consumer, or drop it.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{AdminLayout, DoneQuery, failure, sign_in_first};
use crate::WebState;
use crate::pages::render_status;
use crate::session::StaffMember;

const HERE: &str = "/admin/events";

#[derive(Deserialize)]
struct ApiLetter {
    id: String,
    consumer: String,
    event_type: String,
    attempts: u32,
    last_error: String,
    dead_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Deserialize)]
pub(super) struct ApiLetters {
    pub total: u64,
    items: Vec<ApiLetter>,
}

pub struct Letter {
    pub id: String,
    pub consumer: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: String,
    pub dead_at: String,
}

#[derive(Template)]
#[template(path = "admin/events.html")]
struct EventsPage {
    layout: AdminLayout,
    notice: Option<&'static str>,
    total: u64,
    letters: Vec<Letter>,
}

pub(super) async fn list(
    State(web): State<WebState>,
    staff: StaffMember,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    let notice = query.ok().and_then(|Query(q)| match q.done.as_str() {
        "replayed" => Some("The event is handed back to its consumer."),
        "discarded" => Some("The event is discarded."),
        "gone" => Some("That event was already replayed or discarded."),
        _ => None,
    });
    let answer: ApiLetters = match web
        .api
        .get(&staff.caller, "/api/v1/admin/events/dead-letters?limit=100")
        .await
    {
        Ok(answer) => answer,
        Err(p) => return failure(&web, &staff, HERE, &p),
    };
    render_status(
        StatusCode::OK,
        &EventsPage {
            layout: AdminLayout::new(&web, &staff, "events"),
            notice,
            total: answer.total,
            letters: answer
                .items
                .into_iter()
                .map(|l| Letter {
                    id: l.id,
                    consumer: l.consumer,
                    event_type: l.event_type,
                    attempts: l.attempts,
                    last_error: l.last_error,
                    dead_at: l.dead_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                })
                .collect(),
        },
    )
}

pub(super) async fn replay(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    act(&web, &staff, &id, "replay", "replayed").await
}

pub(super) async fn discard(
    State(web): State<WebState>,
    staff: StaffMember,
    Path(id): Path<String>,
) -> Response {
    act(&web, &staff, &id, "discard", "discarded").await
}

async fn act(web: &WebState, staff: &StaffMember, id: &str, verb: &str, done: &str) -> Response {
    if !staff.signed_in() {
        return sign_in_first(HERE);
    }
    // A dead letter's id is letters, digits and dashes; anything else names nothing
    // and must not reach the API's path.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Redirect::to(&format!("{HERE}?done=gone")).into_response();
    }
    let path = format!("/api/v1/admin/events/dead-letters/{id}/{verb}");
    match web
        .api
        .call(&staff.caller, Method::POST, &path, &json!({}))
        .await
    {
        Ok(()) => Redirect::to(&format!("{HERE}?done={done}")).into_response(),
        // Someone else acted on it first: the list as it is now says so.
        Err(p) if p.status == 404 => Redirect::to(&format!("{HERE}?done=gone")).into_response(),
        Err(p) => failure(web, staff, HERE, &p),
    }
}

/// How many events wait in dead letters, for the home page: admins only (the API
/// refuses other roles), and nothing rather than a broken page if it cannot be read.
pub(super) async fn waiting(web: &WebState, staff: &StaffMember) -> Option<u64> {
    if staff.role.map(|r| r.as_str()) != Some("admin") {
        return None;
    }
    web.api
        .get::<ApiLetters>(&staff.caller, "/api/v1/admin/events/dead-letters?limit=1")
        .await
        .ok()
        .map(|a| a.total)
}
