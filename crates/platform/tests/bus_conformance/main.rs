//! One conformance suite for both buses: the embedded log and NATS JetStream must give
//! the same delivery guarantees, so every test runs against each.
//!
//! The JetStream half needs NATS (and PostgreSQL for the outbox/inbox database) at the
//! usual local addresses; it is skipped with a message outside CI when they are down,
//! and fails in CI (`CI=true`).

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use contracts::Envelope;
use contracts::identity::CustomerVerified;
use platform::config::{BusKind, BusSettings};
use platform::events::embedded::EmbeddedBus;
use platform::events::jetstream::JetStreamBus;
use platform::events::outbox::{self, Relay};
use platform::events::{Consumer, Handler, SharedBus, inbox};
use platform::tasks::Tasks;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

struct PlatformTables;

impl MigratorTrait for PlatformTables {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![Box::new(platform::events::migration::CreateOutboxAndInbox)]
    }
}

/// A bus and a service database on one back-end, with everything needed to restart.
struct Harness {
    kind: BusKind,
    settings: BusSettings,
    dir: tempfile::TempDir,
    db_url: String,
}

fn reachable(addr: &str) -> bool {
    addr.to_socket_addrs()
        .map(|mut a| a.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok()))
        .unwrap_or(false)
}

impl Harness {
    fn new(kind: BusKind) -> Option<Self> {
        let tag = Uuid::now_v7().simple().to_string()[20..].to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = BusSettings {
            kind,
            namespace: format!("conf{tag}"),
            max_deliveries: 3,
            retry_base_ms: 50,
            retry_max_ms: 200,
            relay_interval_ms: 100,
            ..BusSettings::default()
        };
        let db_url = match kind {
            BusKind::Embedded => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("service.db").display()
            ),
            BusKind::Nats => {
                if !reachable("127.0.0.1:4222") || !reachable("127.0.0.1:5432") {
                    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                        panic!(
                            "CI=true but NATS (127.0.0.1:4222) or PostgreSQL (127.0.0.1:5432) is unreachable"
                        );
                    }
                    eprintln!("SKIPPED JetStream conformance: NATS or PostgreSQL not reachable");
                    return None;
                }
                format!("postgres://postgres@127.0.0.1:5432/mtest_bus_{tag}")
            }
        };
        Some(Self {
            kind,
            settings,
            dir,
            db_url,
        })
    }

    async fn bus(&self) -> SharedBus {
        match self.kind {
            BusKind::Embedded => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    self.dir.path().join("events.db").display()
                );
                EmbeddedBus::open(&url, self.settings.clone())
                    .await
                    .expect("embedded bus")
            }
            BusKind::Nats => Arc::new(
                JetStreamBus::connect(self.settings.clone())
                    .await
                    .expect("JetStream"),
            ),
        }
    }

    async fn db(&self) -> DatabaseConnection {
        platform::db::connect::<PlatformTables>(&self.db_url, 4)
            .await
            .expect("database")
    }

    async fn cleanup(self) {
        if self.kind == BusKind::Nats {
            if let Ok(bus) = JetStreamBus::connect(self.settings.clone()).await {
                let _ = bus.delete_namespace(&["identity"]).await;
            }
            if let Ok(admin) =
                sea_orm::Database::connect("postgres://postgres@127.0.0.1:5432/postgres").await
            {
                let name = self
                    .db_url
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            }
        }
    }
}

/// Records what it saw; fails the first `fail_first` deliveries of each event.
struct Recorder {
    seen: Mutex<Vec<Uuid>>,
    attempts: AtomicU32,
    fail_first: u32,
}

impl Recorder {
    fn new(fail_first: u32) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            attempts: AtomicU32::new(0),
            fail_first,
        })
    }
    fn seen(&self) -> Vec<Uuid> {
        self.seen.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
        let n = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fail_first {
            anyhow::bail!("failing on purpose (attempt {n})");
        }
        self.seen.lock().expect("lock").push(envelope.id);
        Ok(())
    }
}

