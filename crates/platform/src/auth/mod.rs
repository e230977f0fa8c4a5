//! Access tokens: Ed25519-signed JWTs (EdDSA), at most 15 minutes long, verified by every
//! service against the issuer's published JWKS, and the extractors that turn a request
//! into a customer or a staff member with a role.

mod extract;
mod keys;
mod verifier;

pub use extract::{
    Admin, CustomerAuth, Finance, Inventory, MaybeStaff, RoleMarker, Staff, StaffAuth,
    StaffEnrolling, bearer_or_cookie,
};
pub use keys::{Jwk, Jwks, SigningKey};
pub use verifier::{AuthError, TokenVerifier};

/// Cookie holding the access token for the browser UI.
pub const ACCESS_COOKIE: &str = "mercato_access";
/// Cookie holding the refresh token; scoped to the refresh endpoints' path.
pub const REFRESH_COOKIE: &str = "mercato_refresh";
