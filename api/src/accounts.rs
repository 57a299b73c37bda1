//! Accounts: customer and prospect organisations, with their domains.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{account, account_domain, stage_position};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::{LoaderCount, SelectCount, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{
    AccountById, ContributionsOf, DomainsOf, MembersOf, MembershipCount, MembershipSide,
    MembershipsOf, TouchpointCount, TouchpointOwner, TouchpointsOf,
};
use crate::graphql::pagination::{Cursor, Keyset, PageArgs, SortKey, TotalCount, connection};
use crate::graphql::patch::patch;
use crate::identities::normalise_domain;
use crate::lifecycle::{self, Change, Subject};
use crate::memberships::{AccountStakeholderConnection, AccountStakeholderEdge};
use crate::touchpoints::{TouchpointConnection, touchpoint_connection_from};
use crate::vocab::{Direction, Lifecycle};
use journeys_core::{db, time};

/// A customer or prospect organisation.
pub struct Account(pub account::Model);

/// A customer or prospect organisation: its details, lifecycle, score, the
/// people involved and its journey.
#[Object]
impl Account {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Account, self.0.id)
    }
    /// The organisation's name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Web domains; a person's email at one of them joins this account.
    async fn domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        let loaded = request(ctx)
            .loader
            .load_one(DomainsOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(loaded.unwrap_or_default())
    }
    /// The industry, as free text.
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    /// Number of employees.
    async fn employees(&self) -> Option<i32> {
        self.0.employees
    }
    /// Where the account stands now, from VISITOR to PROMOTER; see
    /// `lifecycleChanges` for how it got there.
    async fn lifecycle(&self) -> Lifecycle {
        self.0.lifecycle.into()
    }
    /// The employee who owns the account.
    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }
    /// The account's score today: the sum of its stakeholders' scores.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<f64> {
        let loader = &request(ctx).loader;
        let people = loader
            .load_one(MembersOf(self.0.id))
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        let parts = loader
            .load_many(people.into_iter().map(ContributionsOf))
            .await
            .map_err(load_error)?;
        let now = time::now();
        Ok(parts
            .values()
            .flatten()
            .map(|(c, rule)| {
                crate::scoring::decayed(c.points, rule.half_life_days, c.reference_at, now)
            })
            .sum())
    }
    /// Every lifecycle change, oldest first.
    async fn lifecycle_changes(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::lifecycle::LifecycleChange>> {
        crate::lifecycle::history(ctx, crate::lifecycle::Subject::Account(self.0.id)).await
    }
    /// When the account was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the account's details or lifecycle last changed (UTC); score
    /// changes do not count.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The people at this account, in the order they joined; each edge
    /// carries the membership's role.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn stakeholders(
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
    ) -> ApiResult<AccountStakeholderConnection> {
        let page = PageArgs::new(first, after, last, before)
            .page(crate::graphql::loaders::MEMBERSHIP_ORDER)?;
        let key = MembershipsOf {
            side: MembershipSide::Account,
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
        Ok(AccountStakeholderConnection {
            edges: AccountStakeholderEdge::load_all(ctx, edges).await?,
            page_info,
            total: TotalCount::new(LoaderCount(MembershipCount(
                MembershipSide::Account,
                self.0.id,
            ))),
        })
    }
    /// The account's journey through a model: the default model when none is given.
    async fn journey(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The journey model to follow; the workspace's default model when left out."
        )]
        model_id: Option<ID>,
    ) -> ApiResult<crate::progression::Journey> {
        let model = model_id
            .as_ref()
            .map(|id| ids::decode(id, NodeType::JourneyModel))
            .transpose()?;
        crate::progression::load(ctx, self.0.clone(), model).await
    }
    /// The account's touchpoints across every source, newest first.
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
        let page = PageArgs::new(first, after, last, before)
            .page(crate::touchpoints::NEWEST_FIRST_ORDER)?;
        let key = TouchpointsOf {
            owner: TouchpointOwner::Account,
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
            TouchpointOwner::Account,
            self.0.id,
        )));
        Ok(touchpoint_connection_from(
            rows,
            &page,
            crate::touchpoints::NEWEST_FIRST_ORDER,
            total,
        ))
    }
}

connection!(
    /// A page of accounts, in the order the query asked for.
    AccountConnection, AccountEdge, Account
);

