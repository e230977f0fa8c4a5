//! Staff looking customers up: a search by email or name, and one customer's profile
//! with their addresses. Nothing here changes a customer, yet every look is recorded in
//! the audit trail, with the customers it showed: personal data read by staff is an
//! action a shop must be able to account for.
//!
//! The record is written after the read and before the answer leaves, so no customer
//! data reaches a staff member without its entry; a read whose record fails fails.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::auth::StaffAuth;
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use crate::store::accounts::{self, Customer};
use crate::store::addresses::{self, StoredAddress};

/// Where a page of the search ends: the last customer's `(created_at, id)`.
pub(crate) type Position = (DateTime<Utc>, Uuid);

/// The audit trail's name for what these reads look at.
const TARGET_KIND: &str = "customer";

/// Who is looking, and from where, as the audit entry names them.
pub(crate) struct Reader<'a> {
    pub staff: &'a StaffAuth,
    pub ip: IpAddr,
}

/// One page of a search.
pub(crate) struct Found {
    pub customers: Vec<Customer>,
    /// The position to continue after; `None` on the last page.
    pub next: Option<Position>,
}

/// A customer as staff see them.
pub(crate) struct Profile {
    pub customer: Customer,
    pub addresses: Vec<StoredAddress>,
}

/// Customers newest first, `limit` at a time after `after`; with a non-empty `needle`
/// only those whose email or name contains it, in any case.
pub(crate) async fn search(
    s: &AppState,
    reader: Reader<'_>,
    needle: &str,
    after: Option<Position>,
    limit: u64,
) -> Result<Found, ApiError> {
    let needle = needle.trim().to_lowercase();
    let mut customers = accounts::search_customers(
        &s.ctx.db,
        Some(needle.as_str()).filter(|n| !n.is_empty()),
        after,
        limit + 1,
    )
    .await?;
    let more = customers.len() as u64 > limit;
    customers.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = customers
        .last()
        .filter(|_| more)
        .map(|c| (c.created_at, c.id));
    let shown: Vec<Uuid> = customers.iter().map(|c| c.id).collect();
    // A search names no one customer: the entry's target is every customer, and its
    // details say which were shown.
    let details = json!({"q": needle, "customer_ids": shown, "continued": after.is_some()});
    record(s, &reader, "customer.searched", "*", details).await?;
    Ok(Found { customers, next })
}

/// One customer with their addresses; `None` when there is no such customer (nothing
/// was shown, so nothing is recorded).
pub(crate) async fn profile(
    s: &AppState,
    reader: Reader<'_>,
    id: Uuid,
) -> Result<Option<Profile>, ApiError> {
    let Some(customer) = accounts::customer(&s.ctx.db, id).await? else {
        return Ok(None);
    };
    let addresses = addresses::list(&s.ctx.db, id).await?;
    let details = json!({"email": customer.email, "addresses": addresses.len()});
    record(s, &reader, "customer.viewed", &id.to_string(), details).await?;
    Ok(Some(Profile {
        customer,
        addresses,
    }))
}

async fn record(
    s: &AppState,
    reader: &Reader<'_>,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    let work = s.ctx.begin().await?;
    work.audit(
        reader.staff,
        reader.ip,
        action,
        TARGET_KIND,
        target,
        details,
    )
    .await?;
    work.commit().await?;
    Ok(())
}
