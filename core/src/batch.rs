//! Reads for many parents at once, behind the API's DataLoaders: a page of
//! parents costs a fixed number of statements whatever its size.
//!
//! Every read is confined to one workspace. Nested lists load "the first N
//! children of each parent" with one statement per distinct page that reads
//! at most N + 1 rows per parent through the parent's index, with each
//! parent's count in the same statement when it is asked for.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    account, account_domain, connector, consent, event, identity, journey_model, lifecycle_change,
    lifecycle_rule, membership, merge, score_contribution, scoring_rule, stage, stage_transition,
    stakeholder, sync_run, touchpoint, webhook_delivery, webhook_endpoint,
};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, Select,
};
use uuid::Uuid;

use crate::CoreResult;
use crate::page::{Keyset, Page};

/// Whether a nested read also counts each parent's whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Total {
    /// The page only.
    Skip,
    /// The page and, in the same statement, how many rows each parent has.
    Count,
}

/// One parent's page of children (up to one more than the page holds, in
/// fetch order) and, when asked, how many children it has in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub total: Option<u64>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            total: None,
        }
    }
}

/// A nested list: the children of `E` whose `group` is a parent's id.
struct Nested<'a, E: EntityTrait> {
    workspace: E::Column,
    group: E::Column,
    keyset: Keyset<E::Column>,
    page: &'a Page,
    total: Total,
}

/// The alias of the parents' ids (`VALUES`, its one column `column1` on
/// both backends), of a page's rows, and of each parent's count.
const PARENTS: &str = "p";
const PAGE: &str = "r";
const COUNTS: &str = "c";

fn parent_id() -> Expr {
    Expr::col((Alias::new(PARENTS), Alias::new("column1")))
}

/// Selects every column of `E` in `table` as `<prefix><column>`, to be read
/// back with `FromQueryResult::from_query_result(row, prefix)`.
fn select_prefixed<E: EntityTrait>(stmt: &mut SelectStatement, table: &str, prefix: &str) {
    for col in E::Column::iter() {
        stmt.expr_as(
            Expr::col((Alias::new(table), col)),
            Alias::new(format!("{prefix}{}", col.as_str())),
        );
    }
}

