//! Test plumbing: start a real Mercato on a random port with fresh databases, on either
//! back-end, and talk to it over HTTP the way a client does.
//!
//! Every black-box suite runs twice, through [`backend_tests!`]: on the embedded
//! back-ends (SQLite, the embedded event log, in-memory limits) and on the distributed
//! ones (PostgreSQL, NATS JetStream, Redis). When the distributed services are not
//! reachable, a run outside CI skips that half and says so; a run in CI (`CI=true`)
//! fails loudly instead.

mod backend;
pub mod browser;
mod client;
pub mod cluster;
pub mod images;
pub mod pages;
pub mod process;
pub mod service;
pub mod shop;
mod shop_client;
pub mod smtp;

pub use backend::{Backend, distributed_backends_available};
pub use client::{MailMessage, TestApp, TestResponse, drop_distributed_resources, outbox_rows_in};
pub use shop_client::{STAFF_PASSWORD, ShopClient, StaffDesk};

/// Runs `fut` to completion on a runtime of its own, in a thread of its own: for
/// cleanups in `Drop`, which cannot await and may run inside another runtime.
pub(crate) fn block_on_own_thread<F>(fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(fut);
        }
    })
    .join();
}

/// The code an authenticator app holding `secret` (base32) shows `steps_from_now`
/// thirty-second steps from now.
pub fn totp_code(secret: &str, steps_from_now: i64) -> String {
    let key = identity::totp::from_base32(secret).expect("a base32 secret");
    let step = chrono::Utc::now()
        .timestamp()
        .div_euclid(identity::totp::STEP_SECS);
    format!(
        "{:06}",
        identity::totp::code_at(&key, step + steps_from_now)
    )
}

/// A short random suffix, for emails and names no other test uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..10])
}

/// Declares `embedded` and `distributed` test modules that run each listed
/// `async fn name(backend: Backend)` on both back-ends.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Embedded).await
                }
            )*
        }
        mod distributed {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::distributed_backends_available() {
                        super::$name($crate::Backend::Distributed).await
                    }
                }
            )*
        }
    };
}
