//! Mails about an account: confirming an address, a registration with a known address,
//! resetting and changing a password, and welcoming staff.

use chrono::{DateTime, Utc};
use contracts::identity::{
    PasswordChanged, PasswordResetRequested, RegistrationAttempted, StaffCreated,
    VerificationPurpose, VerificationRequested,
};

use super::{Links, Rendered, SHOP, mail};

mail_templates!(VerifyText = "verify.txt", VerifyHtml = "verify.html", { name: &'a str, link: String, code: &'a str, expires: String, email_change: bool });
mail_templates!(AttemptText = "registration_attempted.txt", AttemptHtml = "registration_attempted.html", { name: &'a str, login_link: String, reset_link: String });
mail_templates!(ResetText = "password_reset.txt", ResetHtml = "password_reset.html", { name: &'a str, link: String, expires: String });
mail_templates!(ChangedText = "password_changed.txt", ChangedHtml = "password_changed.html", { name: &'a str, reset_link: String });
mail_templates!(StaffText = "staff_welcome.txt", StaffHtml = "staff_welcome.html", { name: &'a str, role: &'a str, login_link: String });

pub(super) fn verify_email(e: VerificationRequested, links: &Links) -> anyhow::Result<Rendered> {
    let bodies = VerifyText {
        shop: SHOP,
        name: &e.name,
        link: links.at(&format!("/verify-email?token={}", e.token)),
        code: &e.code,
        expires: when(e.expires_at),
        email_change: e.purpose == VerificationPurpose::EmailChange,
    }
    .render_both()?;
    let subject = format!("Your {SHOP} verification code is {}", e.code);
    Ok(("verify_email", mail(&e.email, subject, bodies)))
}

pub(super) fn registration_attempted(
    e: RegistrationAttempted,
    links: &Links,
) -> anyhow::Result<Rendered> {
    let bodies = AttemptText {
        shop: SHOP,
        name: &e.name,
        login_link: links.at("/login"),
        reset_link: links.at("/forgot-password"),
    }
    .render_both()?;
    let subject = format!("Someone tried to register at {SHOP} with your email");
    Ok(("registration_attempted", mail(&e.email, subject, bodies)))
}

pub(super) fn password_reset(e: PasswordResetRequested, links: &Links) -> anyhow::Result<Rendered> {
    let bodies = ResetText {
        shop: SHOP,
        name: &e.name,
        link: links.at(&format!("/reset-password?token={}", e.token)),
        expires: when(e.expires_at),
    }
    .render_both()?;
    let subject = format!("Reset your {SHOP} password");
    Ok(("password_reset", mail(&e.email, subject, bodies)))
}

pub(super) fn password_changed(e: PasswordChanged, links: &Links) -> anyhow::Result<Rendered> {
    let bodies = ChangedText {
        shop: SHOP,
        name: &e.name,
        reset_link: links.at("/forgot-password"),
    }
    .render_both()?;
    let subject = format!("Your {SHOP} password was changed");
    Ok(("password_changed", mail(&e.email, subject, bodies)))
}

pub(super) fn staff_welcome(e: StaffCreated, links: &Links) -> anyhow::Result<Rendered> {
    let bodies = StaffText {
        shop: SHOP,
        name: &e.name,
        role: e.role.as_str(),
        login_link: links.at("/staff/login"),
    }
    .render_both()?;
    let subject = format!("Your {SHOP} staff account");
    Ok(("staff_welcome", mail(&e.email, subject, bodies)))
}

/// A moment as mails show it: to the minute, in UTC.
fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use contracts::Envelope;
    use uuid::Uuid;

    use super::*;
    use crate::render::render;

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