/// One statement for the first `page.size + 1` children of each parent, each
/// parent's read bounded by the index on `(workspace, group, key, id)`: at
/// most that many rows per parent, never every child and a window over them.
/// PostgreSQL runs a `LATERAL … LIMIT` per parent; SQLite, which has no
/// `LATERAL`, joins the rows whose ids a correlated `… LIMIT` subquery picks.
/// With [`Total::Count`], each parent's count comes from the same index
/// (grouped, index-only). The page's columns are `r_<column>`; the parent is
/// `parent`, the count `total`. Rows come in fetch order per parent.
fn nested_statement<E: EntityTrait>(
    backend: DbBackend,
    ws: Uuid,
    parents: &[Uuid],
    nested: &Nested<'_, E>,
) -> SelectStatement {
    let mut children = Query::select();
    children
        .from(E::default())
        .and_where(Expr::col(nested.workspace).eq(ws))
        .and_where(Expr::col(nested.group).eq(parent_id()))
        .cond_where(nested.keyset.condition(nested.page))
        .limit(nested.page.size + 1);
    let order = nested.keyset.fetch_order(nested.page);
    for (col, dir) in &order {
        children.order_by(*col, dir.clone());
    }
    let mut stmt = Query::select();
    stmt.expr_as(parent_id(), Alias::new("parent"))
        .from_values(parents.iter().copied(), Alias::new(PARENTS));
    select_prefixed::<E>(&mut stmt, PAGE, "r_");
    if nested.total == Total::Count {
        let mut counts = Query::select();
        counts
            .expr_as(Expr::col(nested.group), Alias::new("parent"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("total"))
            .from(E::default())
            .and_where(Expr::col(nested.workspace).eq(ws))
            .and_where(Expr::col(nested.group).is_in(parents.iter().copied()))
            .group_by_col(nested.group);
        stmt.expr_as(
            Expr::col((Alias::new(COUNTS), Alias::new("total"))),
            Alias::new("total"),
        )
        .join_subquery(
            JoinType::LeftJoin,
            counts,
            Alias::new(COUNTS),
            Expr::col((Alias::new(COUNTS), Alias::new("parent"))).eq(parent_id()),
        );
    }
    if backend == DbBackend::Postgres {
        children.column(Asterisk);
        stmt.join_lateral(
            JoinType::LeftJoin,
            children,
            Alias::new(PAGE),
            Expr::cust("TRUE"),
        );
    } else {
        children.column(nested.keyset.id);
        stmt.join_as(
            JoinType::LeftJoin,
            E::default(),
            Alias::new(PAGE),
            Expr::col((Alias::new(PAGE), nested.keyset.id)).in_subquery(children),
        );
    }
    stmt.order_by_expr(parent_id(), Order::Asc);
    for (col, dir) in order {
        stmt.order_by((Alias::new(PAGE), col), dir);
    }
    stmt
}

/// Runs a [`nested_statement`] and groups its rows by parent; `child` reads
/// a row's child, `None` for a parent with no row on its page. Every parent
/// asked for has an entry.
async fn nested_pages<T>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
    parents: &[Uuid],
    total: Total,
    child: impl Fn(&QueryResult) -> CoreResult<Option<T>>,
) -> CoreResult<HashMap<Uuid, Listed<T>>> {
    let mut out: HashMap<Uuid, Listed<T>> =
        parents.iter().map(|p| (*p, Listed::default())).collect();
    for row in db.query_all(stmt).await? {
        let parent: Uuid = row.try_get("", "parent")?;
        let listed = out.entry(parent).or_default();
        if total == Total::Count {
            let n: Option<i64> = row.try_get("", "total")?;
            listed.total = Some(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)));
        }
        if let Some(child) = child(&row)? {
            listed.rows.push(child);
        }
    }
    Ok(out)
}

/// The model of `E` a row holds under `prefix`, `None` when the row has none
/// (a `LEFT JOIN` that found nothing).
fn prefixed<E: EntityTrait>(row: &QueryResult, prefix: &str) -> CoreResult<Option<E::Model>>
where
    E::Model: FromQueryResult,
{
    let id: Option<Uuid> = row.try_get(prefix, "id")?;
    Ok(match id {
        Some(_) => Some(E::Model::from_query_result(row, prefix)?),
        None => None,
    })
}

/// How many rows of `base` each group has.
async fn count_by<E: EntityTrait>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    group: E::Column,
) -> CoreResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Uuid, i64)> = base
        .select_only()
        .column(group)
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .group_by(group)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Groups rows by a key, keeping their order.
fn grouped<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

