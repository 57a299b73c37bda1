//! Stakeholders: the people at accounts, known or still anonymous.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{stakeholder, vocab};
use journeys_core::db;
use journeys_core::people::stakeholders;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::{CountBy, edges, load_error, nested_total, total_asked};
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{
    AccountsOf, IdentitiesOf, MEMBERSHIP_ORDER, MembershipCount, MembershipSide, StakeholderById,
    TouchpointCount, TouchpointOwner, TouchpointsOf,
};
use crate::graphql::pagination::{Cursor, PageArgs, TotalCount, connection};
use crate::graphql::patch::to_patch;
use crate::identities::Identity;
use crate::memberships::{StakeholderAccountConnection, StakeholderAccountEdge};
use crate::touchpoints::{NEWEST_FIRST_ORDER, TouchpointConnection, touchpoint_connection_from};
use crate::vocab::{Channel, Direction, DmuRole, IdentityKind, Lifecycle};

/// A person: a contact at one or more accounts, or an anonymous visitor.
pub struct Stakeholder(pub stakeholder::Model);

/// A person: a contact at one or more accounts, or an anonymous visitor not
/// yet tied to any account. Found across sources through their identities.
#[Object]
impl Stakeholder {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Stakeholder, self.0.id)
    }
    /// Full name; null when unknown or erased.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// The primary email, normalised.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Job title.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// Where the person stands now, from VISITOR to PROMOTER; see
    /// `lifecycleChanges` for how they got there.
    async fn lifecycle(&self) -> Lifecycle {
        self.0.lifecycle.into()
    }
    /// The sum of the scoring rules' contributions, decayed to today.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<f64> {
        crate::scoring::stakeholder_score(ctx, self.0.id).await
    }
    /// Each scoring rule's share of `score`, decayed to today.
    async fn score_breakdown(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::scoring::ScoreContribution>> {
        crate::scoring::breakdown(ctx, self.0.id).await
    }
    /// Consents: the current one per channel, or every change when `history`.
    async fn consents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Every consent change, newest first, instead of only the current consent per channel."
        )]
        history: bool,
    ) -> ApiResult<Vec<crate::privacy::Consent>> {
        crate::privacy::consents_of(ctx, self.0.id, history).await
    }
    /// Whether the person may be contacted on `channel` now: their newest
    /// consent on it was given, and they were not erased. False when they
    /// never gave one.
    async fn can_contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The channel to contact them on.")] channel: Channel,
    ) -> ApiResult<bool> {
        let rows = request(ctx)
            .loader
            .load_one(crate::graphql::loaders::ConsentsOf(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        Ok(journeys_core::privacy::can_contact(
            &self.0,
            &rows,
            channel.into(),
        ))
    }
    /// When the person's data was erased.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.erased_at
    }
    /// Every lifecycle change, in the order recorded: each one's `from` is the
    /// `to` before it, and the last one's `to` is `lifecycle`.
    async fn lifecycle_changes(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::lifecycle::LifecycleChange>> {
        crate::lifecycle::history(
            ctx,
            journeys_core::lifecycle::Subject::Stakeholder(self.0.id),
        )
        .await
    }
    /// True for a visitor who belongs to no account yet.
    async fn anonymous(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let n = request(ctx)
            .loader
            .load_one(MembershipCount(MembershipSide::Stakeholder, self.0.id))
            .await
            .map_err(load_error)?;
        Ok(n.unwrap_or(0) == 0)
    }
    /// When the record was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the person's details or lifecycle last changed (UTC); score
    /// changes do not count.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Everything that identifies this person across sources.
    async fn identities(&self, ctx: &Context<'_>) -> ApiResult<Vec<Identity>> {
        let rows = request(ctx)
            .loader
            .load_one(IdentitiesOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(Identity).collect())
    }
    /// The accounts this person belongs to, in the order they joined; each
    /// edge carries the role.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
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
    ) -> ApiResult<StakeholderAccountConnection> {
        let page = PageArgs::new(first, after, last, before).page(MEMBERSHIP_ORDER)?;
        let key = AccountsOf {
            parent: self.0.id,
            page: page.clone(),
            total: total_asked(ctx),
        };
        let listed = request(ctx)
            .loader
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let (edges, page_info) = edges(listed.rows, &page, crate::memberships::cursor, |m| m);
        Ok(StakeholderAccountConnection {
            edges: StakeholderAccountEdge::all(edges),
            page_info,
            total: nested_total(
                listed.total,
                MembershipCount(MembershipSide::Stakeholder, self.0.id),
            ),
        })
    }
    /// This person's touchpoints, newest first.
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
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
        let page = PageArgs::new(first, after, last, before).page(NEWEST_FIRST_ORDER)?;
        let key = TouchpointsOf {
            owner: TouchpointOwner::Stakeholder,
            parent: self.0.id,
            page: page.clone(),
            total: total_asked(ctx),
        };
        let listed = request(ctx)
            .loader
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let total = nested_total(
            listed.total,
            TouchpointCount(TouchpointOwner::Stakeholder, self.0.id),
        );
        Ok(touchpoint_connection_from(
            listed.rows,
            &page,
            NEWEST_FIRST_ORDER,
            total,
        ))
    }
}

