//! Black-box HTTP tests of the identity service: each file covers one resource, and
//! every test runs on both back-ends (embedded, and PostgreSQL + NATS + Redis).

mod helpers;

mod addresses;
mod bad_input;
mod cookies;
mod customers;
mod dead_letters;
mod general;
mod jwks;
mod login;
mod me;
mod password_reset;
mod refresh;
mod register;
mod staff;
mod staff_auth;
mod two_factor;
mod verification;
