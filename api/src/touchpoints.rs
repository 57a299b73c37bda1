//! Touchpoints: every interaction, from any source, and their idempotent ingestion.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{account_domain, account_ref, membership, stakeholder, touchpoint, vocab};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::{SelectCount, edges};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::pagination::{Cursor, Keyset, Page, PageArgs, SortKey, TotalCount, connection};
use crate::identities::{email_domain, normalise, normalise_email};
use crate::scoring;
use crate::stakeholders::NewStakeholder;
use crate::vocab::{Channel, Emotion, OwnerTeam};
use journeys_core::journeys::progression::{self, ModelRules};
use journeys_core::{db, time};

/// At most this many touchpoints per `recordTouchpoints` call.
pub const MAX_BATCH: usize = 1_000;
/// Clock skew tolerated on `occurredAt` before it counts as future-dated.
const FUTURE_SKEW_SECS: i64 = 300;

pub const NEWEST_FIRST_ORDER: &str = "touchpoint.occurred.desc";
pub const OLDEST_FIRST_ORDER: &str = "touchpoint.occurred.asc";
pub const NEWEST_FIRST: Keyset<touchpoint::Column> = Keyset {
    key: Some(touchpoint::Column::OccurredAt),
    id: touchpoint::Column::Id,
    descending: true,
};
const OLDEST_FIRST: Keyset<touchpoint::Column> = Keyset {
    key: Some(touchpoint::Column::OccurredAt),
    id: touchpoint::Column::Id,
    descending: false,
};

/// One interaction between the company and an account's people.
pub struct Touchpoint(pub touchpoint::Model);

/// One interaction between the company and an account's people (a tweet, a
/// webinar attendance, a ticket, an email, a call, a page visit…), from any
/// source.
#[Object]
impl Touchpoint {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Touchpoint, self.0.id)
    }
    /// The connector kind that produced it, or `api`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// Unique within its source; re-recording the same one is a no-op. Once
    /// its person is erased, `erased:` and a digest of the original.
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
    move |t| Cursor::new(order, SortKey::Time(t.occurred_at), t.id)
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

/// Which touchpoints to list.
#[derive(InputObject, Default)]
pub struct TouchpointFilter {
    /// Touchpoints of this account.
    pub account_id: Option<ID>,
    /// Touchpoints with this person.
    pub stakeholder_id: Option<ID>,
    /// Touchpoints from this source: a connector kind or `api`.
    pub source: Option<String>,
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

fn filter_condition(workspace: Uuid, filter: &TouchpointFilter) -> ApiResult<Condition> {
    let mut cond = Condition::all().add(touchpoint::Column::WorkspaceId.eq(workspace));
    if let Some(id) = &filter.account_id {
        cond = cond.add(touchpoint::Column::AccountId.eq(ids::decode(id, NodeType::Account)?));
    }
    if let Some(id) = &filter.stakeholder_id {
        cond =
            cond.add(touchpoint::Column::StakeholderId.eq(ids::decode(id, NodeType::Stakeholder)?));
    }
    if let Some(source) = &filter.source {
        cond = cond.add(touchpoint::Column::Source.eq(source.trim()));
    }
    if let Some(channels) = &filter.channels {
        let values: Vec<vocab::Channel> = channels.iter().map(|&c| c.into()).collect();
        cond = cond.add(touchpoint::Column::Channel.is_in(values));
    }
    if let Some(kinds) = &filter.kinds {
        if kinds.len() > 100 {
            return Err(ApiError::bad_input("at most 100 `kinds`"));
        }
        cond = cond.add(touchpoint::Column::Kind.is_in(kinds.iter().map(|k| k.trim().to_owned())));
    }
    if let Some(after) = filter.occurred_after {
        cond = cond.add(touchpoint::Column::OccurredAt.gte(time::to_micros(after)));
    }
    if let Some(before) = filter.occurred_before {
        cond = cond.add(touchpoint::Column::OccurredAt.lt(time::to_micros(before)));
    }
    if let Some(stage) = &filter.stage_id {
        cond = cond.add(journeys_core::journeys::progression::during_stage(
            ids::decode(stage, NodeType::Stage)?,
        ));
    }
    Ok(cond)
}

#[derive(Default)]
pub struct TouchpointQuery;

#[Object]
impl TouchpointQuery {
    /// Touchpoints across the workspace, newest first by default.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
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
        let filter = filter.unwrap_or_default();
        let base =
            touchpoint::Entity::find().filter(filter_condition(principal.workspace_id, &filter)?);
        let args = PageArgs::new(first, after, last, before);
        Ok(list(&rc.db, base, order_by.unwrap_or_default(), args).await?)
    }
}