fn event() -> Envelope {
    let e = CustomerVerified {
        customer_id: Uuid::now_v7(),
        email: "a@b.co".into(),
    };
    Envelope::wrap(&e, 1, Utc::now(), None).expect("wrap")
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn consumer(name: &str, handler: Arc<dyn Handler>) -> Consumer {
    Consumer {
        name: name.into(),
        filter: "identity.>".into(),
        handler,
    }
}

async fn publishing_twice_delivers_once(h: &Harness) {
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let rec = Recorder::new(0);
    bus.subscribe(consumer("dedupe", rec.clone()), &tasks)
        .await
        .expect("subscribe");
    let e = event();
    bus.publish(&e).await.expect("publish");
    bus.publish(&e).await.expect("publish again");
    let other = event();
    bus.publish(&other).await.expect("publish");
    eventually("both events arrive", || rec.seen().len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rec.seen(),
        vec![e.id, other.id],
        "each event once, in order"
    );
    tasks.abort_all();
}

async fn a_failed_handler_gets_the_event_again(h: &Harness) {
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let rec = Recorder::new(2);
    bus.subscribe(consumer("redeliver", rec.clone()), &tasks)
        .await
        .expect("subscribe");
    let e = event();
    bus.publish(&e).await.expect("publish");
    eventually("the third attempt succeeds", || rec.seen() == vec![e.id]).await;
    assert_eq!(rec.attempts.load(Ordering::SeqCst), 3);
    assert!(bus.dead_letters(10).await.expect("dead letters").is_empty());
    tasks.abort_all();
}

async fn an_event_that_keeps_failing_is_dead_lettered_and_the_consumer_moves_on(h: &Harness) {
    struct FailOn(Uuid, Arc<Recorder>);
    #[async_trait]
    impl Handler for FailOn {
        async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
            if envelope.id == self.0 {
                anyhow::bail!("poison event");
            }
            self.1.handle(envelope).await
        }
    }
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let poison = event();
    let rec = Recorder::new(0);
    bus.subscribe(
        consumer("deadletter", Arc::new(FailOn(poison.id, rec.clone()))),
        &tasks,
    )
    .await
    .expect("subscribe");
    bus.publish(&poison).await.expect("publish");
    let healthy = event();
    bus.publish(&healthy).await.expect("publish");
    eventually("the healthy event is handled", || {
        rec.seen() == vec![healthy.id]
    })
    .await;
    let mut letters = Vec::new();
    for _ in 0..100 {
        letters = bus.dead_letters(10).await.expect("dead letters");
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, poison.id.to_string());
    assert_eq!(letters[0].consumer, "deadletter");
    assert_eq!(letters[0].attempts, h.settings.max_deliveries);
    assert!(letters[0].last_error.contains("poison event"));
    tasks.abort_all();
}

async fn a_durable_consumer_gets_what_was_published_while_it_was_down(h: &Harness) {
    let bus = h.bus().await;
    let first = Tasks::new();
    let rec = Recorder::new(0);
    bus.subscribe(consumer("durable", rec.clone()), &first)
        .await
        .expect("subscribe");
    let (before, next) = (event(), event());
    bus.publish(&before).await.expect("publish");
    bus.publish(&next).await.expect("publish");
    // A consumer acknowledges a batch right after handling it: give it that moment
    // before the "crash", so both count as acknowledged.
    eventually("both events arrive", || {
        rec.seen() == vec![before.id, next.id]
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.abort_all();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let during = event();
    bus.publish(&during).await.expect("publish while down");
    let restarted_bus = h.bus().await;
    let second = Tasks::new();
    let rec2 = Recorder::new(0);
    restarted_bus
        .subscribe(consumer("durable", rec2.clone()), &second)
        .await
        .expect("resubscribe");
    eventually("the missed event arrives", || {
        rec2.seen().contains(&during.id)
    })
    .await;
    assert!(
        !rec2.seen().contains(&before.id) && !rec2.seen().contains(&next.id),
        "an acknowledged event is not delivered again"
    );
    second.abort_all();
}

/// The effect and the inbox claim commit together; the handler then "crashes" before
/// acknowledging, so the bus redelivers, and the inbox turns the redelivery into a no-op.
async fn the_inbox_makes_a_redelivered_event_harmless(h: &Harness) {
    struct Effect {
        db: DatabaseConnection,
        calls: AtomicU32,
    }
    #[async_trait]
    impl Handler for Effect {
        async fn handle(&self, envelope: &Envelope) -> anyhow::Result<()> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            let txn = self.db.begin().await?;
            if inbox::claim(&txn, "effects", envelope.id, Utc::now()).await? {
                // The "effect": an outbox row stands in for any state change.
                let e = CustomerVerified {
                    customer_id: Uuid::now_v7(),
                    email: "effect@b.co".into(),
                };
                outbox::enqueue(&txn, &e, 1, Utc::now()).await?;
                txn.commit().await?;
            }
            if call == 0 {
                anyhow::bail!("crash after commit, before ack");
            }
            Ok(())
        }
    }
    let db = h.db().await;
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let handler = Arc::new(Effect {
        db: db.clone(),
        calls: AtomicU32::new(0),
    });
    bus.subscribe(consumer("inbox", handler.clone()), &tasks)
        .await
        .expect("subscribe");
    bus.publish(&event()).await.expect("publish");
    eventually("the event is delivered twice", || {
        handler.calls.load(Ordering::SeqCst) >= 2
    })
    .await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("count")
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox").await,
        1,
        "the effect happened once"
    );
    assert_eq!(count("SELECT COUNT(*) FROM inbox").await, 1);
    tasks.abort_all();
}

