//! The GraphQL face of the event log: `events`, a Relay connection in log
//! order for replay. The log itself, its numbering and retention live in
//! `journeys_core::events`.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::event;
use journeys_core::events;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::connection::{CountBy, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{JourneyModelById, StageById};
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::journeys::{JourneyModel, Stage};
use crate::stakeholders::Stakeholder;
use crate::touchpoints::Touchpoint;
use crate::vocab::EventType;

/// One entry of the workspace's event log: what changed and the ids of what
/// it concerns. An object that no longer exists (or is another kind's) is
/// null; its id stays.
pub struct Event(pub event::Model);

#[Object]
impl Event {
    /// The event's place in the workspace's log: 1 for the first, one more
    /// for each event after, in the order the changes committed.
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }

    /// Where to resume: pass it as `after` to the `events` query or
    /// subscription for the events after this one.
    async fn cursor(&self) -> String {
        Cursor::new(LOG_ORDER, SortKey::Number(self.0.sequence), self.0.id).encode()
    }

    /// What happened.
    #[graphql(name = "type")]
    async fn event_type(&self) -> EventType {
        self.0.event_type.into()
    }

    /// When the change was recorded (UTC).
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }

    /// The account concerned, if any.
    async fn account_id(&self) -> Option<ID> {
        self.0
            .account_id
            .map(|id| ids::encode(NodeType::Account, id))
    }

    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        match self.0.account_id {
            Some(id) => crate::accounts::load(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The person concerned, if any (for a merge, the survivor).
    async fn stakeholder_id(&self) -> Option<ID> {
        self.0
            .stakeholder_id
            .map(|id| ids::encode(NodeType::Stakeholder, id))
    }

    async fn stakeholder(&self, ctx: &Context<'_>) -> ApiResult<Option<Stakeholder>> {
        match self.0.stakeholder_id {
            Some(id) => crate::stakeholders::load(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The touchpoint recorded or updated, or the one that caused a
    /// lifecycle change.
    async fn touchpoint_id(&self) -> Option<ID> {
        self.0
            .touchpoint_id
            .map(|id| ids::encode(NodeType::Touchpoint, id))
    }

    async fn touchpoint(&self, ctx: &Context<'_>) -> ApiResult<Option<Touchpoint>> {
        crate::touchpoints::load(ctx, self.0.touchpoint_id).await
    }

    /// The journey model whose stage changed (STAGE_CHANGED).
    async fn model(&self, ctx: &Context<'_>) -> ApiResult<Option<JourneyModel>> {
        let Some(id) = self.0.model_id else {
            return Ok(None);
        };
        let found = request(ctx)
            .loader
            .load_one(JourneyModelById(id))
            .await
            .map_err(load_error)?;
        Ok(found.map(JourneyModel))
    }

    /// The stage entered (STAGE_CHANGED).
    async fn stage(&self, ctx: &Context<'_>) -> ApiResult<Option<Stage>> {
        load_stage(ctx, self.0.stage_id).await
    }

    /// The stage left, null when the account entered its first stage or a
    /// continuous phase (STAGE_CHANGED).
    async fn from_stage(&self, ctx: &Context<'_>) -> ApiResult<Option<Stage>> {
        load_stage(ctx, self.0.from_stage_id).await
    }

    /// The merge made or undone (STAKEHOLDERS_MERGED, MERGE_UNDONE).
    async fn merge_id(&self) -> Option<ID> {
        self.0.merge_id.map(|id| ids::encode(NodeType::Merge, id))
    }

    /// The connector created, updated or deleted, whose run changed, or
    /// that recorded the touchpoint.
    async fn connector_id(&self) -> Option<ID> {
        self.0
            .connector_id
            .map(|id| ids::encode(NodeType::Connector, id))
    }

    /// The sync run that changed (SYNC_RUN_UPDATED).
    async fn sync_run_id(&self) -> Option<ID> {
        self.0
            .sync_run_id
            .map(|id| ids::encode(NodeType::SyncRun, id))
    }
}

async fn load_stage(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> ApiResult<Option<Stage>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let found = request(ctx)
        .loader
        .load_one(StageById(id))
        .await
        .map_err(load_error)?;
    Ok(found.map(Stage))
}

connection!(
    /// A page of the event log, oldest first.
    EventConnection, EventEdge, Event
);

/// The ordering `events` cursors belong to.
pub const LOG_ORDER: &str = "events";

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The workspace's event log, oldest first: every touchpoint recorded or
    /// updated, stage and lifecycle change, merge, erasure, sync run and
    /// connector change, kept for the server's retention
    /// (`JOURNEYS_EVENT_RETENTION`, 30 days by default). Page with `after`
    /// to replay what a client missed; `types` keeps only those types.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of these types; every type when empty or absent.")]
        types: Option<Vec<EventType>>,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<EventConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let types: Vec<entity::vocab::EventType> = types
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let page = PageArgs::new(first, after, last, before).page(LOG_ORDER)?;
        let rows = events::page(&rc.db, ws, &types, &page).await?;
        let cursor = |e: &event::Model| Cursor::new(LOG_ORDER, SortKey::Number(e.sequence), e.id);
        let (edges, page_info) = edges(rows, &page, cursor, Event);
        let total = CountBy(move |db| {
            let types = types.clone();
            async move { events::count(&db, ws, &types).await }
        });
        Ok(EventConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
        ))
    }
}
