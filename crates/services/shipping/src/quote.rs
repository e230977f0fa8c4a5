//! Quoting a shipment: the zone its destination falls in, its chargeable weight, and
//! the price of every service level of that zone that can carry it. Used by the public
//! quote endpoint and, at checkout, by orders through its typed client.

use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{self, Weights};
use crate::store;

pub struct QuoteRequest {
    pub country: String,
    pub postal_code: Option<String>,
    /// (product, quantity)
    pub items: Vec<(Uuid, i64)>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EstimatedDays {
    pub min: i32,
    pub max: i32,
}

/// One way to ship, priced.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShippingOption {
    /// What checkout sends back as `shipping_service`.
    pub service_code: String,
    pub carrier: String,
    pub name: String,
    /// Minor units of `currency`; 0 when the goods reach the free-shipping threshold.
    pub price: i64,
    pub currency: String,
    pub estimated_days: EstimatedDays,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Quote {
    pub zone: Option<String>,
    pub weight: Weights,
    /// Cheapest first; empty when nothing ships there (or nothing carries this weight).
    pub options: Vec<ShippingOption>,
}

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
    let ids: Vec<Uuid> = req.items.iter().map(|(id, _)| *id).collect();
    let known = store::products(db, &ids).await?;
    let unknown: Vec<usize> = req
        .items
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| !known.get(id).is_some_and(|(p, _)| p.active))
        .map(|(i, _)| i)
        .collect();
    if !unknown.is_empty() {
        return Err(QuoteError::UnknownProducts(unknown));
    }
    let mut parcels = Vec::with_capacity(req.items.len());
    let mut value = 0i64;
    let mut currencies: Vec<&str> = Vec::new();
    for (id, quantity) in &req.items {
        let (product, currency) = &known[id];
        parcels.push(product.parcel(*quantity));
        value = value.saturating_add(product.price.saturating_mul(*quantity));
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
