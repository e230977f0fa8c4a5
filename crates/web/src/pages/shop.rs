//! Browsing: the home page, listings (search and categories) and product pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::estimate::Estimate;
use super::{failure_page, render};
use crate::WebState;
use crate::session::Visitor;
use crate::view::{
    ApiImage, ApiProduct, Form, Image, Layout, ProductCard, StockLabel, size, weight,
};

#[derive(Deserialize)]
struct ApiHome {
    #[serde(default)]
    banners: Vec<ApiBanner>,
    #[serde(default)]
    categories: Vec<ApiHomeCategory>,
}

#[derive(Deserialize)]
struct ApiBanner {
    title: String,
    link: String,
    image: ApiImage,
}

#[derive(Deserialize)]
struct ApiHomeCategory {
    name: String,
    slug: String,
    #[serde(default)]
    products: Vec<ApiProduct>,
}

pub struct Banner {
    pub title: String,
    pub link: String,
    pub image: Image,
}

pub struct HomeCategory {
    pub name: String,
    pub slug: String,
    pub products: Vec<ProductCard>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    banners: Vec<Banner>,
    categories: Vec<HomeCategory>,
}

pub(super) async fn home(State(web): State<WebState>, visitor: Visitor) -> Response {
    let home: ApiHome = match web
        .api
        .get(&visitor.caller, "/api/v1/storefront/home")
        .await
    {
        Ok(h) => h,
        Err(p) => return failure_page(&web, &visitor, &p),
    };
    let public = &*web.public_url;
    render(&HomePage {
        layout: Layout::for_visitor(&web, &visitor).await,
        banners: home
            .banners
            .iter()
            .map(|b| Banner {
                title: b.title.clone(),
                link: safe_link(&b.link),
                image: Image::of(&b.image, &b.title, public),
            })
            .collect(),
        categories: home
            .categories
            .iter()
            .map(|c| HomeCategory {
                name: c.name.clone(),
                slug: c.slug.clone(),
                products: c
                    .products
                    .iter()
                    .map(|p| ProductCard::of(p, public))
                    .collect(),
            })
            .collect(),
    })
}

/// A banner's link as a page may use it: a path in the shop or an http(s) URL (the API
/// already refuses anything else; this keeps it so if data ever slipped past).
fn safe_link(link: &str) -> String {
    let ok = (link.starts_with('/') && !link.starts_with("//"))
        || link.starts_with("https://")
        || link.starts_with("http://");
    if ok { link.to_owned() } else { "/".into() }
}

/// The listing's query string, as the filter form sends it.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListingQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    min_price: String,
    #[serde(default)]
    max_price: String,
    #[serde(default)]
    in_stock: Option<String>,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

/// The filters as the form shows them back.
pub struct Filters {
    pub q: String,
    pub min_price: String,
    pub max_price: String,
    pub in_stock: bool,
    pub sort: String,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    layout: Layout,
    heading: String,
    action: String,
    search: bool,
    filters: Filters,
    sorts: Vec<(&'static str, &'static str)>,
    form: Form,
    products: Vec<ProductCard>,
    next_page: Option<String>,
}

const SORTS: [(&str, &str); 5] = [
    ("relevance", "Best match"),
    ("newest", "Newest"),
    ("price_asc", "Price, low to high"),
    ("price_desc", "Price, high to low"),
    ("rating", "Best rated"),
];

#[derive(Deserialize)]
struct ProductPage {
    items: Vec<ApiProduct>,
    next_cursor: Option<String>,
}

/// A price typed in major units (`12.50`) as minor units (1250), or why not.
fn minor_units(raw: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let (major, minor) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || minor.len() > 2 || !(minor.is_empty() || digits(minor)) {
        return Err("must be an amount like 12 or 12.50".into());
    }
    let major: i64 = major.parse().map_err(|_| "is too large".to_owned())?;
    let minor: i64 = format!("{minor:0<2}").parse().unwrap_or(0);
    Ok(Some(major * 100 + minor))
}

pub(super) async fn search(
    State(web): State<WebState>,
    visitor: Visitor,
    Query(q): Query<ListingQuery>,
) -> Response {
    listing(web, visitor, q, None).await
}

#[derive(Deserialize)]
struct CategoryTree {
    items: Vec<CategoryNode>,
}

#[derive(Deserialize)]
struct CategoryNode {
    id: String,
    name: String,
    slug: String,
    #[serde(default)]
    children: Vec<CategoryNode>,
}

fn find<'a>(nodes: &'a [CategoryNode], slug: &str) -> Option<&'a CategoryNode> {
    nodes.iter().find_map(|n| {
        if n.slug == slug {
            Some(n)
        } else {
            find(&n.children, slug)
        }
    })
}

pub(super) async fn category(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(slug): Path<String>,
    Query(q): Query<ListingQuery>,
) -> Response {
    let tree: CategoryTree = match web.api.get(&visitor.caller, "/api/v1/categories").await {
        Ok(t) => t,
        Err(p) => return failure_page(&web, &visitor, &p),
    };
    match find(&tree.items, &slug) {
        Some(c) => {
            let (id, name) = (c.id.clone(), c.name.clone());
            listing(web, visitor, q, Some((id, name, slug))).await
        }
        None => super::not_found(&web, &visitor),
    }
}

