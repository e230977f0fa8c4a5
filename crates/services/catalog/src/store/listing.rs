//! Product listings: filters, full-text search and keyset pagination.
//!
//! Pages are cut by the sort key plus the id (`WHERE (key, id) > (last key, last id)`),
//! never by offset, so products inserted while a client pages do not shift later pages:
//! every product that existed when paging began is seen exactly once.
//!
//! Search is the one sanctioned per-backend branch: PostgreSQL matches a generated
//! `tsvector` column and ranks with `ts_rank`; SQLite matches its FTS5 table and ranks
//! with `bm25` (lower is better). Both use English stemming and prefix matching.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::products::{self, Product};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    Rating,
}

/// Where the previous page ended. Carried inside the opaque cursor.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Position {
    pub sort: Sort,
    /// The sort key of the last row (price, rating × 1000 or search rank).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<f64>,
    pub id: Uuid,
}

/// What a listing asks for, already validated.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Search terms: lower-case letters and digits only.
    pub terms: Vec<String>,
    /// A category and all its descendants.
    pub category_ids: Option<Vec<Uuid>>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: bool,
    pub include_archived: bool,
}

struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }
}

/// Search words: runs of letters and digits in any script, lower-cased, at most 8 of
/// at most 40 characters each (no product name has longer words, and each word is a
/// prefix query the index answers). Everything else (quotes, operators, punctuation)
/// separates words, so nothing a client types can change the meaning of the full-text
/// query.
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .take(8)
        .collect()
}

/// One page of products and, per product, its sort key (for the next cursor).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    sort: Sort,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<(Product, Option<f64>)>, DbErr> {
    let backend = db.get_database_backend();
    let searching = !filter.terms.is_empty();
    let sort = if sort == Sort::Relevance && !searching {
        Sort::Newest
    } else {
        sort
    };
    let mut sql = Sql {
        text: String::new(),
        values: Vec::new(),
    };

    // The rank expression and the FROM clause depend on the backend only when searching.
    let (rank, from) = match (searching, backend) {
        (true, DbBackend::Postgres) => {
            let query = filter
                .terms
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            let q = sql.bind(query);
            (
                format!("ts_rank(p.search, to_tsquery('english', {q}))"),
                format!("products p WHERE p.search @@ to_tsquery('english', {q})"),
            )
        }
        (true, _) => {
            let query = filter
                .terms
                .iter()
                .map(|t| format!("\"{t}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            let q = sql.bind(query);
            (
                "bm25(product_search, 0.0, 10.0, 1.0)".to_owned(),
                format!(
                    "product_search s JOIN products p ON p.id = s.product_id WHERE product_search MATCH {q}"
                ),
            )
        }
        (false, _) => ("0".to_owned(), "products p WHERE 1 = 1".to_owned()),
    };
    let key_expr = match sort {
        Sort::Relevance => rank.clone(),
        Sort::PriceAsc | Sort::PriceDesc => "p.price".to_owned(),
        Sort::Rating => "p.rating_avg_milli".to_owned(),
        Sort::Newest => "0".to_owned(),
    };
    let mut text = format!("SELECT p.id AS id, {key_expr} AS sort_key FROM {from}");
    if !filter.include_archived {
        text.push_str(" AND p.active = ");
        text.push_str(&sql.bind(true));
    }
    if let Some(ids) = &filter.category_ids {
        let list: Vec<String> = ids.iter().map(|id| sql.bind(*id)).collect();
        text.push_str(&format!(
            " AND p.id IN (SELECT product_id FROM product_categories WHERE category_id IN ({}))",
            if list.is_empty() {
                "NULL".to_owned()
            } else {
                list.join(", ")
            }
        ));
    }
    if let Some(min) = filter.min_price {
        text.push_str(&format!(" AND p.price >= {}", sql.bind(min)));
    }
    if let Some(max) = filter.max_price {
        text.push_str(&format!(" AND p.price <= {}", sql.bind(max)));
    }
    if filter.in_stock {
        text.push_str(" AND p.on_hand > p.reserved");
    }
    // Ascending keys page with ">", descending with "<"; bm25 ranks better when lower.
    let ascending = match sort {
        Sort::PriceAsc => true,
        Sort::Relevance => backend != DbBackend::Postgres,
        _ => false,
    };
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(pos) = after {
        let id = sql.bind(pos.id);
        match (sort, pos.key) {
            (Sort::Newest, _) | (_, None) => text.push_str(&format!(" AND p.id {cmp} {id}")),
            (Sort::Relevance, Some(k)) => {
                let k = sql.bind(k);
                text.push_str(&format!(
                    " AND ({key_expr} {cmp} {k} OR ({key_expr} = {k} AND p.id {cmp} {id}))"
                ));
            }
            (_, Some(k)) => {
                let k = sql.bind(k as i64);
                text.push_str(&format!(
                    " AND ({key_expr} {cmp} {k} OR ({key_expr} = {k} AND p.id {cmp} {id}))"
                ));
            }
        }
    }
    let order = if sort == Sort::Newest {
        format!("p.id {dir}")
    } else {
        format!("sort_key {dir}, p.id {dir}")
    };
    text.push_str(&format!(
        " ORDER BY {order} LIMIT {}",
        sql.bind(limit as i64)
    ));
    sql.text = text;

    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend, sql.text, sql.values,
        ))
        .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        ids.push(row.try_get::<Uuid>("", "id")?);
        let key = match sort {
            Sort::Newest => None,
            Sort::Relevance => Some(
                row.try_get::<f64>("", "sort_key")
                    .or_else(|_| row.try_get::<f32>("", "sort_key").map(f64::from))?,
            ),
            _ => Some(row.try_get::<i64>("", "sort_key")? as f64),
        };
        keys.push(key);
    }
    let found = products::many(db, &ids).await?;
    Ok(found.into_iter().zip(keys).collect())
}
