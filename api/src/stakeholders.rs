//! Stakeholders: the people at accounts, known or still anonymous.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{stakeholder, vocab};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::accounts::like_pattern;
use crate::auth::Scope;
use crate::graphql::connection::{LoaderCount, SelectCount, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{
    IdentitiesOf, MEMBERSHIP_ORDER, MembershipCount, MembershipSide, MembershipsOf,
    StakeholderById, TouchpointCount, TouchpointOwner, TouchpointsOf,
};
use crate::graphql::pagination::{Cursor, Keyset, PageArgs, SortKey, TotalCount, connection};
use crate::graphql::patch::patch;
use crate::identities::{self, Identity, normalise, normalise_email};
use crate::lifecycle::{self, Change, Subject};
use crate::memberships::{StakeholderAccountConnection, StakeholderAccountEdge};
use crate::touchpoints::{NEWEST_FIRST_ORDER, TouchpointConnection, touchpoint_connection_from};
use crate::vocab::{Direction, DmuRole, IdentityKind, Lifecycle};
use journeys_core::{db, time};

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
    /// When the person's data was erased.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.erased_at
    }
    /// Every lifecycle change, oldest first.
    async fn lifecycle_changes(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::lifecycle::LifecycleChange>> {
        crate::lifecycle::history(ctx, crate::lifecycle::Subject::Stakeholder(self.0.id)).await
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
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
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
        let key = MembershipsOf {
            side: MembershipSide::Stakeholder,
            parent: self.0.id,
            page: page.clone(),
        };
        let rows = request(ctx)
            .loader
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let (edges, page_info) = edges(rows, &page, crate::memberships::cursor, |m| m);
        Ok(StakeholderAccountConnection {
            edges: StakeholderAccountEdge::load_all(ctx, edges).await?,
            page_info,
            total: TotalCount::new(LoaderCount(MembershipCount(
                MembershipSide::Stakeholder,
                self.0.id,
            ))),
        })
    }
    /// This person's touchpoints, newest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
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
        };
        let rows = request(ctx)
            .loader
            .load_one(key)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let total = TotalCount::new(LoaderCount(TouchpointCount(
            TouchpointOwner::Stakeholder,
            self.0.id,
        )));
        Ok(touchpoint_connection_from(
            rows,
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

    fn keyset(self) -> Keyset<stakeholder::Column> {
        let key = match self.field {
            StakeholderSortField::CreatedAt => stakeholder::Column::CreatedAt,
            StakeholderSortField::UpdatedAt => stakeholder::Column::UpdatedAt,
        };
        Keyset {
            key: Some(key),
            id: stakeholder::Column::Id,
            descending: self.direction == Direction::Desc,
        }
    }

    fn cursor(self, s: &stakeholder::Model) -> Cursor {
        let key = match self.field {
            StakeholderSortField::CreatedAt => s.created_at,
            StakeholderSortField::UpdatedAt => s.updated_at,
        };
        Cursor::new(self.name(), SortKey::Time(key), s.id)
    }
}

fn filter_condition(workspace: Uuid, filter: &StakeholderFilter) -> ApiResult<Condition> {
    let mut cond = Condition::all().add(stakeholder::Column::WorkspaceId.eq(workspace));
    if let Some(lifecycles) = &filter.lifecycle {
        let values: Vec<vocab::Lifecycle> = lifecycles.iter().map(|&l| l.into()).collect();
        cond = cond.add(stakeholder::Column::Lifecycle.is_in(values));
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.trim().is_empty()) {
        if text.len() > 200 {
            return Err(ApiError::bad_input(
                "`search` must be at most 200 characters",
            ));
        }
        let pattern = like_pattern(text);
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(stakeholder::Column::Name)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::col(stakeholder::Column::Email).like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(since) = filter.updated_since {
        cond = cond.add(stakeholder::Column::UpdatedAt.gte(time::to_micros(since)));
    }
    if let Some(min) = filter.min_score {
        cond = cond.add(stakeholder::Column::Score.gte(min));
    }
    if let Some(max) = filter.max_score {
        cond = cond.add(stakeholder::Column::Score.lte(max));
    }
    Ok(cond)
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

/// Finds a stakeholder of `workspace` by id, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
) -> ApiResult<stakeholder::Model> {
    stakeholder::Entity::find_by_id(id)
        .filter(stakeholder::Column::WorkspaceId.eq(workspace))
        .one(db)
        .await?
        .ok_or(ApiError::not_found("stakeholder"))
}

#[derive(Default)]
pub struct StakeholderQuery;

#[Object]
impl StakeholderQuery {
    /// The workspace's stakeholders, oldest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
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
        let order = order_by.unwrap_or_default();
        let page = PageArgs::new(first, after, last, before).page(order.name())?;
        let keyset = order.keyset();
        let base = stakeholder::Entity::find().filter(filter_condition(
            principal.workspace_id,
            &filter.unwrap_or_default(),
        )?);
        let rows = keyset
            .fetch(&rc.db, base.clone(), &page)
            .await
            .map_err(ApiError::from)?;
        let (edges, page_info) = edges(rows, &page, |s| order.cursor(s), Stakeholder);
        Ok(StakeholderConnection::new(
            edges,
            page_info,
            TotalCount::new(SelectCount(base)),
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
            find(&rc.db, principal.workspace_id, id).await?,
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

fn check_text(field: &str, value: &str, max: usize) -> ApiResult<Option<String>> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ApiError::bad_input(format!(
            "`{field}` must be at most {max} characters"
        )));
    }
    Ok(Some(value.to_owned()).filter(|v| !v.is_empty()))
}

fn check_identities(inputs: &[IdentityInput]) -> ApiResult<Vec<(vocab::IdentityKind, String)>> {
    if inputs.len() > 50 {
        return Err(ApiError::bad_input("at most 50 identities at once"));
    }
    inputs
        .iter()
        .map(|i| {
            let kind: vocab::IdentityKind = i.kind.into();
            Ok((kind, normalise(kind, &i.value)?))
        })
        .collect()
}

/// A new stakeholder's checked fields.
pub struct NewStakeholder {
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub lifecycle: vocab::Lifecycle,
    pub identities: Vec<(vocab::IdentityKind, String)>,
    /// When the person was first seen: the time their first lifecycle is recorded at.
    pub seen_at: DateTime<Utc>,
}

/// Inserts a stakeholder and its identities; CONFLICT when an identity is taken.
pub async fn insert(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    new: NewStakeholder,
) -> ApiResult<stakeholder::Model> {
    let seen_at = new.seen_at;
    let now = time::now();
    let model = stakeholder::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(workspace),
        name: Set(new.name),
        email: Set(new.email.clone()),
        title: Set(new.title),
        lifecycle: Set(new.lifecycle),
        score: Set(0.0),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
    .insert(txn)
    .await?;
    let email = new.email.map(|e| (vocab::IdentityKind::Email, e));
    for (kind, value) in email.into_iter().chain(new.identities) {
        identities::attach(txn, workspace, model.id, kind, &value).await?;
    }
    let cause = if model.email.is_some() {
        "left their details"
    } else {
        "first seen"
    };
    let change = Change {
        from: None,
        to: model.lifecycle,
        at: seen_at,
        cause,
        actor: None,
        touchpoint: None,
    };
    lifecycle::record(txn, workspace, Subject::Stakeholder(model.id), change).await?;
    Ok(model)
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
        let email = input.email.as_deref().map(normalise_email).transpose()?;
        let account = input
            .account_id
            .as_ref()
            .map(|id| ids::decode(id, NodeType::Account))
            .transpose()?;
        let new = NewStakeholder {
            seen_at: time::now(),
            name: input
                .name
                .as_deref()
                .map(|n| check_text("name", n, 200))
                .transpose()?
                .flatten(),
            lifecycle: input
                .lifecycle
                .map(Into::into)
                .unwrap_or(if email.is_some() {
                    vocab::Lifecycle::Lead
                } else {
                    vocab::Lifecycle::Visitor
                }),
            email,
            title: input
                .title
                .as_deref()
                .map(|t| check_text("title", t, 200))
                .transpose()?
                .flatten(),
            identities: check_identities(&input.identities)?,
        };
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        if let Some(account) = account {
            crate::accounts::find(&txn, ws, account).await?;
        }
        let model = insert(&txn, ws, new).await?;
        if let Some(account) = account {
            crate::memberships::upsert(
                &txn,
                ws,
                account,
                model.id,
                input.role.map(Into::into),
                None,
            )
            .await?;
        }
        txn.commit().await.map_err(ApiError::from)?;
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
        let added = check_identities(&input.add_identities)?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let current = find(&txn, ws, id).await?;
        let before = current.lifecycle;
        let mut model: stakeholder::ActiveModel = current.into();
        patch(&mut model.name, input.name, |v| check_text("name", &v, 200))?;
        let mut new_email = None;
        patch(&mut model.email, input.email, |v| {
            let email = normalise_email(&v)?;
            new_email = Some(email.clone());
            Ok(Some(email))
        })?;
        patch(&mut model.title, input.title, |v| {
            check_text("title", &v, 200)
        })?;
        // A visitor given an email has left their details, unless the same
        // update sets the lifecycle by hand.
        let left_details = new_email.is_some() && before == vocab::Lifecycle::Visitor;
        let change = match input.lifecycle.map(Into::into) {
            Some(lifecycle) => Some((lifecycle, "set by hand", Some(principal.subject.as_str()))),
            None if left_details => Some((vocab::Lifecycle::Lead, "left their details", None)),
            None => None,
        };
        if let Some((lifecycle, cause, actor)) = change.filter(|(l, _, _)| *l != before) {
            model.lifecycle = Set(lifecycle);
            let change = Change {
                from: Some(before),
                to: lifecycle,
                at: time::now(),
                cause,
                actor,
                touchpoint: None,
            };
            lifecycle::record(&txn, ws, Subject::Stakeholder(id), change).await?;
        }
        model.updated_at = Set(time::now());
        let updated = model.update(&txn).await.map_err(ApiError::from)?;
        let email = new_email.map(|e| (vocab::IdentityKind::Email, e));
        for (kind, value) in email.into_iter().chain(added) {
            identities::attach(&txn, ws, id, kind, &value).await?;
        }
        txn.commit().await.map_err(ApiError::from)?;
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
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        find(&txn, ws, id).await?;
        stakeholder::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(DeleteStakeholderPayload {
            deleted_id: input.id,
        })
    }
}