/// Which accounts to list.
#[derive(InputObject, Default)]
pub struct AccountFilter {
    /// Accounts in any of these lifecycle stages.
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// Accounts owned by this employee.
    pub owner: Option<String>,
    /// Case-insensitive text in the name or a domain.
    pub search: Option<String>,
    /// Accounts changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Accounts scoring at least this much. Filters compare the stored score,
    /// which is brought up to date with decay at least daily.
    pub min_score: Option<f64>,
    /// Accounts scoring at most this much.
    pub max_score: Option<f64>,
    /// Accounts whose current stage (in that stage's model) is this one.
    pub stage_id: Option<ID>,
}

/// What accounts are sorted by.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountSortField {
    /// The account's name, as the database collates it.
    #[default]
    Name,
    /// When the account was created.
    CreatedAt,
    /// When the account's details or lifecycle last changed.
    UpdatedAt,
}

/// How accounts are sorted; ties are broken by id.
#[derive(InputObject, Default, Clone, Copy)]
pub struct AccountOrder {
    /// What to sort by.
    #[graphql(default)]
    pub field: AccountSortField,
    /// Ascending or descending.
    #[graphql(default)]
    pub direction: Direction,
}

impl AccountOrder {
    fn name(self) -> &'static str {
        match (self.field, self.direction) {
            (AccountSortField::Name, Direction::Asc) => "account.name.asc",
            (AccountSortField::Name, Direction::Desc) => "account.name.desc",
            (AccountSortField::CreatedAt, Direction::Asc) => "account.created.asc",
            (AccountSortField::CreatedAt, Direction::Desc) => "account.created.desc",
            (AccountSortField::UpdatedAt, Direction::Asc) => "account.updated.asc",
            (AccountSortField::UpdatedAt, Direction::Desc) => "account.updated.desc",
        }
    }

    fn keyset(self) -> Keyset<account::Column> {
        let key = match self.field {
            AccountSortField::Name => account::Column::Name,
            AccountSortField::CreatedAt => account::Column::CreatedAt,
            AccountSortField::UpdatedAt => account::Column::UpdatedAt,
        };
        Keyset {
            key: Some(key),
            id: account::Column::Id,
            descending: self.direction == Direction::Desc,
        }
    }

    fn cursor(self, a: &account::Model) -> Cursor {
        let key = match self.field {
            AccountSortField::Name => SortKey::Text(a.name.clone()),
            AccountSortField::CreatedAt => SortKey::Time(a.created_at),
            AccountSortField::UpdatedAt => SortKey::Time(a.updated_at),
        };
        Cursor::new(self.name(), key, a.id)
    }
}

/// `LIKE` pattern for a case-insensitive substring search.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn filter_condition(workspace: Uuid, filter: &AccountFilter) -> ApiResult<Condition> {
    let mut cond = Condition::all().add(account::Column::WorkspaceId.eq(workspace));
    if let Some(lifecycles) = &filter.lifecycle {
        let values: Vec<entity::vocab::Lifecycle> = lifecycles.iter().map(|&l| l.into()).collect();
        cond = cond.add(account::Column::Lifecycle.is_in(values));
    }
    if let Some(owner) = &filter.owner {
        cond = cond.add(account::Column::Owner.eq(owner.trim()));
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.trim().is_empty()) {
        if text.len() > 200 {
            return Err(ApiError::bad_input(
                "`search` must be at most 200 characters",
            ));
        }
        let pattern = like_pattern(text);
        let in_domain = Query::select()
            .column(account_domain::Column::AccountId)
            .from(account_domain::Entity)
            .and_where(account_domain::Column::WorkspaceId.eq(workspace))
            .and_where(
                Expr::col(account_domain::Column::Domain)
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
            )
            .to_owned();
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                        account::Column::Name,
                    )))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
                )
                .add(account::Column::Id.in_subquery(in_domain)),
        );
    }
    if let Some(since) = filter.updated_since {
        cond = cond.add(account::Column::UpdatedAt.gte(time::to_micros(since)));
    }
    if let Some(min) = filter.min_score {
        cond = cond.add(account::Column::Score.gte(min));
    }
    if let Some(max) = filter.max_score {
        cond = cond.add(account::Column::Score.lte(max));
    }
    if let Some(stage) = &filter.stage_id {
        let stage = ids::decode(stage, NodeType::Stage)?;
        let in_stage = Query::select()
            .column(stage_position::Column::AccountId)
            .from(stage_position::Entity)
            .and_where(stage_position::Column::WorkspaceId.eq(workspace))
            .and_where(stage_position::Column::StageId.eq(stage))
            .to_owned();
        cond = cond.add(account::Column::Id.in_subquery(in_stage));
    }
    Ok(cond)
}

/// Loads an account of the caller's workspace for a nested field.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Account>> {
    let found = request(ctx)
        .loader
        .load_one(AccountById(id))
        .await
        .map_err(load_error)?;
    Ok(found.map(Account))
}