macro_rules! by_ids {
    ($(#[$doc:meta])* $name:ident, $entity:ident) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            ws: Uuid,
            ids: &[Uuid],
        ) -> CoreResult<Vec<$entity::Model>> {
            Ok($entity::Entity::find()
                .filter($entity::Column::WorkspaceId.eq(ws))
                .filter($entity::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?)
        }
    };
}

by_ids!(
    /// Accounts by id.
    accounts, account
);
by_ids!(
    /// Stakeholders by id.
    stakeholders, stakeholder
);
by_ids!(
    /// Touchpoints by id.
    touchpoints, touchpoint
);
by_ids!(
    /// Journey models by id.
    journey_models, journey_model
);
by_ids!(
    /// Stages by id.
    stages, stage
);
by_ids!(
    /// Identities by id.
    identities, identity
);
by_ids!(
    /// Scoring rules by id.
    scoring_rules, scoring_rule
);
by_ids!(
    /// Lifecycle rules by id.
    lifecycle_rules, lifecycle_rule
);
by_ids!(
    /// Merge ledger entries by id.
    merges, merge
);
by_ids!(
    /// Connectors by id.
    connectors, connector
);
by_ids!(
    /// Sync runs by id.
    sync_runs, sync_run
);
by_ids!(
    /// Lifecycle changes by id.
    lifecycle_changes, lifecycle_change
);
by_ids!(
    /// Events of the log by id.
    events, event
);
by_ids!(
    /// Webhook endpoints by id.
    webhook_endpoints, webhook_endpoint
);
by_ids!(
    /// Webhook delivery attempts by id.
    webhook_deliveries, webhook_delivery
);

/// The workspace's default journey model.
pub async fn default_model(
    db: &impl ConnectionTrait,
    ws: Uuid,
) -> CoreResult<Option<journey_model::Model>> {
    Ok(journey_model::Entity::find()
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .filter(journey_model::Column::IsDefault.eq(true))
        .order_by_asc(journey_model::Column::Id)
        .one(db)
        .await?)
}

/// Each stakeholder's stored score contributions (one per rule and account)
/// with their rules, by rule name.
pub async fn contributions_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    people: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<(score_contribution::Model, scoring_rule::Model)>>> {
    let rows = score_contribution::Entity::find()
        .filter(score_contribution::Column::WorkspaceId.eq(ws))
        .filter(score_contribution::Column::StakeholderId.is_in(people.iter().copied()))
        .all(db)
        .await?;
    let rules: HashMap<Uuid, scoring_rule::Model> = scoring_rule::Entity::find()
        .filter(scoring_rule::Column::WorkspaceId.eq(ws))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut out: HashMap<Uuid, Vec<_>> = HashMap::new();
    for c in rows {
        if let Some(rule) = rules.get(&c.rule_id) {
            out.entry(c.stakeholder_id)
                .or_default()
                .push((c, rule.clone()));
        }
    }
    for parts in out.values_mut() {
        parts.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    }
    Ok(out)
}

/// Each account's stakeholders (every membership, unpaged), each with whether
/// it is their primary account, for roll-ups.
pub async fn members_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<(Uuid, bool)>>> {
    let rows: Vec<(Uuid, Uuid, bool)> = membership::Entity::find()
        .select_only()
        .columns([
            membership::Column::AccountId,
            membership::Column::StakeholderId,
            membership::Column::Primary,
        ])
        .filter(membership::Column::WorkspaceId.eq(ws))
        .filter(membership::Column::AccountId.is_in(accounts.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<(Uuid, bool)>> = HashMap::new();
    for (account, person, primary) in rows {
        out.entry(account).or_default().push((person, primary));
    }
    Ok(out)
}

/// Each stakeholder's consents, newest first.
pub async fn consents_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    people: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<consent::Model>>> {
    let rows = consent::Entity::find()
        .filter(consent::Column::WorkspaceId.eq(ws))
        .filter(consent::Column::StakeholderId.is_in(people.iter().copied()))
        .order_by_desc(consent::Column::RecordedAt)
        .order_by_desc(consent::Column::Id)
        .all(db)
        .await?;
    Ok(grouped(rows, |c| c.stakeholder_id))
}

/// The moves of accounts through models, oldest first, by `(account, model)`;
/// every pair asked for has an entry.
pub async fn transitions_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    paths: &[(Uuid, Uuid)],
) -> CoreResult<HashMap<(Uuid, Uuid), Vec<stage_transition::Model>>> {
    let rows = stage_transition::Entity::find()
        .filter(stage_transition::Column::WorkspaceId.eq(ws))
        .filter(stage_transition::Column::AccountId.is_in(paths.iter().map(|p| p.0)))
        .filter(stage_transition::Column::ModelId.is_in(paths.iter().map(|p| p.1)))
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<(Uuid, Uuid), Vec<_>> = paths.iter().map(|p| (*p, Vec::new())).collect();
    for row in rows {
        if let Some(list) = out.get_mut(&(row.account_id, row.model_id)) {
            list.push(row);
        }
    }
    Ok(out)
}

/// The stage of the sequence a path (an account's moves in one model) was in
/// at an instant: the last move into the sequence at or before it (a move at
/// that very instant is the touchpoint's own).
pub fn stage_at(path: &[stage_transition::Model], at: DateTime<Utc>) -> Option<Uuid> {
    path.iter()
        .take_while(|t| t.occurred_at <= at)
        .filter(|t| !t.phase)
        .last()
        .map(|t| t.to_stage_id)
}

/// Each account's domains, alphabetically.
pub async fn domains_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<String>>> {
    let rows = account_domain::Entity::find()
        .filter(account_domain::Column::WorkspaceId.eq(ws))
        .filter(account_domain::Column::AccountId.is_in(accounts.iter().copied()))
        .order_by_asc(account_domain::Column::Domain)
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in rows {
        out.entry(row.account_id).or_default().push(row.domain);
    }
    Ok(out)
}

/// Each stakeholder's identities, oldest first.
pub async fn identities_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    people: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<identity::Model>>> {
    let rows = identity::Entity::find()
        .filter(identity::Column::WorkspaceId.eq(ws))
        .filter(identity::Column::StakeholderId.is_in(people.iter().copied()))
        .order_by_asc(identity::Column::Id)
        .all(db)
        .await?;
    Ok(grouped(rows, |i| i.stakeholder_id))
}

/// Each journey model's stages, by position.
pub async fn stages_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    models: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<stage::Model>>> {
    let rows = stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(ws))
        .filter(stage::Column::ModelId.is_in(models.iter().copied()))
        .order_by_asc(stage::Column::Position)
        .order_by_asc(stage::Column::Id)
        .all(db)
        .await?;
    Ok(grouped(rows, |s| s.model_id))
}

/// Which side of a membership a list hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipSide {
    /// The stakeholders of an account.
    Account,
    /// The accounts of a stakeholder.
    Stakeholder,
}

