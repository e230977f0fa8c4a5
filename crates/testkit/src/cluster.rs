//! The distributed topology on this machine: every service as processes of its own
//! (several replicas each) on PostgreSQL, NATS JetStream and Redis, media on a directory
//! the replicas share, and Debian's nginx in front with the project's own configuration
//! (`deploy/nginx/mercato.conf`), as Compose runs it. Clients talk to nginx only. The
//! cluster has a NATS server of its own, so a test can stop it without disturbing the
//! suites running beside it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use futures::future::join_all;

use crate::backend::Backend;
use crate::process::{ProcessTag, ShopProcess, backend_env, free_port};
use crate::shop_client::{ShopClient, StaffDesk};

/// Where Debian's package puts nginx.
pub const NGINX: &str = "/usr/sbin/nginx";
/// How long nginx leaves out a replica it could not connect to (`fail_timeout`, as in
/// `deploy/nginx/upstreams.conf`).
const UPSTREAM_FAIL_TIMEOUT: Duration = Duration::from_secs(5);
/// Where Debian's package puts the NATS server.
pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// Every kind of process, named as nginx's upstreams are.
pub const KINDS: [&str; 8] = [
    "identity",
    "catalog",
    "media",
    "shipping",
    "orders",
    "payments",
    "notifications",
    "web",
];

/// One process of one kind.
pub struct Replica {
    pub kind: &'static str,
    pub port: u16,
    env: Vec<(String, String)>,
    process: ShopProcess,
}

/// A running cluster; dereferences to a client of its entry point.
pub struct Cluster {
    shop: ShopClient,
    bin: String,
    data: PathBuf,
    pub replicas: Vec<Replica>,
    nginx: Child,
    nats: Nats,
    /// nginx's files: configuration, logs (`access.log` names the upstream of each
    /// request), temporary files.
    pub nginx_dir: PathBuf,
    _dir: tempfile::TempDir,
    tag: ProcessTag,
}

/// Whether this machine can run a cluster: nginx and the NATS server installed, and
/// PostgreSQL, NATS and Redis answering.
pub fn available() -> bool {
    Path::new(NGINX).exists()
        && Path::new(NATS_SERVER).exists()
        && crate::distributed_backends_available()
}

