//! Relay connections over keyset cursors.
//!
//! A cursor is a position (sort key and id, see `journeys_core::page`) tagged
//! with the ordering it was made for, so a cursor from another list or order is
//! refused rather than misread.

use std::sync::Arc;

use async_graphql::{Context, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use journeys_core::page::{Keyset, Page, PageInfoFlags, Position, SortKey, finish};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// A position in one ordering of one list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "o")]
    pub ordering: String,
    #[serde(rename = "k")]
    pub key: SortKey,
    pub id: Uuid,
}

impl Cursor {
    pub fn new(ordering: &str, key: SortKey, id: Uuid) -> Self {
        Self {
            ordering: ordering.to_owned(),
            key,
            id,
        }
    }

    /// The cursor of `position` in the ordering called `ordering`.
    pub fn at(ordering: &str, position: Position) -> Self {
        Self::new(ordering, position.key, position.id)
    }

    pub fn position(self) -> Position {
        Position {
            key: self.key,
            id: self.id,
        }
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serialises");
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A cursor this API returned for `ordering`, else BAD_USER_INPUT.
    pub fn decode(text: &str, ordering: &str) -> ApiResult<Self> {
        let invalid =
            || ApiError::bad_input("invalid cursor: pass back a cursor this API returned");
        let raw = URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&raw).map_err(|_| invalid())?;
        if cursor.ordering != ordering {
            return Err(ApiError::bad_input(format!(
                "this cursor belongs to the `{}` ordering, not `{ordering}`",
                cursor.ordering
            )));
        }
        Ok(cursor)
    }
}

/// The connection arguments as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    /// Checks the arguments against `ordering`, the name of the list's sort order.
    pub fn page(self, ordering: &str) -> ApiResult<Page> {
        let size = |n: i32, arg: &str| -> ApiResult<u64> {
            match u64::try_from(n) {
                Ok(n) if n <= MAX_PAGE_SIZE => Ok(n),
                Ok(_) => Err(ApiError::bad_input(format!(
                    "`{arg}` must be at most {MAX_PAGE_SIZE}"
                ))),
                Err(_) => Err(ApiError::bad_input(format!("`{arg}` must not be negative"))),
            }
        };
        let (size, backward) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input("pass `first` or `last`, not both"));
            }
            (Some(n), None) => (size(n, "first")?, false),
            (None, Some(n)) => (size(n, "last")?, true),
            (None, None) => (
                DEFAULT_PAGE_SIZE,
                self.before.is_some() && self.after.is_none(),
            ),
        };
        let position = |text: &str| Cursor::decode(text, ordering).map(Cursor::position);
        let after = self.after.as_deref().map(position).transpose()?;
        let before = self.before.as_deref().map(position).transpose()?;
        Ok(Page {
            size,
            backward,
            after,
            before,
        })
    }
}

/// Relay's page information.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether items follow this page. Exact when paging forward; when paging
    /// backward it is true whenever `before` was given.
    pub has_next_page: bool,
    /// Whether items precede this page. Exact when paging backward; when
    /// paging forward it is true whenever `after` was given.
    pub has_previous_page: bool,
    /// The cursor of the page's first item (pass it as `before` for the page
    /// before); null when the page is empty.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item (pass it as `after` for the next
    /// page); null when the page is empty.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    pub fn new(flags: PageInfoFlags, cursors: &[String]) -> Self {
        Self {
            has_next_page: flags.has_next,
            has_previous_page: flags.has_previous,
            start_cursor: cursors.first().cloned(),
            end_cursor: cursors.last().cloned(),
        }
    }
}

/// Counts a connection's whole list, only when `totalCount` is asked for.
#[async_trait::async_trait]
pub trait Count: Send + Sync {
    async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64>;
}

#[derive(Clone)]
pub struct TotalCount(pub Arc<dyn Count>);

impl TotalCount {
    pub fn new(count: impl Count + 'static) -> Self {
        Self(Arc::new(count))
    }

    pub async fn resolve(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let n = self.0.count(ctx).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// Declares a connection type and its edge type for one node type.
macro_rules! connection {
    ($(#[$doc:meta])* $conn:ident, $edge:ident, $node:ty) => {
        $(#[$doc])*
        pub struct $conn {
            pub edges: Vec<$edge>,
            pub page_info: $crate::graphql::pagination::PageInfo,
            pub total: $crate::graphql::pagination::TotalCount,
        }

        impl $conn {
            /// A page from its `(cursor, node)` pairs.
            pub fn new(
                edges: Vec<(String, $node)>,
                page_info: $crate::graphql::pagination::PageInfo,
                total: $crate::graphql::pagination::TotalCount,
            ) -> Self {
                let edges = edges
                    .into_iter()
                    .map(|(cursor, node)| $edge { cursor, node })
                    .collect();
                $conn {
                    edges,
                    page_info,
                    total,
                }
            }
        }

        $(#[$doc])*
        #[async_graphql::Object]
        impl $conn {
            /// The page's items in list order, each with its cursor.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }
            /// The nodes of `edges`, for clients that need no cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }
            /// Whether more items lie before or after this page, and the
            /// cursors to fetch them with.
            async fn page_info(&self) -> &$crate::graphql::pagination::PageInfo {
                &self.page_info
            }
            /// The number of items in the whole list, across all pages.
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> ApiResult<i32> {
                self.total.resolve(ctx).await
            }
        }

        /// One item of a page, with the cursor that points at it.
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// An opaque position in this list and order; pass it as `after`
            /// or `before` to page on from this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }
    };
}
pub(crate) use connection;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs::new(first, None, last, None)
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(args(None, None).page("x").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(args(Some(500), None).page("x").unwrap().size, 500);
        for bad in [
            args(Some(501), None),
            args(Some(-1), None),
            args(Some(1), Some(1)),
        ] {
            assert_eq!(bad.page("x").unwrap_err().code(), "BAD_USER_INPUT");
        }
    }

    #[test]
    fn cursors_round_trip_and_keep_their_ordering() {
        let cursor = Cursor::new("name", SortKey::Text("Acme".into()), Uuid::now_v7());
        let page = PageArgs::new(Some(1), Some(cursor.encode()), None, None)
            .page("name")
            .unwrap();
        assert_eq!(page.after, Some(cursor.clone().position()));
        let wrong = PageArgs::new(Some(1), Some(cursor.encode()), None, None).page("created");
        assert_eq!(wrong.unwrap_err().code(), "BAD_USER_INPUT");
        let garbage = PageArgs::new(Some(1), Some("not-a-cursor".into()), None, None).page("name");
        assert_eq!(garbage.unwrap_err().code(), "BAD_USER_INPUT");
    }
}
