//! Touchpoints: every interaction, from any source, and their idempotent ingestion.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::touchpoint;
use journeys_core::ingestion::{
    self, NewPerson, NewTouchpoint, RawTouchpoint, RecordOutcome, Tally,
};
use journeys_core::page::Keyset;
use journeys_core::{CoreError, CoreResult, touchpoints};

use crate::auth::Scope;
use crate::graphql::connection::{CountBy, edges};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::pagination::{Cursor, Page, PageArgs, TotalCount, connection};
use crate::vocab::{Channel, Emotion, OwnerTeam};

pub const NEWEST_FIRST_ORDER: &str = "touchpoint.occurred.desc";
pub const OLDEST_FIRST_ORDER: &str = "touchpoint.occurred.asc";
pub use touchpoints::NEWEST_FIRST;

/// One interaction between the company and an account's people.
pub struct Touchpoint(pub touchpoint::Model);

/// The touchpoint with this id, if any (`None` for none), through the
/// request's loader: a page of parents naming touchpoints costs one read.
pub async fn load(
    ctx: &async_graphql::Context<'_>,
    id: Option<uuid::Uuid>,
) -> ApiResult<Option<Touchpoint>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let found = request(ctx)
        .loader
        .load_one(crate::graphql::loaders::TouchpointById(id))
        .await
        .map_err(crate::graphql::connection::load_error)?;
    Ok(found.map(Touchpoint))
}

