//! `mercato routes`: which service answers which path, read from the code. The entry
//! point's tables (deploy/nginx, the Kubernetes Ingress) are held against it by a test,
//! so a new route cannot be left unrouted.
//!
//! The table comes from a real process: every service started once in a throwaway
//! directory on the embedded back-ends, each contributing the paths its handlers
//! registered. Beside the API, a few paths belong to no one service and the rest to the
//! web pages; [`table`] lists them too.

use std::sync::Arc;

use platform::clock::SystemClock;
use platform::config::Settings;
use platform::service::Topology;
use serde::Serialize;

use crate::app::{self, AppOptions, Route, ServiceName};

/// Answered by every API process alike (the kernel): the OpenAPI document, its viewer.
pub const ANY: &str = "any";
/// The storefront's pages and assets.
pub const WEB: &str = "web";

/// A row of the table: a path the entry point routes, and to whom.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub path: String,
    pub methods: Vec<&'static str>,
    pub service: &'static str,
}

impl From<Route> for Entry {
    fn from(r: Route) -> Self {
        Self {
            path: r.path,
            methods: r.methods,
            service: r.service,
        }
    }
}

/// Every API path with its service, then the kernel's shared answers and the web pages.
pub async fn table() -> anyhow::Result<Vec<Entry>> {
    let dir = std::env::temp_dir().join(format!("mercato-routes-{}", std::process::id()));
    let mut settings = Settings {
        data_dir: dir.clone(),
        ..Settings::default()
    };
    settings.http.listen = ([127, 0, 0, 1], 0).into();
    let built = app::build(AppOptions {
        settings,
        topology: Topology::SingleProcess,
        services: ServiceName::ALL.to_vec(),
        web: false,
        clock: Arc::new(SystemClock),
    })
    .await;
    let result = built.map(|app| {
        app.tasks().abort_all();
        app.routes
    });
    let _ = std::fs::remove_dir_all(&dir);
    let mut entries: Vec<Entry> = result?.into_iter().map(Entry::from).collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    for path in ["/api/v1/openapi.json", "/docs"] {
        entries.push(Entry {
            path: path.into(),
            methods: vec!["GET"],
            service: ANY,
        });
    }
    entries.push(Entry {
        path: "/ (every other path: pages and /assets/)".into(),
        methods: vec!["GET", "POST"],
        service: WEB,
    });
    Ok(entries)
}

/// The table for people: one path per line, its service and methods.
pub fn plain(entries: &[Entry]) -> String {
    let width = entries.iter().map(|e| e.path.len()).max().unwrap_or(0);
    let service_width = entries.iter().map(|e| e.service.len()).max().unwrap_or(0);
    entries
        .iter()
        .map(|e| {
            format!(
                "{:<width$}  {:<service_width$}  {}\n",
                e.path,
                e.service,
                e.methods.join(",")
            )
        })
        .collect()
}
