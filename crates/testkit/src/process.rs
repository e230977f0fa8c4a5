//! The `mercato` binary as an operator runs it: a real process on a port of its own,
//! for tests of what only a process shows (signals, crashes, its memory).
//!
//! The binary's path comes from the caller (`env!("CARGO_BIN_EXE_mercato")` in the
//! mercato crate's own tests), since only that crate's tests know it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::backend::{self, Backend};

/// Environment that points a process at `backend`, with databases and subjects of its
/// own (named by `tag`).
pub fn backend_env(backend: Backend, tag: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("MERCATO_LOG__FILTER".into(), "warn".into()),
        ("MERCATO_BUS__RELAY_INTERVAL_MS".into(), "200".into()),
    ];
    if backend == Backend::Distributed {
        env.extend([
            (
                "MERCATO_DATABASE__URL".into(),
                format!("{}/mtest_{tag}_{{service}}", backend::postgres_url()),
            ),
            ("MERCATO_BUS__KIND".into(), "nats".into()),
            ("MERCATO_BUS__NATS_URL".into(), backend::nats_url()),
            ("MERCATO_BUS__NAMESPACE".into(), format!("mtest{tag}")),
            ("MERCATO_REDIS_URL".into(), backend::redis_url()),
        ]);
    }
    env
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Makes a staff member with `mercato admin create-staff`, as an operator does before
/// the first start. Panics with the command's output when it fails.
pub fn create_staff(
    bin: &str,
    data_dir: &Path,
    env: &[(String, String)],
    email: &str,
    role: &str,
    password: &str,
) {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args([
            "admin",
            "create-staff",
            "--email",
            email,
            "--name",
            "Staff",
            "--role",
            role,
            "--password-stdin",
            "--data-dir",
        ])
        .arg(data_dir)
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("create-staff runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password written");
    let out = child.wait_with_output().expect("finished");
    assert!(
        out.status.success(),
        "create-staff failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A test's tag for process databases and streams, and their removal when it drops.
pub struct ProcessTag {
    pub tag: String,
    backend: Backend,
}

impl ProcessTag {
    pub fn new(backend: Backend) -> Self {
        Self {
            tag: Uuid::now_v7().simple().to_string()[20..].to_owned(),
            backend,
        }
    }
}

impl Drop for ProcessTag {
    fn drop(&mut self) {
        if self.backend == Backend::Distributed {
            crate::drop_distributed_resources(&self.tag, &format!("mtest{}", self.tag));
        }
    }
}

/// A running `mercato serve`.
pub struct ShopProcess {
    child: Child,
    pub base: String,
}

impl ShopProcess {
    /// Starts `bin serve` on `port` with `data_dir`, and waits until it is ready.
    pub async fn start(bin: &str, data_dir: &Path, port: u16, env: &[(String, String)]) -> Self {
        Self::start_services(bin, data_dir, port, env, None).await
    }

    /// Starts `bin serve --services <services>` (every service when `None`) and waits
    /// until it is ready.
    pub async fn start_services(
        bin: &str,
        data_dir: &Path,
        port: u16,
        env: &[(String, String)],
        services: Option<&str>,
    ) -> Self {
        let mut command = Command::new(bin);
        command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
        if let Some(services) = services {
            command.args(["--services", services]);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data_dir)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mercato starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        // Long enough for a whole cluster of debug builds starting at once on 2 cores.
        for _ in 0..900 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("mercato serve {services:?} exited before it was ready: {status}");
            }
            if client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Self { child, base };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("mercato did not become ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// SIGKILL, and waits for the process to be gone: a crash, mid-request.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: the graceful shutdown an orchestrator asks for.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was delivered");
    }

    /// Waits up to `within` for the process to exit; its exit status, if it did.
    pub async fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = reqwest::Client::new().post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn mails_to(&self, to: &str) -> Vec<Value> {
        let res = reqwest::get(self.url(&format!("/api/v1/dev/mailbox?to={to}")))
            .await
            .expect("mailbox");
        res.json::<Value>().await.expect("json")["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Starts a new peak-memory window: the kernel sets `VmHWM` back to `VmRSS`.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .expect("resetting the process's peak memory");
    }

    /// The process's resident memory now, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        self.status_bytes("VmRSS")
    }

    /// A memory figure of `/proc/<pid>/status` in bytes: `VmRSS` (resident now),
    /// `VmHWM` (the resident peak since start).
    pub fn status_bytes(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"))
    }
}

impl Drop for ShopProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
