//! Verifying access tokens in any service. Keys come from the issuer's JWKS: in-process
//! in the single-process topology, fetched over HTTP and cached when distributed (with
//! a re-fetch when a token names a key we have not seen, so key rotation just works).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contracts::claims::AccessClaims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::RwLock;

use super::keys::Jwks;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the access token is missing")]
    Missing,
    #[error("the access token is invalid or expired")]
    Invalid,
    #[error("the token keys could not be fetched")]
    KeysUnavailable,
}

enum Keys {
    Static(HashMap<String, DecodingKey>),
    Remote {
        url: String,
        client: reqwest::Client,
        cache: RwLock<RemoteCache>,
    },
}

struct RemoteCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Keys are re-fetched at most this often, so a flood of tokens with made-up key ids
/// cannot turn into a flood of requests to the issuer.
const MIN_REFETCH: Duration = Duration::from_secs(30);
const MAX_AGE: Duration = Duration::from_secs(600);

pub struct TokenVerifier {
    issuer: String,
    keys: Keys,
}

impl TokenVerifier {
    /// Verifies against a key set held in memory (the issuer is in this process).
    pub fn from_jwks(issuer: impl Into<String>, jwks: &Jwks) -> Arc<Self> {
        Arc::new(Self {
            issuer: issuer.into(),
            keys: Keys::Static(decode_keys(jwks)),
        })
    }

    /// Verifies against the key set published at `url`.
    pub fn remote(issuer: impl Into<String>, url: impl Into<String>) -> Arc<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Arc::new(Self {
            issuer: issuer.into(),
            keys: Keys::Remote {
                url: url.into(),
                client,
                cache: RwLock::new(RemoteCache {
                    keys: HashMap::new(),
                    fetched_at: None,
                }),
            },
        })
    }

    pub async fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let decode = |key: &DecodingKey| {
            jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
                .map(|d| d.claims)
                .map_err(|_| AuthError::Invalid)
        };
        match &self.keys {
            Keys::Static(keys) => decode(keys.get(&kid).ok_or(AuthError::Invalid)?),
            Keys::Remote { url, client, cache } => {
                {
                    let c = cache.read().await;
                    let fresh = c.fetched_at.is_some_and(|t| t.elapsed() < MAX_AGE);
                    if let (true, Some(key)) = (fresh, c.keys.get(&kid)) {
                        return decode(key);
                    }
                }
                let mut c = cache.write().await;
                let recently = c.fetched_at.is_some_and(|t| t.elapsed() < MIN_REFETCH);
                if !recently {
                    match fetch(client, url).await {
                        Ok(jwks) => {
                            c.keys = decode_keys(&jwks);
                            c.fetched_at = Some(Instant::now());
                        }
                        Err(err) => {
                            tracing::warn!(url = %url, error = format!("{err:#}"), "could not fetch JWKS");
                            if c.keys.is_empty() {
                                return Err(AuthError::KeysUnavailable);
                            }
                        }
                    }
                }
                decode(c.keys.get(&kid).ok_or(AuthError::Invalid)?)
            }
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<Jwks> {
    Ok(client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

fn decode_keys(jwks: &Jwks) -> HashMap<String, DecodingKey> {
    jwks.keys
        .iter()
        .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
        .filter_map(|k| {
            DecodingKey::from_ed_components(&k.x)
                .ok()
                .map(|d| (k.kid.clone(), d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SigningKey;
    use contracts::claims::AccountKind;
    use uuid::Uuid;

    fn claims(iss: &str, exp_offset: i64) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            iss: iss.into(),
            sub: Uuid::now_v7(),
            kind: AccountKind::Customer,
            role: None,
            sid: Uuid::now_v7(),
            iat: now,
            exp: now + exp_offset,
            jti: Uuid::now_v7(),
            enrolling: false,
        }
    }

    #[tokio::test]
    async fn a_token_verifies_with_its_key_and_nothing_else() {
        let key = SigningKey::generate().unwrap();
        let verifier = TokenVerifier::from_jwks("mercato", &key.jwks());
        let c = claims("mercato", 60);
        let token = key.sign(&c).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap(), c);

        let other = TokenVerifier::from_jwks("mercato", &SigningKey::generate().unwrap().jwks());
        assert!(
            other.verify(&token).await.is_err(),
            "another key must not verify"
        );

        let expired = key.sign(&claims("mercato", -60)).unwrap();
        assert!(
            verifier.verify(&expired).await.is_err(),
            "expired tokens are refused"
        );

        let wrong_issuer = key.sign(&claims("someone-else", 60)).unwrap();
        assert!(verifier.verify(&wrong_issuer).await.is_err());

        let mut tampered = token.clone();
        tampered.pop();
        assert!(verifier.verify(&tampered).await.is_err());
        assert!(verifier.verify("not.a.jwt").await.is_err());
    }

    #[test]
    fn a_key_survives_a_pem_round_trip() {
        let key = SigningKey::generate().unwrap();
        let back = SigningKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(back.jwks(), key.jwks());
    }
}

#[cfg(test)]
mod remote_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::routing::get;
    use contracts::claims::{AccessClaims, AccountKind};
    use tokio::sync::RwLock as AsyncRwLock;
    use uuid::Uuid;

    use super::*;
    use crate::auth::{Jwks, SigningKey};

    fn claims() -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            iss: "mercato".into(),
            sub: Uuid::now_v7(),
            kind: AccountKind::Customer,
            role: None,
            sid: Uuid::now_v7(),
            iat: now,
            exp: now + 60,
            jti: Uuid::now_v7(),
            enrolling: false,
        }
    }

    /// Serves a swappable key set and counts how often it was fetched.
    async fn issuer(jwks: Jwks) -> (String, Arc<AsyncRwLock<Jwks>>, Arc<AtomicUsize>) {
        let current = Arc::new(AsyncRwLock::new(jwks));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (c, f) = (current.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let (c, f) = (c.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    axum::Json(c.read().await.clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, current, fetches)
    }

    #[tokio::test]
    async fn a_remote_key_set_is_fetched_once_and_cached() {
        let key = SigningKey::generate().unwrap();
        let (url, _, fetches) = issuer(key.jwks()).await;
        let verifier = TokenVerifier::remote("mercato", url);
        for _ in 0..5 {
            verifier
                .verify(&key.sign(&claims()).unwrap())
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unknown_key_ids_cannot_make_the_verifier_hammer_the_issuer() {
        let key = SigningKey::generate().unwrap();
        let (url, _, fetches) = issuer(key.jwks()).await;
        let verifier = TokenVerifier::remote("mercato", url);
        verifier
            .verify(&key.sign(&claims()).unwrap())
            .await
            .unwrap();
        let stranger = SigningKey::generate().unwrap();
        for _ in 0..10 {
            assert!(
                verifier
                    .verify(&stranger.sign(&claims()).unwrap())
                    .await
                    .is_err()
            );
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "re-fetches are rate limited"
        );
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_reported_as_unavailable_not_as_a_bad_token() {
        let key = SigningKey::generate().unwrap();
        let verifier = TokenVerifier::remote("mercato", "http://127.0.0.1:9/.well-known/jwks.json");
        let err = verifier
            .verify(&key.sign(&claims()).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::KeysUnavailable), "{err:?}");
    }
}
