//! What a service is given to run, and what it hands back to be composed into a process.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::TokenVerifier;
use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::events::SharedBus;
use crate::events::outbox::Relay;
use crate::http::Probe;
use crate::ratelimit::RateLimiter;
use crate::tasks::Tasks;

/// Which way the services are deployed; decides defaults such as the dev mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Every service in one process on embedded back-ends.
    SingleProcess,
    /// One service (or a few) per process on shared infrastructure.
    Distributed,
}

/// Everything a service needs from its process.
#[derive(Clone)]
pub struct ServiceContext {
    pub name: &'static str,
    pub settings: Arc<Settings>,
    pub topology: Topology,
    /// The service's own database, migrated.
    pub db: DatabaseConnection,
    pub bus: SharedBus,
    /// The service's outbox relay; a [`crate::unit::UnitOfWork`] wakes it when it commits
    /// events.
    pub relay: Relay,
    pub clock: Arc<dyn Clock>,
    pub limiter: RateLimiter,
    /// Read cache for public answers, already scoped to the service.
    pub cache: Cache,
    pub verifier: Arc<TokenVerifier>,
    pub tasks: Tasks,
}

impl ServiceContext {
    /// Starts the service's outbox relay, unless this process leaves relaying to others
    /// (`bus.relay_enabled`).
    pub fn start_relay(&self) {
        if self.settings.bus.relay_enabled {
            self.relay.spawn(&self.tasks, "outbox-relay");
        }
    }
}

/// A started service: its routes (with their OpenAPI declarations) and readiness checks.
pub struct ServiceParts {
    pub router: OpenApiRouter,
    pub probes: Vec<Probe>,
}

/// Lets the kernel's extractors (tokens, the client address) read a service's router
/// state, which must keep its [`ServiceContext`] in a field named `ctx`.
#[macro_export]
macro_rules! service_state {
    ($state:ty) => {
        impl ::axum::extract::FromRef<$state> for ::std::sync::Arc<$crate::auth::TokenVerifier> {
            fn from_ref(s: &$state) -> Self {
                s.ctx.verifier.clone()
            }
        }

        impl ::axum::extract::FromRef<$state> for $crate::http::TrustForwardedFor {
            fn from_ref(s: &$state) -> Self {
                $crate::http::TrustForwardedFor(s.ctx.settings.http.trust_forwarded_for)
            }
        }
    };
}