connection!(
    /// A page of stakeholders, in the order the query asked for.
    StakeholderConnection, StakeholderEdge, Stakeholder
);

/// Which stakeholders to list.
#[derive(InputObject, Default)]
pub struct StakeholderFilter {
    /// People in any of these lifecycle stages.
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// Case-insensitive text in the name or email.
    pub search: Option<String>,
    /// People changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// People scoring at least this much. Filters compare the stored score,
    /// which is brought up to date with decay at least daily.
    pub min_score: Option<f64>,
    /// People scoring at most this much (the stored score, as for `minScore`).
    pub max_score: Option<f64>,
    /// People who may be contacted on this channel now: their newest consent
    /// on it was given, and they were not erased (`canContact`).
    pub contactable_on: Option<Channel>,
}

/// What stakeholders are sorted by.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum StakeholderSortField {
    /// When the person's record was created.
    #[default]
    CreatedAt,
    /// When the person's details or lifecycle last changed.
    UpdatedAt,
}

/// How stakeholders are sorted; ties are broken by id.
#[derive(InputObject, Default, Clone, Copy)]
pub struct StakeholderOrder {
    /// What to sort by.
    #[graphql(default)]
    pub field: StakeholderSortField,
    /// Ascending or descending.
    #[graphql(default)]
    pub direction: Direction,
}

impl StakeholderOrder {
    fn name(self) -> &'static str {
        match (self.field, self.direction) {
            (StakeholderSortField::CreatedAt, Direction::Asc) => "stakeholder.created.asc",
            (StakeholderSortField::CreatedAt, Direction::Desc) => "stakeholder.created.desc",
            (StakeholderSortField::UpdatedAt, Direction::Asc) => "stakeholder.updated.asc",
            (StakeholderSortField::UpdatedAt, Direction::Desc) => "stakeholder.updated.desc",
        }
    }

    fn core(self) -> stakeholders::StakeholderOrder {
        stakeholders::StakeholderOrder {
            sort: match self.field {
                StakeholderSortField::CreatedAt => stakeholders::StakeholderSort::CreatedAt,
                StakeholderSortField::UpdatedAt => stakeholders::StakeholderSort::UpdatedAt,
            },
            descending: self.direction == Direction::Desc,
        }
    }

    fn cursor(self, s: &stakeholder::Model) -> Cursor {
        Cursor::at(self.name(), self.core().position(s))
    }
}

impl From<StakeholderFilter> for stakeholders::StakeholderFilter {
    fn from(filter: StakeholderFilter) -> Self {
        Self {
            lifecycle: filter
                .lifecycle
                .map(|ls| ls.into_iter().map(Into::into).collect()),
            search: filter.search,
            updated_since: filter.updated_since,
            min_score: filter.min_score,
            max_score: filter.max_score,
            contactable_on: filter.contactable_on.map(Into::into),
        }
    }
}

/// Loads a stakeholder of the caller's workspace for a nested field.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Stakeholder>> {
    let found = request(ctx)
        .loader
        .load_one(StakeholderById(id))
        .await
        .map_err(load_error)?;
    Ok(found.map(Stakeholder))
}

#[derive(Default)]
pub struct StakeholderQuery;

#[Object]
impl StakeholderQuery {
    /// The workspace's stakeholders, oldest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn stakeholders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which people to list; everyone when left out.")] filter: Option<
            StakeholderFilter,
        >,
        #[graphql(desc = "The order; by creation time, ascending, when left out.")]
        order_by: Option<StakeholderOrder>,
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
    ) -> ApiResult<StakeholderConnection> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Read)?;
        let ws = principal.workspace_id;
        let order = order_by.unwrap_or_default();
        let page = PageArgs::new(first, after, last, before).page(order.name())?;
        let filter = stakeholders::StakeholderFilter::from(filter.unwrap_or_default());
        let rows = stakeholders::list(&rc.db, ws, &filter, order.core(), &page).await?;
        let (edges, page_info) = edges(rows, &page, |s| order.cursor(s), Stakeholder);
        let total = CountBy(move |db| {
            let filter = filter.clone();
            async move { stakeholders::count(&db, ws, &filter).await }
        });
        Ok(StakeholderConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
        ))
    }

    /// One stakeholder; NOT_FOUND when not in the token's workspace.
    async fn stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stakeholder's global id.")] id: ID,
    ) -> ApiResult<Option<Stakeholder>> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Read)?;
        let id = ids::decode(&id, NodeType::Stakeholder)?;
        Ok(Some(Stakeholder(
            stakeholders::find(&rc.db, principal.workspace_id, id).await?,
        )))
    }
}