/// Finds an account of `workspace` by id, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
) -> ApiResult<account::Model> {
    account::Entity::find_by_id(id)
        .filter(account::Column::WorkspaceId.eq(workspace))
        .one(db)
        .await?
        .ok_or(ApiError::not_found("account"))
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The workspace's accounts, by name unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which accounts to list; every account when left out.")] filter: Option<
            AccountFilter,
        >,
        #[graphql(desc = "The order; by name, ascending, when left out.")] order_by: Option<
            AccountOrder,
        >,
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
    ) -> ApiResult<AccountConnection> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Read)?;
        let order = order_by.unwrap_or_default();
        let page = PageArgs::new(first, after, last, before).page(order.name())?;
        let keyset = order.keyset();
        let base = account::Entity::find().filter(filter_condition(
            principal.workspace_id,
            &filter.unwrap_or_default(),
        )?);
        let rows = keyset
            .fetch(&rc.db, base.clone(), &page)
            .await
            .map_err(ApiError::from)?;
        let (edges, page_info) = edges(rows, &page, |a| order.cursor(a), Account);
        Ok(AccountConnection::new(
            edges,
            page_info,
            TotalCount::new(SelectCount(base)),
        ))
    }

    /// One account; NOT_FOUND when it is not in the token's workspace.
    async fn account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's global id.")] id: ID,
    ) -> ApiResult<Option<Account>> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Read)?;
        let id = ids::decode(&id, NodeType::Account)?;
        Ok(Some(Account(
            find(&rc.db, principal.workspace_id, id).await?,
        )))
    }
}

/// A new account.
#[derive(InputObject)]
pub struct CreateAccountInput {
    /// The organisation's name, 1 to 200 characters once trimmed.
    pub name: String,
    /// Up to 50 web domains, normalised (lower case, no scheme, path or
    /// `www.`); each may belong to one account only.
    #[graphql(default)]
    pub domains: Vec<String>,
    /// The industry, as free text.
    pub industry: Option<String>,
    /// Number of employees; not negative.
    pub employees: Option<i32>,
    /// The starting lifecycle, recorded as the account's first lifecycle change.
    #[graphql(default_with = "Lifecycle::Visitor")]
    pub lifecycle: Lifecycle,
    /// The employee who owns the account.
    pub owner: Option<String>,
}

/// Changes to an account; absent fields stay as they are, `null` clears.
#[derive(InputObject)]
pub struct UpdateAccountInput {
    /// The account to change.
    pub id: ID,
    /// A new name, 1 to 200 characters once trimmed.
    pub name: Option<String>,
    /// Replaces the account's domains.
    pub domains: Option<Vec<String>>,
    /// A new industry, or `null` to clear it.
    pub industry: MaybeUndefined<String>,
    /// A new number of employees (not negative), or `null` to clear it.
    pub employees: MaybeUndefined<i32>,
    /// A new lifecycle, recorded as a change made by hand by the token's subject.
    pub lifecycle: Option<Lifecycle>,
    /// A new owning employee, or `null` to clear it.
    pub owner: MaybeUndefined<String>,
}

/// The account to delete.
#[derive(InputObject)]
pub struct DeleteAccountInput {
    /// The account's global id.
    pub id: ID,
}

/// The account after a create or update.
#[derive(SimpleObject)]
pub struct AccountPayload {
    /// The account as saved.
    pub account: Account,
}