/// A page of the touchpoints `base` selects, in `order`.
pub async fn list(
    db: &impl ConnectionTrait,
    base: sea_orm::Select<touchpoint::Entity>,
    order: TouchpointOrder,
    args: PageArgs,
) -> ApiResult<TouchpointConnection> {
    let (name, keyset) = match order {
        TouchpointOrder::NewestFirst => (NEWEST_FIRST_ORDER, NEWEST_FIRST),
        TouchpointOrder::OldestFirst => (OLDEST_FIRST_ORDER, OLDEST_FIRST),
    };
    let page = args.page(name)?;
    let rows = keyset.fetch(db, base.clone(), &page).await?;
    Ok(touchpoint_connection_from(
        rows,
        &page,
        name,
        TotalCount::new(SelectCount(base)),
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

impl PersonInput {
    /// The normalised identities, strongest first.
    fn identities(&self) -> ApiResult<Vec<(vocab::IdentityKind, String)>> {
        use vocab::IdentityKind as K;
        let mut out = Vec::new();
        if let Some(email) = &self.email {
            out.push((K::Email, normalise_email(email)?));
        }
        let others = [
            (K::TwitterUserId, &self.twitter_user_id),
            (K::ZendeskUserId, &self.zendesk_user_id),
            (K::ZoomRegistrantId, &self.zoom_registrant_id),
            (K::VendorUserId, &self.vendor_user_id),
            (K::TwitterHandle, &self.twitter_handle),
            (K::Phone, &self.phone),
            (K::AnonymousId, &self.anonymous_id),
        ];
        for (kind, value) in others {
            if let Some(value) = value {
                out.push((kind, normalise(kind, value)?));
            }
        }
        Ok(out)
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
    /// The touchpoint as recorded; null when the item was refused.
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

/// A touchpoint input that passed validation.
pub struct CheckedTouchpoint {
    source: String,
    external_id: String,
    channel: vocab::Channel,
    kind: String,
    occurred_at: DateTime<Utc>,
    title: Option<String>,
    body: Option<String>,
    url: Option<String>,
    owner_team: Option<vocab::OwnerTeam>,
    actor: Option<String>,
    emotion: Option<vocab::Emotion>,
    sentiment: Option<f64>,
    score: Option<f64>,
    properties: Option<serde_json::Value>,
    account: Option<Uuid>,
    stakeholder: Option<Uuid>,
    person: Option<(Vec<(vocab::IdentityKind, String)>, PersonInput)>,
    /// A connector's word on the person's organisation, used when `account` is none.
    pub(crate) account_hint: Option<journeys_plugin_sdk::AccountHint>,
    pub(crate) properties_update: PropertiesUpdate,
}

#[cfg(test)]
impl CheckedTouchpoint {
    /// The person's normalised identities, strongest first.
    pub(crate) fn identities(&self) -> &[(vocab::IdentityKind, String)] {
        self.person.as_ref().map_or(&[], |(ids, _)| ids)
    }
}

/// What a new delivery of a recorded touchpoint does to its properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PropertiesUpdate {
    /// The delivery's properties are the touchpoint's (`recordTouchpoints`:
    /// the caller states the whole touchpoint).
    Replace,
    /// The delivery's keys are set and the others kept: a connector's
    /// webhook may know less than its pull (a Zoom join has no minutes yet),
    /// and a late one must not erase what the pull found.
    Merge,
}

impl PropertiesUpdate {
    fn apply(
        self,
        old: Option<&serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> Option<serde_json::Value> {
        match (self, old, new) {
            (PropertiesUpdate::Merge, Some(serde_json::Value::Object(old)), new) => {
                let mut merged = old.clone();
                if let Some(serde_json::Value::Object(new)) = new {
                    merged.extend(new);
                }
                Some(serde_json::Value::Object(merged))
            }
            (_, _, new) => new,
        }
    }
}

fn bounded(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::bad_input(format!(
            "`{field}` must be at most {max} characters"
        ))),
        other => Ok(other),
    }
}

pub(crate) fn check(input: TouchpointInput, now: DateTime<Utc>) -> ApiResult<CheckedTouchpoint> {
    let source = input.source.trim().to_owned();
    if source.is_empty() || source.len() > 64 {
        return Err(ApiError::bad_input("`source` must be 1 to 64 characters"));
    }
    let external_id = input.external_id.trim().to_owned();
    if external_id.is_empty() || external_id.len() > 255 {
        return Err(ApiError::bad_input(
            "`externalId` must be 1 to 255 characters",
        ));
    }
    let kind = input.kind.trim().to_owned();
    if kind.is_empty() || kind.len() > 128 {
        return Err(ApiError::bad_input("`kind` must be 1 to 128 characters"));
    }
    if input.occurred_at > now + chrono::Duration::seconds(FUTURE_SKEW_SECS) {
        return Err(ApiError::bad_input("`occurredAt` is in the future"));
    }
    if let Some(s) = input.sentiment.filter(|s| !(-1.0..=1.0).contains(s)) {
        return Err(ApiError::bad_input(format!(
            "`sentiment` {s} is outside -1..1"
        )));
    }
    if let Some(s) = input.score.filter(|s| !s.is_finite()) {
        return Err(ApiError::bad_input(format!("`score` {s} is not a number")));
    }
    // An NPS answer is a whole number from 0 to 10: anything else would skew
    // every NPS figure it is counted in.
    if kind == journeys_core::analytics::NPS_KIND
        && let Some(s) = input
            .score
            .filter(|s| !(0.0..=10.0).contains(s) || s.fract() != 0.0)
    {
        return Err(ApiError::bad_input(format!(
            "`score` {s} of an `{kind}` touchpoint must be a whole number from 0 to 10"
        )));
    }
    let properties = input.properties.map(|p| p.0);
    if let Some(p) = &properties {
        if !p.is_object() {
            return Err(ApiError::bad_input("`properties` must be a JSON object"));
        }
        if p.to_string().len() > 64 * 1024 {
            return Err(ApiError::bad_input("`properties` must be at most 64 KiB"));
        }
    }
    let account = input
        .account_id
        .as_ref()
        .map(|id| ids::decode(id, NodeType::Account))
        .transpose()?;
    let stakeholder = input
        .stakeholder_id
        .as_ref()
        .map(|id| ids::decode(id, NodeType::Stakeholder))
        .transpose()?;
    let person = match input.person {
        Some(person) => {
            let identities = person.identities()?;
            if identities.is_empty() && stakeholder.is_none() {
                return Err(ApiError::bad_input("`person` needs at least one identity"));
            }
            Some((identities, person))
        }
        None => None,
    };
    Ok(CheckedTouchpoint {
        source,
        external_id,
        channel: input.channel.into(),
        kind,
        occurred_at: time::to_micros(input.occurred_at),
        title: bounded("title", input.title, 1_000)?,
        body: bounded("body", input.body, 64 * 1024)?,
        url: bounded("url", input.url, 2_048)?,
        owner_team: input.owner_team.map(Into::into),
        actor: bounded("actor", input.actor, 200)?,
        emotion: input.emotion.map(Into::into),
        sentiment: input.sentiment,
        score: input.score,
        properties,
        account,
        stakeholder,
        person,
        account_hint: None,
        properties_update: PropertiesUpdate::Replace,
    })
}

/// Finds the person a touchpoint is with, creating them when no identity matches,
/// and gives them the identities they lack.
async fn resolve_person(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    identities: &[(vocab::IdentityKind, String)],
    person: &PersonInput,
    seen_at: DateTime<Utc>,
) -> ApiResult<stakeholder::Model> {
    let mut owners = Vec::with_capacity(identities.len());
    for (kind, value) in identities {
        owners.push(crate::identities::owner(txn, ws, *kind, value).await?);
    }
    let found = owners.iter().flatten().next().copied();
    let email = identities
        .iter()
        .find(|(k, _)| *k == vocab::IdentityKind::Email)
        .map(|(_, v)| v.clone());
    let model = match found {
        Some(id) => enrich(txn, crate::stakeholders::find(txn, ws, id).await?, person).await?,
        None => {
            let new = NewStakeholder {
                seen_at,
                name: bounded("person.name", person.name.clone(), 200)?,
                title: bounded("person.title", person.title.clone(), 200)?,
                lifecycle: if email.is_some() {
                    vocab::Lifecycle::Lead
                } else {
                    vocab::Lifecycle::Visitor
                },
                email: email.clone(),
                identities: Vec::new(),
            };
            crate::stakeholders::insert(txn, ws, new).await?
        }
    };
    for ((kind, value), owner) in identities.iter().zip(owners) {
        // An identity already held by someone else is left there: deciding that
        // two records are one person is a merge, not ingestion's call.
        if owner.is_none() {
            crate::identities::attach(txn, ws, model.id, *kind, value).await?;
        }
    }
    if let (None, Some(email)) = (&model.email, email) {
        // An anonymous visitor left their details: a lead from now on.
        let mut active: stakeholder::ActiveModel = model.clone().into();
        active.email = Set(Some(email));
        active.updated_at = Set(time::now());
        let updated = active.update(txn).await?;
        if updated.lifecycle == vocab::Lifecycle::Visitor {
            let change = crate::lifecycle::Change {
                from: Some(vocab::Lifecycle::Visitor),
                to: vocab::Lifecycle::Lead,
                at: seen_at,
                cause: "left their details",
                actor: None,
                touchpoint: None,
            };
            let subject = crate::lifecycle::Subject::Stakeholder(updated.id);
            crate::lifecycle::set(txn, ws, subject, change).await?;
        }
        return crate::stakeholders::find(txn, ws, updated.id).await;
    }
    Ok(model)
}

/// Fills a known person's missing name and job title from what a touchpoint
/// says of them (a webinar registration, say); never overwrites.
async fn enrich(
    txn: &impl ConnectionTrait,
    model: stakeholder::Model,
    person: &PersonInput,
) -> ApiResult<stakeholder::Model> {
    let name = model.name.is_none().then(|| person.name.clone()).flatten();
    let title = model
        .title
        .is_none()
        .then(|| person.title.clone())
        .flatten();
    if name.is_none() && title.is_none() {
        return Ok(model);
    }
    let mut active: stakeholder::ActiveModel = model.clone().into();
    if let Some(name) = bounded("person.name", name, 200)? {
        active.name = Set(Some(name));
    }
    if let Some(title) = bounded("person.title", title, 200)? {
        active.title = Set(Some(title));
    }
    active.updated_at = Set(time::now());
    Ok(active.update(txn).await?)
}

/// The account a touchpoint belongs to when the caller named none: the one
/// owning the person's email domain, else the person's primary account.
async fn infer_account(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    person: &stakeholder::Model,
) -> ApiResult<Option<Uuid>> {
    if let Some(domain) = person.email.as_deref().and_then(email_domain) {
        let owner = account_domain::Entity::find()
            .filter(account_domain::Column::WorkspaceId.eq(ws))
            .filter(account_domain::Column::Domain.eq(domain))
            .one(txn)
            .await?;
        if let Some(owner) = owner {
            return Ok(Some(owner.account_id));
        }
    }
    let primary = membership::Entity::find()
        .filter(membership::Column::StakeholderId.eq(person.id))
        .order_by_desc(membership::Column::Primary)
        .order_by_asc(membership::Column::Id)
        .one(txn)
        .await?;
    Ok(primary.map(|m| m.account_id))
}

/// The account a touchpoint belongs to when the caller named none: the one a
/// connector's organisation id maps to, else the one [`infer_account`] finds,
/// else the account with the organisation's name, created when there is none.
/// An organisation id seen for the first time is mapped to the account found,
/// so later touchpoints from the same organisation land there too.
async fn resolve_account(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    source: &str,
    hint: Option<&journeys_plugin_sdk::AccountHint>,
    person: Option<&stakeholder::Model>,
) -> ApiResult<Option<Uuid>> {
    let external_id = hint.and_then(|h| h.external_id.as_deref());
    if let Some(external_id) = external_id {
        let key = (ws, source.to_owned(), external_id.to_owned());
        if let Some(mapped) = account_ref::Entity::find_by_id(key).one(txn).await? {
            return Ok(Some(mapped.account_id));
        }
    }
    let mut account = match person {
        Some(person) => infer_account(txn, ws, person).await?,
        None => None,
    };
    let name = hint
        .and_then(|h| h.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let (None, Some(name)) = (account, name) {
        account = Some(crate::accounts::find_or_create_named(txn, ws, name).await?);
    }
    if let (Some(account_id), Some(external_id)) = (account, external_id) {
        account_ref::ActiveModel {
            workspace_id: Set(ws),
            source: Set(source.to_owned()),
            external_id: Set(external_id.to_owned()),
            account_id: Set(account_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(account)
}

/// What an erased person's touchpoint is known by instead of its external id,
/// which may itself identify them (`attended:81:email:ada@example.com`): a
/// digest that a later delivery of the same touchpoint still finds.
pub(crate) fn erased_external_id(ws: Uuid, source: &str, external_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(ws.as_bytes())
        .chain_update(source.as_bytes())
        .chain_update([0])
        .chain_update(external_id.as_bytes())
        .finalize();
    format!("erased:{}", hex::encode(digest))
}

/// Records one checked touchpoint inside the batch's transaction.
async fn record_one(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    rules: &[ModelRules],
    item: CheckedTouchpoint,
) -> ApiResult<(RecordStatus, touchpoint::Model)> {
    let erased_id = erased_external_id(ws, &item.source, &item.external_id);
    let existing = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::Source.eq(item.source.as_str()))
        .filter(touchpoint::Column::ExternalId.is_in([item.external_id.as_str(), &erased_id]))
        .one(txn)
        .await?;
    // An erased person stays erased: a re-delivery (a connector's next pull,
    // a webhook, a client's retry) neither refills their touchpoint nor
    // finds them again by identity.
    if let Some(old) = &existing
        && old.external_id == erased_id
    {
        return Ok((RecordStatus::Unchanged, old.clone()));
    }
    let mut stakeholder = match item.stakeholder {
        Some(id) => Some(crate::stakeholders::find(txn, ws, id).await?),
        None => None,
    };
    if stakeholder.is_none()
        && let Some((identities, person)) = &item.person
    {
        stakeholder = Some(resolve_person(txn, ws, identities, person, item.occurred_at).await?);
    }
    let account = match item.account {
        Some(id) => Some(crate::accounts::find(txn, ws, id).await?.id),
        None => {
            let hint = item.account_hint.as_ref();
            resolve_account(txn, ws, &item.source, hint, stakeholder.as_ref()).await?
        }
    };
    if let (Some(account), Some(person)) = (account, &stakeholder) {
        // Joins the person to the account; a no-op when they already belong.
        crate::memberships::upsert(txn, ws, account, person.id, None, None).await?;
    }
    let stakeholder = stakeholder.map(|s| s.id);
    let now = time::now();
    match existing {
        Some(old) => {
            let properties = item
                .properties_update
                .apply(old.properties.as_ref(), item.properties);
            let same = old.account_id == account.or(old.account_id)
                && old.stakeholder_id == stakeholder.or(old.stakeholder_id)
                && old.channel == item.channel
                && old.kind == item.kind
                && old.occurred_at == item.occurred_at
                && old.title == item.title
                && old.body == item.body
                && old.url == item.url
                && old.owner_team == item.owner_team
                && old.actor == item.actor
                && old.emotion == item.emotion
                && old.sentiment == item.sentiment
                && old.score == item.score
                && old.properties == properties;
            if same {
                return Ok((RecordStatus::Unchanged, old));
            }
            let mut active: touchpoint::ActiveModel = old.clone().into();
            active.account_id = Set(account.or(old.account_id));
            active.stakeholder_id = Set(stakeholder.or(old.stakeholder_id));
            active.channel = Set(item.channel);
            active.kind = Set(item.kind);
            active.occurred_at = Set(item.occurred_at);
            active.title = Set(item.title);
            active.body = Set(item.body);
            active.url = Set(item.url);
            active.owner_team = Set(item.owner_team);
            active.actor = Set(item.actor);
            active.emotion = Set(item.emotion);
            active.sentiment = Set(item.sentiment);
            active.score = Set(item.score);
            active.properties = Set(properties);
            active.updated_at = Set(now);
            let updated = active.update(txn).await?;
            // Its time, kind or account may have changed: rebuild the paths it was on.
            let mut accounts = vec![old.account_id, updated.account_id];
            accounts.dedup();
            let since = old.occurred_at.min(updated.occurred_at);
            for account in accounts.into_iter().flatten() {
                progression::replay_all(txn, rules, account, since).await?;
            }
            Ok((RecordStatus::Updated, updated))
        }
        None => {
            let model = touchpoint::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(ws),
                account_id: Set(account),
                stakeholder_id: Set(stakeholder),
                source: Set(item.source),
                external_id: Set(item.external_id),
                channel: Set(item.channel),
                kind: Set(item.kind),
                occurred_at: Set(item.occurred_at),
                title: Set(item.title),
                body: Set(item.body),
                url: Set(item.url),
                owner_team: Set(item.owner_team),
                actor: Set(item.actor),
                emotion: Set(item.emotion),
                sentiment: Set(item.sentiment),
                score: Set(item.score),
                properties: Set(item.properties),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            progression::apply(txn, rules, &model).await?;
            Ok((RecordStatus::Created, model))
        }
    }
}

/// Records a batch in one transaction: each item succeeds or fails on its own
/// (an item's partial writes are undone by a savepoint), and a database failure
/// undoes the whole batch.
pub async fn record(
    conn: &sea_orm::DatabaseConnection,
    ws: Uuid,
    inputs: Vec<TouchpointInput>,
) -> ApiResult<Vec<Recorded>> {
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::bad_input(format!(
            "a batch holds at most {MAX_BATCH} touchpoints, got {}",
            inputs.len()
        )));
    }
    record_retrying(conn, ws, |now| {
        inputs
            .iter()
            .map(|input| check(input.clone(), now))
            .collect()
    })
    .await
}

/// Tries of a batch that lost a race on a unique key before CONFLICT.
pub(crate) const WRITE_ATTEMPTS: u32 = 4;

/// A short random pause before retrying a contended write, growing with the
/// attempts, so the racers do not collide again in step.
pub(crate) async fn contention_pause(attempts: u32) {
    use rand::Rng;
    let millis = rand::rng().random_range(5..=25) * u64::from(attempts);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// Records the items `make` builds (given the time now) in a transaction of
/// their own. Two batches naming the same new person can race on PostgreSQL:
/// the loser's insert hits the winner's unique key, and its retry sees the
/// winner's rows.
pub async fn record_retrying(
    conn: &sea_orm::DatabaseConnection,
    ws: Uuid,
    make: impl Fn(DateTime<Utc>) -> Vec<ApiResult<CheckedTouchpoint>>,
) -> ApiResult<Vec<Recorded>> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let txn = db::begin_write(conn).await?;
        match record_checked(&txn, ws, make(time::now())).await {
            Ok(out) => {
                txn.commit().await?;
                return Ok(out);
            }
            Err(ApiError::Contended(detail)) if attempts < WRITE_ATTEMPTS => {
                tracing::debug!(attempts, error = %detail, "batch contended; retrying");
                txn.rollback().await?;
                contention_pause(attempts).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// What recording one item did, and the touchpoint or why it was refused.
pub type Recorded = (RecordStatus, Result<touchpoint::Model, ApiError>);

/// Records validated items inside the caller's transaction, so a connector can
/// save its cursor in the same one. Items that failed validation are reported
/// as errors in place; any other item failing rolls back only its savepoint.
pub(crate) async fn record_checked(
    txn: &sea_orm::DatabaseTransaction,
    ws: Uuid,
    items: Vec<ApiResult<CheckedTouchpoint>>,
) -> ApiResult<Vec<Recorded>> {
    use sea_orm::TransactionTrait;
    let rules = progression::load_rules(txn, ws).await?;
    let mut touched = scoring::Touched::default();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                out.push((RecordStatus::Error, Err(e)));
                continue;
            }
        };
        let savepoint = txn.begin().await?;
        match record_one(&savepoint, ws, &rules, item).await {
            Ok((status, model)) => {
                savepoint.commit().await?;
                if status != RecordStatus::Unchanged {
                    touched.add(&model);
                }
                out.push((status, Ok(model)));
            }
            // The whole batch fails (and may be retried), not just this item.
            Err(e @ (ApiError::Internal(_) | ApiError::Contended(_))) => return Err(e),
            Err(e) => {
                savepoint.rollback().await?;
                out.push((RecordStatus::Error, Err(e)));
            }
        }
    }
    // Scores and qualification once per person and account, not per item.
    scoring::rescore(txn, ws, touched).await?;
    Ok(out)
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
        let outcomes = record(&rc.db, ws, input.touchpoints).await?;
        let mut payload = RecordTouchpointsPayload {
            results: Vec::with_capacity(outcomes.len()),
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
        };
        for (index, (status, outcome)) in outcomes.into_iter().enumerate() {
            match status {
                RecordStatus::Created => payload.created += 1,
                RecordStatus::Updated => payload.updated += 1,
                RecordStatus::Unchanged => payload.unchanged += 1,
                RecordStatus::Error => payload.failed += 1,
            }
            let (touchpoint, error) = match outcome {
                Ok(model) => (Some(Touchpoint(model)), None),
                Err(e) => (
                    None,
                    Some(ItemError {
                        code: e.code().to_owned(),
                        message: e.message(),
                    }),
                ),
            };
            payload.results.push(RecordTouchpointResult {
                index: i32::try_from(index).unwrap_or(i32::MAX),
                status,
                touchpoint,
                error,
            });
        }
        Ok(payload)
    }
}
