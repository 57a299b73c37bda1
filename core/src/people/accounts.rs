//! Accounts: customer and prospect organisations, with their domains.

use chrono::{DateTime, Utc};
use entity::vocab::{DmuRole, Lifecycle};
use entity::{account, account_domain, membership, stage_position};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::required_text;
use crate::lifecycle::{self, Change, Subject};
use crate::page::{Keyset, Page, Position, SortKey};
use crate::patch::Patch;
use crate::people::identities::normalise_domain;
use crate::{CoreError, CoreResult, scoring, time};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employees: Option<i32>,
    /// Recorded as the account's first lifecycle change.
    pub lifecycle: Lifecycle,
    pub owner: Option<String>,
}

impl NewAccount {
    /// A visitor account with a name and nothing else.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            domains: Vec::new(),
            industry: None,
            employees: None,
            lifecycle: Lifecycle::Visitor,
            owner: None,
        }
    }
}

/// Changes to an account; `None` and `Patch::Keep` leave a field alone.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    /// Replaces the account's domains.
    pub domains: Option<Vec<String>>,
    pub industry: Patch<String>,
    pub employees: Patch<i32>,
    /// Recorded as a change made by hand by the actor.
    pub lifecycle: Option<Lifecycle>,
    pub owner: Patch<String>,
}

/// Which accounts to list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub lifecycle: Option<Vec<Lifecycle>>,
    pub owner: Option<String>,
    /// Case-insensitive text in the name or a domain.
    pub search: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Compared with the stored score, kept up to date with decay at least daily.
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// Accounts whose current stage (in that stage's model) is this one.
    pub stage: Option<Uuid>,
    /// Accounts where nobody holds this decision-making-unit role.
    pub missing_role: Option<DmuRole>,
}

/// What accounts are sorted by; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountSort {
    #[default]
    Name,
    CreatedAt,
    UpdatedAt,
}

/// An ordering of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountOrder {
    pub sort: AccountSort,
    pub descending: bool,
}

impl AccountOrder {
    pub fn keyset(self) -> Keyset<account::Column> {
        let key = match self.sort {
            AccountSort::Name => account::Column::Name,
            AccountSort::CreatedAt => account::Column::CreatedAt,
            AccountSort::UpdatedAt => account::Column::UpdatedAt,
        };
        Keyset {
            key: Some(key),
            id: account::Column::Id,
            descending: self.descending,
        }
    }

    /// Where `a` stands in this ordering.
    pub fn position(self, a: &account::Model) -> Position {
        let key = match self.sort {
            AccountSort::Name => SortKey::Text(a.name.clone()),
            AccountSort::CreatedAt => SortKey::Time(a.created_at),
            AccountSort::UpdatedAt => SortKey::Time(a.updated_at),
        };
        Position { key, id: a.id }
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

/// A case-insensitive `LIKE` on `pattern`, escaped as `like_pattern` escapes.
pub fn like(pattern: String) -> LikeExpr {
    LikeExpr::new(pattern).escape('\\')
}

fn filter_condition(workspace: Uuid, filter: &AccountFilter) -> CoreResult<Condition> {
    let mut cond = Condition::all().add(account::Column::WorkspaceId.eq(workspace));
    if let Some(lifecycles) = &filter.lifecycle {
        cond = cond.add(account::Column::Lifecycle.is_in(lifecycles.clone()));
    }
    if let Some(owner) = &filter.owner {
        cond = cond.add(account::Column::Owner.eq(owner.trim()));
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.trim().is_empty()) {
        if text.len() > 200 {
            return Err(CoreError::invalid_field(
                "search",
                "`search` must be at most 200 characters",
            ));
        }
        let pattern = like_pattern(text);
        let in_domain = Query::select()
            .column(account_domain::Column::AccountId)
            .from(account_domain::Entity)
            .and_where(account_domain::Column::WorkspaceId.eq(workspace))
            .and_where(Expr::col(account_domain::Column::Domain).like(like(pattern.clone())))
            .to_owned();
        cond = cond.add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(account::Column::Name))).like(like(pattern)))
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
    if let Some(stage) = filter.stage {
        let in_stage = Query::select()
            .column(stage_position::Column::AccountId)
            .from(stage_position::Entity)
            .and_where(stage_position::Column::WorkspaceId.eq(workspace))
            .and_where(stage_position::Column::StageId.eq(stage))
            .to_owned();
        cond = cond.add(account::Column::Id.in_subquery(in_stage));
    }
    if let Some(role) = filter.missing_role {
        let holding = Query::select()
            .column(membership::Column::AccountId)
            .from(membership::Entity)
            .and_where(membership::Column::WorkspaceId.eq(workspace))
            .and_where(membership::Column::Role.eq(role))
            .to_owned();
        cond = cond.add(account::Column::Id.not_in_subquery(holding));
    }
    Ok(cond)
}

/// A page of the workspace's accounts (one row more than the page, to tell
/// whether more follow; see `page::finish`).
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &AccountFilter,
    order: AccountOrder,
    page: &Page,
) -> CoreResult<Vec<account::Model>> {
    let base = account::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(order.keyset().fetch(db, base, page).await?)
}

