//! Cursor pagination shared by every list endpoint: `{items, next_cursor}`, with an
//! opaque cursor (base64url JSON of the position) and a bounded `limit`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `?cursor=…&limit=…`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// The position the cursor names; none for a first page (no cursor, or an empty
    /// one, as a form with an empty field sends).
    pub fn position<P: DeserializeOwned>(&self) -> Result<Option<P>, ApiError> {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()
    }
}

pub fn encode_cursor<P: Serialize>(position: &P) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_cursor<P: DeserializeOwned>(cursor: &str) -> Result<P, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| ApiError::field("cursor", "is not a cursor this API issued"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::field("cursor", "is not a cursor this API issued"))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
pub fn paginate<R, T: ToSchema, P: Serialize>(
    mut rows: Vec<R>,
    limit: u64,
    position_of: impl Fn(&R) -> P,
    render: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&position_of(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(render).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    proptest! {
        /// Cursors come back from clients: whatever they send decodes or is a 422.
        #[test]
        fn any_cursor_decodes_or_is_refused(cursor in "\\PC{0,200}") {
            let _ = decode_cursor::<Uuid>(&cursor);
            let _ = decode_cursor::<(DateTime<Utc>, Uuid)>(&cursor);
            let _ = decode_cursor::<(i64, Uuid)>(&cursor);
        }

        #[test]
        fn a_cursor_this_api_issued_decodes_to_its_position(n in any::<i64>(), id in any::<u128>()) {
            let position = (n, Uuid::from_u128(id));
            prop_assert_eq!(decode_cursor::<(i64, Uuid)>(&encode_cursor(&position)).ok(), Some(position));
        }
    }
}
