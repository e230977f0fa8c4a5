//! Access-token claims, shared by the issuer (identity) and every verifier.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which kind of account a token speaks for. Customers and staff are separate account
/// kinds with separate tables, so a customer id can never be confused with a staff id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Customer,
    Staff,
}

/// Staff roles. `Admin` may do everything another role may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Admin,
    Inventory,
    Finance,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Inventory => "inventory",
            Self::Finance => "finance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "inventory" => Some(Self::Inventory),
            "finance" => Some(Self::Finance),
            _ => None,
        }
    }

    /// Whether a holder of `self` may act where `required` is asked for.
    pub fn satisfies(self, required: StaffRole) -> bool {
        self == Self::Admin || self == required
    }
}

/// The JWT body of an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: Uuid,
    pub kind: AccountKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
    /// The refresh family (session) this token was minted for, so logout can end it.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// A staff member who must enrol a second factor before anything else
    /// (`auth.staff_2fa = "required"`): such a token opens only the enrolment endpoints.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrolling: bool,
}