impl Cluster {
    /// Starts `replicas` processes of every kind from `bin`, and nginx in front; returns
    /// once every process is ready and nginx answers.
    pub async fn start(bin: &str, replicas: usize) -> Self {
        let tag = ProcessTag::new(Backend::Distributed);
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        let nginx_dir = dir.path().join("nginx");
        std::fs::create_dir_all(&data).expect("data dir");
        let (public, internal) = (free_port(), free_port());
        let base = format!("http://127.0.0.1:{public}");
        // The processes call each other through nginx's internal port, as in Compose.
        let inside = format!("http://127.0.0.1:{internal}");
        let plan: Vec<(&'static str, u16)> = KINDS
            .iter()
            .flat_map(|kind| (0..replicas).map(move |_| (*kind, free_port())))
            .collect();

        let nats = Nats::start(dir.path().join("nats")).await;
        let mut env = backend_env(Backend::Distributed, &tag.tag);
        env.retain(|(name, _)| name != "MERCATO_BUS__NATS_URL");
        env.extend([
            ("MERCATO_BUS__NATS_URL".into(), nats.url()),
            ("MERCATO_HTTP__PUBLIC_URL".into(), base.clone()),
            ("MERCATO_HTTP__TRUST_FORWARDED_FOR".into(), "true".into()),
            // As in Compose: on SIGTERM, 5 s of `Connection: close` before the listener
            // closes, longer than nginx keeps an idle upstream connection.
            ("MERCATO_HTTP__SHUTDOWN_DELAY_MS".into(), "5000".into()),
            // As in the Kubernetes base: fourteen service processes must fit the
            // server's max_connections (100 here) with room for the test's own reads;
            // at the default 10 each, a busy moment ran PostgreSQL out of connections.
            ("MERCATO_DATABASE__MAX_CONNECTIONS".into(), "5".into()),
        ]);
        let key = platform::auth::SigningKey::generate()
            .expect("a signing key")
            .to_pem();
        let webhook_secret = format!("whsec-cluster-{}-{}", tag.tag, crate::unique("s"));
        let env_of = |kind: &str| {
            let mut env = env.clone();
            match kind {
                "identity" => env.push(("MERCATO_AUTH__SIGNING_KEY".into(), key.clone())),
                "payments" => env.push((
                    "MERCATO_PAYMENTS__WEBHOOK_SECRET".into(),
                    webhook_secret.clone(),
                )),
                "orders" => env.push(("MERCATO_SERVICES__SHIPPING_URL".into(), inside.clone())),
                "web" => env.push(("MERCATO_SERVICES__API_URL".into(), inside.clone())),
                // Mail stays on this machine, readable through nginx from loopback.
                "notifications" => env.push(("MERCATO_MAIL__DEV_MAILBOX".into(), "true".into())),
                _ => {}
            }
            if kind != "identity" {
                let jwks = format!("{inside}/.well-known/jwks.json");
                env.push(("MERCATO_AUTH__JWKS_URL".into(), jwks));
            }
            env
        };

        // Migrations once, before any replica starts (two replicas migrating one
        // database at once would race), as the Compose file and the Kubernetes Job do.
        let migrate = Command::new(bin)
            .args(["migrate", "--data-dir"])
            .arg(&data)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .status()
            .expect("mercato migrate runs");
        assert!(migrate.success(), "migrations failed");

        write_nginx_files(&nginx_dir, public, internal, &plan);
        let nginx = Command::new(NGINX)
            .args(["-e"])
            .arg(nginx_dir.join("error.log"))
            .args(["-p"])
            .arg(&nginx_dir)
            .args(["-c"])
            .arg(nginx_dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx starts");

        let started = join_all(plan.iter().map(|(kind, port)| {
            let (env, data) = (env_of(kind), data.clone());
            async move {
                let process =
                    ShopProcess::start_services(bin, &data, *port, &env, Some(kind)).await;
                Replica {
                    kind,
                    port: *port,
                    env,
                    process,
                }
            }
        }))
        .await;

        let staff = StaffDesk::Command {
            bin: bin.to_owned(),
            data_dir: data.clone(),
            env,
        };
        let cluster = Self {
            shop: ShopClient::new(base, staff),
            bin: bin.to_owned(),
            data,
            replicas: started,
            nginx,
            nats,
            nginx_dir,
            _dir: dir,
            tag,
        };
        cluster.wait_for_nginx().await;
        cluster
    }

    async fn wait_for_nginx(&self) {
        for _ in 0..100 {
            if let Ok(res) = self.client.get(self.url("/healthz")).send().await
                && res.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nginx did not answer: {}", self.nginx_errors());
    }

    /// What nginx logged as errors (why a request got a 502, say).
    pub fn nginx_errors(&self) -> String {
        std::fs::read_to_string(self.nginx_dir.join("error.log")).unwrap_or_default()
    }

    /// The upstream addresses nginx sent requests for `path_prefix` to, from its log.
    pub fn upstreams_of(&self, path_prefix: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.nginx_dir.join("access.log")).unwrap_or_default();
        log.lines()
            .filter(|l| {
                l.split('"')
                    .nth(1)
                    .and_then(|request| request.split(' ').nth(1))
                    .is_some_and(|path| path.starts_with(path_prefix))
            })
            .filter_map(|l| l.split('"').nth(3).map(str::to_owned))
            .collect()
    }

    /// Restarts the `nth` replica of every kind at once, as a rolling update does (the
    /// other replicas of each kind keep serving): SIGTERM, and once the process has
    /// exited a new one in its place. Returns the old processes' exit statuses once
    /// every new one is ready and nginx sends it requests again.
    pub async fn restart_round(&mut self, nth: usize) -> Vec<(&'static str, ExitStatus)> {
        let (bin, data) = (self.bin.clone(), self.data.clone());
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        let picked: Vec<&mut Replica> = self
            .replicas
            .iter_mut()
            .filter(|r| {
                let n = seen.entry(r.kind).or_default();
                *n += 1;
                *n == nth + 1
            })
            .collect();
        let statuses = join_all(picked.into_iter().map(|r| restart(r, &bin, &data))).await;
        // nginx marked the old process failed when its listener closed, and sends the new
        // one nothing until `fail_timeout` has passed: restarting the other replica
        // before then would leave none. (Kubernetes' `minReadySeconds` is this wait.)
        tokio::time::sleep(UPSTREAM_FAIL_TIMEOUT + Duration::from_secs(1)).await;
        statuses
    }

    /// Kills replica `index` with SIGKILL, as a crash would, and starts a new process
    /// in its place; returns once the new one is ready.
    pub async fn crash_and_restart(&mut self, index: usize) {
        let replica = &mut self.replicas[index];
        replica.process.crash();
        replica.start_again(&self.bin, &self.data).await;
    }

    /// What `mercato events dead-letters` prints for the cluster's bus.
    pub fn dead_letters(&self) -> String {
        let out = Command::new(&self.bin)
            .args(["events", "dead-letters", "--data-dir"])
            .arg(&self.data)
            .envs(self.replicas[0].env.iter().cloned())
            .output()
            .expect("mercato events dead-letters runs");
        assert!(out.status.success(), "dead-letters failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Rows waiting in the outboxes of every service's database.
    pub async fn outbox_rows(&self) -> i64 {
        let mut rows = 0;
        for service in KINDS.iter().filter(|k| **k != "web") {
            let url = format!(
                "{}/mtest_{}_{service}",
                crate::backend::postgres_url(),
                self.tag.tag
            );
            let db = sea_orm::Database::connect(&url)
                .await
                .expect("a service database");
            rows += crate::outbox_rows_in(&db).await;
            let _ = db.close().await;
        }
        rows
    }

    /// Stops the cluster's NATS server (SIGTERM, as an operator's restart does) and
    /// returns once it has exited.
    pub async fn stop_bus(&mut self) {
        self.nats.stop().await;
    }

    /// Starts the NATS server again, on its port and its store (streams, consumers and
    /// their positions as they were); returns once it accepts connections.
    pub async fn start_bus(&mut self) {
        self.nats.start_again().await;
    }

    /// What a process of `kind` reports at `/metrics`, asked directly (not through nginx).
    pub async fn metrics_of(&self, kind: &str) -> String {
        let replica = self.of(kind).next().expect("a replica of that kind");
        let res = self
            .client
            .get(replica.process.url("/metrics"))
            .send()
            .await
            .expect("/metrics answers");
        res.text().await.expect("metrics text")
    }

    /// The replicas of `kind`.
    pub fn of(&self, kind: &str) -> impl Iterator<Item = &Replica> {
        self.replicas.iter().filter(move |r| r.kind == kind)
    }
}

impl Replica {
    pub fn process(&self) -> &ShopProcess {
        &self.process
    }

    /// A new process in place of the one that ended: same kind, port and settings.
    async fn start_again(&mut self, bin: &str, data: &Path) {
        self.process =
            ShopProcess::start_services(bin, data, self.port, &self.env, Some(self.kind)).await;
    }
}

async fn restart(replica: &mut Replica, bin: &str, data: &Path) -> (&'static str, ExitStatus) {
    replica.process.terminate();
    let status = replica
        .process
        .exited(Duration::from_secs(60))
        .await
        .unwrap_or_else(|| panic!("{} did not exit after SIGTERM", replica.kind));
    replica.start_again(bin, data).await;
    (replica.kind, status)
}

impl std::ops::Deref for Cluster {
    type Target = ShopClient;

    fn deref(&self) -> &ShopClient {
        &self.shop
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

/// A NATS server with JetStream on a port and a store directory of its own.
struct Nats {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl Nats {
    async fn start(store: PathBuf) -> Self {
        let mut nats = Self {
            port: free_port(),
            store,
            child: None,
        };
        nats.start_again().await;
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn start_again(&mut self) {
        assert!(self.child.is_none(), "NATS is already running");
        let child = Command::new(NATS_SERVER)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let address = format!("127.0.0.1:{}", self.port);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not listen on {address}");
    }

    async fn stop(&mut self) {
        let mut child = self.child.take().expect("NATS is running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM reached nats-server");
        for _ in 0..200 {
            if child.try_wait().expect("wait").is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// nginx's main file, the upstreams (one line per replica), and a copy of the project's
/// `mercato.conf` with only its ports and log path changed: each change is checked, so
/// the copy cannot silently drift from what Compose runs.
fn write_nginx_files(dir: &Path, public: u16, internal: u16, plan: &[(&str, u16)]) {
    for sub in [
        "tmp/body",
        "tmp/proxy",
        "tmp/fastcgi",
        "tmp/uwsgi",
        "tmp/scgi",
    ] {
        std::fs::create_dir_all(dir.join(sub)).expect("nginx dirs");
    }
    let d = dir.display();
    let conf = include_str!("../../../deploy/nginx/mercato.conf");
    let mut routes = conf.to_owned();
    for (from, to) in [
        (
            "    listen 8080;\n".to_owned(),
            format!("    listen 127.0.0.1:{public};\n"),
        ),
        (
            "    listen 8081;\n".to_owned(),
            format!("    listen 127.0.0.1:{internal};\n"),
        ),
        (r#""~^8081\|"#.to_owned(), format!(r#""~^{internal}\|"#)),
        (
            "access_log /var/log/nginx/access.log mercato;".to_owned(),
            format!("access_log {d}/access.log mercato;"),
        ),
    ] {
        assert!(
            routes.contains(&from),
            "mercato.conf no longer has {from:?}"
        );
        routes = routes.replace(&from, &to);
    }
    std::fs::write(dir.join("mercato.conf"), routes).expect("mercato.conf");

    let mut upstreams = String::new();
    for kind in KINDS.iter().copied().chain(["any"]) {
        upstreams.push_str(&format!("upstream {kind} {{\n"));
        // `any`: every API process (any of them serves the OpenAPI document and /docs).
        let members = plan
            .iter()
            .filter(|(k, _)| *k == kind || (kind == "any" && *k != "web"));
        for (_, port) in members {
            upstreams.push_str(&format!(
                "    server 127.0.0.1:{port} max_fails=1 fail_timeout={}s;\n",
                UPSTREAM_FAIL_TIMEOUT.as_secs()
            ));
        }
        upstreams.push_str("    keepalive 16;\n    keepalive_timeout 4s;\n}\n");
    }
    std::fs::write(dir.join("upstreams.conf"), upstreams).expect("upstreams.conf");

    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let user = if root { "user root;\n" } else { "" };
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n{user}\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         client_body_temp_path {d}/tmp/body;\nproxy_temp_path {d}/tmp/proxy;\n\
         fastcgi_temp_path {d}/tmp/fastcgi;\nuwsgi_temp_path {d}/tmp/uwsgi;\nscgi_temp_path {d}/tmp/scgi;\n\
         include {d}/upstreams.conf;\ninclude {d}/mercato.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).expect("nginx.conf");
}