async fn listing(
    web: WebState,
    visitor: Visitor,
    q: ListingQuery,
    category: Option<(String, String, String)>,
) -> Response {
    let mut form = Form::default();
    let mut params: Vec<(&str, String)> = Vec::new();
    if !q.q.trim().is_empty() {
        params.push(("q", q.q.trim().to_owned()));
    }
    for (field, raw) in [("min_price", &q.min_price), ("max_price", &q.max_price)] {
        match minor_units(raw) {
            Ok(Some(v)) => params.push((field, v.to_string())),
            Ok(None) => {}
            Err(message) => form.errors.push(crate::api::FieldError {
                field: field.into(),
                message,
            }),
        }
    }
    let in_stock = q.in_stock.as_deref() == Some("true");
    if in_stock {
        params.push(("in_stock", "true".into()));
    }
    let sort = if SORTS.iter().any(|(v, _)| *v == q.sort) {
        q.sort.clone()
    } else if q.q.trim().is_empty() {
        "newest".into()
    } else {
        "relevance".into()
    };
    params.push(("sort", sort.clone()));
    if let Some((id, _, _)) = &category {
        params.push(("category", id.clone()));
    }
    if !q.cursor.is_empty() {
        params.push(("cursor", q.cursor.clone()));
    }
    params.push(("limit", "24".into()));
    let api_query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let (products, next_cursor) = if form.errors.is_empty() {
        match web
            .api
            .get::<ProductPage>(&visitor.caller, &format!("/api/v1/products?{api_query}"))
            .await
        {
            Ok(page) => (page.items, page.next_cursor),
            Err(p) if p.is(422) => {
                form = Form::refused(&p);
                (Vec::new(), None)
            }
            Err(p) => return failure_page(&web, &visitor, &p),
        }
    } else {
        (Vec::new(), None)
    };
    let action = match &category {
        Some((_, _, slug)) => format!("/categories/{slug}"),
        None => "/search".into(),
    };
    let next_page = next_cursor.map(|cursor| {
        let mut keep: Vec<(&str, String)> = vec![
            ("q", q.q.clone()),
            ("min_price", q.min_price.clone()),
            ("max_price", q.max_price.clone()),
            ("sort", sort.clone()),
        ];
        if in_stock {
            keep.push(("in_stock", "true".into()));
        }
        keep.retain(|(_, v)| !v.is_empty());
        keep.push(("cursor", cursor));
        format!(
            "{action}?{}",
            serde_urlencoded::to_string(&keep).unwrap_or_default()
        )
    });
    let heading = match &category {
        Some((_, name, _)) => name.clone(),
        None if q.q.trim().is_empty() => "All products".into(),
        None => format!("Results for “{}”", q.q.trim()),
    };
    let mut layout = Layout::for_visitor(&web, &visitor).await;
    layout.query = q.q.clone();
    let public = &*web.public_url;
    render(&ListingPage {
        layout,
        heading,
        action,
        search: category.is_none(),
        filters: Filters {
            q: q.q,
            min_price: q.min_price,
            max_price: q.max_price,
            in_stock,
            sort,
        },
        sorts: SORTS.to_vec(),
        form,
        products: products
            .iter()
            .map(|p| ProductCard::of(p, public))
            .collect(),
        next_page,
    })
}

pub struct ProductDetail {
    pub id: String,
    pub slug: String,
    pub buyable: bool,
    /// The most one line may hold: what is left, at most the cart's 99.
    pub max_quantity: i64,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub price: String,
    pub stock: StockLabel,
    pub images: Vec<Image>,
    pub weight: String,
    pub size: String,
    pub units_sold: i64,
    pub rating: String,
    pub rating_count: i64,
}

pub struct ReviewItem {
    pub rating: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub date: String,
}