/// One interaction between the company and an account's people (a tweet, a
/// webinar attendance, a ticket, an email, a call, a page visit…), from any
/// source.
#[Object]
impl Touchpoint {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Touchpoint, self.0.id)
    }
    /// The connector kind that produced it, or what its API caller named
    /// (`api` by default).
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The connector that recorded it (by pull or webhook); null for a
    /// touchpoint recorded through the API. It still names a deleted connector.
    async fn connector_id(&self) -> Option<ID> {
        self.0
            .connector_id
            .map(|id| ids::encode(NodeType::Connector, id))
    }
    /// Unique within its connector, or for the API's within its source;
    /// re-recording the same one is a no-op. Once its person is erased,
    /// `erased:` and a digest of the original.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// The medium it happened through.
    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }
    /// An open vocabulary, such as `tweet.mention` or `webinar.attended`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// When it happened (UTC), as its source reports it.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// A short summary, such as a ticket's subject; null once its person is erased.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// The content, such as a tweet's text; null once its person is erased.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// A link to it in its source system; null once its person is erased.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// The team on the company's side that owns it.
    async fn owner_team(&self) -> Option<OwnerTeam> {
        self.0.owner_team.map(Into::into)
    }
    /// The employee on the company's side, for sales-engagement visibility.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    /// The emotion it expresses, when known.
    async fn emotion(&self) -> Option<Emotion> {
        self.0.emotion.map(Into::into)
    }
    /// From -1 (negative) to 1 (positive).
    async fn sentiment(&self) -> Option<f64> {
        self.0.sentiment
    }
    /// A rating carried by the touchpoint: NPS 0-10, CSAT.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }
    /// Free properties.
    async fn properties(&self) -> Option<Json<serde_json::Value>> {
        self.0.properties.clone().map(Json)
    }
    /// The asset it shared or viewed (a whitepaper, a deck), as recorded with it.
    async fn asset(&self) -> Option<Asset> {
        let t = &self.0;
        t.asset_key.as_ref().map(|key| Asset {
            key: key.clone(),
            title: t.asset_title.clone(),
            url: t.asset_url.clone(),
        })
    }
    /// When it was first recorded here (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its content last changed (UTC), by a later delivery or an erasure;
    /// `createdAt` until then.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The stage its account was in when it happened, in a model (the default
    /// model when none is given); null without an account or before any move.
    async fn stage(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The journey model to look in; the workspace's default model when left out."
        )]
        model_id: Option<ID>,
    ) -> ApiResult<Option<crate::journeys::Stage>> {
        use crate::graphql::connection::load_error;
        use crate::graphql::loaders::{DefaultModel, StageAt, StageById};
        let Some(account) = self.0.account_id else {
            return Ok(None);
        };
        let loader = &request(ctx).loader;
        let model = match model_id {
            Some(id) => ids::decode(&id, NodeType::JourneyModel)?,
            None => match loader.load_one(DefaultModel).await.map_err(load_error)? {
                Some(model) => model.id,
                None => return Ok(None),
            },
        };
        let key = StageAt {
            account,
            model,
            at: self.0.occurred_at,
        };
        let Some(stage) = loader.load_one(key).await.map_err(load_error)? else {
            return Ok(None);
        };
        let stage = loader
            .load_one(StageById(stage))
            .await
            .map_err(load_error)?;
        Ok(stage.map(crate::journeys::Stage))
    }
    /// The account it belongs to; null when none is known yet (an anonymous
    /// visitor's, say).
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<crate::accounts::Account>> {
        match self.0.account_id {
            Some(id) => crate::accounts::load(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The person it was with; null when it names no one.
    async fn stakeholder(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::stakeholders::Stakeholder>> {
        match self.0.stakeholder_id {
            Some(id) => crate::stakeholders::load(ctx, id).await,
            None => Ok(None),
        }
    }
}

connection!(
    /// A page of touchpoints, in the order the field states.
    TouchpointConnection, TouchpointEdge, Touchpoint
);

pub fn cursor(order: &'static str) -> impl Fn(&touchpoint::Model) -> Cursor {
    move |t| Cursor::at(order, touchpoints::position(t))
}

pub fn touchpoint_connection_from(
    rows: Vec<touchpoint::Model>,
    page: &Page,
    order: &'static str,
    total: TotalCount,
) -> TouchpointConnection {
    let (edges, page_info) = edges(rows, page, cursor(order), Touchpoint);
    TouchpointConnection::new(edges, page_info, total)
}

/// Content a touchpoint shared or viewed: a whitepaper, a deck, a demo video.
#[derive(SimpleObject, Clone, PartialEq, Eq, Hash)]
pub struct Asset {
    /// Names the asset across touchpoints and renames, such as
    /// `whitepaper-roi-2026`.
    pub key: String,
    /// Its title as this touchpoint recorded it.
    pub title: Option<String>,
    /// Its address as this touchpoint recorded it.
    pub url: Option<String>,
}

/// The asset a touchpoint shared or viewed.
#[derive(InputObject, Clone)]
pub struct AssetInput {
    /// Names the asset across touchpoints and renames, 1 to 200 characters,
    /// such as `whitepaper-roi-2026`: content effectiveness groups by it.
    pub key: String,
    /// At most 1,000 characters.
    pub title: Option<String>,
    /// At most 2,048 characters.
    pub url: Option<String>,
}

/// Which touchpoints to list.
#[derive(InputObject, Default)]
pub struct TouchpointFilter {
    /// Touchpoints of this account.
    pub account_id: Option<ID>,
    /// Touchpoints with this person.
    pub stakeholder_id: Option<ID>,
    /// Touchpoints from this source: a connector kind (every connector of
    /// it) or what API callers named (`api` by default).
    pub source: Option<String>,
    /// Touchpoints one connector recorded, by pull or webhook.
    pub connector_id: Option<ID>,
    /// Touchpoints on any of these channels.
    pub channels: Option<Vec<Channel>>,
    /// Touchpoints of any of these kinds (at most 100), matched exactly.
    pub kinds: Option<Vec<String>>,
    /// At or after this time.
    pub occurred_after: Option<DateTime<Utc>>,
    /// Strictly before this time.
    pub occurred_before: Option<DateTime<Utc>>,
    /// Touchpoints that happened while their account was in this stage.
    pub stage_id: Option<ID>,
    /// Touchpoints expressing any of these emotions.
    pub emotions: Option<Vec<Emotion>>,
    /// Touchpoints owned by any of these teams.
    pub owner_teams: Option<Vec<OwnerTeam>>,
    /// Touchpoints by this employee (`actor`), matched exactly.
    pub actor: Option<String>,
    /// Touchpoints that shared or viewed this asset, by key.
    pub asset_key: Option<String>,
}

/// The order of a list of touchpoints; ties are broken by id.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TouchpointOrder {
    /// Latest `occurredAt` first.
    #[default]
    NewestFirst,
    /// Earliest `occurredAt` first.
    OldestFirst,
}

impl TouchpointOrder {
    fn keyset(self) -> (&'static str, Keyset<touchpoint::Column>) {
        match self {
            Self::NewestFirst => (NEWEST_FIRST_ORDER, touchpoints::NEWEST_FIRST),
            Self::OldestFirst => (OLDEST_FIRST_ORDER, touchpoints::OLDEST_FIRST),
        }
    }
}

impl TouchpointFilter {
    fn core(self) -> ApiResult<touchpoints::TouchpointFilter> {
        let decode = |id: Option<ID>, ty| id.map(|id| ids::decode(&id, ty)).transpose();
        Ok(touchpoints::TouchpointFilter {
            account: decode(self.account_id, NodeType::Account)?,
            stakeholder: decode(self.stakeholder_id, NodeType::Stakeholder)?,
            source: self.source,
            connector: decode(self.connector_id, NodeType::Connector)?,
            channels: self
                .channels
                .map(|cs| cs.into_iter().map(Into::into).collect()),
            kinds: self.kinds,
            occurred_after: self.occurred_after,
            occurred_before: self.occurred_before,
            stage: decode(self.stage_id, NodeType::Stage)?,
            max_score: None,
            emotions: self
                .emotions
                .map(|es| es.into_iter().map(Into::into).collect()),
            owner_teams: self
                .owner_teams
                .map(|ts| ts.into_iter().map(Into::into).collect()),
            actor: self.actor,
            asset_key: self.asset_key,
        })
    }
}

#[derive(Default)]
pub struct TouchpointQuery;

#[Object]
impl TouchpointQuery {
    /// Touchpoints across the workspace, newest first by default.
    #[allow(clippy::too_many_arguments)]
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which touchpoints to list; every one when left out.")] filter: Option<
            TouchpointFilter,
        >,
        #[graphql(desc = "The order by `occurredAt`; NEWEST_FIRST when left out.")]
        order_by: Option<TouchpointOrder>,
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
    ) -> ApiResult<TouchpointConnection> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Read)?;
        let filter = filter.unwrap_or_default().core()?;
        let args = PageArgs::new(first, after, last, before);
        list(
            ctx,
            principal.workspace_id,
            filter,
            order_by.unwrap_or_default(),
            args,
        )
        .await
    }
}

