//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
//! six digits, the form every authenticator app reads from an `otpauth://` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Steps either side of now a code is still taken for: a phone's clock a little off, or
/// a code typed as it changed.
const DRIFT_STEPS: i64 = 1;
/// Bytes of a secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// The six-digit code of `step`.
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes any key size");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation: four bytes from the offset the last nibble names.
    let offset = (digest[19] & 0x0f) as usize;
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    word % 1_000_000
}

/// The step `code` belongs to, among those around `now_unix` and after `last_step` (a
/// step already spent is never taken again); `None` when it matches none.
pub fn matching_step(secret: &[u8], code: &str, now_unix: i64, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = code.parse().ok()?;
    let now = now_unix.div_euclid(STEP_SECS);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS)
        .filter(|step| *step > last_step)
        .find(|step| {
            // Compared without an early exit, like any secret.
            platform::crypto::constant_time_eq(
                &code_at(secret, *step).to_be_bytes(),
                &typed.to_be_bytes(),
            )
        })
}

/// What an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let issuer = percent(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret_base32}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        percent(account)
    )
}

fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The bytes of a base32 secret; `None` when it is not one.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_sha1_vectors() {
        // The RFC's eight-digit values, of which six digits are the last six.
        for (time, eight) in [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                code_at(RFC_SECRET, time / STEP_SECS),
                eight % 1_000_000,
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_is_taken_near_its_time_once_and_never_before_a_spent_step() {
        let now = 1_234_567_890;
        let step = now / STEP_SECS;
        let code = format!("{:06}", code_at(RFC_SECRET, step));
        assert_eq!(matching_step(RFC_SECRET, &code, now, 0), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now + 30, 0), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, now + 90, 0), None);
        assert_eq!(
            matching_step(RFC_SECRET, &code, now, step),
            None,
            "replayed"
        );
        let earlier = format!("{:06}", code_at(RFC_SECRET, step - 1));
        assert_eq!(matching_step(RFC_SECRET, &earlier, now, step), None);
        for wrong in ["", "12345", "1234567", "12a456", "-12345"] {
            assert_eq!(matching_step(RFC_SECRET, wrong, now, 0), None, "{wrong}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648_and_reads_back() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(
            from_base32("mzxw6ytboi======").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(from_base32("MZ1"), None);
        let secret = [7u8; SECRET_BYTES];
        assert_eq!(from_base32(&base32(&secret)).as_deref(), Some(&secret[..]));
    }

    #[test]
    fn the_uri_names_the_shop_and_the_member() {
        assert_eq!(
            otpauth_uri("My Shop", "ana@shop.test", "ABC"),
            "otpauth://totp/My%20Shop:ana@shop.test?secret=ABC&issuer=My%20Shop&algorithm=SHA1&digits=6&period=30"
        );
    }
}