#[derive(Deserialize)]
struct ApiReview {
    rating: i64,
    title: Option<String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    author: String,
    created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ReviewPage {
    items: Vec<ApiReview>,
    next_cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPageView {
    layout: Layout,
    canonical: String,
    json_ld: String,
    product: ProductDetail,
    reviews: Vec<ReviewItem>,
    more_reviews: Option<String>,
    /// On the visitor's wishlist.
    wished: bool,
    estimate: Estimate,
    just_reviewed: bool,
}

#[derive(Deserialize)]
pub(super) struct ProductQuery {
    /// A cursor into the reviews.
    #[serde(default)]
    reviews: String,
    /// Where to estimate shipping to (the estimate form).
    #[serde(default)]
    country: String,
    #[serde(default)]
    postal_code: String,
    /// Set on the way back from writing a review.
    #[serde(default)]
    reviewed: String,
}

pub(super) async fn product(
    State(web): State<WebState>,
    visitor: Visitor,
    Path(slug): Path<String>,
    Query(rq): Query<ProductQuery>,
) -> Response {
    let path = format!("/api/v1/products/{}", urlencoding(&slug));
    let p: ApiProduct = match web.api.get(&visitor.caller, &path).await {
        Ok(p) => p,
        Err(e) if e.is(404) || e.is(400) || e.is(422) => return super::not_found(&web, &visitor),
        Err(e) => return failure_page(&web, &visitor, &e),
    };
    let mut reviews_path = format!("/api/v1/products/{}/reviews?limit=10", p.id);
    if !rq.reviews.is_empty() {
        reviews_path.push_str(&format!("&cursor={}", urlencoding(&rq.reviews)));
    }
    let reviews: ReviewPage =
        web.api
            .get(&visitor.caller, &reviews_path)
            .await
            .unwrap_or(ReviewPage {
                items: Vec::new(),
                next_cursor: None,
            });
    let canonical = format!("{}/products/{}", web.public_url, p.slug);
    let public = &*web.public_url;
    let images: Vec<Image> = p
        .images
        .iter()
        .map(|i| Image::of(i, &p.name, public))
        .collect();
    let (rating, rating_count) = p.rating.as_ref().map_or((0.0, 0), |r| (r.average, r.count));
    let json_ld = product_json_ld(&p, &canonical, &images, rating, rating_count);
    let summary: String = p.description.chars().take(160).collect();
    let wished = super::wishlist::ids(&web, &visitor)
        .await
        .unwrap_or_default()
        .contains(&p.id);
    let estimate = Estimate::to(&web, &visitor, &p.id, &rq.country, &rq.postal_code).await;
    render(&ProductPageView {
        just_reviewed: !rq.reviewed.is_empty(),
        wished,
        estimate,
        layout: Layout::for_visitor(&web, &visitor).await,
        json_ld,
        product: ProductDetail {
            id: p.id.clone(),
            slug: p.slug.clone(),
            buyable: p.in_stock && p.available > 0,
            max_quantity: p.available.clamp(1, 99),
            name: p.name.clone(),
            summary,
            description: p.description.clone(),
            price: contracts::money::display(p.price, &p.currency),
            stock: StockLabel::of(&p),
            weight: weight(p.weight_grams),
            size: size(p.length_mm, p.width_mm, p.height_mm),
            units_sold: p.units_sold,
            rating: format!("{rating:.1}"),
            rating_count,
            images,
        },
        reviews: reviews
            .items
            .into_iter()
            .map(|r| ReviewItem {
                rating: r.rating,
                title: r.title.unwrap_or_default(),
                body: r.body,
                author: r.author,
                date: r.created_at.format("%-d %B %Y").to_string(),
            })
            .collect(),
        more_reviews: reviews.next_cursor.map(|c| {
            format!(
                "/products/{}?reviews={}#reviews-heading",
                p.slug,
                urlencoding(&c)
            )
        }),
        canonical,
    })
}

/// schema.org `Product` data for search engines, made safe to sit inside `<script>`:
/// `<`, `>` and `&` are written as JSON escapes, so no text of a product can end the
/// script element.
fn product_json_ld(
    p: &ApiProduct,
    url: &str,
    images: &[Image],
    rating: f64,
    rating_count: i64,
) -> String {
    // "USD 12.50" → "12.50": schema.org wants the amount and the currency apart.
    let price = contracts::money::display(p.price, &p.currency);
    let amount = price.rsplit(' ').next().unwrap_or_default().to_owned();
    let mut data = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p.name,
        "description": p.description,
        "sku": p.id,
        "url": url,
        "image": images.iter().map(|i| i.large_absolute.clone()).collect::<Vec<_>>(),
        "offers": {
            "@type": "Offer",
            "price": amount,
            "priceCurrency": p.currency,
            "availability": if p.in_stock { "https://schema.org/InStock" } else { "https://schema.org/OutOfStock" },
            "url": url,
        },
    });
    if rating_count > 0 {
        data["aggregateRating"] = serde_json::json!({
            "@type": "AggregateRating",
            "ratingValue": format!("{rating:.1}"),
            "reviewCount": rating_count,
        });
    }
    data.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Percent-encodes a path segment or query value.
pub(super) fn urlencoding(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_prices_become_minor_units() {
        assert_eq!(minor_units(""), Ok(None));
        assert_eq!(minor_units("12"), Ok(Some(1200)));
        assert_eq!(minor_units(" 12.5 "), Ok(Some(1250)));
        assert_eq!(minor_units("0.05"), Ok(Some(5)));
        for bad in ["-1", "1.234", "abc", "1e5", ".5", "9999999999999"] {
            assert!(minor_units(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn banner_links_stay_safe() {
        assert_eq!(safe_link("/categories/shoes"), "/categories/shoes");
        assert_eq!(safe_link("https://x.example/"), "https://x.example/");
        assert_eq!(safe_link("javascript:alert(1)"), "/");
        assert_eq!(safe_link("//evil.example"), "/");
    }
}
