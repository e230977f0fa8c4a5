//! [`ShopClient`]: a client of a running shop's public API and the helpers every suite
//! shares, whatever runs the shop (one process in the test, or a cluster).

use std::sync::Arc;
use std::time::Duration;

use platform::clock::OffsetClock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{MailMessage, TestResponse};

/// The password of every staff member the helpers create.
pub const STAFF_PASSWORD: &str = "staff password for tests";
/// A client of a running shop's public API, with the helpers every suite shares:
/// requests, staff and customers, the dev mailbox. [`TestApp`] is one (in process);
/// `testkit::cluster::Cluster` is one (processes behind nginx).
#[derive(Clone)]
pub struct ShopClient {
    pub address: String,
    pub client: reqwest::Client,
    staff: StaffDesk,
}

/// How staff accounts are made, as an operator would: in the identity database
/// directly (the command's own code), or by running `mercato admin create-staff`.
#[derive(Clone)]
pub enum StaffDesk {
    Database {
        db: sea_orm::DatabaseConnection,
        clock: Arc<OffsetClock>,
    },
    Command {
        bin: String,
        data_dir: std::path::PathBuf,
        env: Vec<(String, String)>,
    },
}

impl ShopClient {
    pub fn new(address: String, staff: StaffDesk) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address,
            client,
            staff,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Sends a request with extra headers (`If-Match`, `If-None-Match`, `Cookie`, …).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn read(res: reqwest::Response) -> TestResponse {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Method::DELETE, path, token, None).await
    }

    /// Posts raw bytes with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        let res = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent");
        Self::read(res).await
    }

    /// Posts a multipart form: `file` (named `file_name`, sent as `content_type`) and
    /// text `fields`, the way a browser uploads.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        file: (&str, &str, Vec<u8>),
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let (file_name, content_type, bytes) = file;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(content_type)
            .expect("a valid content type");
        let mut form = reqwest::multipart::Form::new().part("file", part);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let mut req = self.client.post(self.url(path)).multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Fetches a path as bytes (images), with optional request headers.
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("request sent");
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.bytes().await.expect("body").to_vec();
        (status, headers, body)
    }

    /// The access token of a fresh staff member with `role` (`admin`, `inventory`,
    /// `finance`).
    pub async fn staff_token(&self, role: &str) -> String {
        let email = format!("{}@shop.test", crate::unique(role));
        let pair = self.staff_with_role(&email, role).await;
        pair["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// The access token of a fresh, verified customer.
    pub async fn customer_token(&self) -> String {
        let email = format!("{}@example.test", crate::unique("shopper"));
        let pair = self
            .verified_customer(&email, "correct horse battery staple")
            .await;
        pair["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": password, "name": name}),
        )
        .await
    }

    /// Mails to `to`, newest first, as the dev mailbox lists them now.
    pub async fn mails_to(&self, to: &str) -> Vec<MailMessage> {
        let res = self
            .get(
                &format!("/api/v1/dev/mailbox?to={}&limit=100", urlencode(to)),
                None,
            )
            .await;
        res.assert_status(200);
        serde_json::from_value(res.body["items"].clone()).expect("mailbox items")
    }

    /// Waits (up to 45 s) until `to` has received at least `count` mails; newest first.
    pub async fn wait_for_mails(&self, to: &str, count: usize) -> Vec<MailMessage> {
        for _ in 0..450 {
            let mails = self.mails_to(to).await;
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{to} did not receive {count} mail(s) in time; has {:?}",
            self.mails_to(to)
                .await
                .iter()
                .map(|m| &m.subject)
                .collect::<Vec<_>>()
        );
    }

    /// Registers, reads the verification mail and verifies: a customer ready to shop.
    pub async fn verified_customer(&self, email: &str, password: &str) -> Value {
        self.register(email, password, "Test Customer")
            .await
            .assert_status(201);
        let mail = self.wait_for_mails(email, 1).await.remove(0);
        let token = mail.link_token().expect("a link token");
        self.post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await
            .assert_status(204);
        self.login(email, password).await
    }

    /// Signs a customer in; returns the token pair.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        res.assert_status(200);
        res.body
    }

    /// Creates a staff member the way `mercato admin create-staff` does and signs them in.
    pub async fn staff_with_role(&self, email: &str, role: &str) -> Value {
        let password = STAFF_PASSWORD;
        match &self.staff {
            StaffDesk::Database { db, clock } => {
                let clock: &dyn platform::clock::Clock = &**clock;
                identity::bootstrap::create_staff(db, clock, email, "Staff Member", role, password)
                    .await
                    .expect("staff created");
            }
            StaffDesk::Command { bin, data_dir, env } => {
                let (bin, data_dir, env) = (bin.clone(), data_dir.clone(), env.clone());
                let (email, role) = (email.to_owned(), role.to_owned());
                tokio::task::spawn_blocking(move || {
                    crate::process::create_staff(&bin, &data_dir, &env, &email, &role, password)
                })
                .await
                .expect("staff created");
            }
        }
        let res = self
            .post(
                "/api/v1/staff/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        res.assert_status(200);
        res.body
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
