//! What guidance reads about a set of accounts, in a fixed number of
//! statements: the accounts, their positions with stages and models, one row of signals
//! each (newest touchpoint, qualification, newest SALES touchpoint, whether
//! the newest NPS answer was followed up), their NPS answers and ticket
//! status touchpoints, the playbooks' done-when kinds, their decision-making
//! units, and the people named with their consents. Each per-account read is
//! a short range of an index on that account, never its whole history.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::vocab::{Lifecycle, OwnerTeam};
use entity::{account, lifecycle_change, stage_position, touchpoint};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::next_steps::{Facts, People, Position};
use super::tickets::open_tickets;
use crate::journeys::playbooks;
use crate::people::dmu;
use crate::vocab::{NPS_KIND, TICKET_STATUS_KINDS};
use crate::{CoreResult, batch};

/// Everything guidance reads about `accounts` at `now`, by account id.
pub(crate) async fn facts(
    db: &impl ConnectionTrait,
    ws: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> CoreResult<(HashMap<Uuid, Facts>, People)> {
    if ids.is_empty() {
        return Ok((HashMap::new(), People::default()));
    }
    let accounts = batch::accounts(db, ws, ids).await?;
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
    let mut positions = positions(db, ws, &ids).await?;
    let signals = signals(db, ws, &ids).await?;
    let kinds = kind_touchpoints(db, ws, &ids).await?;
    let done = done_kinds(db, ws, &positions).await?;
    let window = dmu::default_window(now)?;
    let mut units = dmu::units(db, ws, &ids, window).await?;

    let mut facts = HashMap::new();
    for account in &accounts {
        let sig = signals.get(&account.id).cloned().unwrap_or_default();
        let own: &[touchpoint::Model] = kinds.get(&account.id).map_or(&[][..], Vec::as_slice);
        let (answers, statuses): (Vec<_>, Vec<_>) =
            own.iter().cloned().partition(|t| t.kind == NPS_KIND);
        let unit = units.remove(&account.id).unwrap_or(dmu::Unit {
            window,
            needed: Vec::new(),
            members: Vec::new(),
        });
        facts.insert(
            account.id,
            Facts {
                account: account.clone(),
                positions: positions.remove(&account.id).unwrap_or_default(),
                unit,
                last_touch_at: sig.last_touch_at,
                qualified_at: sig.qualified_at,
                last_sales_touch_at: sig.last_sales_touch_at,
                open_tickets: open_tickets(&statuses),
                latest_nps: answers.into_iter().max_by_key(|t| (t.occurred_at, t.id)),
                nps_followed_up: sig.nps_followed_up,
                done_kinds: done.get(&account.id).cloned().unwrap_or_default(),
            },
        );
    }
    let people = people(db, ws, &facts).await?;
    Ok((facts, people))
}

/// Each account's positions: three statements (positions, their stages,
/// their models).
async fn positions(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<Position>>> {
    let rows = stage_position::Entity::find()
        .filter(stage_position::Column::WorkspaceId.eq(ws))
        .filter(stage_position::Column::AccountId.is_in(accounts.iter().copied()))
        .all(db)
        .await?;
    let stage_ids: Vec<Uuid> = rows.iter().map(|p| p.stage_id).collect();
    let stages: HashMap<Uuid, _> = batch::stages(db, ws, &stage_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let model_ids: Vec<Uuid> = rows.iter().map(|p| p.model_id).collect();
    let models: HashMap<Uuid, _> = batch::journey_models(db, ws, &model_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut out: HashMap<Uuid, Vec<Position>> = HashMap::new();
    for row in rows {
        let (Some(stage), Some(model)) = (stages.get(&row.stage_id), models.get(&row.model_id))
        else {
            continue;
        };
        if stage.archived_at.is_some() {
            continue;
        }
        out.entry(row.account_id).or_default().push(Position {
            model: model.clone(),
            stage: stage.clone(),
            entered_at: row.entered_at,
            phase: row.phase,
        });
    }
    for list in out.values_mut() {
        list.sort_by_key(|p| (p.model.id, p.phase, p.stage.position, p.stage.id));
    }
    Ok(out)
}

/// One account's row of signals.
#[derive(Debug, Clone, Default)]
struct Signals {
    last_touch_at: Option<DateTime<Utc>>,
    qualified_at: Option<DateTime<Utc>>,
    last_sales_touch_at: Option<DateTime<Utc>>,
    nps_followed_up: bool,
}

/// An account's id and signals, as the statement returns them.
type SignalRow = (
    Uuid,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    bool,
);

/// The account's newest touchpoint matching `filter`, a step back along one
/// of its indexes (`alias` names this use of the table).
fn newest_touch(
    ws: Uuid,
    alias: &str,
    filter: impl FnOnce(&mut SelectStatement, &Alias),
) -> SelectStatement {
    let t = Alias::new(alias);
    let mut q = Query::select();
    q.expr(Expr::col((t.clone(), touchpoint::Column::OccurredAt)))
        .from_as(touchpoint::Entity, t.clone())
        .and_where(Expr::col((t.clone(), touchpoint::Column::WorkspaceId)).eq(ws))
        .and_where(
            Expr::col((t.clone(), touchpoint::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        );
    filter(&mut q, &t);
    q.order_by((t.clone(), touchpoint::Column::OccurredAt), Order::Desc)
        .limit(1);
    q
}

/// The account's newest change to `lifecycle`, along its changes' index.
fn newest_change(ws: Uuid, lifecycle: Lifecycle) -> SelectStatement {
    let lc = Alias::new("lc");
    Query::select()
        .expr(Expr::col((
            lc.clone(),
            lifecycle_change::Column::OccurredAt,
        )))
        .from_as(lifecycle_change::Entity, lc.clone())
        .and_where(Expr::col((lc.clone(), lifecycle_change::Column::WorkspaceId)).eq(ws))
        .and_where(
            Expr::col((lc.clone(), lifecycle_change::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .and_where(
            Expr::col((lc.clone(), lifecycle_change::Column::ToLifecycle)).eq(lifecycle.to_value()),
        )
        .order_by(
            (lc.clone(), lifecycle_change::Column::OccurredAt),
            Order::Desc,
        )
        .limit(1)
        .to_owned()
}

fn sub(q: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(q.into()))
}

/// Each account's signals: one statement of scalar subqueries, each a short
/// walk of an index on that account.
async fn signals(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Signals>> {
    let latest_nps = || {
        newest_touch(ws, "n", |q, t| {
            q.and_where(Expr::col((t.clone(), touchpoint::Column::Kind)).eq(NPS_KIND));
        })
    };
    // A team-owned touchpoint after the newest answer: one range of the
    // (account, team, time) index per team.
    let f = Alias::new("f");
    let followed_up = Query::select()
        .expr(Expr::val(1))
        .from_as(touchpoint::Entity, f.clone())
        .and_where(Expr::col((f.clone(), touchpoint::Column::WorkspaceId)).eq(ws))
        .and_where(
            Expr::col((f.clone(), touchpoint::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .and_where(
            Expr::col((f.clone(), touchpoint::Column::OwnerTeam))
                .is_in(OwnerTeam::iter().map(|t| t.to_value())),
        )
        .and_where(Expr::col((f.clone(), touchpoint::Column::OccurredAt)).gt(sub(latest_nps())))
        .to_owned();
    let rows: Vec<SignalRow> = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .expr_as(sub(newest_touch(ws, "t", |_, _| {})), "last_touch_at")
        .expr_as(
            Func::coalesce([
                sub(newest_change(ws, Lifecycle::Mql)),
                sub(newest_change(ws, Lifecycle::Sql)),
            ]),
            "qualified_at",
        )
        .expr_as(
            sub(newest_touch(ws, "s", |q, t| {
                q.and_where(
                    Expr::col((t.clone(), touchpoint::Column::OwnerTeam))
                        .eq(OwnerTeam::Sales.to_value()),
                );
            })),
            "last_sales_touch_at",
        )
        .expr_as(Expr::exists(followed_up), "nps_followed_up")
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Id.is_in(accounts.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, last_touch_at, qualified_at, last_sales_touch_at, nps_followed_up)| {
                let signals = Signals {
                    last_touch_at,
                    qualified_at,
                    last_sales_touch_at,
                    nps_followed_up,
                };
                (id, signals)
            },
        )
        .collect())
}

/// The accounts' NPS answers and ticket status touchpoints: one statement
/// along the (account, kind, time) index.
async fn kind_touchpoints(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Vec<touchpoint::Model>>> {
    let kinds = std::iter::once(NPS_KIND).chain(TICKET_STATUS_KINDS);
    let rows = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::AccountId.is_in(accounts.iter().copied()))
        .filter(touchpoint::Column::Kind.is_in(kinds))
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<touchpoint::Model>> = HashMap::new();
    for row in rows {
        if let Some(account) = row.account_id {
            out.entry(account).or_default().push(row);
        }
    }
    Ok(out)
}

/// Each account's newest touchpoint of each kind its current playbooks are
/// done by, since it entered the earliest of those stages: one statement
/// along the (account, kind, time) index, none without such kinds.
async fn done_kinds(
    db: &impl ConnectionTrait,
    ws: Uuid,
    positions: &HashMap<Uuid, Vec<Position>>,
) -> CoreResult<HashMap<Uuid, HashMap<String, DateTime<Utc>>>> {
    let mut kinds = HashSet::new();
    let mut since: Option<DateTime<Utc>> = None;
    let mut accounts = Vec::new();
    for (account, list) in positions {
        for p in list {
            let steps = playbooks::of(&p.stage);
            let named: Vec<String> = steps.into_iter().flat_map(|s| s.done_when).collect();
            if !named.is_empty() {
                kinds.extend(named);
                since = Some(since.map_or(p.entered_at, |s| Ord::min(s, p.entered_at)));
                accounts.push(*account);
            }
        }
    }
    let Some(since) = since else {
        return Ok(HashMap::new());
    };
    let rows: Vec<(Uuid, String, DateTime<Utc>)> = touchpoint::Entity::find()
        .select_only()
        .column(touchpoint::Column::AccountId)
        .column(touchpoint::Column::Kind)
        .expr_as(
            Func::max(Expr::col(touchpoint::Column::OccurredAt)),
            "newest",
        )
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::AccountId.is_in(accounts))
        .filter(touchpoint::Column::Kind.is_in(kinds))
        .filter(touchpoint::Column::OccurredAt.gte(since))
        .group_by(touchpoint::Column::AccountId)
        .group_by(touchpoint::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, HashMap<String, DateTime<Utc>>> = HashMap::new();
    for (account, kind, newest) in rows {
        out.entry(account).or_default().insert(kind, newest);
    }
    Ok(out)
}

/// The people steps may name (role holders, ticket requesters, NPS
/// respondents) with their consents: two statements.
async fn people(
    db: &impl ConnectionTrait,
    ws: Uuid,
    facts: &HashMap<Uuid, Facts>,
) -> CoreResult<People> {
    let mut stakeholders = HashMap::new();
    let mut others = HashSet::new();
    for f in facts.values() {
        for m in &f.unit.members {
            stakeholders.insert(m.stakeholder.id, m.stakeholder.clone());
        }
        let touched = f
            .open_tickets
            .iter()
            .map(|t| &t.opened)
            .chain(&f.latest_nps);
        others.extend(touched.filter_map(|t| t.stakeholder_id));
    }
    others.retain(|id| !stakeholders.contains_key(id));
    if !others.is_empty() {
        let ids: Vec<Uuid> = others.into_iter().collect();
        for s in batch::stakeholders(db, ws, &ids).await? {
            stakeholders.insert(s.id, s);
        }
    }
    let ids: Vec<Uuid> = stakeholders.keys().copied().collect();
    let consents = if ids.is_empty() {
        HashMap::new()
    } else {
        batch::consents_of(db, ws, &ids).await?
    };
    Ok(People {
        stakeholders,
        consents,
    })
}
