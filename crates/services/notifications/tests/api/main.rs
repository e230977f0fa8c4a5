//! Black-box tests of the notifications service: the shop runs with the dev mailbox off
//! and its real SMTP client (lettre) talking to the test kit's SMTP sink, and every test
//! runs on both back-ends (embedded, and PostgreSQL + NATS + Redis).

mod helpers;

mod orders;
mod smtp;
