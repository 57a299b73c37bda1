//! Subscriptions: the event log, live. Each field follows the caller's
//! workspace's log through `journeys_core::live` and turns each page of
//! events into its objects with one read per page, so a burst of events
//! costs a few statements, not one per event.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Result, Subscription};
use entity::event;
use entity::vocab::EventType as Type;
use futures_util::{Stream, StreamExt, stream};
use journeys_core::batch;
use journeys_core::events::EventFilter;
use journeys_core::live::{self, EventFeed, Start};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::Scope;
use crate::connectors::SyncRun;
use crate::events::{Event, LOG_ORDER};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::pagination::{Cursor, SortKey};
use crate::lifecycle::LifecycleChange;
use crate::touchpoints::Touchpoint;
use crate::vocab::{Channel, EventType};

/// Which new touchpoints `touchpointRecorded` sends.
#[derive(InputObject, Default)]
pub struct TouchpointRecordedFilter {
    /// Touchpoints of this account.
    pub account_id: Option<ID>,
    /// Touchpoints with this person.
    pub stakeholder_id: Option<ID>,
    /// Touchpoints on any of these channels.
    pub channels: Option<Vec<Channel>>,
    /// Touchpoints of any of these kinds, matched exactly.
    pub kinds: Option<Vec<String>>,
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// The workspace's events as they commit. With `after` (an event's
    /// `cursor`, from this subscription or the `events` query), first every
    /// event since, then live: a client that reconnects with its last
    /// cursor misses nothing and sees nothing twice. Without it, from the
    /// next event on. A cursor whose next events retention has pruned is
    /// refused (BAD_USER_INPUT): read `events` from the start instead.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(desc = "Only events of these types; every type when empty or absent.")]
        types: Option<Vec<EventType>>,
    ) -> Result<impl Stream<Item = Result<Event>> + use<>> {
        let start = match after {
            Some(cursor) => Start::After(sequence_of(&cursor)?),
            None => Start::Now,
        };
        let types = types.unwrap_or_default().into_iter().map(Into::into);
        let filter = EventFilter::of_types(types.collect());
        let pages = follow(ctx, Scope::Read, start, filter).await?;
        Ok(each(pages, |_, _, page| async move {
            Ok(page.into_iter().map(Event).collect())
        }))
    }

    /// Each touchpoint recorded from now on (not an update of one already
    /// recorded) that passes the filter.
    async fn touchpoint_recorded(
        &self,
        ctx: &Context<'_>,
        filter: Option<TouchpointRecordedFilter>,
    ) -> Result<impl Stream<Item = Result<Touchpoint>> + use<>> {
        let filter = filter.unwrap_or_default();
        let channels: Vec<entity::vocab::Channel> = filter
            .channels
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let kinds = filter.kinds.unwrap_or_default();
        let log_filter = EventFilter {
            types: vec![Type::TouchpointRecorded],
            account: decode(filter.account_id.as_ref(), NodeType::Account)?,
            stakeholder: decode(filter.stakeholder_id.as_ref(), NodeType::Stakeholder)?,
            ..EventFilter::default()
        };
        let pages = follow(ctx, Scope::Read, Start::Now, log_filter).await?;
        Ok(each(pages, move |db, ws, page| {
            let (channels, kinds) = (channels.clone(), kinds.clone());
            async move {
                let ids = ids_of(&page, |e| e.touchpoint_id);
                let found = batch::touchpoints(&db, ws, &ids).await?;
                let kept = in_order(&ids, found, |t| t.id)
                    .filter(|t| channels.is_empty() || channels.contains(&t.channel))
                    .filter(|t| kinds.is_empty() || kinds.contains(&t.kind));
                Ok(kept.map(Touchpoint).collect())
            }
        }))
    }

    /// Each stage change from now on (STAGE_CHANGED events), of one account
    /// and/or one journey model when given: `stage` the stage entered,
    /// `fromStage` the one left.
    async fn journey_stage_changed(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        model_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Event>> + use<>> {
        let filter = EventFilter {
            types: vec![Type::StageChanged],
            account: decode(account_id.as_ref(), NodeType::Account)?,
            model: decode(model_id.as_ref(), NodeType::JourneyModel)?,
            ..EventFilter::default()
        };
        let pages = follow(ctx, Scope::Read, Start::Now, filter).await?;
        Ok(each(pages, |_, _, page| async move {
            Ok(page.into_iter().map(Event).collect())
        }))
    }

    /// Each lifecycle change from now on, of one account's or one person's
    /// when given.
    async fn lifecycle_changed(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        stakeholder_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<LifecycleChange>> + use<>> {
        let filter = EventFilter {
            types: vec![Type::LifecycleChanged],
            account: decode(account_id.as_ref(), NodeType::Account)?,
            stakeholder: decode(stakeholder_id.as_ref(), NodeType::Stakeholder)?,
            ..EventFilter::default()
        };
        let pages = follow(ctx, Scope::Read, Start::Now, filter).await?;
        Ok(each(pages, |db, ws, page| async move {
            let ids = ids_of(&page, |e| e.lifecycle_change_id);
            let found = batch::lifecycle_changes(&db, ws, &ids).await?;
            Ok(in_order(&ids, found, |c| c.id)
                .map(LifecycleChange)
                .collect())
        }))
    }

    /// The connector's sync runs as they change: queued, started, each
    /// batch saved, finished.
    async fn sync_run_updated(
        &self,
        ctx: &Context<'_>,
        connector_id: ID,
    ) -> Result<impl Stream<Item = Result<SyncRun>> + use<>> {
        let filter = EventFilter {
            types: vec![Type::SyncRunUpdated],
            connector: Some(ids::decode(&connector_id, NodeType::Connector)?),
            ..EventFilter::default()
        };
        let pages = follow(ctx, Scope::Read, Start::Now, filter).await?;
        Ok(each(pages, |db, ws, page| async move {
            let ids = ids_of(&page, |e| e.sync_run_id);
            let found = batch::sync_runs(&db, ws, &ids).await?;
            Ok(in_order(&ids, found, |r| r.id).map(SyncRun).collect())
        }))
    }
}

/// A followed log: its pages, and what turning them into objects needs.
struct Followed<S> {
    pages: S,
    db: DatabaseConnection,
    ws: Uuid,
}

async fn follow(
    ctx: &Context<'_>,
    scope: Scope,
    start: Start,
    filter: EventFilter,
) -> ApiResult<Followed<impl Stream<Item = journeys_core::CoreResult<Vec<event::Model>>> + use<>>> {
    let rc = request(ctx);
    let ws = rc.require(scope)?.workspace_id;
    let feed = ctx
        .data_opt::<Arc<EventFeed>>()
        .ok_or_else(|| ApiError::Internal("subscriptions run only over the WebSocket".into()))?;
    let pages = live::follow(rc.db.clone(), Arc::clone(feed), ws, start, filter).await?;
    Ok(Followed {
        pages,
        db: rc.db.clone(),
        ws,
    })
}

/// Each item of each page, `objects` turning a page into its items; the
/// stream ends after an error.
fn each<S, T, F, Fut>(followed: Followed<S>, objects: F) -> impl Stream<Item = Result<T>>
where
    S: Stream<Item = journeys_core::CoreResult<Vec<event::Model>>> + Send + 'static,
    F: Fn(DatabaseConnection, Uuid, Vec<event::Model>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = journeys_core::CoreResult<Vec<T>>> + Send,
    T: Send + 'static,
{
    let Followed { pages, db, ws } = followed;
    pages
        .then(move |page| {
            let objects = match page {
                Ok(page) => futures_util::future::Either::Left(objects(db.clone(), ws, page)),
                Err(e) => futures_util::future::Either::Right(async move { Err(e) }),
            };
            async move {
                match objects.await {
                    Ok(items) => stream::iter(items.into_iter().map(Ok).collect::<Vec<_>>()),
                    Err(e) => stream::iter(vec![Err(ApiError::from(e).into())]),
                }
            }
        })
        .flatten()
}

fn sequence_of(cursor: &str) -> ApiResult<i64> {
    match Cursor::decode(cursor, LOG_ORDER)?.key {
        SortKey::Number(sequence) => Ok(sequence),
        _ => Err(ApiError::bad_input(
            "invalid cursor: pass back a cursor this API returned",
        )),
    }
}

fn decode(id: Option<&ID>, ty: NodeType) -> ApiResult<Option<Uuid>> {
    id.map(|id| ids::decode(id, ty)).transpose()
}

fn ids_of(page: &[event::Model], id: impl Fn(&event::Model) -> Option<Uuid>) -> Vec<Uuid> {
    page.iter().filter_map(id).collect()
}

/// `found` in the order of `ids` (the log's), leaving out what no longer
/// exists.
fn in_order<T>(ids: &[Uuid], found: Vec<T>, id: impl Fn(&T) -> Uuid) -> impl Iterator<Item = T> {
    let mut by_id: std::collections::HashMap<Uuid, T> =
        found.into_iter().map(|t| (id(&t), t)).collect();
    ids.iter()
        .filter_map(move |i| by_id.remove(i))
        .collect::<Vec<_>>()
        .into_iter()
}
