//! Events published by the identity service.
//!
//! Events that carry a one-time secret (a verification or reset token) are meant for the
//! notifications service only: they exist so the mail can be sent by the service that
//! owns mail, and the secret is useless once spent or expired.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;
use crate::claims::StaffRole;

macro_rules! customer_event {
    ($ty:ident, $name:literal) => {
        impl Event for $ty {
            const TYPE: &'static str = $name;
            fn aggregate_id(&self) -> String {
                self.customer_id.to_string()
            }
        }
    };
}

/// A new customer account exists (unverified).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRegistered {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
}
customer_event!(CustomerRegistered, "identity.customer.registered.v1");

/// Someone tried to register with an address that already has an account. The owner
/// gets a notice instead of the caller learning that the account exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrationAttempted {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
}
customer_event!(
    RegistrationAttempted,
    "identity.customer.registration_attempted.v1"
);

/// Why an address is being verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationPurpose {
    Registration,
    EmailChange,
}

/// A verification secret was issued for `email`: the long token for the link and the
/// 6-digit code are two spellings of the same single-use proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerificationRequested {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
    pub purpose: VerificationPurpose,
    pub token: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}
customer_event!(
    VerificationRequested,
    "identity.customer.verification_requested.v1"
);

/// The customer proved they own `email` (for a registration or an email change).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerVerified {
    pub customer_id: Uuid,
    pub email: String,
}
customer_event!(CustomerVerified, "identity.customer.verified.v1");

/// Profile fields other services copy (name, email) changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdated {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
}
customer_event!(CustomerUpdated, "identity.customer.updated.v1");

/// A password reset was asked for an existing account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}
customer_event!(
    PasswordResetRequested,
    "identity.customer.password_reset_requested.v1"
);

/// The password changed (by reset or by the customer); the owner is told in case it
/// was not them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub customer_id: Uuid,
    pub email: String,
    pub name: String,
}
customer_event!(PasswordChanged, "identity.customer.password_changed.v1");

/// A shipping address was added or edited; orders keeps a replica for checkout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddressSaved {
    pub customer_id: Uuid,
    pub address_id: Uuid,
    pub address: serde_json::Value,
}
customer_event!(AddressSaved, "identity.address.saved.v1");

/// A shipping address was removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddressDeleted {
    pub customer_id: Uuid,
    pub address_id: Uuid,
}
customer_event!(AddressDeleted, "identity.address.deleted.v1");

/// A staff account was created by an admin or by `mercato admin create-staff`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffCreated {
    pub staff_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
}

impl Event for StaffCreated {
    const TYPE: &'static str = "identity.staff.created.v1";
    fn aggregate_id(&self) -> String {
        self.staff_id.to_string()
    }
}