/// An event committed to the outbox while the relay is not running (a crash right after
/// the commit) is published when a relay starts again.
async fn an_outbox_event_committed_before_a_crash_is_delivered_after_restart(h: &Harness) {
    let db = h.db().await;
    let e = CustomerVerified {
        customer_id: Uuid::now_v7(),
        email: "crash@b.co".into(),
    };
    let txn = db.begin().await.expect("begin");
    let envelope = outbox::enqueue(&txn, &e, 1, Utc::now())
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    drop(db); // the "crash": nothing published, the process is gone

    let db = h.db().await;
    let bus = h.bus().await;
    let tasks = Tasks::new();
    let rec = Recorder::new(0);
    bus.subscribe(consumer("after-crash", rec.clone()), &tasks)
        .await
        .expect("subscribe");
    let relay = Relay::new(db.clone(), bus.clone(), Duration::from_millis(100));
    relay.spawn(&tasks, "relay");
    eventually("the committed event arrives", || {
        rec.seen() == vec![envelope.id]
    })
    .await;
    // The relay removes the row after the bus took the event, so a consumer can see the
    // event a moment before the row is gone.
    let outbox_rows = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM outbox",
            ))
            .await
            .expect("q")
            .expect("row");
        row.try_get_by_index::<i64>(0).expect("count")
    };
    let mut left = outbox_rows().await;
    for _ in 0..300 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = outbox_rows().await;
    }
    assert_eq!(left, 0, "published rows leave the outbox");
    tasks.abort_all();
}

mod batches;
mod dead_letters;

macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = super::Harness::new(platform::config::BusKind::Embedded).expect("embedded always runs");
                    super::$module::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
        mod jetstream {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(h) = super::Harness::new(platform::config::BusKind::Nats) else { return };
                    super::$module::$name(&h).await;
                    h.cleanup().await;
                }
            )*
        }
    };
}

/// The tests in this file, for the macro.
mod delivery {
    pub(crate) use super::{
        a_durable_consumer_gets_what_was_published_while_it_was_down,
        a_failed_handler_gets_the_event_again,
        an_event_that_keeps_failing_is_dead_lettered_and_the_consumer_moves_on,
        an_outbox_event_committed_before_a_crash_is_delivered_after_restart,
        publishing_twice_delivers_once, the_inbox_makes_a_redelivered_event_harmless,
    };
}

conformance!(
    delivery::publishing_twice_delivers_once,
    delivery::a_failed_handler_gets_the_event_again,
    delivery::an_event_that_keeps_failing_is_dead_lettered_and_the_consumer_moves_on,
    delivery::a_durable_consumer_gets_what_was_published_while_it_was_down,
    delivery::the_inbox_makes_a_redelivered_event_harmless,
    delivery::an_outbox_event_committed_before_a_crash_is_delivered_after_restart,
    batches::many_aggregates_arrive_once_each_and_in_order_per_aggregate,
    batches::one_failing_event_in_a_batch_is_dead_lettered_alone,
    batches::a_failed_publish_then_a_relay_restart_delivers_once_in_order,
    dead_letters::a_dead_letter_is_replayed_to_its_consumer_or_discarded_for_good,
);

mod sweeps;
