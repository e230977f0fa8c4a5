//! Mails at each step of an order the customer hears about: placed, paid, shipped,
//! delivered, cancelled and refunded. The events carry everything these mails show
//! (recipient, product names, amounts), so rendering never asks orders.
//!
//! An order mail goes to the event's recipient, and to nobody when that has no
//! address: events written before orders named a recipient, or a customer orders did
//! not know yet.

use anyhow::Context;
use contracts::orders::{
    OrderCancelled, OrderDelivered, OrderPaid, OrderPlaced, OrderRefunded, OrderShipped,
    PlacedLine, Recipient,
};
use uuid::Uuid;

use super::{Links, Rendered, SHOP, mail, money};

mail_templates!(PlacedText = "order_placed.txt", PlacedHtml = "order_placed.html", { name: &'a str, reference: &'a str, lines: &'a [Line], subtotal: String, discount: Option<(String, String)>, shipping: String, total: String, link: String });
mail_templates!(PaidText = "order_paid.txt", PaidHtml = "order_paid.html", { name: &'a str, reference: &'a str, lines: &'a [Line], total: String, link: String });
mail_templates!(ShippedText = "order_shipped.txt", ShippedHtml = "order_shipped.html", { name: &'a str, reference: &'a str, carrier: &'a str, tracking_number: &'a str, link: String });
mail_templates!(DeliveredText = "order_delivered.txt", DeliveredHtml = "order_delivered.html", { name: &'a str, reference: &'a str, link: String });
mail_templates!(CancelledText = "order_cancelled.txt", CancelledHtml = "order_cancelled.html", { name: &'a str, reference: &'a str, reason: &'a str, was_paid: bool, link: String });
mail_templates!(RefundedText = "order_refunded.txt", RefundedHtml = "order_refunded.html", { name: &'a str, reference: &'a str, amount: String, refunded_total: String, full: bool, link: String });

/// An order line as mails show it, its total already formatted.
struct Line {
    name: String,
    quantity: i64,
    total: String,
}

pub(super) fn placed(e: OrderPlaced, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let Some(to) = e.recipient.filter(has_address) else {
        return Ok(None);
    };
    let reference = reference(e.order_id);
    let lines = lines(&e.lines, &e.currency)?;
    let bodies = PlacedText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        lines: &lines,
        subtotal: money(e.subtotal, &e.currency),
        // The code and the amount it took off, when one was used.
        discount: (e.discount > 0).then(|| {
            let code = e.discount_code.clone().unwrap_or_default();
            (code, money(e.discount, &e.currency))
        }),
        shipping: money(e.shipping, &e.currency),
        total: money(e.total, &e.currency),
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("We received your order {reference}");
    Ok(Some(("order_placed", mail(&to.email, subject, bodies))))
}

pub(super) fn paid(e: OrderPaid, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let to = e.recipient;
    if !has_address(&to) {
        return Ok(None);
    }
    let reference = reference(e.order_id);
    let lines = lines(&e.lines, &e.currency)?;
    let bodies = PaidText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        lines: &lines,
        total: money(e.total, &e.currency),
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("Payment received for order {reference}");
    Ok(Some(("order_paid", mail(&to.email, subject, bodies))))
}

pub(super) fn shipped(e: OrderShipped, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let to = e.recipient;
    if !has_address(&to) {
        return Ok(None);
    }
    let reference = reference(e.order_id);
    let bodies = ShippedText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        carrier: &e.carrier,
        tracking_number: &e.tracking_number,
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("Your order {reference} is on its way");
    Ok(Some(("order_shipped", mail(&to.email, subject, bodies))))
}

pub(super) fn delivered(e: OrderDelivered, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let to = e.recipient;
    if !has_address(&to) {
        return Ok(None);
    }
    let reference = reference(e.order_id);
    let bodies = DeliveredText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("Your order {reference} was delivered");
    Ok(Some(("order_delivered", mail(&to.email, subject, bodies))))
}

pub(super) fn cancelled(e: OrderCancelled, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let Some(to) = e.recipient.filter(has_address) else {
        return Ok(None);
    };
    let reference = reference(e.order_id);
    let bodies = CancelledText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        reason: &e.reason,
        was_paid: e.was_paid,
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("Your order {reference} was cancelled");
    Ok(Some(("order_cancelled", mail(&to.email, subject, bodies))))
}

pub(super) fn refunded(e: OrderRefunded, links: &Links) -> anyhow::Result<Option<Rendered>> {
    let to = e.recipient;
    if !has_address(&to) {
        return Ok(None);
    }
    let reference = reference(e.order_id);
    let bodies = RefundedText {
        shop: SHOP,
        name: greeting_name(&to),
        reference: &reference,
        amount: money(e.amount, &e.currency),
        refunded_total: money(e.refunded_total, &e.currency),
        full: e.full,
        link: order_link(links, e.order_id),
    }
    .render_both()?;
    let subject = format!("Refund for order {reference}");
    Ok(Some(("order_refunded", mail(&to.email, subject, bodies))))
}

/// Whether there is an address to mail: orders names an empty recipient when it does
/// not know the customer.
fn has_address(to: &Recipient) -> bool {
    !to.email.trim().is_empty()
}

/// The name to greet, so an unknown name reads "Hi there," rather than "Hi ,".
fn greeting_name(to: &Recipient) -> &str {
    match to.name.trim() {
        "" => "there",
        name => name,
    }
}

/// The short reference customers quote: the last 8 characters of the order id,
/// upper-cased (`…-0c1d2e3f4a5b` is `2E3F4A5B`). The end, not the start: order ids are
/// UUIDv7, whose first 8 characters are the time to about a minute, so every order
/// placed in the same minute shared one reference (the cluster suite's shoppers got two
/// mails with one subject for two orders); the end is random.
fn reference(order_id: Uuid) -> String {
    let simple = order_id.simple().to_string();
    simple[simple.len() - 8..].to_ascii_uppercase()
}

fn order_link(links: &Links, order_id: Uuid) -> String {
    links.at(&format!("/orders/{order_id}"))
}

/// The lines with their totals; a total that does not fit in an `i64` is a broken event,
/// not something to mail.
fn lines(lines: &[PlacedLine], currency: &str) -> anyhow::Result<Vec<Line>> {
    lines
        .iter()
        .map(|line| {
            let total = line
                .unit_price
                .checked_mul(line.quantity)
                .with_context(|| {
                    format!(
                        "the line of product {} ({} × {}) overflows",
                        line.product_id, line.quantity, line.unit_price
                    )
                })?;
            Ok(Line {
                name: line.name.clone(),
                quantity: line.quantity,
                total: money(total, currency),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use contracts::{Envelope, Event};

    use super::*;
    use crate::mailer::Mail;
    use crate::render::render;

    const ORDER: &str = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b";

    fn order_id() -> Uuid {
        ORDER.parse().unwrap()
    }

    fn ann() -> Recipient {
        Recipient {
            email: "ann@example.com".into(),
            name: "Ann".into(),
        }
    }

    fn mug(name: &str) -> PlacedLine {
        PlacedLine {
            product_id: Uuid::now_v7(),
            name: name.into(),
            quantity: 2,
            unit_price: 1250,
        }
    }

    /// What `event` renders to, through the same dispatch the handler uses.
    fn rendered<E: Event>(event: &E) -> Option<(&'static str, Mail)> {
        let envelope = Envelope::wrap(event, 1, Utc::now(), None).unwrap();
        let links = Links {
            public_url: "https://shop.example/".into(),
        };
        render(&envelope, &links).unwrap()
    }

    fn placed(recipient: Option<Recipient>, lines: Vec<PlacedLine>) -> OrderPlaced {
        OrderPlaced {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            lines,
            subtotal: 2500,
            discount: 0,
            discount_code: None,
            shipping: 499,
            total: 2999,
            currency: "USD".into(),
            recipient,
        }
    }

    fn cancelled(recipient: Option<Recipient>, was_paid: bool) -> OrderCancelled {
        OrderCancelled {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            reason: "payment not received in time".into(),
            was_paid,
            recipient,
        }
    }

    /// Asserts that both bodies show every one of `facts`.
    fn assert_shows(mail: &Mail, facts: &[&str]) {
        for fact in facts {
            assert!(
                mail.text.contains(fact),
                "text lacks {fact:?}:\n{}",
                mail.text
            );
            assert!(
                mail.html.contains(fact),
                "HTML lacks {fact:?}:\n{}",
                mail.html
            );
        }
    }

    const LINK: &str = "https://shop.example/orders/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn the_reference_is_the_end_of_the_order_id_in_capitals() {
        assert_eq!(reference(order_id()), "2E3F4A5B");
    }

    #[test]
    fn orders_placed_in_the_same_minute_have_different_references() {
        let first = Uuid::now_v7();
        let second = Uuid::now_v7();
        assert_ne!(reference(first), reference(second));
    }

    #[test]
    fn a_placed_order_mails_its_lines_and_totals() {
        let (template, mail) = rendered(&placed(Some(ann()), vec![mug("Blue mug")])).unwrap();
        assert_eq!(template, "order_placed");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "We received your order 2E3F4A5B");
        assert_shows(
            &mail,
            &[
                "Hi Ann,",
                "Blue mug × 2",
                "USD 25.00",
                "USD 4.99",
                "USD 29.99",
                LINK,
            ],
        );
    }

    #[test]
    fn a_placed_order_shows_the_code_and_what_it_took_off() {
        let mut order = placed(Some(ann()), vec![mug("Blue mug")]);
        (order.discount, order.discount_code) = (250, Some("SPRING10".into()));
        order.total -= 250;
        let (_, mail) = rendered(&order).unwrap();
        assert_shows(&mail, &["Discount (SPRING10)", "-USD 2.50", "USD 27.49"]);
        let (_, plain) = rendered(&placed(Some(ann()), vec![mug("Blue mug")])).unwrap();
        assert!(!plain.text.contains("Discount"), "{}", plain.text);
    }

    #[test]
    fn a_placed_order_without_a_recipient_mails_nobody() {
        assert!(rendered(&placed(None, vec![mug("Blue mug")])).is_none());
        let nameless = Recipient::default();
        assert!(rendered(&placed(Some(nameless), vec![mug("Blue mug")])).is_none());
    }

    #[test]
    fn product_names_are_escaped_in_html_and_kept_in_text() {
        let (_, mail) = rendered(&placed(Some(ann()), vec![mug("<script>x</script>")])).unwrap();
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(
            mail.html.contains("&#60;script&#62;x"),
            "escaped, not dropped"
        );
        assert!(mail.text.contains("<script>x</script> × 2"));
    }

    #[test]
    fn a_paid_order_mails_the_total_paid_and_its_lines() {
        let event = OrderPaid {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            lines: vec![mug("Blue mug")],
            total: 125_000,
            currency: "JPY".into(),
            recipient: ann(),
        };
        let (template, mail) = rendered(&event).unwrap();
        assert_eq!(template, "order_paid");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "Payment received for order 2E3F4A5B");
        assert_shows(&mail, &["Blue mug × 2", "JPY 2500", "JPY 125000", LINK]);
    }

    #[test]
    fn a_shipped_order_mails_the_carrier_and_the_tracking_number() {
        let event = OrderShipped {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            carrier: "Parcel & Co".into(),
            tracking_number: "1Z999AA10123456784".into(),
            recipient: ann(),
        };
        let (template, mail) = rendered(&event).unwrap();
        assert_eq!(template, "order_shipped");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "Your order 2E3F4A5B is on its way");
        assert_shows(&mail, &["1Z999AA10123456784", LINK]);
        assert!(mail.text.contains("Parcel & Co"));
        assert!(mail.html.contains("Parcel &#38; Co"));
    }

    #[test]
    fn a_delivered_order_invites_a_review() {
        let event = OrderDelivered {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            recipient: ann(),
        };
        let (template, mail) = rendered(&event).unwrap();
        assert_eq!(template, "order_delivered");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "Your order 2E3F4A5B was delivered");
        assert_shows(&mail, &["review", LINK]);
    }

    #[test]
    fn a_cancelled_order_mails_the_reason() {
        let (template, mail) = rendered(&cancelled(Some(ann()), false)).unwrap();
        assert_eq!(template, "order_cancelled");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "Your order 2E3F4A5B was cancelled");
        assert_shows(&mail, &["payment not received in time", LINK]);
        assert!(!mail.text.contains("refund") && !mail.html.contains("refund"));
    }

    #[test]
    fn a_cancelled_order_that_was_paid_promises_a_full_refund() {
        let (_, mail) = rendered(&cancelled(Some(ann()), true)).unwrap();
        assert_shows(&mail, &["full refund"]);
    }

    #[test]
    fn a_cancelled_order_without_a_recipient_mails_nobody() {
        assert!(rendered(&cancelled(None, true)).is_none());
    }

    #[test]
    fn a_refund_mails_the_amount_now_and_the_total_so_far() {
        let refund = |amount, refunded_total, full| OrderRefunded {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            amount,
            refunded_total,
            currency: "KWD".into(),
            full,
            recipient: ann(),
        };
        let (template, mail) = rendered(&refund(1250, 1250, false)).unwrap();
        assert_eq!(template, "order_refunded");
        assert_eq!(mail.to, "ann@example.com");
        assert_eq!(mail.subject, "Refund for order 2E3F4A5B");
        assert_shows(&mail, &["KWD 1.250", "partial refund", LINK]);

        let (_, mail) = rendered(&refund(1749, 2999, true)).unwrap();
        assert_shows(&mail, &["KWD 1.749", "KWD 2.999", "full refund"]);
    }

    #[test]
    fn order_steps_without_a_mail_render_nothing() {
        let event = contracts::orders::OrderAwaitingPayment {
            order_id: order_id(),
            customer_id: Uuid::now_v7(),
            amount: 2999,
            currency: "USD".into(),
        };
        assert!(rendered(&event).is_none());
    }

    #[test]
    fn an_overflowing_line_is_an_error_not_a_mail() {
        let mut line = mug("Blue mug");
        line.unit_price = i64::MAX;
        let event = placed(Some(ann()), vec![line]);
        let envelope = Envelope::wrap(&event, 1, Utc::now(), None).unwrap();
        let links = Links {
            public_url: "https://shop.example".into(),
        };
        assert!(render(&envelope, &links).is_err());
    }
}
