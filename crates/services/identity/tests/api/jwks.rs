//! `GET /.well-known/jwks.json`: the public key that verifies access tokens, and the
//! tokens that name it.

use serde_json::Value;
use testkit::{Backend, TestApp};

use crate::helpers::{customer, text};

const JWKS: &str = "/.well-known/jwks.json";

/// Decodes unpadded base64url, enough to read a JWT header.
fn base64url(input: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        other => panic!("not base64url: {:?}", other as char),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in input.bytes() {
        acc = (acc << 6) | u32::from(value(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&base64url(header)).expect("a JSON header")
}

pub async fn the_key_set_has_one_ed25519_signing_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let res = app.get(JWKS, None).await;

    res.assert_status(200);
    let keys = res.body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{}", res.text);
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["use"], "sig");
    assert!(!text(key, "kid").is_empty());
    assert_eq!(
        base64url(text(key, "x")).len(),
        32,
        "an Ed25519 public key is 32 bytes"
    );
    assert!(key.get("d").is_none(), "never the private part");
    let cache = res.headers["cache-control"].to_str().expect("ascii");
    assert!(cache.contains("public"), "{cache}");
}

pub async fn access_tokens_name_the_published_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, customer_pair) = customer(&app, "kid").await;
    let staff_pair = app.staff_with_role("kid-admin@shop.test", "admin").await;
    let jwks = app.get(JWKS, None).await.body;
    let kid = text(&jwks["keys"][0], "kid");

    for pair in [&customer_pair, &staff_pair] {
        let header = jwt_header(text(pair, "access_token"));
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], kid);
    }
}

pub async fn a_tampered_access_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, pair) = customer(&app, "tamper").await;
    let token = text(&pair, "access_token");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let flipped: String = parts[2]
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 10 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    parts[2] = flipped;
    let signature_changed = parts.join(".");
    let payload_swapped = {
        let (_, other) = customer(&app, "tamper-other").await;
        let other_payload = text(&other, "access_token")
            .split('.')
            .nth(1)
            .expect("payload")
            .to_owned();
        format!(
            "{}.{}.{}",
            parts[0],
            other_payload,
            token.split('.').nth(2).expect("signature")
        )
    };

    app.get("/api/v1/me", Some(token)).await.assert_status(200);
    for bad in [signature_changed, payload_swapped] {
        app.get("/api/v1/me", Some(&bad)).await.assert_problem(401);
    }
}

testkit::backend_tests!(
    the_key_set_has_one_ed25519_signing_key,
    access_tokens_name_the_published_key,
    a_tampered_access_token_is_refused,
);
