//! Keyset pages: a page is a seek past a position, `WHERE (key, id) > (…)`,
//! never an OFFSET, so rows inserted while a client pages never yield
//! duplicates or gaps. The API turns positions into opaque cursors.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoColumnRef, SimpleExpr};
use sea_orm::{Order, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The value a row is sorted by, besides its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SortKey {
    Time(DateTime<Utc>),
    Text(String),
    Number(i64),
    /// Sorted by id alone.
    None,
}

impl SortKey {
    fn to_value(&self) -> Option<Value> {
        match self {
            Self::Time(t) => Some((*t).into()),
            Self::Text(s) => Some(s.clone().into()),
            Self::Number(n) => Some((*n).into()),
            Self::None => None,
        }
    }
}

/// A row's place in one ordering: its sort key, then its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub key: SortKey,
    pub id: Uuid,
}

/// A validated page request: at most `size` rows after and before positions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub size: u64,
    /// Take the rows nearest the end (`last/before`), returned in forward order.
    pub backward: bool,
    pub after: Option<Position>,
    pub before: Option<Position>,
}

impl Page {
    /// The first `size` rows.
    pub fn first(size: u64) -> Self {
        Self {
            size,
            backward: false,
            after: None,
            before: None,
        }
    }
}

/// How a list is sorted: a key column (or none) then the id, one direction.
#[derive(Debug, Clone, Copy)]
pub struct Keyset<C> {
    pub key: Option<C>,
    pub id: C,
    pub descending: bool,
}

impl<C: IntoColumnRef + Copy> Keyset<C> {
    /// The `WHERE` condition that confines rows to the page's positions.
    pub fn condition(&self, page: &Page) -> Condition {
        let mut all = Condition::all();
        if let Some(after) = &page.after {
            // After the position in forward order: smaller when descending.
            all = all.add(self.beyond(after, !self.descending));
        }
        if let Some(before) = &page.before {
            all = all.add(self.beyond(before, self.descending));
        }
        all
    }

    /// Rows whose `(key, id)` is greater (or smaller) than the position's.
    fn beyond(&self, at: &Position, greater: bool) -> Condition {
        let cmp = |col: SimpleExpr, v: Value| if greater { col.gt(v) } else { col.lt(v) };
        let id_col = || Expr::col(self.id);
        match (self.key, at.key.to_value()) {
            // The leading `key >= value` (or `<=`) is implied by the rest; it
            // is there because a planner bounds an index scan with it, which
            // it cannot do with the `OR` alone: page N then reads about N rows.
            (Some(key), Some(value)) => Condition::all()
                .add(if greater {
                    Expr::col(key).gte(value.clone())
                } else {
                    Expr::col(key).lte(value.clone())
                })
                .add(
                    Condition::any()
                        .add(cmp(Expr::col(key), value.clone()))
                        .add(
                            Condition::all()
                                .add(Expr::col(key).eq(value))
                                .add(cmp(id_col(), at.id.into())),
                        ),
                ),
            _ => Condition::all().add(cmp(id_col(), at.id.into())),
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

/// Whether rows lie before or after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfoFlags {
    pub has_previous: bool,
    pub has_next: bool,
}

/// Trims the `size + 1` rows fetched for `page` to the page, in forward order,
/// and tells whether more lie beyond it.
pub fn finish<T>(mut rows: Vec<T>, page: &Page) -> (Vec<T>, PageInfoFlags) {
    let more = rows.len() as u64 > page.size;
    rows.truncate(usize::try_from(page.size).unwrap_or(usize::MAX));
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

/// Pages a list already computed in memory (an analytics result, whose
/// aggregates need every row anyway), sorted ascending by `position`, with the
/// same semantics as a keyset query.
pub fn page_computed<T>(
    mut items: Vec<T>,
    page: &Page,
    position: impl Fn(&T) -> Position,
) -> (Vec<T>, PageInfoFlags) {
    items.retain(|item| {
        let at = position(item);
        page.after.as_ref().is_none_or(|a| at > *a) && page.before.as_ref().is_none_or(|b| at < *b)
    });
    // Fetched as a query would: nearest the start, or for `last`, the end first.
    if page.backward {
        items.reverse();
    }
    items.truncate(
        usize::try_from(page.size)
            .unwrap_or(usize::MAX)
            .saturating_add(1),
    );
    finish(items, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: u128) -> Position {
        Position {
            key: SortKey::None,
            id: Uuid::from_u128(n),
        }
    }

    #[test]
    fn backward_pages_come_back_in_forward_order() {
        let page = Page {
            backward: true,
            ..Page::first(2)
        };
        let (rows, flags) = finish(vec![3, 2, 1], &page);
        assert_eq!(rows, vec![2, 3]);
        assert!(flags.has_previous && !flags.has_next);
    }

    #[test]
    fn a_computed_list_pages_past_a_position() {
        let page = Page {
            after: Some(at(2)),
            ..Page::first(2)
        };
        let (rows, flags) = page_computed(vec![1, 2, 3, 4, 5], &page, |&n| at(n));
        assert_eq!(rows, vec![3, 4]);
        assert!(flags.has_previous && flags.has_next);
    }
}
