//! The home page's data in one answer: banners, then the categories marked for the home
//! page, each with its best sellers.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use platform::error::{ApiError, ApiResult};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::product_view::{ImageView, ProductView, image_view, view};
use crate::AppState;
use crate::domain::category::Tree;
use crate::store::{categories, media, products};

/// Products shown per home-page category.
const PER_CATEGORY: u64 = 8;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(storefront_home))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HomeBanner {
    pub id: Uuid,
    pub title: String,
    pub link: String,
    pub image: ImageView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HomeCategory {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// Best sellers in the category and its subcategories, newest first among equals.
    pub products: Vec<ProductView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Home {
    pub banners: Vec<HomeBanner>,
    pub categories: Vec<HomeCategory>,
}

/// Home page data: banners, and the categories marked `show_on_home` with their top
/// products.
#[utoipa::path(get, path = "/api/v1/storefront/home", tag = "catalog",
    responses((status = 200, body = Home)))]
async fn storefront_home(State(s): State<AppState>) -> ApiResult<Response> {
    // Any product, stock, category or banner change retires this entry.
    let cache_key = crate::cache::listing_key(&s.ctx.cache, "storefront-home").await;
    if let Some(key) = &cache_key
        && let Some(hit) = s.ctx.cache.get(key).await
    {
        return Ok(super::responses::json_response(hit, true));
    }
    let banners = media::banners(&s.ctx.db)
        .await?
        .into_iter()
        .map(|b| HomeBanner {
            id: b.banner_id,
            title: b.title,
            link: b.link,
            image: image_view(b.image),
        })
        .collect();
    let all = categories::live(&s.ctx.db).await?;
    let tree = Tree::new(all.iter().map(|c| (c.id, c.parent_id)));
    let mut shown: Vec<_> = all.iter().filter(|c| c.show_on_home).collect();
    shown.sort_by_key(|c| (c.position, c.name.clone()));
    let mut home_categories = Vec::with_capacity(shown.len());
    for c in shown {
        let mut top =
            products::top_in(&s.ctx.db, &tree.with_descendants(c.id), PER_CATEGORY).await?;
        media::attach(&s.ctx.db, &mut top).await?;
        home_categories.push(HomeCategory {
            id: c.id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            products: top.into_iter().map(|p| view(p, false)).collect(),
        });
    }
    let home = Home {
        banners,
        categories: home_categories,
    };
    let body = Bytes::from(serde_json::to_vec(&home).map_err(ApiError::internal)?);
    if let Some(key) = &cache_key {
        s.ctx.cache.set(key, body.clone()).await;
    }
    Ok(super::responses::json_response(body, true))
}