/// An identity to give a stakeholder.
#[derive(InputObject, Clone)]
pub struct IdentityInput {
    /// What kind of identifier `value` is.
    pub kind: IdentityKind,
    /// The identifier; normalised for its kind (emails lower-cased, handles
    /// without `@`, phones to digits and a leading `+`); BAD_USER_INPUT when
    /// it is not valid for its kind.
    pub value: String,
}

/// A new stakeholder.
#[derive(InputObject)]
pub struct CreateStakeholderInput {
    /// Full name, at most 200 characters.
    pub name: Option<String>,
    /// Also recorded as an EMAIL identity.
    pub email: Option<String>,
    /// Job title, at most 200 characters.
    pub title: Option<String>,
    /// Defaults to LEAD with an email (they left their details), else VISITOR.
    pub lifecycle: Option<Lifecycle>,
    /// Up to 50 more identities; CONFLICT when another stakeholder holds one.
    #[graphql(default)]
    pub identities: Vec<IdentityInput>,
    /// An account to join at once.
    pub account_id: Option<ID>,
    /// The role in `accountId`'s decision-making unit.
    pub role: Option<DmuRole>,
}

/// Changes to a stakeholder; absent fields stay, `null` clears.
#[derive(InputObject)]
pub struct UpdateStakeholderInput {
    /// The stakeholder to change.
    pub id: ID,
    /// A new full name (at most 200 characters), or `null` to clear it.
    pub name: MaybeUndefined<String>,
    /// A new primary email, also added as an EMAIL identity; `null` clears the
    /// field but keeps the identities. A VISITOR given an email has left their
    /// details and becomes a LEAD, unless `lifecycle` says otherwise.
    pub email: MaybeUndefined<String>,
    /// A new job title (at most 200 characters), or `null` to clear it.
    pub title: MaybeUndefined<String>,
    /// A new lifecycle, recorded as a change made by hand by the token's subject.
    pub lifecycle: Option<Lifecycle>,
    /// Identities to add.
    #[graphql(default)]
    pub add_identities: Vec<IdentityInput>,
}

/// The stakeholder to delete.
#[derive(InputObject)]
pub struct DeleteStakeholderInput {
    /// The stakeholder's global id.
    pub id: ID,
}

/// The stakeholder after a create or update.
#[derive(SimpleObject)]
pub struct StakeholderPayload {
    /// The stakeholder as saved.
    pub stakeholder: Stakeholder,
}

/// What `deleteStakeholder` removed.
#[derive(SimpleObject)]
pub struct DeleteStakeholderPayload {
    /// The id of the deleted stakeholder.
    pub deleted_id: ID,
}

fn identities(inputs: Vec<IdentityInput>) -> Vec<(vocab::IdentityKind, String)> {
    inputs
        .into_iter()
        .map(|i| (i.kind.into(), i.value))
        .collect()
}

#[derive(Default)]
pub struct StakeholderMutation;

#[Object]
impl StakeholderMutation {
    /// Creates a stakeholder with identities, optionally joining an account.
    async fn create_stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new stakeholder's fields and identities.")]
        input: CreateStakeholderInput,
    ) -> ApiResult<StakeholderPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let account = input
            .account_id
            .as_ref()
            .map(|id| ids::decode(id, NodeType::Account))
            .transpose()?;
        let details = stakeholders::StakeholderDetails {
            name: input.name,
            email: input.email,
            title: input.title,
            lifecycle: input.lifecycle.map(Into::into),
            identities: identities(input.identities),
            account: account.map(|a| (a, input.role.map(Into::into))),
        };
        let txn = db::begin_write(&rc.db).await?;
        let model = stakeholders::create(&txn, ws, details).await?;
        db::commit(txn).await?;
        Ok(StakeholderPayload {
            stakeholder: Stakeholder(model),
        })
    }

    /// Changes a stakeholder's fields and adds identities.
    async fn update_stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stakeholder and the fields to change.")]
        input: UpdateStakeholderInput,
    ) -> ApiResult<StakeholderPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Write)?;
        let ws = principal.workspace_id;
        let id = ids::decode(&input.id, NodeType::Stakeholder)?;
        let changes = stakeholders::StakeholderChanges {
            name: to_patch(input.name),
            email: to_patch(input.email),
            title: to_patch(input.title),
            lifecycle: input.lifecycle.map(Into::into),
            add_identities: identities(input.add_identities),
        };
        let txn = db::begin_write(&rc.db).await?;
        let updated = stakeholders::update(&txn, ws, id, changes, &principal.subject).await?;
        db::commit(txn).await?;
        Ok(StakeholderPayload {
            stakeholder: Stakeholder(updated),
        })
    }

    /// Deletes a stakeholder with identities and memberships; their touchpoints
    /// stay with the account.
    async fn delete_stakeholder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stakeholder to delete.")] input: DeleteStakeholderInput,
    ) -> ApiResult<DeleteStakeholderPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::Stakeholder)?;
        let txn = db::begin_write(&rc.db).await?;
        stakeholders::delete(&txn, ws, id).await?;
        db::commit(txn).await?;
        Ok(DeleteStakeholderPayload {
            deleted_id: input.id,
        })
    }
}
