//! A real browser for the page tests: Debian's Chromium, headless, driven over the W3C
//! WebDriver protocol by its chromedriver. Small on purpose: open a page, find, click,
//! type, read, run axe-core, take a screenshot.
//!
//! Without Chromium and chromedriver a test outside CI skips, saying so; with
//! `CI=true` it fails. A test that panics leaves a screenshot of the page it was on in
//! `<target dir>/browser-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a wait for something on a page lasts.
const PATIENCE: Duration = Duration::from_secs(30);
/// The vendored axe-core, injected into pages to check their accessibility.
const AXE: &str = include_str!("../assets/axe-4.14.1.min.js");

/// Whether this machine can run the browser tests; in CI a missing browser is a
/// failure, elsewhere the test is skipped with a notice.
pub fn available() -> bool {
    let found =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!(
                "CI=true and the browser tests need {CHROMIUM} and {CHROMEDRIVER} (Debian: apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "SKIPPED browser test: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
    }
    found
}

/// One headless Chromium with its driver.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    /// Names the screenshot left if the test fails.
    name: String,
    width: u32,
    /// Chromium's profile (cookies among it), kept across `restart`.
    profile: tempfile::TempDir,
}

/// A WebDriver session: a headless Chromium on `profile`, `width` pixels wide.
async fn new_session(
    http: &reqwest::Client,
    base: &str,
    width: u32,
    profile: &std::path::Path,
) -> String {
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--disable-extensions",
                format!("--window-size={width},1000"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }}});
    let res: Value = http
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .await
        .expect("a session")
        .json()
        .await
        .expect("json");
    res["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
        .to_owned()
}

/// A found element.
#[derive(Clone, Debug)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts a browser `width` pixels wide; `name` names its screenshots.
    pub async fn start(name: &str, width: u32) -> Self {
        let port = crate::process::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        for _ in 0..100 {
            if http
                .get(format!("{base}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let session = new_session(&http, &base, width, profile.path()).await;
        let browser = Self {
            driver,
            base,
            session,
            http,
            name: name.to_owned(),
            width,
            profile,
        };
        browser
            .call(
                reqwest::Method::POST,
                "window/rect",
                json!({"width": width, "height": 1000}),
            )
            .await;
        browser
    }

    /// Closes the browser, as a visitor quitting it would (Chromium keeps the cookies
    /// that outlive the browser in its profile and drops the session ones), and opens
    /// it again on the same profile.
    pub async fn restart(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        self.http
            .delete(&url)
            .send()
            .await
            .expect("closing the browser");
        self.session = new_session(&self.http, &self.base, self.width, self.profile.path()).await;
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err((error, message)) => panic!("WebDriver {path}: {error}: {message}"),
        }
    }

    /// One WebDriver command; an error answer is its code and message.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, (String, Value)> {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let req = self.http.request(method.clone(), &url);
        let req = if method == reqwest::Method::GET {
            req
        } else {
            req.json(&body)
        };
        let res: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path} answer: {e}"));
        match res["value"]["error"].as_str() {
            Some(error) => Err((error.to_owned(), res["value"]["message"].clone())),
            None => Ok(res["value"].clone()),
        }
    }

    /// Runs `command` on the element matching `css`, finding it again when the page
    /// replaced it meanwhile (htmx swaps a polled fragment under the test's feet).
    async fn on_element(&self, css: &str, command: &str, body: Value) {
        for _ in 0..20 {
            let el = self.find(css).await;
            let path = format!("element/{}/{command}", el.0);
            match self
                .try_call(reqwest::Method::POST, &path, body.clone())
                .await
            {
                Ok(_) => return,
                Err((error, _)) if error == "stale element reference" => continue,
                Err((error, message)) => panic!("WebDriver {path}: {error}: {message}"),
            }
        }
        panic!("{css:?} was replaced every time it was found");
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "url", json!({"url": url}))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's text, as a reader sees it.
    pub async fn text(&self) -> String {
        self.script(
            "return document.body ? document.body.innerText : '';",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits until an element matching `css` is on the page.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let res: Value = self
                .http
                .post(&url)
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .expect("find")
                .json()
                .await
                .expect("json");
            if let Some(id) = res["value"][ELEMENT_KEY].as_str() {
                return Element(id.to_owned());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no element {css:?} on {}: {:.2000}",
                self.url().await,
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let now = self.text().await;
            if now.contains(text) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{text:?} never appeared on {}: {:.2000}",
                self.url().await,
                now
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.on_element(css, "click", json!({})).await;
    }

    /// Types `text` into the field matching `css`, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        self.on_element(css, "clear", json!({})).await;
        self.on_element(css, "value", json!({"text": text})).await;
    }

    /// Chooses `files` in the file input matching `css`, as a person picking them in
    /// the file dialog would.
    pub async fn choose_files(&self, css: &str, files: &[&std::path::Path]) {
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.on_element(css, "value", json!({"text": paths.join("\n")}))
            .await;
    }

    pub async fn script(&self, body: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "execute/sync",
            json!({"script": body, "args": args}),
        )
        .await
    }

    /// Runs axe-core on the page and returns its serious and critical violations, each
    /// as `rule: what (where)`.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        self.script(AXE, json!([])).await;
        let result = self
            .call(
                reqwest::Method::POST,
                "execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']})
                      .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))
                      .catch(e => done(['axe failed: ' + e]));",
                    "args": []}),
            )
            .await;
        result
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts axe finds nothing serious or critical on the page.
    pub async fn assert_accessible(&self) {
        let problems = self.accessibility_problems().await;
        assert!(
            problems.is_empty(),
            "accessibility problems on {}: {problems:#?}",
            self.url().await
        );
    }

    /// Saves a PNG of the page to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let data = self
            .call(reqwest::Method::GET, "screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("a PNG");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}

/// Where failure screenshots go: beside the build, so CI can keep them.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target).join("browser-screenshots")
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: keep what the browser showed.
            let (base, session, name) =
                (self.base.clone(), self.session.clone(), self.name.clone());
            crate::block_on_own_thread(async move {
                let url = format!("{base}/session/{session}/screenshot");
                if let Ok(res) = reqwest::get(&url).await
                    && let Ok(v) = res.json::<Value>().await
                {
                    use base64::Engine;
                    if let Ok(png) = base64::engine::general_purpose::STANDARD
                        .decode(v["value"].as_str().unwrap_or_default())
                    {
                        let path = screenshot_dir().join(format!("{name}-failed.png"));
                        let _ = std::fs::create_dir_all(screenshot_dir());
                        let _ = std::fs::write(&path, png);
                        eprintln!("screenshot of the failed page: {}", path.display());
                    }
                }
            });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
