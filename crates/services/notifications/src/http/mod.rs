//! Notifications' HTTP surface: the dev mailbox, when it is on.

mod mailbox;

use platform::service::ServiceContext;
use utoipa_axum::router::OpenApiRouter;

pub(crate) fn router(ctx: ServiceContext, dev_mailbox: bool) -> OpenApiRouter {
    if dev_mailbox {
        mailbox::router().with_state(ctx)
    } else {
        OpenApiRouter::new()
    }
}
