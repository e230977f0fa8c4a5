//! Identity's rules, free of I/O: what a valid password, address or staff change is,
//! and how long one-time secrets live.

pub mod address;
pub mod password;
pub mod totp;

use chrono::Duration;

/// A verification link or code is good for this long.
pub const VERIFICATION_TTL: Duration = Duration::hours(24);
/// Wrong codes before a verification is burnt and a new one must be asked for.
pub const VERIFICATION_MAX_FAILURES: i32 = 5;
/// A new verification mail is sent at most this often per account.
pub const RESEND_COOLDOWN: Duration = Duration::seconds(60);
/// A password-reset link is good for this long.
pub const RESET_TTL: Duration = Duration::hours(1);
/// Reset requests per account within `RESET_TTL`, so nobody floods an inbox.
pub const RESETS_PER_WINDOW: u64 = 3;
/// Addresses a customer may keep.
pub const MAX_ADDRESSES: u64 = 20;
