//! Turning fetched rows into connection edges.

use super::pagination::{Cursor, Page, PageInfo, PageInfoFlags, finish};

/// Trims rows fetched for `page`, and makes each row's cursor and node.
pub fn edges<T, N>(
    rows: Vec<T>,
    page: &Page,
    cursor: impl Fn(&T) -> Cursor,
    node: impl Fn(T) -> N,
) -> (Vec<(String, N)>, PageInfo) {
    let (rows, flags) = finish(rows, page);
    paged(rows, flags, cursor, node)
}

/// A page's rows as edges, with the page information.
fn paged<T, N>(
    rows: Vec<T>,
    flags: PageInfoFlags,
    cursor: impl Fn(&T) -> Cursor,
    node: impl Fn(T) -> N,
) -> (Vec<(String, N)>, PageInfo) {
    let edges: Vec<(String, N)> = rows
        .into_iter()
        .map(|r| (cursor(&r).encode(), node(r)))
        .collect();
    let cursors: Vec<String> = edges.iter().map(|(c, _)| c.clone()).collect();
    (edges, PageInfo::new(flags, &cursors))
}

use std::hash::Hash;

use async_graphql::Context;
use async_graphql::dataloader::Loader;

use super::context::request;
use super::error::{ApiError, ApiResult};
use super::loaders::{Batch, LoadError, Total};
use super::pagination::{Count, TotalCount};

/// Pages a list already computed in memory, sorted ascending by its cursors'
/// positions, and makes each item's cursor.
pub fn page_computed<T>(
    items: Vec<T>,
    page: &Page,
    cursor: impl Fn(&T) -> Cursor,
) -> (Vec<(String, T)>, PageInfo) {
    let (items, flags) =
        journeys_core::page::page_computed(items, page, |item| cursor(item).position());
    paged(items, flags, cursor, |item| item)
}

/// `totalCount` of a list whose length is already known.
pub struct KnownCount(pub u64);

#[async_trait::async_trait]
impl Count for KnownCount {
    async fn count(&self, _: &Context<'_>) -> ApiResult<u64> {
        Ok(self.0)
    }
}

/// `totalCount` of a nested list: batched across parents by a loader.
pub struct LoaderCount<K>(pub K);

#[async_trait::async_trait]
impl<K> Count for LoaderCount<K>
where
    K: Send + Sync + Clone + Hash + Eq + 'static,
    Batch: Loader<K, Value = u64, Error = LoadError>,
{
    async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        let n = request(ctx)
            .loader
            .load_one(self.0.clone())
            .await
            .map_err(load_error)?;
        Ok(n.unwrap_or(0))
    }
}

/// Whether the connection being resolved asks for `totalCount`: a nested
/// read then counts each parent's list in the statement that reads its page.
pub fn total_asked(ctx: &Context<'_>) -> Total {
    if ctx.look_ahead().field("totalCount").exists() {
        Total::Count
    } else {
        Total::Skip
    }
}

/// `totalCount` of a nested list: the count its read made, or else (a
/// selection the look-ahead did not see) one batched by `fallback`'s loader.
pub fn nested_total<K>(counted: Option<u64>, fallback: K) -> TotalCount
where
    K: Send + Sync + Clone + Hash + Eq + 'static,
    Batch: Loader<K, Value = u64, Error = LoadError>,
{
    match counted {
        Some(n) => TotalCount::new(KnownCount(n)),
        None => TotalCount::new(LoaderCount(fallback)),
    }
}

/// `totalCount` from a core count, run only when the field is asked for.
pub struct CountBy<F>(pub F);

#[async_trait::async_trait]
impl<F, Fut> Count for CountBy<F>
where
    F: Fn(sea_orm::DatabaseConnection) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = journeys_core::CoreResult<u64>> + Send,
{
    async fn count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        Ok((self.0)(request(ctx).db.clone()).await?)
    }
}

/// A loader failure, as the API reports it.
pub fn load_error(err: LoadError) -> ApiError {
    ApiError::from(&*err)
}