/// What `deleteAccount` removed.
#[derive(SimpleObject)]
pub struct DeleteAccountPayload {
    /// The id of the deleted account.
    pub deleted_id: ID,
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_input("`name` must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

fn check_employees(n: i32) -> ApiResult<i32> {
    if n < 0 {
        return Err(ApiError::bad_input("`employees` must not be negative"));
    }
    Ok(n)
}

fn check_domains(domains: &[String]) -> ApiResult<Vec<String>> {
    if domains.len() > 50 {
        return Err(ApiError::bad_input("an account has at most 50 domains"));
    }
    let mut out: Vec<String> = domains
        .iter()
        .map(|d| normalise_domain(d))
        .collect::<ApiResult<_>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Replaces the domains of an account; CONFLICT when another account has one.
async fn set_domains(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account_id: Uuid,
    domains: &[String],
) -> ApiResult<()> {
    if !domains.is_empty() {
        let taken = account_domain::Entity::find()
            .filter(account_domain::Column::WorkspaceId.eq(workspace))
            .filter(account_domain::Column::Domain.is_in(domains.to_vec()))
            .filter(account_domain::Column::AccountId.ne(account_id))
            .one(txn)
            .await?;
        if let Some(taken) = taken {
            return Err(ApiError::Conflict(format!(
                "the domain `{}` already belongs to another account",
                taken.domain
            )));
        }
    }
    account_domain::Entity::delete_many()
        .filter(account_domain::Column::AccountId.eq(account_id))
        .exec(txn)
        .await?;
    if !domains.is_empty() {
        let rows = domains.iter().map(|d| account_domain::ActiveModel {
            id: Set(entity::new_id()),
            workspace_id: Set(workspace),
            account_id: Set(account_id),
            domain: Set(d.clone()),
        });
        account_domain::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

/// Creates an account in `workspace`; the demo loader and the API share it.
pub async fn create(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    input: CreateAccountInput,
) -> ApiResult<account::Model> {
    let name = check_name(&input.name)?;
    let domains = check_domains(&input.domains)?;
    let employees = input.employees.map(check_employees).transpose()?;
    let now = time::now();
    let model = account::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(workspace),
        name: Set(name),
        industry: Set(input
            .industry
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())),
        employees: Set(employees),
        lifecycle: Set(input.lifecycle.into()),
        owner: Set(input
            .owner
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())),
        score: Set(0.0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    set_domains(txn, workspace, model.id, &domains).await?;
    let change = Change {
        from: None,
        to: model.lifecycle,
        at: now,
        cause: "created",
        actor: None,
        touchpoint: None,
    };
    lifecycle::record(txn, workspace, Subject::Account(model.id), change).await?;
    Ok(model)
}

/// The account called `name` (ignoring case), created as a visitor when there
/// is none: how a connector's organisation name becomes an account.
pub async fn find_or_create_named(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    name: &str,
) -> ApiResult<Uuid> {
    let existing = account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(workspace))
        .filter(Expr::expr(Func::lower(Expr::col(account::Column::Name))).eq(name.to_lowercase()))
        .order_by_asc(account::Column::Id)
        .one(txn)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing.id);
    }
    let input = CreateAccountInput {
        name: name.to_owned(),
        domains: Vec::new(),
        industry: None,
        employees: None,
        lifecycle: Lifecycle::Visitor,
        owner: None,
    };
    Ok(create(txn, workspace, input).await?.id)
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account. CONFLICT when a domain belongs to another account.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's fields.")] input: CreateAccountInput,
    ) -> ApiResult<AccountPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Write)?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let account = create(&txn, principal.workspace_id, input).await?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(AccountPayload {
            account: Account(account),
        })
    }

    /// Changes an account's fields.
    async fn update_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account and the fields to change.")] input: UpdateAccountInput,
    ) -> ApiResult<AccountPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Write)?;
        let id = ids::decode(&input.id, NodeType::Account)?;
        let name = input.name.as_deref().map(check_name).transpose()?;
        let domains = input.domains.as_deref().map(check_domains).transpose()?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let current = find(&txn, principal.workspace_id, id).await?;
        let before = current.lifecycle;
        let mut model: account::ActiveModel = current.into();
        if let Some(name) = name {
            model.name = Set(name);
        }
        patch(&mut model.industry, input.industry, |v| {
            Ok(Some(v.trim().to_owned()))
        })?;
        patch(&mut model.employees, input.employees, |v| {
            check_employees(v).map(Some)
        })?;
        if let Some(lifecycle) = input.lifecycle.map(Into::into).filter(|l| *l != before) {
            model.lifecycle = Set(lifecycle);
            let change = Change {
                from: Some(before),
                to: lifecycle,
                at: time::now(),
                cause: "set by hand",
                actor: Some(&principal.subject),
                touchpoint: None,
            };
            lifecycle::record(&txn, principal.workspace_id, Subject::Account(id), change).await?;
        }
        patch(&mut model.owner, input.owner, |v| {
            Ok(Some(v.trim().to_owned()))
        })?;
        model.updated_at = Set(time::now());
        let updated = model.update(&txn).await.map_err(ApiError::from)?;
        if let Some(domains) = domains {
            set_domains(&txn, principal.workspace_id, id, &domains).await?;
        }
        txn.commit().await.map_err(ApiError::from)?;
        Ok(AccountPayload {
            account: Account(updated),
        })
    }

    /// Deletes an account with its domains and memberships; its touchpoints stay,
    /// detached, with their people.
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account to delete.")] input: DeleteAccountInput,
    ) -> ApiResult<DeleteAccountPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Write)?;
        let id = ids::decode(&input.id, NodeType::Account)?;
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        find(&txn, principal.workspace_id, id).await?;
        account::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(DeleteAccountPayload {
            deleted_id: input.id,
        })
    }
}
