//! A browser-like client for the web pages over plain HTTP: it keeps cookies, follows
//! no redirects (tests look at them), submits forms as `application/x-www-form-urlencoded`
//! and says where each request comes from (`Sec-Fetch-Site`), as a browser does.

use reqwest::header::HeaderMap;

use crate::TestApp;

/// A page as the browser received it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// Where a redirect sends the browser.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; page: {:.2000}",
            self.html
        );
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.html.contains(text),
            "the page lacks {text:?}: {:.3000}",
            self.html
        );
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.html.contains(text),
            "the page shows {text:?}: {:.3000}",
            self.html
        );
        self
    }

    /// The value of the input `name` (hidden or visible), as the page rendered it: the
    /// `value` attribute of the first `<input>` tag carrying that name, in any order of
    /// attributes.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let named = format!("name=\"{name}\"");
        let mut rest = self.html.as_str();
        while let Some(start) = rest.find("<input") {
            let tag_end = rest[start..].find('>')? + start;
            let tag = &rest[start..tag_end];
            if tag.contains(&named) {
                let marker = "value=\"";
                let from = tag.find(marker)? + marker.len();
                let to = tag[from..].find('"')? + from;
                return Some(unescape(&tag[from..to]));
            }
            rest = &rest[tag_end..];
        }
        None
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// One browser: its own cookies.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        // What a browser sends for a page; the shop answers unknown addresses by it.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { app, client }
    }

    pub async fn get(&self, path: &str) -> Page {
        let req = self
            .client
            .get(self.app.url(path))
            .header("sec-fetch-site", "none");
        read(req.send().await.expect("page answered")).await
    }

    /// Submits a form from one of the shop's own pages.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_form_from(path, fields, "same-origin").await
    }

    /// Submits a form as a page of `site` would (`same-origin`, `cross-site`, …).
    pub async fn post_form_from(&self, path: &str, fields: &[(&str, &str)], site: &str) -> Page {
        let req = self
            .client
            .post(self.app.url(path))
            .header("sec-fetch-site", site)
            .form(fields);
        read(req.send().await.expect("page answered")).await
    }

    /// Submits a `multipart/form-data` form (a file upload) from one of the shop's pages:
    /// its text `fields`, then each of `files` as `(field, file name, bytes)`.
    pub async fn post_files(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        for (name, file_name, bytes) in files {
            let part =
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(file_name.to_string());
            form = form.part(name.to_string(), part);
        }
        let req = self
            .client
            .post(self.app.url(path))
            .header("sec-fetch-site", "same-origin")
            .multipart(form);
        read(req.send().await.expect("page answered")).await
    }

    /// Signs in through the sign-in form; panics unless it redirects.
    pub async fn sign_in(&self, email: &str, password: &str) {
        let page = self
            .post_form(
                "/login",
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        assert_eq!(page.status, 303, "sign-in failed: {:.2000}", page.html);
    }
}

impl Browser<'_> {
    /// Signs a new staff member with `role` in to the dashboard; their email.
    pub async fn sign_in_staff(&self, role: &str) -> String {
        let email = format!("{}@shop.test", crate::unique(role));
        self.app.staff_with_role(&email, role).await;
        let page = self
            .post_form(
                "/admin/login",
                &[
                    ("email", &email),
                    ("password", crate::STAFF_PASSWORD),
                    ("next", "/admin/orders"),
                ],
            )
            .await;
        assert_eq!(
            page.status, 303,
            "staff sign-in failed: {:.2000}",
            page.html
        );
        email
    }
}

async fn read(res: reqwest::Response) -> Page {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let html = res.text().await.unwrap_or_default();
    Page {
        status,
        headers,
        html,
    }
}
