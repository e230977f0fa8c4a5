//! Demo zones and rates for `mercato seed demo`: the United States (with a dearer zone
//! for Alaska and Hawaii), Indonesia and the United Kingdom, each with a standard and
//! an express service. Zones are keyed by name and skipped when present.

use chrono::{DateTime, Utc};
use platform::clock::Clock;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::Bracket;
use crate::store::{self, Rate, Zone};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub zones_created: usize,
    pub rates_created: usize,
}

/// (zone name, country, postal prefixes, currency, price scale, free over)
type DemoZone = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    i64,
    i64,
);

const ZONES: &[DemoZone] = &[
    ("United States", "US", &[], "USD", 1, 7_500),
    (
        "Alaska and Hawaii",
        "US",
        &["995", "996", "997", "998", "999", "967", "968"],
        "USD",
        2,
        15_000,
    ),
    ("Indonesia", "ID", &[], "USD", 1, 5_000),
    ("United Kingdom", "GB", &[], "USD", 2, 10_000),
];

fn table(scale: i64, base: i64) -> Vec<Bracket> {
    [(1_000, 1), (5_000, 2), (20_000, 4), (50_000, 8)]
        .into_iter()
        .map(|(up_to_grams, steps)| Bracket {
            up_to_grams,
            price: base * scale * steps,
        })
        .collect()
}

pub async fn demo(db: &DatabaseConnection, clock: &dyn Clock) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let existing: Vec<String> = store::zones(db)
        .await?
        .into_iter()
        .map(|z| z.name)
        .collect();
    for (name, country, prefixes, currency, scale, free_over) in ZONES {
        if existing.iter().any(|e| e == name) {
            continue;
        }
        let now = clock.now();
        let zone = Zone {
            id: Uuid::now_v7(),
            name: (*name).into(),
            country: (*country).into(),
            postal_prefixes: prefixes.iter().map(|p| (*p).into()).collect(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = platform::db::begin_write(db).await?;
        store::insert_zone(&txn, &zone).await?;
        let services = [
            (
                "standard",
                "Standard",
                "Mercato Post",
                499,
                Some(*free_over),
                (3, 7),
            ),
            ("express", "Express", "FastFreight", 1299, None, (1, 2)),
        ];
        for (code, label, carrier, base, free, (min_days, max_days)) in services {
            store::insert_rate(
                &txn,
                &rate(
                    zone.id,
                    code,
                    label,
                    carrier,
                    currency,
                    table(*scale, base),
                    free,
                    (min_days, max_days),
                    now,
                ),
            )
            .await?;
            report.rates_created += 1;
        }
        txn.commit().await?;
        report.zones_created += 1;
    }
    Ok(report)
}

#[expect(
    clippy::too_many_arguments,
    reason = "each argument is one field of the seeded rate"
)]
fn rate(
    zone_id: Uuid,
    code: &str,
    name: &str,
    carrier: &str,
    currency: &str,
    brackets: Vec<Bracket>,
    free_over: Option<i64>,
    (min_days, max_days): (i32, i32),
    now: DateTime<Utc>,
) -> Rate {
    Rate {
        id: Uuid::now_v7(),
        zone_id,
        carrier: carrier.into(),
        service_code: code.into(),
        name: name.into(),
        currency: currency.into(),
        brackets,
        free_over,
        min_days,
        max_days,
        active: true,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}