/// A page of the workspace's touchpoints that `filter` lets through, in `order`.
pub async fn list(
    ctx: &Context<'_>,
    ws: uuid::Uuid,
    filter: touchpoints::TouchpointFilter,
    order: TouchpointOrder,
    args: PageArgs,
) -> ApiResult<TouchpointConnection> {
    let (name, keyset) = order.keyset();
    let page = args.page(name)?;
    let rows = touchpoints::list(&request(ctx).db, ws, &filter, keyset, &page).await?;
    let total = CountBy(move |db| {
        let filter = filter.clone();
        async move { touchpoints::count(&db, ws, &filter).await }
    });
    Ok(touchpoint_connection_from(
        rows,
        &page,
        name,
        TotalCount::new(total),
    ))
}

/// An empty page of touchpoints (the arguments still checked), for a list
/// known to hold none.
pub fn empty_list(order: TouchpointOrder, args: PageArgs) -> ApiResult<TouchpointConnection> {
    let (name, _) = order.keyset();
    let page = args.page(name)?;
    Ok(touchpoint_connection_from(
        Vec::new(),
        &page,
        name,
        TotalCount::new(crate::graphql::connection::KnownCount(0)),
    ))
}

/// Who a touchpoint is with, when the caller has no stakeholder id: any of these
/// find the person through their identities, and a new person is created when
/// none matches.
#[derive(InputObject, Default, Clone)]
pub struct PersonInput {
    /// An email address; a new person with one starts as a LEAD.
    pub email: Option<String>,
    /// A Twitter/X numeric user id.
    pub twitter_user_id: Option<String>,
    /// A Twitter/X handle, with or without the `@`.
    pub twitter_handle: Option<String>,
    /// A Zoom webinar registrant id.
    pub zoom_registrant_id: Option<String>,
    /// A Zendesk numeric user id.
    pub zendesk_user_id: Option<String>,
    /// A user id in another system, as `system:id` (`hubspot:5120`).
    pub vendor_user_id: Option<String>,
    /// A phone number, in any punctuation.
    pub phone: Option<String>,
    /// A web visitor's anonymous id, before they are identified.
    pub anonymous_id: Option<String>,
    /// Full name: given to a new person, or to a known one who has none.
    pub name: Option<String>,
    /// Job title: given to a new person, or to a known one who has none.
    pub title: Option<String>,
}

