//! Preparing a shop to check out in, through the public API as its staff and shoppers
//! would: an admin sets up shipping to Indonesia and a few products whose stock cannot
//! run out during a run; customers register, verify their email with the token from the
//! dev mailbox, sign in and add an address in Jakarta.
//!
//! Everything goes through the API (not the database) because checkout depends on the
//! replicas other services keep from events: orders must have heard that the customer
//! is verified and owns the address, shipping must know the products' weights.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::api::{self, create, staff_token};
use bench::shop::Shop;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

/// Customers registering at once. Registration and sign-in hash a password (argon2,
/// deliberately slow), so more would only queue for the cores.
pub const REGISTERING: usize = 16;
/// The most stock the catalog accepts for a product: a run of any length cannot sell
/// out, so every checkout is a success path and the figure is not about rejections.
const STOCK: i64 = 1_000_000_000;
const PASSWORD: &str = "a long bench customer passphrase";
/// How long a verification mail may take to arrive (it travels through the outbox, the
/// bus and notifications while other customers register).
const MAIL_WAIT: Duration = Duration::from_secs(60);

/// A verified customer who can check out: signed in, with an address to ship to.
#[derive(Clone, Debug)]
pub struct Customer {
    pub token: String,
    pub address_id: Uuid,
}

/// What the scenario shops with.
pub struct Prepared {
    pub product_ids: Vec<Uuid>,
    pub customers: Vec<Customer>,
    pub took: Duration,
}

/// Shipping to Indonesia, `products` products and `customers` verified customers.
pub async fn prepare(shop: &Shop, products: usize, customers: usize) -> anyhow::Result<Prepared> {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(REGISTERING)
        .build()
        .context("building the preparation client")?;
    // An admin may do everything, so one staff member sets up shipping and products.
    let admin = staff_token(shop, &client, "admin").await?;
    shipping_to_indonesia(shop, &client, &admin).await?;
    let url = format!("{}/api/v1/products", shop.base_url);
    let mut product_ids = Vec::with_capacity(products);
    for i in 0..products {
        // 300 g each: an order of one or two units stays in the first weight bracket.
        let body = json!({
            "name": format!("Bench mug {i}"), "slug": format!("bench-mug-{i}"),
            "description": "A mug for the checkout benchmark.", "price": 1_999, "currency": "USD",
            "weight_grams": 300, "length_mm": 100, "width_mm": 100, "height_mm": 100,
            "stock": STOCK,
        });
        product_ids.push(create(&client, &url, &admin, &body).await?);
    }

    let next = Arc::new(AtomicUsize::new(0));
    let mut registrars = Vec::with_capacity(REGISTERING);
    for _ in 0..REGISTERING.min(customers) {
        let (client, next, base) = (client.clone(), next.clone(), shop.base_url.clone());
        registrars.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= customers {
                    return anyhow::Ok(made);
                }
                made.push(customer(&client, &base, i).await?);
            }
        }));
    }
    let mut all = Vec::with_capacity(customers);
    for r in registrars {
        all.extend(r.await.context("a registering task failed")??);
    }
    Ok(Prepared {
        product_ids,
        customers: all,
        took: started.elapsed(),
    })
}

/// A zone for Indonesia with one `standard` rate, as `testkit::shop` sets it up.
async fn shipping_to_indonesia(
    shop: &Shop,
    client: &reqwest::Client,
    admin: &str,
) -> anyhow::Result<()> {
    let base = &shop.base_url;
    let zone = create(
        client,
        &format!("{base}/api/v1/admin/shipping/zones"),
        admin,
        &json!({"name": "Indonesia", "country": "ID"}),
    )
    .await?;
    create(
        client,
        &format!("{base}/api/v1/admin/shipping/rates"),
        admin,
        &json!({"zone_id": zone, "carrier": "Mercato Post", "service_code": "standard",
                "name": "Standard", "currency": "USD",
                "brackets": [{"up_to_grams": 1000, "price": 500}, {"up_to_grams": 5000, "price": 900}],
                "min_days": 2, "max_days": 4}),
    )
    .await?;
    Ok(())
}

/// Registers customer `i`, verifies the email, signs in and adds an address.
async fn customer(client: &reqwest::Client, base: &str, i: usize) -> anyhow::Result<Customer> {
    let email = format!("bench-customer-{i}@shop.example");
    let req = client.post(format!("{base}/api/v1/auth/register")).json(
        &json!({"email": email, "password": PASSWORD, "name": format!("Bench Customer {i}")}),
    );
    api::expect(req, StatusCode::CREATED, "registering").await?;
    let token = verification_token(client, base, &email).await?;
    let req = client
        .post(format!("{base}/api/v1/auth/verify-email"))
        .json(&json!({"token": token}));
    api::expect(req, StatusCode::NO_CONTENT, "verifying an email").await?;
    let req = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}));
    let pair = api::expect(req, StatusCode::OK, "signing a customer in").await?;
    let token = pair["access_token"]
        .as_str()
        .with_context(|| format!("no access token in {pair}"))?
        .to_owned();
    let address_id = create(
        client,
        &format!("{base}/api/v1/me/addresses"),
        &token,
        &json!({"label": "Home", "recipient_name": format!("Bench Customer {i}"),
                "phone": "+62 812-3456-7890", "line1": "Jl. Sudirman 1", "city": "Jakarta",
                "postal_code": "10220", "country": "ID"}),
    )
    .await?;
    Ok(Customer { token, address_id })
}

/// Waits for the verification mail to `email` and returns the token of its link.
async fn verification_token(
    client: &reqwest::Client,
    base: &str,
    email: &str,
) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        let req = client
            .get(format!("{base}/api/v1/dev/mailbox"))
            .query(&[("to", email)]);
        let mails = api::expect(req, StatusCode::OK, "reading the dev mailbox").await?;
        let texts = mails["items"].as_array().into_iter().flatten();
        if let Some(token) = texts
            .filter_map(|m| m["text"].as_str())
            .find_map(link_token)
        {
            return Ok(token);
        }
        if started.elapsed() > MAIL_WAIT {
            bail!("no verification mail reached {email} within {MAIL_WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token in a mail's `…?token=<token>` link, as `testkit` reads it.
fn link_token(text: &str) -> Option<String> {
    let start = text.find("token=")? + "token=".len();
    let token = text[start..].split(char::is_whitespace).next()?;
    (!token.is_empty()).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_token_ends_at_whitespace() {
        let text = "Verify: https://shop/verify?token=abc123\n\nor enter code: 123456";
        assert_eq!(link_token(text).as_deref(), Some("abc123"));
        assert_eq!(link_token("no link here"), None);
    }
}