/// How many accounts `filter` lets through.
pub async fn count(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &AccountFilter,
) -> CoreResult<u64> {
    let base = account::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(base.count(db).await?)
}

/// Finds an account of `workspace` by id, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
) -> CoreResult<account::Model> {
    account::Entity::find_by_id(id)
        .filter(account::Column::WorkspaceId.eq(workspace))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("account"))
}

pub(crate) fn check_name(name: &str) -> CoreResult<String> {
    required_text("name", name, 200)
}

fn check_employees(n: i32) -> CoreResult<i32> {
    if n < 0 {
        return Err(CoreError::invalid_field(
            "employees",
            "`employees` must not be negative",
        ));
    }
    Ok(n)
}

fn check_domains(domains: &[String]) -> CoreResult<Vec<String>> {
    if domains.len() > 50 {
        return Err(CoreError::invalid_field(
            "domains",
            "an account has at most 50 domains",
        ));
    }
    let mut out: Vec<String> = domains
        .iter()
        .map(|d| normalise_domain(d))
        .collect::<CoreResult<_>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Trimmed free text, `None` when empty.
fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Replaces the domains of an account; CONFLICT when another account has one.
async fn set_domains(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account_id: Uuid,
    domains: &[String],
) -> CoreResult<()> {
    if !domains.is_empty() {
        let taken = account_domain::Entity::find()
            .filter(account_domain::Column::WorkspaceId.eq(workspace))
            .filter(account_domain::Column::Domain.is_in(domains.to_vec()))
            .filter(account_domain::Column::AccountId.ne(account_id))
            .one(txn)
            .await?;
        if let Some(taken) = taken {
            return Err(CoreError::Conflict(format!(
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

/// Creates an account in `workspace`, its first lifecycle change recorded.
pub async fn create(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    input: NewAccount,
) -> CoreResult<account::Model> {
    create_at(txn, workspace, input, time::now()).await
}

/// [`create`], as of `at`: an account imported with its history (the demo's).
pub async fn create_at(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    input: NewAccount,
    at: chrono::DateTime<chrono::Utc>,
) -> CoreResult<account::Model> {
    let name = check_name(&input.name)?;
    let domains = check_domains(&input.domains)?;
    let employees = input.employees.map(check_employees).transpose()?;
    let now = time::to_micros(at);
    let model = account::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(workspace),
        name: Set(name),
        industry: Set(trimmed(input.industry)),
        employees: Set(employees),
        lifecycle: Set(input.lifecycle),
        owner: Set(trimmed(input.owner)),
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
) -> CoreResult<Uuid> {
    let existing = account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(workspace))
        .filter(Expr::expr(Func::lower(Expr::col(account::Column::Name))).eq(name.to_lowercase()))
        .order_by_asc(account::Column::Id)
        .one(txn)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing.id);
    }
    Ok(create(txn, workspace, NewAccount::named(name)).await?.id)
}

/// Changes an account's fields; a new lifecycle is recorded as set by hand
/// by `actor`.
pub async fn update(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
    changes: AccountChanges,
    actor: &str,
) -> CoreResult<account::Model> {
    let name = changes.name.as_deref().map(check_name).transpose()?;
    let domains = changes.domains.as_deref().map(check_domains).transpose()?;
    let current = find(txn, workspace, id).await?;
    let before = current.lifecycle;
    let mut model: account::ActiveModel = current.into();
    if let Some(name) = name {
        model.name = Set(name);
    }
    changes
        .industry
        .apply(&mut model.industry, |v| Ok(Some(v.trim().to_owned())))?;
    changes
        .employees
        .apply(&mut model.employees, |v| check_employees(v).map(Some))?;
    if let Some(lifecycle) = changes.lifecycle.filter(|l| *l != before) {
        model.lifecycle = Set(lifecycle);
        let change = Change {
            from: Some(before),
            to: lifecycle,
            at: time::now(),
            cause: "set by hand",
            actor: Some(actor),
            touchpoint: None,
        };
        lifecycle::record(txn, workspace, Subject::Account(id), change).await?;
    }
    changes
        .owner
        .apply(&mut model.owner, |v| Ok(Some(v.trim().to_owned())))?;
    model.updated_at = Set(time::now());
    let updated = model.update(txn).await?;
    if let Some(domains) = domains {
        set_domains(txn, workspace, id, &domains).await?;
    }
    Ok(updated)
}

/// Deletes an account with its domains and memberships; its touchpoints stay,
/// detached, with their people. Their contributions are detached with them,
/// so they now count for those people's primary accounts, whose stored
/// scores follow.
pub async fn delete(txn: &impl ConnectionTrait, workspace: Uuid, id: Uuid) -> CoreResult<()> {
    find(txn, workspace, id).await?;
    let primaries = scoring::primaries_of_contributors(txn, workspace, id).await?;
    account::Entity::delete_by_id(id).exec(txn).await?;
    scoring::memberships_changed(txn, workspace, None, &primaries).await
}
