//! Small, careful helpers for secrets: random tokens, hashes for storing them, message
//! signatures, comparisons that do not leak timing, and secrets kept in files.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use secrecy::SecretString;
use sha2::{Digest, Sha256, Sha512};
use std::path::Path;
use subtle::ConstantTimeEq;

/// A URL-safe random token with 256 bits of entropy.
pub fn random_token() -> String {
    let bytes: [u8; 32] = OsRng.r#gen();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `N` random bytes (up to 32), for secrets that need their raw form (TOTP keys).
pub fn random_bytes<const N: usize>() -> [u8; N]
where
    [u8; N]: Default + AsMut<[u8]>,
{
    let mut bytes = <[u8; N]>::default();
    OsRng.fill(bytes.as_mut());
    bytes
}

/// A uniformly random numeric code of `digits` digits, zero-padded.
pub fn random_code(digits: u32) -> String {
    let n = OsRng.gen_range(0..10u64.pow(digits));
    format!("{n:0width$}", width = digits as usize)
}

/// SHA-256 as lowercase hex. Tokens with 256 bits of entropy need no salt or slow
/// hash: the store keeps only this, so a database leak reveals no usable token.
pub fn sha256_hex(input: &[u8]) -> String {
    let digest = Sha256::digest(input);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-512 as lowercase hex (what some payment providers sign with).
pub fn sha512_hex(input: &[u8]) -> String {
    Sha512::digest(input)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares secrets in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// HMAC-SHA256 of `message` under `key`, as lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The secret kept at `path`, created (a random token, readable by the owner only) on
/// first start.
pub fn load_or_generate_secret(path: &Path) -> anyhow::Result<SecretString> {
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(SecretString::from(text.trim().to_owned()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let secret = random_token();
    write_private(path, secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(SecretString::from(secret))
}

/// Writes a new file only its owner can read.
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_have_the_promised_shape() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token());
        for _ in 0..100 {
            let c = random_code(6);
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|d| d.is_ascii_digit()));
        }
        assert_eq!(sha256_hex(b"abc").len(), 64);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_generated_secret_is_kept() {
        use secrecy::ExposeSecret;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("s");
        let first = load_or_generate_secret(&path).unwrap();
        let again = load_or_generate_secret(&path).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.expose_secret().len(), 43);
    }
}