impl From<PersonInput> for NewPerson {
    fn from(p: PersonInput) -> Self {
        Self {
            email: p.email,
            twitter_user_id: p.twitter_user_id,
            twitter_handle: p.twitter_handle,
            zoom_registrant_id: p.zoom_registrant_id,
            zendesk_user_id: p.zendesk_user_id,
            vendor_user_id: p.vendor_user_id,
            phone: p.phone,
            anonymous_id: p.anonymous_id,
            name: p.name,
            title: p.title,
        }
    }
}

/// One touchpoint to record.
#[derive(InputObject, Clone)]
pub struct TouchpointInput {
    /// The system it comes from; `api` by default.
    #[graphql(default_with = "\"api\".to_string()")]
    pub source: String,
    /// Unique within `source`: recording it again updates or leaves it.
    pub external_id: String,
    /// The medium it happened through.
    pub channel: Channel,
    /// What happened, 1 to 128 characters, such as `webinar.attended`; stage
    /// entry rules and scoring rules match on it.
    pub kind: String,
    /// When it happened; at most 5 minutes in the future.
    pub occurred_at: DateTime<Utc>,
    /// A short summary, at most 1,000 characters.
    pub title: Option<String>,
    /// The content, at most 64 KiB.
    pub body: Option<String>,
    /// A link to it in its source system, at most 2,048 characters.
    pub url: Option<String>,
    /// The team on the company's side that owns it; SALES touchpoints end the
    /// hand-off gap.
    pub owner_team: Option<OwnerTeam>,
    /// The employee on the company's side, at most 200 characters.
    pub actor: Option<String>,
    /// The emotion it expresses.
    pub emotion: Option<Emotion>,
    /// From -1 (negative) to 1 (positive).
    pub sentiment: Option<f64>,
    /// A rating it carries, such as an NPS answer (a whole number from 0 to
    /// 10, required of `nps.responded` scores) or a CSAT score.
    pub score: Option<f64>,
    /// Free properties: a JSON object of at most 64 KiB.
    pub properties: Option<Json<serde_json::Value>>,
    /// The asset it shared or viewed, such as a whitepaper sales sent
    /// (`asset.shared`) or a prospect downloaded (`whitepaper.downloaded`).
    pub asset: Option<AssetInput>,
    /// The account; else found from the person's email domain or primary account.
    pub account_id: Option<ID>,
    /// The person; else found or created from `person`.
    pub stakeholder_id: Option<ID>,
    /// Who it was with, by identities, when there is no `stakeholderId`.
    pub person: Option<PersonInput>,
}

/// A batch of touchpoints to record.
#[derive(InputObject)]
pub struct RecordTouchpointsInput {
    /// At most 1,000 touchpoints, written in one transaction.
    pub touchpoints: Vec<TouchpointInput>,
}

/// What recording one touchpoint did.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordStatus {
    /// Recorded for the first time.
    Created,
    /// Already recorded under the same `(source, externalId)`; its content changed.
    Updated,
    /// Already recorded with the same content.
    Unchanged,
    /// Refused; see `error`. The other items are still recorded.
    Error,
}

/// An error about one item of a batch.
#[derive(SimpleObject)]
pub struct ItemError {
    /// A stable code, as in `extensions.code`.
    pub code: String,
    /// What was wrong with the item, for people.
    pub message: String,
}

/// What happened to one item of a `recordTouchpoints` batch.
#[derive(SimpleObject)]
pub struct RecordTouchpointResult {
    /// The item's position in the input list.
    pub index: i32,
    /// Whether it was created, updated, unchanged or refused.
    pub status: RecordStatus,
    /// The touchpoint as recorded; null when the item was refused, and when
    /// it is an erased person's (UNCHANGED: it stays erased, naming no one).
    pub touchpoint: Option<Touchpoint>,
    /// Why the item was refused; null unless `status` is ERROR.
    pub error: Option<ItemError>,
}

