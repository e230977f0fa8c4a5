//! A unit of work: one write transaction that changes a service's state together with
//! what must change with it (the events it emits into the outbox, the audit entry of a
//! staff action, the inbox claim of the event it handles), and that wakes the outbox
//! relay once it commits with events in it.
//!
//! Every use case that writes goes through one, so none can forget to wake the relay
//! (its events would then wait for the relay's interval) or wake it before the commit
//! (the relay would find nothing and sleep again).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use contracts::{Envelope, Event};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::auth::StaffAuth;
use crate::db::WriteTxn;
use crate::events::{inbox, outbox};
use crate::service::ServiceContext;

/// An open unit of work. Use it as the transaction it derefs to; dropping it without
/// [`UnitOfWork::commit`] rolls everything back, events included.
pub struct UnitOfWork {
    txn: WriteTxn,
    now: DateTime<Utc>,
    /// The relay to wake after the commit; `None` where no relay runs yet (seeding).
    relay: Option<Arc<Notify>>,
    emitted: AtomicBool,
}

impl ServiceContext {
    /// Begins a unit of work on the service's database, at the service clock's now.
    pub async fn begin(&self) -> Result<UnitOfWork, DbErr> {
        UnitOfWork::begin(&self.db, self.clock.now(), Some(self.relay.waker())).await
    }
}

impl UnitOfWork {
    /// Begins a unit of work on `db` (see [`crate::db::begin_write`]) whose records are
    /// stamped `now`; `relay` is woken after a commit that emitted events.
    pub async fn begin(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        relay: Option<Arc<Notify>>,
    ) -> Result<Self, DbErr> {
        Ok(Self {
            txn: crate::db::begin_write(db).await?,
            now,
            relay,
            emitted: AtomicBool::new(false),
        })
    }

    /// The moment the unit stands for: every row and event it writes carries it.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Writes `event` about an aggregate now at `aggregate_version` to the outbox; it is
    /// published once the unit commits, and never if it does not.
    pub async fn emit<E: Event>(
        &self,
        event: &E,
        aggregate_version: i64,
    ) -> Result<Envelope, DbErr> {
        let envelope = outbox::enqueue(&self.txn, event, aggregate_version, self.now).await?;
        self.emitted.store(true, Ordering::Relaxed);
        Ok(envelope)
    }

    /// Records the staff action `action` on `target_kind`/`target_id` in the service's
    /// audit trail, as part of the action itself.
    pub async fn audit(
        &self,
        actor: &StaffAuth,
        client_ip: IpAddr,
        action: &str,
        target_kind: &str,
        target_id: impl ToString,
        details: serde_json::Value,
    ) -> Result<(), DbErr> {
        crate::audit::record(
            &self.txn,
            actor,
            action,
            target_kind,
            target_id,
            details,
            client_ip,
            self.now,
        )
        .await
    }

    /// Claims `event_id` for `consumer` (see [`inbox::claim`]). `false` means it was
    /// handled already: drop the unit and acknowledge.
    pub async fn claim(&self, consumer: &str, event_id: Uuid) -> Result<bool, DbErr> {
        inbox::claim(&self.txn, consumer, event_id, self.now).await
    }

    /// Commits, then wakes the relay if the unit emitted events.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if self.emitted.load(Ordering::Relaxed)
            && let Some(relay) = &self.relay
        {
            relay.notify_one();
        }
        Ok(())
    }

    /// Rolls back everything the unit wrote.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for UnitOfWork {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for UnitOfWork {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}
