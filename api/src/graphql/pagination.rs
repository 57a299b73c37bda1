//! Relay connections over keyset cursors.
//!
//! A cursor is the sort key and the id of the row it points at, tagged with the
//! ordering it was made for; pages are `WHERE (key, id) < (…)` seeks, never OFFSET,
//! so inserting rows while a client pages never yields duplicates or gaps.

use std::sync::Arc;

use async_graphql::{Context, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, SimpleExpr};
use sea_orm::{Order, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// The value a row is sorted by, besides its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SortKey {
    Time(DateTime<Utc>),
    Text(String),
    /// Sorted by id alone.
    None,
}

impl SortKey {
    fn to_value(&self) -> Option<Value> {
        match self {
            Self::Time(t) => Some((*t).into()),
            Self::Text(s) => Some(s.clone().into()),
            Self::None => None,
        }
    }
}

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

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serialises");
        URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(text: &str, ordering: &str) -> ApiResult<Self> {
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

/// Validated `first/after/last/before` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub size: u64,
    /// `last/before`: take the rows nearest the end, in forward order.
    pub backward: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
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
        let after = self
            .after
            .as_deref()
            .map(|c| Cursor::decode(c, ordering))
            .transpose()?;
        let before = self
            .before
            .as_deref()
            .map(|c| Cursor::decode(c, ordering))
            .transpose()?;
        Ok(Page {
            size,
            backward,
            after,
            before,
        })
    }
}

/// How a list is sorted: a key column (or none) then the id, one direction.
#[derive(Clone, Copy)]
pub struct Keyset<C> {
    pub key: Option<C>,
    pub id: C,
    pub descending: bool,
}

impl<C: IntoColumnRef + Copy> Keyset<C> {
    /// The `WHERE` condition that confines rows to the page's cursors.
    pub fn condition(&self, page: &Page) -> Condition {
        let mut all = Condition::all();
        if let Some(after) = &page.after {
            // After the cursor in forward order: smaller when descending.
            all = all.add(self.beyond(after, !self.descending));
        }
        if let Some(before) = &page.before {
            all = all.add(self.beyond(before, self.descending));
        }
        all
    }

    /// Rows whose `(key, id)` is greater (or smaller) than the cursor's.
    fn beyond(&self, cursor: &Cursor, greater: bool) -> Condition {
        let cmp = |col: SimpleExpr, v: Value| if greater { col.gt(v) } else { col.lt(v) };
        let id_col = || Expr::col(self.id);
        match (self.key, cursor.key.to_value()) {
            (Some(key), Some(value)) => Condition::any()
                .add(cmp(Expr::col(key), value.clone()))
                .add(
                    Condition::all()
                        .add(Expr::col(key).eq(value))
                        .add(cmp(id_col(), cursor.id.into())),
                ),
            _ => Condition::all().add(cmp(id_col(), cursor.id.into())),
        }
    }

    /// Fetches the page's rows of `base` (one more than the page holds, to tell
    /// whether more follow), in fetch order; `finish` puts them right.
    pub async fn fetch<E>(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        base: sea_orm::Select<E>,
        page: &Page,
    ) -> Result<Vec<E::Model>, sea_orm::DbErr>
    where
        E: sea_orm::EntityTrait<Column = C>,
        C: sea_orm::ColumnTrait,
    {
        use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
        let mut query = base.filter(self.condition(page));
        for (col, dir) in self.fetch_order(page) {
            query = query.order_by(col, dir);
        }
        query.limit(page.size + 1).all(db).await
    }

    /// The order to fetch rows in: forward, or reversed for `last/before`.
    pub fn fetch_order(&self, page: &Page) -> Vec<(C, Order)> {
        let desc = self.descending != page.backward;
        let order = if desc { Order::Desc } else { Order::Asc };
        self.key
            .into_iter()
            .chain([self.id])
            .map(|c| (c, order.clone()))
            .collect()
    }
}

/// Trims the `size + 1` rows fetched for `page` to the page, in forward order,
/// and tells whether more lie beyond it.
pub fn finish<T>(mut rows: Vec<T>, page: &Page) -> (Vec<T>, PageInfoFlags) {
    let more = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    if page.backward {
        rows.reverse();
        (
            rows,
            PageInfoFlags {
                has_previous: more,
                has_next: page.before.is_some(),
            },
        )
    } else {
        (
            rows,
            PageInfoFlags {
                has_previous: page.after.is_some(),
                has_next: more,
            },
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PageInfoFlags {
    pub has_previous: bool,
    pub has_next: bool,
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

    pub async fn resolve(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
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
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i32> {
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

/// The complexity of a connection field: its selection counted once per row the
/// page may return, so a query's cost bounds the rows it can fetch.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| u64::try_from(n).unwrap_or(0));
    let rows = usize::try_from(rows.clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
    rows.saturating_mul(child_complexity).saturating_add(1)
}

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
        assert_eq!(page.after, Some(cursor.clone()));
        let wrong = PageArgs::new(Some(1), Some(cursor.encode()), None, None).page("created");
        assert_eq!(wrong.unwrap_err().code(), "BAD_USER_INPUT");
        let garbage = PageArgs::new(Some(1), Some("not-a-cursor".into()), None, None).page("name");
        assert_eq!(garbage.unwrap_err().code(), "BAD_USER_INPUT");
    }

    #[test]
    fn backward_pages_come_back_in_forward_order() {
        let page = PageArgs::new(None, None, Some(2), None).page("x").unwrap();
        let (rows, flags) = finish(vec![3, 2, 1], &page);
        assert_eq!(rows, vec![2, 3]);
        assert!(flags.has_previous && !flags.has_next);
    }
}
