//! Turns events into mails: one askama template pair (text and HTML) per kind of mail.
//! HTML templates escape every value; text templates do not need to.
//!
//! [`render`] is the one place that says which event calls for which mail; the mails
//! themselves live with their source: [`identity`] (accounts and passwords) and
//! [`orders`] (each step of an order).

use contracts::identity::{
    PasswordChanged, PasswordResetRequested, RegistrationAttempted, StaffCreated,
    VerificationRequested,
};
use contracts::orders::{
    OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderRefunded, OrderShipped,
};
use contracts::{Envelope, Event};

use crate::mailer::Mail;

/// Declares a mail's two templates, a text one and an HTML one, with the same fields,
/// and `render_both`, which renders the pair from one set of values.
///
/// Defined before the modules below so that they can use it.
macro_rules! mail_templates {
    ($text:ident = $txt:literal, $html:ident = $htm:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(::askama::Template)]
        #[template(path = $txt, escape = "none")]
        struct $text<'a> { shop: &'a str, $($field: $ty),* }

        #[derive(::askama::Template)]
        #[template(path = $htm)]
        struct $html<'a> { shop: &'a str, $($field: $ty),* }

        impl $text<'_> {
            /// The text body, then the HTML body from the same values.
            fn render_both(self) -> ::askama::Result<(String, String)> {
                let text = ::askama::Template::render(&self)?;
                let html = $html { shop: self.shop, $($field: self.$field),* };
                Ok((text, ::askama::Template::render(&html)?))
            }
        }
    };
}

mod identity;
mod orders;

const SHOP: &str = "Mercato";

/// Where links in mails point.
pub struct Links {
    pub public_url: String,
}

impl Links {
    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }
}

/// A mail and the name of the template it was rendered from (stored with the mail, so
/// keep the names stable).
type Rendered = (&'static str, Mail);

/// The mail an event calls for, with the name of its template; `None` for events that
/// send no mail.
pub fn render(envelope: &Envelope, links: &Links) -> anyhow::Result<Option<(&'static str, Mail)>> {
    let rendered = match envelope.event_type.as_str() {
        VerificationRequested::TYPE => Some(identity::verify_email(envelope.decode()?, links)?),
        RegistrationAttempted::TYPE => {
            Some(identity::registration_attempted(envelope.decode()?, links)?)
        }
        PasswordResetRequested::TYPE => Some(identity::password_reset(envelope.decode()?, links)?),
        PasswordChanged::TYPE => Some(identity::password_changed(envelope.decode()?, links)?),
        StaffCreated::TYPE => Some(identity::staff_welcome(envelope.decode()?, links)?),
        // Order mails are `None` when the event names nobody with an address to mail.
        OrderPlaced::TYPE => orders::placed(envelope.decode()?, links)?,
        OrderPaid::TYPE => orders::paid(envelope.decode()?, links)?,
        OrderShipped::TYPE => orders::shipped(envelope.decode()?, links)?,
        OrderDelivered::TYPE => orders::delivered(envelope.decode()?, links)?,
        OrderCancelled::TYPE => orders::cancelled(envelope.decode()?, links)?,
        OrderRefunded::TYPE => orders::refunded(envelope.decode()?, links)?,
        _ => None,
    };
    Ok(rendered)
}

/// A mail to `to` with its text and HTML bodies.
fn mail(to: &str, subject: String, (text, html): (String, String)) -> Mail {
    Mail {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// An amount in minor units as mails show it: the currency code, then the amount with as
/// many decimals as the currency has (`USD 12.50`, `JPY 1250`, `KWD 1.250`,
/// `EUR -3.05`). Integer arithmetic only, so nothing is ever rounded.
fn money(minor_units: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    let sign = if minor_units < 0 { "-" } else { "" };
    // `unsigned_abs`, because `i64::MIN` has no positive `i64`.
    let units = minor_units.unsigned_abs();
    match decimals(&code) {
        0 => format!("{code} {sign}{units}"),
        decimals => {
            let per_major = 10_u64.pow(decimals);
            let (major, minor) = (units / per_major, units % per_major);
            let width = decimals as usize;
            format!("{code} {sign}{major}.{minor:0width$}")
        }
    }
}

/// How many of an amount's digits are minor units (the ISO 4217 exponent): two, unless
/// the currency has none or three.
fn decimals(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_two_decimals_by_default() {
        assert_eq!(money(1250, "USD"), "USD 12.50");
        assert_eq!(money(5, "EUR"), "EUR 0.05");
        assert_eq!(money(0, "GBP"), "GBP 0.00");
        assert_eq!(money(100_000_000, "USD"), "USD 1000000.00");
    }

    #[test]
    fn money_shows_no_decimals_for_zero_decimal_currencies() {
        assert_eq!(money(1250, "JPY"), "JPY 1250");
        assert_eq!(money(0, "KRW"), "KRW 0");
        assert_eq!(money(15_000, "VND"), "VND 15000");
    }

    #[test]
    fn money_shows_three_decimals_for_three_decimal_currencies() {
        assert_eq!(money(1250, "KWD"), "KWD 1.250");
        assert_eq!(money(7, "BHD"), "BHD 0.007");
        assert_eq!(money(-1001, "TND"), "TND -1.001");
    }

    #[test]
    fn money_keeps_the_sign_of_negative_amounts() {
        assert_eq!(money(-1250, "USD"), "USD -12.50");
        assert_eq!(
            money(-5, "USD"),
            "USD -0.05",
            "the sign survives a zero major part"
        );
        assert_eq!(money(-1250, "JPY"), "JPY -1250");
        assert_eq!(money(i64::MIN, "USD"), "USD -92233720368547758.08");
        assert_eq!(money(i64::MAX, "USD"), "USD 92233720368547758.07");
    }

    #[test]
    fn money_reads_the_currency_code_in_any_case() {
        assert_eq!(money(1250, "jpy"), "JPY 1250");
        assert_eq!(money(1250, "usd"), "USD 12.50");
    }
}
