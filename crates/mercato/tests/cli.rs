//! The `mercato` binary as an operator runs it: real processes, real signals.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use testkit::process::{ProcessTag, ShopProcess, backend_env, create_staff, free_port};
use testkit::{Backend, distributed_backends_available};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// Starts this crate's binary as `mercato serve`.
async fn start_server(data_dir: &Path, port: u16, env: &[(String, String)]) -> ShopProcess {
    ShopProcess::start(BIN, data_dir, port, env).await
}

fn new_tag(backend: Backend) -> (String, ProcessTag) {
    let tag = ProcessTag::new(backend);
    (tag.tag.clone(), tag)
}

fn skip(backend: Backend) -> bool {
    backend == Backend::Distributed && !distributed_backends_available()
}

async fn a_registration_mail_survives_a_sigkill_before_it_was_published(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut env = backend_env(backend, &tag);
    env.push(("MERCATO_MAIL__DEV_MAILBOX".into(), "true".into()));

    // The relay is off, so the registration's events can only be in the outbox when
    // the process dies: exactly the window between commit and publish.
    let mut paused = env.clone();
    paused.push(("MERCATO_BUS__RELAY_ENABLED".into(), "false".into()));
    let server = start_server(dir.path(), port, &paused).await;
    let email = format!("crash-{tag}@example.com");
    let (status, _) = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": "correct horse battery staple", "name": "Kim"}),
        )
        .await;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.mails_to(&email).await.is_empty(),
        "nothing can be mailed while the relay is off"
    );
    server.kill();

    let server = start_server(dir.path(), port, &env).await;
    for _ in 0..100 {
        let mails = server.mails_to(&email).await;
        if !mails.is_empty() {
            assert!(
                mails[0]["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("verification code")
            );
            assert_eq!(mails.len(), 1, "exactly one mail");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mail was lost across the crash");
}

async fn an_admin_made_on_the_command_line_signs_in_and_creates_staff(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let env = backend_env(backend, &tag);
    create_staff(
        BIN,
        dir.path(),
        &env,
        "boss@shop.test",
        "admin",
        "a long admin passphrase",
    );

    let server = start_server(dir.path(), free_port(), &env).await;
    let (status, tokens) = server
        .post(
            "/api/v1/staff/auth/login",
            None,
            json!({"email": "boss@shop.test", "password": "a long admin passphrase"}),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let admin = tokens["access_token"].as_str().expect("token");
    let (status, member) = server
        .post("/api/v1/staff", Some(admin), json!({"email": "stock@shop.test", "name": "Stock", "role": "inventory", "password": "inventory passphrase 1"}))
        .await;
    assert_eq!(status, 201, "{member}");
    assert_eq!(member["role"], "inventory");
}

async fn a_weak_password_on_the_command_line_is_refused(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "create-staff",
            "--email",
            "boss@shop.test",
            "--name",
            "Boss",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(dir.path())
        .envs(backend_env(backend, &tag))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"password\n")
        .expect("written");
    let out = child.wait_with_output().expect("finished");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
}

async fn healthcheck_exits_zero_only_when_the_server_is_ready(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let down = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(!down.success(), "nothing listens yet");
    let _server = start_server(dir.path(), port, &backend_env(backend, &tag)).await;
    let up = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .status()
        .expect("runs");
    assert!(up.success());
}

async fn migrate_prepares_every_service_database(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .envs(backend_env(backend, &tag))
        .output()
        .expect("migrate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for service in ["identity", "notifications"] {
        assert!(
            text.contains(&format!("{service}: migrations applied")),
            "{text}"
        );
    }
    // Running it again is harmless.
    let again = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .envs(backend_env(backend, &tag))
        .output()
        .expect("runs");
    assert!(again.status.success());
}

async fn a_config_file_named_by_mercato_config_is_used(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let config = dir.path().join("mercato.toml");
    std::fs::write(&config, format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"))
        .expect("config written");
    let mut child = Command::new(BIN)
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("MERCATO_CONFIG", &config)
        .envs(backend_env(backend, &tag))
        .stdout(Stdio::null())
        .spawn()
        .expect("starts");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the server listened where the file said");
}

async fn the_demo_seed_fills_the_shop_once(backend: Backend) {
    if skip(backend) {
        return;
    }
    let (tag, _cleanup) = new_tag(backend);
    let dir = tempfile::tempdir().expect("dir");
    let seed = || {
        Command::new(BIN)
            .args(["seed", "demo", "--data-dir"])
            .arg(dir.path())
            .envs(backend_env(backend, &tag))
            .output()
            .expect("seed runs")
    };
    let first = seed();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains("15 categories and 200 products created"),
        "{out}"
    );
    assert!(
        out.contains("200 product images and 3 banners created"),
        "{out}"
    );
    assert!(out.contains("4 zones and 8 rates created"), "{out}");
    let again = seed();
    assert!(again.status.success());
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains("0 categories and 0 products created")
            && out.contains("0 product images and 0 banners created")
            && out.contains("0 zones and 0 rates created"),
        "a second run changes nothing: {out}"
    );

    let server = start_server(dir.path(), free_port(), &backend_env(backend, &tag)).await;
    let tree: Value = reqwest::get(format!("{}/api/v1/categories", server.base))
        .await
        .expect("tree")
        .json()
        .await
        .expect("json");
    let roots = tree["items"].as_array().expect("items");
    assert_eq!(roots.len(), 5);
    assert!(
        roots
            .iter()
            .all(|c| c["children"].as_array().is_some_and(|k| k.len() == 2))
    );
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{}/api/v1/products?limit=100&cursor={c}", server.base),
            None => format!("{}/api/v1/products?limit=100", server.base),
        };
        let page: Value = reqwest::get(url)
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        seen += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 200);
    let found: Value = reqwest::get(format!("{}/api/v1/products?q=skillet", server.base))
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(
        found["items"].as_array().map_or(0, Vec::len),
        5,
        "five skillets in the demo shop"
    );

    // The running shop renders the seeded pictures: banners first, then 200 products.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let home = loop {
        let home: Value = reqwest::get(format!("{}/api/v1/storefront/home", server.base))
            .await
            .expect("home")
            .json()
            .await
            .expect("json");
        let banners = home["banners"].as_array().map_or(0, Vec::len);
        let pictured = home["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["products"].as_array().into_iter().flatten())
            .all(|p| p["images"].as_array().is_some_and(|i| i.len() == 1));
        if banners == 3 && pictured {
            break home;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pictures not rendered: {home}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(home["categories"].as_array().map_or(0, Vec::len), 5);
    let image = &home["categories"][0]["products"][0]["images"][0];
    for (variant, side) in [("thumb", 160), ("medium", 640), ("large", 800)] {
        let url = format!(
            "{}{}",
            server.base,
            image["urls"][variant].as_str().expect("url")
        );
        let res = reqwest::get(url).await.expect("image");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/webp");
        assert!(
            !res.bytes().await.expect("bytes").is_empty(),
            "{variant} of {side} px"
        );
    }
}

testkit::backend_tests!(
    the_demo_seed_fills_the_shop_once,
    a_config_file_named_by_mercato_config_is_used,
    migrate_prepares_every_service_database,
    a_registration_mail_survives_a_sigkill_before_it_was_published,
    an_admin_made_on_the_command_line_signs_in_and_creates_staff,
    a_weak_password_on_the_command_line_is_refused,
    healthcheck_exits_zero_only_when_the_server_is_ready,
);
