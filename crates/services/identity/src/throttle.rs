//! Sign-in throttling that a stranger cannot aim at someone else's account.
//!
//! Three limits, all checked before any password is hashed, so a refused attempt costs
//! the shop no argon2 run:
//! - per client address, whatever the account (`login_per_client`): one machine cannot
//!   try many accounts;
//! - per account *and* client (`login_per_account_client`): the strict one, five tries
//!   from one address at one account; a success starts it over. A stranger's failures
//!   count against the stranger's address only;
//! - per account from anywhere (`login_per_account`): past a generous number of failures
//!   (many addresses guessing one password), each further attempt waits a delay that
//!   doubles per failure. Clients that signed in to the account before are never
//!   delayed, so neither a customer nor the bootstrap admin can be locked out from
//!   their own machine by someone else.
//!
//! Mail that a visitor can make the shop send to an address is bounded per recipient
//! too, so the shop cannot be used to flood someone's inbox.

use std::net::IpAddr;

use platform::error::ApiResult;

use crate::AppState;

/// How long a client that signed in stays known to the account.
const KNOWN_CLIENT_SECS: u64 = 30 * 24 * 60 * 60;
/// The delay never grows past 2^20 s before `login_delay_max_secs` caps it.
const MAX_DOUBLINGS: u64 = 20;

/// One sign-in attempt: an account (`customer:ann@example.com`) from a client.
pub(crate) struct Attempt<'a> {
    pub account: &'a str,
    pub ip: IpAddr,
}

impl Attempt<'_> {
    fn pair_key(&self) -> String {
        format!("login:pair:{}:{}", self.account, self.ip)
    }
    fn known_key(&self) -> String {
        format!("login:known:{}:{}", self.account, self.ip)
    }
    fn failures_key(&self) -> String {
        format!("login:failures:{}", self.account)
    }
    fn hold_key(&self) -> String {
        format!("login:hold:{}", self.account)
    }
}

/// Counts the attempt and refuses it (429 with `Retry-After`) when a limit is reached.
/// Attempts are counted before the outcome is known, so a burst sent at once gets no
/// more tries than the limit.
pub(crate) async fn admit(s: &AppState, attempt: &Attempt<'_>) -> ApiResult<()> {
    let limiter = &s.ctx.limiter;
    let limits = &s.ctx.settings.rate_limits;
    limiter
        .hit(&format!("login:ip:{}", attempt.ip), limits.login_per_client)
        .await?;
    limiter
        .hit(&attempt.pair_key(), limits.login_per_account_client)
        .await?;
    if !limiter.seen(&attempt.known_key()).await {
        limiter.check_hold(&attempt.hold_key()).await?;
    }
    Ok(())
}

/// Records a wrong password; past the account-wide allowance, holds the account for
/// strangers for a delay that doubles with each failure.
pub(crate) async fn failed(s: &AppState, attempt: &Attempt<'_>) {
    let limiter = &s.ctx.limiter;
    let limits = &s.ctx.settings.rate_limits;
    let failures = limiter
        .count(
            &attempt.failures_key(),
            limits.login_per_account.window_secs,
        )
        .await;
    let allowed = u64::from(limits.login_per_account.limit);
    if failures > allowed {
        let doublings = (failures - allowed - 1).min(MAX_DOUBLINGS);
        let delay = (1u64 << doublings).min(limits.login_delay_max_secs.max(1));
        limiter.hold(&attempt.hold_key(), delay).await;
        tracing::warn!(
            login.account = attempt.account,
            login.failures = failures,
            delay_secs = delay,
            "many failed sign-ins at one account; strangers now wait between attempts"
        );
    }
}

/// Records a success: the client's own count starts over and the client becomes known
/// to the account, so the account-wide delay no longer applies to it.
pub(crate) async fn succeeded(s: &AppState, attempt: &Attempt<'_>) {
    let limiter = &s.ctx.limiter;
    limiter.reset(&attempt.pair_key()).await;
    let _ = limiter.count(&attempt.known_key(), KNOWN_CLIENT_SECS).await;
}

/// Clears the account-wide failures and delay once the owner proved themselves another
/// way (a password reset through their mail).
pub(crate) async fn forgive(s: &AppState, account: &str) {
    let limiter = &s.ctx.limiter;
    limiter.reset(&format!("login:failures:{account}")).await;
    limiter.reset(&format!("login:hold:{account}")).await;
}

/// Counts a mail to `email` that a visitor asked for; false once the address had its
/// share for now (the caller then answers as usual and sends nothing).
pub(crate) async fn mail_allowed(s: &AppState, email: &str) -> bool {
    s.ctx
        .limiter
        .hit(
            &format!("mail:to:{email}"),
            s.ctx.settings.rate_limits.mail_per_recipient,
        )
        .await
        .is_ok()
}

/// Counts an email change the customer started; 429 past the per-account limit or once
/// the new address had its share of mail.
pub(crate) async fn admit_email_change(
    s: &AppState,
    customer_id: uuid::Uuid,
    new_email: &str,
) -> ApiResult<()> {
    let limits = &s.ctx.settings.rate_limits;
    s.ctx
        .limiter
        .hit(
            &format!("email-change:{customer_id}"),
            limits.email_change_per_account,
        )
        .await?;
    s.ctx
        .limiter
        .hit(&format!("mail:to:{new_email}"), limits.mail_per_recipient)
        .await
}
