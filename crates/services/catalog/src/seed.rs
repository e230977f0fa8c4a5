//! `mercato seed demo`: a small shop to look at on first run — a category tree and
//! products with prices, sizes and stock. Every row is keyed by slug and only created
//! when missing, so running the seed twice changes nothing.

use contracts::catalog::{ProductCreated, StockChanged};
use platform::clock::Clock;
use platform::unit::UnitOfWork;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::events::{snapshot, stock_changed};
use crate::store::categories::{self, NewCategory};
use crate::store::products::{self, ProductFields};

/// A subcategory and the nouns its products are named after.
type Subcategory = (&'static str, &'static [&'static str]);
/// A top-level category, its description and its subcategories.
type Department = (&'static str, &'static str, &'static [Subcategory]);

const TREE: &[Department] = &[
    (
        "Clothing",
        "Shirts, jackets and everything to wear.",
        &[
            (
                "Shirts",
                &["Oxford Shirt", "Linen Shirt", "Flannel Shirt", "Polo Shirt"],
            ),
            (
                "Jackets",
                &["Rain Jacket", "Denim Jacket", "Down Jacket", "Field Jacket"],
            ),
        ],
    ),
    (
        "Footwear",
        "Shoes and boots for town and trail.",
        &[
            (
                "Running Shoes",
                &[
                    "Road Runner",
                    "Trail Runner",
                    "Racing Flat",
                    "Daily Trainer",
                ],
            ),
            (
                "Boots",
                &["Hiking Boot", "Chelsea Boot", "Work Boot", "Snow Boot"],
            ),
        ],
    ),
    (
        "Home & Kitchen",
        "Things for cooking, eating and living.",
        &[
            (
                "Cookware",
                &["Cast Iron Skillet", "Saucepan", "Dutch Oven", "Wok"],
            ),
            (
                "Tableware",
                &["Ceramic Mug", "Dinner Plate", "Serving Bowl", "Teapot"],
            ),
        ],
    ),
    (
        "Outdoors",
        "Gear for camping and the great outdoors.",
        &[
            (
                "Camping",
                &["Tent", "Sleeping Bag", "Camp Stove", "Lantern"],
            ),
            (
                "Backpacks",
                &["Daypack", "Hiking Pack", "Travel Pack", "Hydration Pack"],
            ),
        ],
    ),
    (
        "Books",
        "Paper books to read and keep.",
        &[
            (
                "Cookbooks",
                &["Baking Book", "Noodle Book", "Grill Book", "Spice Book"],
            ),
            (
                "Travel Guides",
                &["City Guide", "Trail Guide", "Island Guide", "Rail Guide"],
            ),
        ],
    ),
];

const ADJECTIVES: &[&str] = &[
    "Classic",
    "Everyday",
    "Lightweight",
    "Premium",
    "Rugged",
    "Compact",
    "Organic",
    "Vintage",
    "Modern",
    "Essential",
];
const COLOURS: &[&str] = &["Black", "Navy", "Olive", "Sand", "Red", "Grey"];

/// A tiny deterministic generator so the demo shop is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// What a seed run did, and what the demo shop holds (for seeding its images).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub categories_created: usize,
    pub products_created: usize,
    /// Every demo product, new or not.
    pub products: Vec<SeededProduct>,
    /// The top-level categories: (name, slug).
    pub departments: Vec<(String, String)>,
}

/// A demo product and the colour its name promises.
#[derive(Debug, PartialEq, Eq)]
pub struct SeededProduct {
    pub id: Uuid,
    pub name: String,
    pub rgb: [u8; 3],
}

fn rgb_of(colour: &str) -> [u8; 3] {
    match colour {
        "Black" => [40, 40, 44],
        "Navy" => [30, 50, 110],
        "Olive" => [110, 120, 50],
        "Sand" => [210, 190, 140],
        "Red" => [190, 40, 40],
        _ => [128, 128, 132],
    }
}

/// Seeds at least 10 categories and 200 products; skips whatever already exists.
pub async fn demo(db: &DatabaseConnection, clock: &dyn Clock) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let mut dice = Dice(0x006d_6572_6361_746f);
    for (position, (top, description, subs)) in TREE.iter().enumerate() {
        let top_id = ensure_category(
            db,
            clock,
            None,
            top,
            description,
            true,
            position as i32,
            &mut report,
        )
        .await?;
        report
            .departments
            .push((top.to_string(), crate::domain::product::slugify(top)));
        for (sub_position, (sub, nouns)) in subs.iter().enumerate() {
            let sub_description = format!("{sub} from the {top} department.");
            let sub_id = ensure_category(
                db,
                clock,
                Some(top_id),
                sub,
                &sub_description,
                false,
                sub_position as i32,
                &mut report,
            )
            .await?;
            for noun in *nouns {
                for i in 0..5 {
                    let adjective = ADJECTIVES[(i * 2 + noun.len()) % ADJECTIVES.len()];
                    let colour = COLOURS[(i + noun.len()) % COLOURS.len()];
                    let name = format!("{adjective} {noun} {colour}");
                    let id =
                        ensure_product(db, clock, &name, noun, sub, sub_id, &mut dice, &mut report)
                            .await?;
                    report.products.push(SeededProduct {
                        id,
                        name,
                        rgb: rgb_of(colour),
                    });
                }
            }
        }
    }
    Ok(report)
}

#[expect(
    clippy::too_many_arguments,
    reason = "each argument is one field of the seeded row"
)]
async fn ensure_category(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    parent_id: Option<Uuid>,
    name: &str,
    description: &str,
    show_on_home: bool,
    position: i32,
    report: &mut SeedReport,
) -> anyhow::Result<Uuid> {
    let slug = crate::domain::product::slugify(name);
    if let Some(existing) = categories::live(db)
        .await?
        .into_iter()
        .find(|c| c.slug == slug)
    {
        return Ok(existing.id);
    }
    let new = NewCategory {
        parent_id,
        name,
        slug: &slug,
        description,
        show_on_home,
        position,
    };
    report.categories_created += 1;
    Ok(categories::insert(db, new, clock.now()).await?.id)
}

