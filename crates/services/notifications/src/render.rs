//! Turns events into mails: one askama template pair (text and HTML) per kind of mail.
//! HTML templates escape every value; text templates do not need to.

use askama::Template;
use chrono::{DateTime, Utc};
use contracts::identity::{
    PasswordChanged, PasswordResetRequested, RegistrationAttempted, StaffCreated,
    VerificationPurpose, VerificationRequested,
};
use contracts::{Envelope, Event};

use crate::mailer::Mail;

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

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

macro_rules! mail_templates {
    ($text:ident = $txt:literal, $html:ident = $htm:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $txt, escape = "none")]
        struct $text<'a> { shop: &'a str, $($field: $ty),* }

        #[derive(Template)]
        #[template(path = $htm)]
        struct $html<'a> { shop: &'a str, $($field: $ty),* }
    };
}

mail_templates!(VerifyText = "verify.txt", VerifyHtml = "verify.html", { name: &'a str, link: String, code: &'a str, expires: String, email_change: bool });
mail_templates!(AttemptText = "registration_attempted.txt", AttemptHtml = "registration_attempted.html", { name: &'a str, login_link: String, reset_link: String });
mail_templates!(ResetText = "password_reset.txt", ResetHtml = "password_reset.html", { name: &'a str, link: String, expires: String });
mail_templates!(ChangedText = "password_changed.txt", ChangedHtml = "password_changed.html", { name: &'a str, reset_link: String });
mail_templates!(StaffText = "staff_welcome.txt", StaffHtml = "staff_welcome.html", { name: &'a str, role: &'a str, login_link: String });

/// The mail an event calls for, with the name of its template; `None` for events that
/// send no mail.
pub fn render(envelope: &Envelope, links: &Links) -> anyhow::Result<Option<(&'static str, Mail)>> {
    let mail = |to: &str, subject: String, text: String, html: String| Mail {
        to: to.to_owned(),
        subject,
        text,
        html,
    };
    let t = envelope.event_type.as_str();
    let out = if t == VerificationRequested::TYPE {
        let e: VerificationRequested = envelope.decode()?;
        let link = links.at(&format!("/verify-email?token={}", e.token));
        let email_change = e.purpose == VerificationPurpose::EmailChange;
        let (expires, name) = (when(e.expires_at), e.name.as_str());
        let text = VerifyText {
            shop: SHOP,
            name,
            link: link.clone(),
            code: &e.code,
            expires: expires.clone(),
            email_change,
        }
        .render()?;
        let html = VerifyHtml {
            shop: SHOP,
            name,
            link,
            code: &e.code,
            expires,
            email_change,
        }
        .render()?;
        Some((
            "verify_email",
            mail(
                &e.email,
                format!("Your {SHOP} verification code is {}", e.code),
                text,
                html,
            ),
        ))
    } else if t == RegistrationAttempted::TYPE {
        let e: RegistrationAttempted = envelope.decode()?;
        let (login_link, reset_link) = (links.at("/login"), links.at("/forgot-password"));
        let text = AttemptText {
            shop: SHOP,
            name: &e.name,
            login_link: login_link.clone(),
            reset_link: reset_link.clone(),
        }
        .render()?;
        let html = AttemptHtml {
            shop: SHOP,
            name: &e.name,
            login_link,
            reset_link,
        }
        .render()?;
        Some((
            "registration_attempted",
            mail(
                &e.email,
                format!("Someone tried to register at {SHOP} with your email"),
                text,
                html,
            ),
        ))
    } else if t == PasswordResetRequested::TYPE {
        let e: PasswordResetRequested = envelope.decode()?;
        let link = links.at(&format!("/reset-password?token={}", e.token));
        let expires = when(e.expires_at);
        let text = ResetText {
            shop: SHOP,
            name: &e.name,
            link: link.clone(),
            expires: expires.clone(),
        }
        .render()?;
        let html = ResetHtml {
            shop: SHOP,
            name: &e.name,
            link,
            expires,
        }
        .render()?;
        Some((
            "password_reset",
            mail(&e.email, format!("Reset your {SHOP} password"), text, html),
        ))
    } else if t == PasswordChanged::TYPE {
        let e: PasswordChanged = envelope.decode()?;
        let reset_link = links.at("/forgot-password");
        let text = ChangedText {
            shop: SHOP,
            name: &e.name,
            reset_link: reset_link.clone(),
        }
        .render()?;
        let html = ChangedHtml {
            shop: SHOP,
            name: &e.name,
            reset_link,
        }
        .render()?;
        Some((
            "password_changed",
            mail(
                &e.email,
                format!("Your {SHOP} password was changed"),
                text,
                html,
            ),
        ))
    } else if t == StaffCreated::TYPE {
        let e: StaffCreated = envelope.decode()?;
        let login_link = links.at("/staff/login");
        let role = e.role.as_str();
        let text = StaffText {
            shop: SHOP,
            name: &e.name,
            role,
            login_link: login_link.clone(),
        }
        .render()?;
        let html = StaffHtml {
            shop: SHOP,
            name: &e.name,
            role,
            login_link,
        }
        .render()?;
        Some((
            "staff_welcome",
            mail(&e.email, format!("Your {SHOP} staff account"), text, html),
        ))
    } else {
        None
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn html_mails_escape_what_users_typed() {
        let event = PasswordChanged {
            customer_id: Uuid::now_v7(),
            email: "a@b.co".into(),
            name: "<script>x</script>".into(),
        };
        let env = Envelope::wrap(&event, 1, Utc::now(), None).unwrap();
        let (_, mail) = render(
            &env,
            &Links {
                public_url: "http://shop".into(),
            },
        )
        .unwrap()
        .unwrap();
        assert!(!mail.html.contains("<script>"));
        assert!(
            mail.html.contains("script&#62;x"),
            "the name is escaped, not dropped"
        );
        assert!(
            mail.text.contains("<script>x</script>"),
            "text mail keeps the name as typed"
        );
    }

    #[test]
    fn a_verification_mail_carries_the_link_and_the_code() {
        let event = VerificationRequested {
            customer_id: Uuid::now_v7(),
            email: "a@b.co".into(),
            name: "Ann".into(),
            purpose: VerificationPurpose::Registration,
            token: "tok123".into(),
            code: "042917".into(),
            expires_at: Utc::now(),
        };
        let env = Envelope::wrap(&event, 1, Utc::now(), None).unwrap();
        let (template, mail) = render(
            &env,
            &Links {
                public_url: "http://shop/".into(),
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(template, "verify_email");
        assert!(mail.text.contains("http://shop/verify-email?token=tok123"));
        assert!(mail.html.contains("042917") && mail.text.contains("042917"));
        assert_eq!(mail.to, "a@b.co");
    }
}
