//! Quoting a shipment: the zone its destination falls in, its chargeable weight, and
//! the price of every service level of that zone that can carry it. Used by the public
//! quote endpoint and, at checkout, by orders through its typed client.

pub use contracts::shipping::{EstimatedDays, Quote, QuoteItem, QuoteRequest, ShippingOption};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain;
use crate::store;

#[derive(Debug)]
pub enum QuoteError {
    /// Positions in `items` of products that are unknown or no longer sold.
    UnknownProducts(Vec<usize>),
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for QuoteError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Db(e)
    }
}

pub async fn quote<C: ConnectionTrait>(db: &C, req: &QuoteRequest) -> Result<Quote, QuoteError> {
    let ids: Vec<Uuid> = req.items.iter().map(|i| i.product_id).collect();
    let known = store::products(db, &ids).await?;
    let unknown: Vec<usize> = req
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| !known.get(&i.product_id).is_some_and(|(p, _)| p.active))
        .map(|(i, _)| i)
        .collect();
    if !unknown.is_empty() {
        return Err(QuoteError::UnknownProducts(unknown));
    }
    let mut parcels = Vec::with_capacity(req.items.len());
    let mut value = 0i64;
    let mut currencies: Vec<&str> = Vec::new();
    for item in &req.items {
        let (product, currency) = &known[&item.product_id];
        parcels.push(product.parcel(item.quantity));
        value = value.saturating_add(product.price.saturating_mul(item.quantity));
        if !currencies.contains(&currency.as_str()) {
            currencies.push(currency);
        }
    }
    let weight = domain::weigh(&parcels);

    let zone = store::zones_in(db, &req.country)
        .await?
        .into_iter()
        .filter_map(|z| {
            domain::coverage(&z.postal_prefixes, req.postal_code.as_deref()).map(|c| (c, z))
        })
        .max_by_key(|(c, _)| *c)
        .map(|(_, z)| z);
    let Some(zone) = zone else {
        return Ok(Quote {
            zone: None,
            weight,
            options: Vec::new(),
        });
    };
    let mut options: Vec<ShippingOption> = store::rates(db, Some(zone.id))
        .await?
        .into_iter()
        .filter(|r| r.active)
        .filter_map(|r| {
            // The threshold is in the rate's currency; goods priced otherwise never meet it.
            let goods = (currencies == [r.currency.as_str()]).then_some(value);
            let price = domain::price(&r.brackets, weight.chargeable_grams, goods, r.free_over)?;
            Some(ShippingOption {
                service_code: r.service_code,
                carrier: r.carrier,
                name: r.name,
                price,
                currency: r.currency,
                estimated_days: EstimatedDays {
                    min: r.min_days,
                    max: r.max_days,
                },
            })
        })
        .collect();
    options.sort_by(|a, b| {
        (a.price, a.estimated_days.max, &a.service_code).cmp(&(
            b.price,
            b.estimated_days.max,
            &b.service_code,
        ))
    });
    Ok(Quote {
        zone: Some(zone.name),
        weight,
        options,
    })
}