impl MembershipSide {
    fn column(self) -> membership::Column {
        match self {
            Self::Account => membership::Column::AccountId,
            Self::Stakeholder => membership::Column::StakeholderId,
        }
    }

    fn other_column(self) -> membership::Column {
        match self {
            Self::Account => membership::Column::StakeholderId,
            Self::Stakeholder => membership::Column::AccountId,
        }
    }
}

/// Memberships in the order people joined (id order).
pub const MEMBERSHIP_KEYSET: Keyset<membership::Column> = Keyset {
    key: None,
    id: membership::Column::Id,
    descending: false,
};

/// One page of each account's memberships, oldest first, with the
/// stakeholders they join: one statement, counts included when asked.
pub async fn stakeholders_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
    page: &Page,
    total: Total,
) -> CoreResult<HashMap<Uuid, Listed<(membership::Model, stakeholder::Model)>>> {
    memberships_with::<stakeholder::Entity>(db, ws, MembershipSide::Account, accounts, page, total)
        .await
}

/// One page of each stakeholder's memberships, oldest first, with the
/// accounts they join: one statement, counts included when asked.
pub async fn accounts_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    people: &[Uuid],
    page: &Page,
    total: Total,
) -> CoreResult<HashMap<Uuid, Listed<(membership::Model, account::Model)>>> {
    memberships_with::<account::Entity>(db, ws, MembershipSide::Stakeholder, people, page, total)
        .await
}

/// A page of memberships hanging from `side`, each joined to its other side
/// (`O`, by `id`). A membership whose other side is gone is left out.
async fn memberships_with<O>(
    db: &impl ConnectionTrait,
    ws: Uuid,
    side: MembershipSide,
    parents: &[Uuid],
    page: &Page,
    total: Total,
) -> CoreResult<HashMap<Uuid, Listed<(membership::Model, O::Model)>>>
where
    O: EntityTrait,
    O::Model: FromQueryResult,
{
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let nested = Nested::<membership::Entity> {
        workspace: membership::Column::WorkspaceId,
        group: side.column(),
        keyset: MEMBERSHIP_KEYSET,
        page,
        total,
    };
    let mut stmt = nested_statement(db.get_database_backend(), ws, parents, &nested);
    const OTHER: &str = "o";
    select_prefixed::<O>(&mut stmt, OTHER, "o_");
    stmt.join_as(
        JoinType::LeftJoin,
        O::default(),
        Alias::new(OTHER),
        Expr::col((Alias::new(OTHER), Alias::new("id")))
            .equals((Alias::new(PAGE), side.other_column())),
    );
    nested_pages(db, &stmt, parents, total, |row| {
        let membership = prefixed::<membership::Entity>(row, "r_")?;
        let other = prefixed::<O>(row, "o_")?;
        Ok(membership.zip(other))
    })
    .await
}

