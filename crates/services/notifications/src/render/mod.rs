//! Turns events into mails: one askama template pair (text and HTML) per kind of mail.
//! HTML templates escape every value; text templates do not need to.
//!
//! [`render`] is the one place that says which event calls for which mail; the mails
//! themselves live with their source: [`identity`] (accounts and passwords) and
//! [`orders`] (each step of an order).

use contracts::Envelope;

use crate::events::Mailable;
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
    let Some(event) = Mailable::decode(envelope)? else {
        return Ok(None);
    };
    let rendered = match event {
        Mailable::VerificationRequested(e) => Some(identity::verify_email(e, links)?),
        Mailable::RegistrationAttempted(e) => Some(identity::registration_attempted(e, links)?),
        Mailable::PasswordResetRequested(e) => Some(identity::password_reset(e, links)?),
        Mailable::PasswordChanged(e) => Some(identity::password_changed(e, links)?),
        Mailable::StaffCreated(e) => Some(identity::staff_welcome(e, links)?),
        // Order mails are `None` when the event names nobody with an address to mail.
        Mailable::OrderPlaced(e) => orders::placed(e, links)?,
        Mailable::OrderPaid(e) => orders::paid(e, links)?,
        Mailable::OrderShipped(e) => orders::shipped(e, links)?,
        Mailable::OrderDelivered(e) => orders::delivered(e, links)?,
        Mailable::OrderCancelled(e) => orders::cancelled(e, links)?,
        Mailable::OrderRefunded(e) => orders::refunded(e, links)?,
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

pub(crate) use contracts::money::display as money;
