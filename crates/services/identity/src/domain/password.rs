//! The password policy and argon2id hashing.
//!
//! Policy (NIST SP 800-63B style): at least 10 characters, at most 128 (argon2 cost is
//! bounded), not one of the most common passwords, not the account's own email or name.
//! No composition rules: they push people to predictable patterns.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use platform::ApiError;
use platform::work::BoundedPool;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// 11,611 common passwords of 8+ characters from zxcvbn's frequency lists (MIT).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .collect()
});

/// A password that passed the policy. Only built by [`Password::parse`].
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, email: &str, name: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(format!("must be at least {MIN_LEN} characters"));
        }
        if len > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        let lower = raw.to_lowercase();
        if COMMON.contains(lower.as_str())
            || lower
                .chars()
                .all(|c| c == lower.chars().next().unwrap_or(' '))
        {
            return Err("is too common; choose a less guessable password".into());
        }
        let local = email.split('@').next().unwrap_or_default().to_lowercase();
        if lower == email.to_lowercase()
            || (!local.is_empty() && lower == local)
            || lower == name.trim().to_lowercase()
        {
            return Err("must not be your email address or name".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and checks passwords, a bounded number at once.
///
/// Each argon2id run takes 19 MiB and tens of milliseconds of a core: unbounded, a burst
/// of sign-ins takes the machine's memory. The pool runs about one hash per core and
/// queues a few more; past that a request is refused with 503 and `Retry-After` before
/// any memory is taken. Callers check their rate limits first, so a refused request
/// costs no hash at all.
#[derive(Clone)]
pub struct Hasher {
    pool: BoundedPool,
}

impl Hasher {
    /// `concurrency` hashes at once (0: one per core), `queue` waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = if concurrency == 0 {
            BoundedPool::cores()
        } else {
            concurrency
        };
        Self {
            pool: BoundedPool::new("password hashing", concurrency, queue),
        }
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let raw = password.0.clone();
        self.pool
            .run(move || {
                let salt = SaltString::generate(&mut OsRng);
                argon2()
                    .hash_password(raw.as_bytes(), &salt)
                    .map(|h| h.to_string())
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing: {e}")))
            })
            .await?
    }

    /// Checks `raw` against a stored hash. When there is no account, pass `None`: a
    /// dummy hash is checked anyway so the answer takes as long as for a real account
    /// and response times do not reveal which emails are registered.
    pub async fn verify(&self, raw: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        static DUMMY: LazyLock<String> = LazyLock::new(|| {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(b"dummy password for timing", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let raw = raw.to_owned();
        let (stored, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (DUMMY.clone(), false),
        };
        self.pool
            .run(move || {
                let Ok(parsed) = PasswordHash::new(&stored) else {
                    return false;
                };
                argon2().verify_password(raw.as_bytes(), &parsed).is_ok() && real
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_common_and_personal_passwords() {
        assert!(Password::parse("short", "a@b.co", "Ann").is_err());
        assert!(
            Password::parse("password123", "a@b.co", "Ann").is_err(),
            "common"
        );
        assert!(
            Password::parse("1234567890", "a@b.co", "Ann").is_err(),
            "common"
        );
        assert!(
            Password::parse("aaaaaaaaaaaa", "a@b.co", "Ann").is_err(),
            "one repeated character"
        );
        assert!(
            Password::parse(
                "annabelle.smith@example.com",
                "annabelle.smith@example.com",
                "Ann"
            )
            .is_err()
        );
        assert!(Password::parse(&"x".repeat(129), "a@b.co", "Ann").is_err());
        assert!(Password::parse("correct horse battery staple", "a@b.co", "Ann").is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new(1, 4);
        let pw = Password::parse("correct horse battery staple", "a@b.co", "Ann").unwrap();
        let h = hasher.hash(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse battery staple", Some(&h))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery staple", Some(&h))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("dummy password for timing", None)
                .await
                .unwrap(),
            "no account never verifies"
        );
    }
}
