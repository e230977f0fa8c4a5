//! The entry point's routing tables held against the code: every path `mercato routes`
//! reports, made concrete, must reach its own service through deploy/nginx/mercato.conf
//! (by nginx's rules for choosing a `location`) and through the Kubernetes Ingress (by
//! ingress-nginx's: regular expressions anchored at the start, longest first). A route
//! added to a service without a line in both tables fails here.

use std::path::PathBuf;
use std::process::Command;

use regex::Regex;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `mercato routes --format json`, from the built binary.
fn routes() -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["routes", "--format", "json"])
        .output()
        .expect("mercato routes runs");
    assert!(
        out.status.success(),
        "mercato routes failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON table");
    table
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("path").to_owned(),
                e["service"].as_str().expect("service").to_owned(),
            )
        })
        .collect()
}

/// A path as a client sends it: each `{parameter}` filled with a value of its kind.
fn concrete(path: &str) -> String {
    let param = Regex::new(r"\{([a-z_]+)\}").expect("regex");
    param
        .replace_all(path, |c: &regex::Captures| match &c[1] {
            "file" => "medium.webp".to_owned(),
            "provider" => "sandbox".to_owned(),
            _ => "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
        })
        .into_owned()
}

/// Every path to check, with the service that must get it.
fn expected() -> Vec<(String, String)> {
    let table = routes();
    assert!(
        table.len() > 50,
        "the table lists every API path: {table:?}"
    );
    let mut cases: Vec<(String, String)> = table
        .into_iter()
        .filter(|(path, _)| path.starts_with('/') && !path.contains(' '))
        .map(|(path, service)| (concrete(&path), service))
        .collect();
    // The web pages own everything else; an unknown API path gets any API process's
    // problem+json 404.
    for page in [
        "/",
        "/search?q=teapot",
        "/products/celadon-teapot",
        "/cart",
        "/checkout",
        "/orders/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b",
        "/account/addresses",
        "/wishlist",
        "/assets/shop.0123abcd.css",
        "/admin/products/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b/images",
        "/admin/banners",
    ] {
        cases.push((page.into(), "web".into()));
    }
    cases.push(("/api/v1/no-such-thing".into(), "any".into()));
    cases
}

enum Kind {
    Exact,
    /// `^~`: a prefix that, when longest, stops the regex search.
    Final,
    Prefix,
    Regex(Regex),
}

struct Location {
    kind: Kind,
    text: String,
    upstream: String,
}

fn nginx_locations() -> Vec<Location> {
    let conf = std::fs::read_to_string(repo().join("deploy/nginx/mercato.conf"))
        .expect("deploy/nginx/mercato.conf");
    let line =
        Regex::new(r"^\s*location\s+(?:(=|\^~|~)\s+)?(\S+)\s*\{\s*proxy_pass\s+http://([a-z]+);")
            .expect("regex");
    let locations: Vec<Location> = conf
        .lines()
        .filter_map(|l| line.captures(l))
        .map(|c| Location {
            kind: match c.get(1).map(|m| m.as_str()) {
                Some("=") => Kind::Exact,
                Some("^~") => Kind::Final,
                Some(_) => Kind::Regex(Regex::new(&c[2]).expect("a location regex")),
                None => Kind::Prefix,
            },
            text: c[2].to_owned(),
            upstream: c[3].to_owned(),
        })
        .collect();
    assert!(locations.len() > 20, "route lines found in mercato.conf");
    locations
}

/// nginx's choice: an exact match; else the longest prefix, final when `^~`; else the
/// first regex in file order; else that longest prefix.
fn nginx_upstream<'a>(locations: &'a [Location], uri: &str) -> Option<&'a str> {
    let path = uri.split('?').next().unwrap_or(uri);
    if let Some(l) = locations
        .iter()
        .find(|l| matches!(l.kind, Kind::Exact) && l.text == path)
    {
        return Some(&l.upstream);
    }
    let longest = locations
        .iter()
        .filter(|l| matches!(l.kind, Kind::Final | Kind::Prefix) && path.starts_with(&l.text))
        .max_by_key(|l| l.text.len());
    if let Some(l) = longest.filter(|l| matches!(l.kind, Kind::Final)) {
        return Some(&l.upstream);
    }
    let regex = locations.iter().find(|l| match &l.kind {
        Kind::Regex(r) => r.is_match(path),
        _ => false,
    });
    regex.or(longest).map(|l| l.upstream.as_str())
}

/// The Ingress paths with their backend Service, from every Ingress in the file.
fn ingress_paths() -> Vec<(Regex, String, String)> {
    let yaml = std::fs::read_to_string(repo().join("deploy/kubernetes/base/ingress.yaml"))
        .expect("deploy/kubernetes/base/ingress.yaml");
    let mut out = Vec::new();
    let mut path: Option<String> = None;
    let mut in_backend = false;
    for line in yaml.lines() {
        let t = line.trim();
        if let Some(p) = t.strip_prefix("- path:") {
            path = Some(p.trim().trim_matches('"').to_owned());
            in_backend = false;
        } else if t == "service:" && path.is_some() {
            in_backend = true;
        } else if let (Some(name), true) = (t.strip_prefix("name:"), in_backend) {
            let p = path.take().expect("a path before its backend");
            let anchored = Regex::new(&format!("(?i)^{p}")).expect("an Ingress path regex");
            out.push((anchored, p, name.trim().to_owned()));
            in_backend = false;
        }
    }
    assert!(out.len() > 20, "paths found in the Ingress");
    // ingress-nginx writes the locations of a host longest first.
    out.sort_by_key(|(_, p, _)| std::cmp::Reverse(p.len()));
    out
}

#[test]
fn every_path_reaches_its_service_through_nginx() {
    let locations = nginx_locations();
    let wrong: Vec<String> = expected()
        .into_iter()
        .filter_map(|(uri, service)| {
            let got = nginx_upstream(&locations, &uri);
            (got != Some(service.as_str())).then(|| format!("{uri}: {got:?}, not {service}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "mercato.conf routes wrongly:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_path_reaches_its_service_through_the_ingress() {
    let paths = ingress_paths();
    let wrong: Vec<String> = expected()
        .into_iter()
        .filter_map(|(uri, service)| {
            let path = uri.split('?').next().unwrap_or(&uri).to_owned();
            let got = paths
                .iter()
                .find(|(r, _, _)| r.is_match(&path))
                .map(|(_, _, s)| s.as_str());
            (got != Some(service.as_str())).then(|| format!("{uri}: {got:?}, not {service}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "the Ingress routes wrongly:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_plain_table_names_every_service() {
    let out = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .arg("routes")
        .output()
        .expect("mercato routes runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for service in [
        "identity",
        "catalog",
        "media",
        "shipping",
        "orders",
        "payments",
        "notifications",
        "any",
        "web",
    ] {
        assert!(text.contains(service), "{service} in:\n{text}");
    }
    assert!(text.contains("/api/v1/checkout"), "{text}");
}