#[expect(
    clippy::too_many_arguments,
    reason = "each argument is one field of the seeded row"
)]
async fn ensure_product(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    name: &str,
    noun: &str,
    category: &str,
    category_id: Uuid,
    dice: &mut Dice,
    report: &mut SeedReport,
) -> anyhow::Result<Uuid> {
    // Draw the numbers before looking the slug up, so a re-run draws the same sequence.
    let price = 499 + dice.next(300) as i64 * 100 + 99;
    let weight = 100 + dice.next(3000) as i64;
    let (l, w, h) = (
        100 + dice.next(500) as i64,
        50 + dice.next(300) as i64,
        20 + dice.next(200) as i64,
    );
    let stock = dice.next(60) as i64;
    let slug = crate::domain::product::slugify(name);
    if let Some(existing) = products::by_slug(db, &slug).await? {
        return Ok(existing.id);
    }
    let fields = ProductFields {
        slug,
        name: name.to_owned(),
        description: format!(
            "A {} {} from our {} range. Made to last, easy to care for, and a customer favourite.",
            name.to_lowercase(),
            noun.to_lowercase(),
            category.to_lowercase()
        ),
        price,
        currency: "USD".into(),
        weight_grams: weight,
        length_mm: l,
        width_mm: w,
        height_mm: h,
        category_ids: vec![category_id],
    };
    let now = clock.now();
    let work = UnitOfWork::begin(db, now, None).await?;
    let product = products::insert(&work, &fields, stock, now).await?;
    work.emit(
        &ProductCreated {
            product: snapshot(&product),
        },
        product.version,
    )
    .await?;
    let stock_event: StockChanged = stock_changed(&product);
    work.emit(&stock_event, product.stock_version).await?;
    work.commit().await?;
    report.products_created += 1;
    Ok(product.id)
}
