//! Reads for many parents at once, behind the API's DataLoaders: a page of
//! parents costs a fixed number of statements whatever its size.
//!
//! Every read is confined to one workspace. Nested lists load "the first N
//! children of each parent" with one windowed query per distinct page
//! (`ROW_NUMBER() OVER (PARTITION BY parent …)`), which both backends run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    account, account_domain, connector, consent, identity, journey_model, membership, merge,
    score_contribution, scoring_rule, stage, stage_transition, stakeholder, sync_run, touchpoint,
};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, WindowStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use crate::CoreResult;
use crate::page::{Keyset, Page};

/// The first `page.size + 1` rows of each group, in page fetch order.
async fn first_of_each<E>(
    db: &impl ConnectionTrait,
    base: Select<E>,
    group: E::Column,
    keyset: Keyset<E::Column>,
    page: &Page,
    group_of: impl Fn(&E::Model) -> Option<Uuid>,
) -> CoreResult<HashMap<Uuid, Vec<E::Model>>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let mut window = WindowStatement::partition_by(group);
    for (col, order) in keyset.fetch_order(page) {
        window.order_by(col, order);
    }
    let mut inner = base.filter(keyset.condition(page)).into_query();
    inner.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"));
    let limit = i64::try_from(page.size + 1).unwrap_or(i64::MAX);
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("rn")).lte(limit))
        .order_by(Alias::new("rn"), sea_orm::Order::Asc)
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    let rows = E::find().from_raw_sql(stmt).all(db).await?;
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    for row in rows {
        if let Some(key) = group_of(&row) {
            grouped.entry(key).or_default().push(row);
        }
    }
    Ok(grouped)
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

    fn parent(self, m: &membership::Model) -> Uuid {
        match self {
            Self::Account => m.account_id,
            Self::Stakeholder => m.stakeholder_id,
        }
    }
}

/// Memberships in the order people joined (id order).
pub const MEMBERSHIP_KEYSET: Keyset<membership::Column> = Keyset {
    key: None,
    id: membership::Column::Id,
    descending: false,
};

/// One page of memberships of each parent, oldest first.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    side: MembershipSide,
    parents: &[Uuid],
    page: &Page,
) -> CoreResult<HashMap<Uuid, Vec<membership::Model>>> {
    let base = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(ws))
        .filter(side.column().is_in(parents.iter().copied()));
    first_of_each(db, base, side.column(), MEMBERSHIP_KEYSET, page, |m| {
        Some(side.parent(m))
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

    fn parent(self, t: &touchpoint::Model) -> Option<Uuid> {
        match self {
            Self::Account => t.account_id,
            Self::Stakeholder => t.stakeholder_id,
        }
    }
}

/// One page of each parent's touchpoints, in `keyset` order.
pub async fn touchpoints_of(
    db: &impl ConnectionTrait,
    ws: Uuid,
    owner: TouchpointOwner,
    parents: &[Uuid],
    keyset: Keyset<touchpoint::Column>,
    page: &Page,
) -> CoreResult<HashMap<Uuid, Vec<touchpoint::Model>>> {
    let base = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(owner.column().is_in(parents.iter().copied()));
    first_of_each(db, base, owner.column(), keyset, page, |t| owner.parent(t)).await
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
    let base = sync_run::Entity::find()
        .filter(sync_run::Column::WorkspaceId.eq(ws))
        .filter(sync_run::Column::ConnectorId.is_in(connectors.iter().copied()));
    let newest = Keyset {
        key: None,
        id: sync_run::Column::Id,
        descending: true,
    };
    let column = sync_run::Column::ConnectorId;
    let runs = first_of_each(db, base, column, newest, &Page::first(0), |r| {
        Some(r.connector_id)
    })
    .await?;
    Ok(runs
        .into_iter()
        .filter_map(|(connector, rows)| Some((connector, rows.into_iter().next()?)))
        .collect())
}