/// The outcome of a `recordTouchpoints` batch.
#[derive(SimpleObject)]
pub struct RecordTouchpointsPayload {
    /// One result per input item, in input order.
    pub results: Vec<RecordTouchpointResult>,
    /// How many items were CREATED.
    pub created: i32,
    /// How many items were UPDATED.
    pub updated: i32,
    /// How many items were UNCHANGED.
    pub unchanged: i32,
    /// How many items were refused (ERROR).
    pub failed: i32,
}

impl From<RecordOutcome> for RecordStatus {
    fn from(outcome: RecordOutcome) -> Self {
        match outcome {
            RecordOutcome::Created => Self::Created,
            RecordOutcome::Updated => Self::Updated,
            RecordOutcome::Unchanged => Self::Unchanged,
            RecordOutcome::Failed => Self::Error,
        }
    }
}

/// An id of the input as core takes it: a bad one refuses the item alone.
fn item_id(id: Option<&ID>, ty: NodeType, field: &'static str) -> CoreResult<Option<uuid::Uuid>> {
    id.map(|id| ids::decode(id, ty).map_err(|e| CoreError::invalid_field(field, e.message())))
        .transpose()
}

impl TouchpointInput {
    /// The touchpoint as core takes it, checked as of `now`.
    pub fn check(&self, now: DateTime<Utc>) -> CoreResult<NewTouchpoint> {
        let input = self.clone();
        let raw = RawTouchpoint {
            account: item_id(input.account_id.as_ref(), NodeType::Account, "accountId")?,
            stakeholder: item_id(
                input.stakeholder_id.as_ref(),
                NodeType::Stakeholder,
                "stakeholderId",
            )?,
            title: input.title,
            body: input.body,
            url: input.url,
            owner_team: input.owner_team.map(Into::into),
            actor: input.actor,
            emotion: input.emotion.map(Into::into),
            sentiment: input.sentiment,
            score: input.score,
            properties: input.properties.map(|p| p.0),
            asset: input.asset.map(|a| ingestion::Asset {
                key: a.key,
                title: a.title,
                url: a.url,
            }),
            person: input.person.map(Into::into),
            ..RawTouchpoint::new(
                &input.source,
                &input.external_id,
                input.channel.into(),
                &input.kind,
                input.occurred_at,
            )
        };
        NewTouchpoint::check(raw, now)
    }
}

#[derive(Default)]
pub struct TouchpointMutation;

#[Object]
impl TouchpointMutation {
    /// Records up to 1,000 touchpoints in one transaction, idempotent on
    /// `(source, externalId)`. People are found by their identities or created;
    /// accounts by id, by the email's domain, or by the person's primary account.
    async fn record_touchpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The touchpoints to record, at most 1,000.")]
        input: RecordTouchpointsInput,
    ) -> ApiResult<RecordTouchpointsPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let inputs = input.touchpoints;
        let recorded = ingestion::record(&rc.db, ws, inputs.len(), |now| {
            inputs.iter().map(|input| input.check(now)).collect()
        })
        .await?;
        let tally = Tally::of(&recorded);
        let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        let mut payload = RecordTouchpointsPayload {
            results: Vec::with_capacity(recorded.len()),
            created: count(tally.created),
            updated: count(tally.updated),
            unchanged: count(tally.unchanged),
            failed: count(tally.failed),
        };
        for (index, item) in recorded.into_iter().enumerate() {
            let (touchpoint, error) = match item.result {
                Ok(model) => (model.map(Touchpoint), None),
                Err(e) => {
                    let e = ApiError::from(e);
                    (
                        None,
                        Some(ItemError {
                            code: e.code().to_owned(),
                            message: e.message(),
                        }),
                    )
                }
            };
            payload.results.push(RecordTouchpointResult {
                index: i32::try_from(index).unwrap_or(i32::MAX),
                status: item.outcome.into(),
                touchpoint,
                error,
            });
        }
        Ok(payload)
    }
}