/// How many memberships each parent has.
pub async fn membership_counts(
    db: &impl ConnectionTrait,
    ws: Uuid,
    side: MembershipSide,
    parents: &[Uuid],
) -> CoreResult<HashMap<Uuid, u64>> {
    let base = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(ws))
        .filter(side.column().is_in(parents.iter().copied()));
    count_by(db, base, side.column()).await
}

/// Whose touchpoints a nested list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TouchpointOwner {
    Account,
    Stakeholder,
}

impl TouchpointOwner {
    pub fn column(self) -> touchpoint::Column {
        match self {
            Self::Account => touchpoint::Column::AccountId,
            Self::Stakeholder => touchpoint::Column::StakeholderId,
        }
    }
}

/// One page of each parent's touchpoints, in `keyset` order: one
/// statement, counts included when asked.
pub async fn touchpoints_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    owner: TouchpointOwner,
    parents: &[Uuid],
    keyset: Keyset<touchpoint::Column>,
    page: &Page,
    total: Total,
) -> CoreResult<HashMap<Uuid, Listed<touchpoint::Model>>> {
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let stmt = touchpoint_pages_statement(backend, ws, owner, parents, keyset, page, total);
    nested_pages(db, &stmt, parents, total, |row| {
        prefixed::<touchpoint::Entity>(row, "r_")
    })
    .await
}

/// The statement [`touchpoints_of`] runs on `backend`: public so that a
/// test can read its plan.
pub fn touchpoint_pages_statement(
    backend: DbBackend,
    ws: Uuid,
    owner: TouchpointOwner,
    parents: &[Uuid],
    keyset: Keyset<touchpoint::Column>,
    page: &Page,
    total: Total,
) -> SelectStatement {
    let nested = Nested::<touchpoint::Entity> {
        workspace: touchpoint::Column::WorkspaceId,
        group: owner.column(),
        keyset,
        page,
        total,
    };
    nested_statement(backend, ws, parents, &nested)
}

/// How many touchpoints each parent has.
pub async fn touchpoint_counts(
    db: &impl ConnectionTrait,
    ws: Uuid,
    owner: TouchpointOwner,
    parents: &[Uuid],
) -> CoreResult<HashMap<Uuid, u64>> {
    let base = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(owner.column().is_in(parents.iter().copied()));
    count_by(db, base, owner.column()).await
}

/// Each connector's newest sync run.
pub async fn last_runs(
    db: &impl ConnectionTrait,
    ws: Uuid,
    connectors: &[Uuid],
) -> CoreResult<HashMap<Uuid, sync_run::Model>> {
    if connectors.is_empty() {
        return Ok(HashMap::new());
    }
    let newest = Nested::<sync_run::Entity> {
        workspace: sync_run::Column::WorkspaceId,
        group: sync_run::Column::ConnectorId,
        keyset: Keyset {
            key: None,
            id: sync_run::Column::Id,
            descending: true,
        },
        page: &Page::first(0),
        total: Total::Skip,
    };
    let stmt = nested_statement(db.get_database_backend(), ws, connectors, &newest);
    let runs = nested_pages(db, &stmt, connectors, Total::Skip, |row| {
        prefixed::<sync_run::Entity>(row, "r_")
    })
    .await?;
    Ok(runs
        .into_iter()
        .filter_map(|(connector, listed)| Some((connector, listed.rows.into_iter().next()?)))
        .collect())
}
