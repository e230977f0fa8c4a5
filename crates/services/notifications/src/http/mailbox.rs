//! `GET /api/v1/dev/mailbox`: the mails the shop "sent" while the dev mailbox is on.
//! Development aid only; it does not exist when mail goes out over SMTP, and it answers
//! clients on this machine only: its mails hold verification codes and password reset
//! links, so reading it from elsewhere would take over any account.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use platform::error::ApiResult;
use platform::http::{ApiQuery, LocalClient};
use platform::page::{Page, paginate};
use platform::service::ServiceContext;
use platform::validate::parse_email;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::store;

pub(super) fn router() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new().routes(routes!(list_mailbox))
}

/// A delivered mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxMail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailboxQuery {
    /// Only mail to this address.
    #[param(schema_with = platform::schema::email_or_null)]
    pub to: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Mails the shop has sent, newest first. Only while the dev mailbox is on, and only to
/// clients on the shop's own machine; anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/dev/mailbox", tag = "development", params(MailboxQuery),
    responses((status = 200, body = Page<MailboxMail>), (status = 404, description = "Not a client on this machine", body = platform::error::Problem),
              (status = 422, body = platform::error::Problem)))]
async fn list_mailbox(
    _local: LocalClient,
    State(ctx): State<ServiceContext>,
    ApiQuery(q): ApiQuery<MailboxQuery>,
) -> ApiResult<Json<Page<MailboxMail>>> {
    let page = platform::page::PageParams {
        cursor: q.cursor,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let to =
        q.to.as_deref()
            .map(parse_email)
            .transpose()
            .map_err(|m| platform::ApiError::field("to", m))?;
    let rows = store::mailbox(&ctx.db, to.as_deref(), page.position::<Uuid>()?, limit + 1).await?;
    Ok(Json(paginate(
        rows,
        limit,
        |m| m.id,
        |m| MailboxMail {
            id: m.id,
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            sent_at: m.sent_at,
        },
    )))
}
