//! Accounts: customer and prospect organisations, with their domains.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::account;
use journeys_core::db;
use journeys_core::people::accounts;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::{CountBy, edges, load_error, nested_total, total_asked};
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::{
    AccountById, DomainsOf, MembershipCount, MembershipSide, StakeholdersOf, TouchpointCount,
    TouchpointOwner, TouchpointsOf,
};
use crate::graphql::pagination::{Cursor, PageArgs, TotalCount, connection};
use crate::graphql::patch::to_patch;
use crate::memberships::{AccountStakeholderConnection, AccountStakeholderEdge};
use crate::touchpoints::{TouchpointConnection, touchpoint_connection_from};
use crate::vocab::{Direction, DmuRole, Lifecycle};

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
    /// The account's score today: what happened with this account. Each
    /// member's points for touchpoints recorded on it, and for their
    /// account-less touchpoints when it is their primary account, decayed to
    /// today; `scoreBreakdown` gives the parts.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<f64> {
        crate::scoring::account_score(ctx, self.0.id).await
    }
    /// The parts of `score`: each member's share through each rule, decayed
    /// to today, members in a stable order and rules by name.
    async fn score_breakdown(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::scoring::AccountScoreContribution>> {
        crate::scoring::account_breakdown(ctx, self.0.id).await
    }
    /// Every lifecycle change, in the order recorded: each one's `from` is the
    /// `to` before it, and the last one's `to` is `lifecycle`.
    async fn lifecycle_changes(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::lifecycle::LifecycleChange>> {
        crate::lifecycle::history(ctx, journeys_core::lifecycle::Subject::Account(self.0.id)).await
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
        let key = StakeholdersOf {
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
        Ok(AccountStakeholderConnection {
            edges: AccountStakeholderEdge::all(edges),
            page_info,
            total: nested_total(
                listed.total,
                MembershipCount(MembershipSide::Account, self.0.id),
            ),
        })
    }
    /// The account's decision-making unit: who holds each role the
    /// workspace's deals need, who of them was in touch within the window,
    /// and which needed roles are missing or cold.
    async fn dmu(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The window's start, inclusive; 90 days before `to` when left out."
        )]
        from: Option<DateTime<Utc>>,
        #[graphql(desc = "The window's end, exclusive; now when left out.")] to: Option<
            DateTime<Utc>,
        >,
    ) -> ApiResult<crate::dmu::AccountDmu> {
        crate::dmu::load(ctx, self.0.id, from, to).await
    }
    /// What the account should get now, most urgent first: each step with
    /// its reason, its priority and the team to take it. Read from its stages'
    /// playbooks, its decision-making unit (the 90 days up to now), its
    /// hand-off to sales, its support tickets, its newest NPS answer and how
    /// long it has been quiet.
    async fn next_steps(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::guidance::NextStep>> {
        let guidance = crate::guidance::load(ctx, self.0.id).await?;
        Ok(guidance
            .map(|g| crate::guidance::NextStep::all(&g))
            .unwrap_or_default())
    }
    /// A sales brief in one selection: where the account is in each model,
    /// its score and what makes it, its buying group, its latest touches,
    /// open support tickets, newest NPS answer and next steps.
    async fn brief(&self) -> crate::guidance::AccountBrief {
        crate::guidance::AccountBrief(self.0.clone())
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
        touchpoints_of(ctx, self.0.id, PageArgs::new(first, after, last, before)).await
    }
}

/// A page of an account's touchpoints, newest first, through the request's
/// loader.
pub async fn touchpoints_of(
    ctx: &Context<'_>,
    account: Uuid,
    args: PageArgs,
) -> ApiResult<TouchpointConnection> {
    let page = args.page(crate::touchpoints::NEWEST_FIRST_ORDER)?;
    let key = TouchpointsOf {
        owner: TouchpointOwner::Account,
        parent: account,
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
        TouchpointCount(TouchpointOwner::Account, account),
    );
    Ok(touchpoint_connection_from(
        listed.rows,
        &page,
        crate::touchpoints::NEWEST_FIRST_ORDER,
        total,
    ))
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
    /// Accounts where nobody holds this decision-making-unit role.
    pub missing_role: Option<DmuRole>,
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

    fn core(self) -> accounts::AccountOrder {
        accounts::AccountOrder {
            sort: match self.field {
                AccountSortField::Name => accounts::AccountSort::Name,
                AccountSortField::CreatedAt => accounts::AccountSort::CreatedAt,
                AccountSortField::UpdatedAt => accounts::AccountSort::UpdatedAt,
            },
            descending: self.direction == Direction::Desc,
        }
    }

    fn cursor(self, a: &account::Model) -> Cursor {
        Cursor::at(self.name(), self.core().position(a))
    }
}

impl AccountFilter {
    fn core(self) -> ApiResult<accounts::AccountFilter> {
        Ok(accounts::AccountFilter {
            lifecycle: self
                .lifecycle
                .map(|ls| ls.into_iter().map(Into::into).collect()),
            owner: self.owner,
            search: self.search,
            updated_since: self.updated_since,
            min_score: self.min_score,
            max_score: self.max_score,
            stage: self
                .stage_id
                .map(|id| ids::decode(&id, NodeType::Stage))
                .transpose()?,
            missing_role: self.missing_role.map(Into::into),
        })
    }
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

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The workspace's accounts, by name unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
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
        let ws = principal.workspace_id;
        let order = order_by.unwrap_or_default();
        let page = PageArgs::new(first, after, last, before).page(order.name())?;
        let filter = filter.unwrap_or_default().core()?;
        let rows = accounts::list(&rc.db, ws, &filter, order.core(), &page).await?;
        let (edges, page_info) = edges(rows, &page, |a| order.cursor(a), Account);
        let total = CountBy(move |db| {
            let filter = filter.clone();
            async move { accounts::count(&db, ws, &filter).await }
        });
        Ok(AccountConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
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
            accounts::find(&rc.db, principal.workspace_id, id).await?,
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

impl From<CreateAccountInput> for accounts::NewAccount {
    fn from(input: CreateAccountInput) -> Self {
        Self {
            name: input.name,
            domains: input.domains,
            industry: input.industry,
            employees: input.employees,
            lifecycle: input.lifecycle.into(),
            owner: input.owner,
        }
    }
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
        let txn = db::begin_write(&rc.db).await?;
        let account = accounts::create(&txn, principal.workspace_id, input.into()).await?;
        db::commit(txn).await?;
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
        let changes = accounts::AccountChanges {
            name: input.name,
            domains: input.domains,
            industry: to_patch(input.industry),
            employees: to_patch(input.employees),
            lifecycle: input.lifecycle.map(Into::into),
            owner: to_patch(input.owner),
        };
        let txn = db::begin_write(&rc.db).await?;
        let updated = accounts::update(
            &txn,
            principal.workspace_id,
            id,
            changes,
            &principal.subject,
        )
        .await?;
        db::commit(txn).await?;
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
        let txn = db::begin_write(&rc.db).await?;
        accounts::delete(&txn, principal.workspace_id, id).await?;
        db::commit(txn).await?;
        Ok(DeleteAccountPayload {
            deleted_id: input.id,
        })
    }
}
