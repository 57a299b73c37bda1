//! The event log (a transactional outbox): every change a dashboard or a
//! partner cares about appends events in the transaction that makes it, so
//! an event exists exactly when its change committed.
//!
//! Each workspace numbers its events 1, 2, 3…: a transaction takes its
//! numbers from the workspace row's counter as its last write, which holds
//! the row until it commits, so numbers commit in order and a reader that
//! has seen every event up to `n` can never later find one below `n`.
//! Events carry ids, never personal data.

use chrono::{DateTime, Utc};
use entity::event;
use entity::vocab::{EventType, Lifecycle};
use entity::{lifecycle_change, touchpoint, workspace};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, Func, PostgresQueryBuilder, Query,
    SqliteQueryBuilder, ValueTuple, WithClause,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Statement, TryIntoModel,
};
use uuid::Uuid;

use crate::page::{Keyset, Page};
use crate::{CoreResult, db, time};

/// Oldest first, by sequence.
pub const LOG_ORDER: Keyset<event::Column> = Keyset {
    key: Some(event::Column::Sequence),
    id: event::Column::Id,
    descending: false,
};

/// An event to append: its type and the ids it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: EventType,
    pub account: Option<Uuid>,
    pub stakeholder: Option<Uuid>,
    pub touchpoint: Option<Uuid>,
    pub model: Option<Uuid>,
    pub stage: Option<Uuid>,
    pub from_stage: Option<Uuid>,
    pub lifecycle_change: Option<Uuid>,
    pub merge: Option<Uuid>,
    pub connector: Option<Uuid>,
    pub sync_run: Option<Uuid>,
}

impl NewEvent {
    fn of(event_type: EventType) -> Self {
        Self {
            event_type,
            account: None,
            stakeholder: None,
            touchpoint: None,
            model: None,
            stage: None,
            from_stage: None,
            lifecycle_change: None,
            merge: None,
            connector: None,
            sync_run: None,
        }
    }

    /// A touchpoint recorded for the first time or changed.
    pub fn touchpoint(event_type: EventType, t: &touchpoint::Model) -> Self {
        Self {
            account: t.account_id,
            stakeholder: t.stakeholder_id,
            touchpoint: Some(t.id),
            connector: t.connector_id,
            ..Self::of(event_type)
        }
    }

    /// A lifecycle change, and MQL_REACHED beside it when it qualifies.
    pub fn lifecycle(change: &lifecycle_change::Model) -> Vec<Self> {
        let changed = Self {
            account: change.account_id,
            stakeholder: change.stakeholder_id,
            touchpoint: change.touchpoint_id,
            lifecycle_change: Some(change.id),
            ..Self::of(EventType::LifecycleChanged)
        };
        let mut out = vec![changed.clone()];
        if change.to_lifecycle == Lifecycle::Mql {
            out.push(Self {
                event_type: EventType::MqlReached,
                ..changed
            });
        }
        out
    }

    /// The lifecycle changes of rows about to be inserted, in their order.
    pub fn lifecycle_rows(rows: &[lifecycle_change::ActiveModel]) -> Vec<Self> {
        rows.iter()
            .filter_map(|row| row.clone().try_into_model().ok())
            .flat_map(|change| Self::lifecycle(&change))
            .collect()
    }

    /// An account's stage in a model changed (`from` none when it entered
    /// its first, or a phase).
    pub fn stage(model: Uuid, account: Uuid, from: Option<Uuid>, to: Uuid) -> Self {
        Self {
            account: Some(account),
            model: Some(model),
            stage: Some(to),
            from_stage: from,
            ..Self::of(EventType::StageChanged)
        }
    }

    /// A merge or its undoing, of `stakeholder` (the survivor).
    pub fn merge(event_type: EventType, merge: Uuid, stakeholder: Uuid) -> Self {
        Self {
            merge: Some(merge),
            stakeholder: Some(stakeholder),
            ..Self::of(event_type)
        }
    }

    pub fn erased(stakeholder: Uuid) -> Self {
        Self {
            stakeholder: Some(stakeholder),
            ..Self::of(EventType::StakeholderErased)
        }
    }

    pub fn sync_run(connector: Uuid, run: Uuid) -> Self {
        Self {
            connector: Some(connector),
            sync_run: Some(run),
            ..Self::of(EventType::SyncRunUpdated)
        }
    }

    pub fn connector(event_type: EventType, connector: Uuid) -> Self {
        Self {
            connector: Some(connector),
            ..Self::of(event_type)
        }
    }
}

/// The PostgreSQL channel each append notifies at its commit, with the
/// payload `<workspace>:<latest sequence>`, for the `live` module.
pub const NOTIFY_CHANNEL: &str = "journeys_events";

/// Events per statement: 15 bound values each, within both backends' limits.
const APPEND_CHUNK: usize = 1_500;

/// Appends `events` to the workspace's log, numbered in order after its
/// latest, in one statement per [`APPEND_CHUNK`] (none when there are none).
/// Call it late in a transaction: on PostgreSQL it takes the workspace
/// row's counter, which stays held until the commit.
pub async fn append(db: &impl ConnectionTrait, ws: Uuid, events: Vec<NewEvent>) -> CoreResult<()> {
    let backend = db.get_database_backend();
    let now = time::now();
    for chunk in events.chunks(APPEND_CHUNK) {
        db.execute_raw(append_statement(backend, ws, chunk, now))
            .await?;
    }
    Ok(())
}

/// `INSERT INTO events … SELECT … FROM (VALUES …)`, each row numbered its
/// place in `events` past the latest number. PostgreSQL takes that from
/// the workspace row's counter, raised in the same statement (its row lock
/// orders concurrent writers by commit); SQLite, whose writers take turns,
/// from the log's own latest number, which retention always keeps.
fn append_statement(
    backend: DbBackend,
    ws: Uuid,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Statement {
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let rows = events.iter().zip(1i64..).map(|(e, place)| {
        ValueTuple::Many(vec![
            entity::new_id().into(),
            place.into(),
            e.event_type.to_value().into(),
            e.account.into(),
            e.stakeholder.into(),
            e.touchpoint.into(),
            e.model.into(),
            e.stage.into(),
            e.from_stage.into(),
            e.lifecycle_change.into(),
            e.merge.into(),
            e.connector.into(),
            e.sync_run.into(),
        ])
    });
    let v = |i: usize| Expr::col((Alias::new("v"), Alias::new(format!("column{i}"))));
    let mut select = Query::select();
    let mut with = WithClause::new();
    let base = if backend == DbBackend::Postgres {
        use workspace::Column as W;
        let raise = Query::update()
            .table(workspace::Entity)
            .value(W::EventSequence, Expr::col(W::EventSequence).add(n))
            .and_where(Expr::col(W::Id).eq(ws))
            .returning(Query::returning().expr(Expr::col(W::EventSequence).sub(n)))
            .to_owned();
        with.cte(
            CommonTableExpression::new()
                .query(raise)
                .column(Alias::new("base"))
                .table_name(Alias::new("counter"))
                .to_owned(),
        );
        // Tells every listening instance, at commit, how far the log reached.
        let notify = Query::select()
            .expr(Expr::cust_with_values(
                "pg_notify($1, $2 || (\"base\" + $3)::text)",
                [
                    NOTIFY_CHANNEL.into(),
                    format!("{ws}:").into(),
                    sea_orm::Value::from(n),
                ],
            ))
            .from(Alias::new("counter"))
            .to_owned();
        with.cte(
            CommonTableExpression::new()
                .query(notify)
                .column(Alias::new("notified"))
                .table_name(Alias::new("notify"))
                .to_owned(),
        );
        select
            .from(Alias::new("counter"))
            .from(Alias::new("notify"));
        Expr::col((Alias::new("counter"), Alias::new("base")))
    } else {
        let latest = Query::select()
            .expr(Func::coalesce([
                Func::max(Expr::col(event::Column::Sequence)).into(),
                Expr::val(0i64),
            ]))
            .from(event::Entity)
            .and_where(Expr::col(event::Column::WorkspaceId).eq(ws))
            .to_owned();
        Expr::SubQuery(None, Box::new(latest.into()))
    };
    select
        .from_values(rows, Alias::new("v"))
        .expr(v(1))
        .expr(Expr::val(ws))
        .expr(base.add(v(2)))
        .expr(v(3))
        .expr(Expr::val(now));
    for i in 4..=13 {
        select.expr(v(i));
    }
    use event::Column as E;
    let mut insert = Query::insert();
    insert.into_table(event::Entity).columns([
        E::Id,
        E::WorkspaceId,
        E::Sequence,
        E::EventType,
        E::RecordedAt,
        E::AccountId,
        E::StakeholderId,
        E::TouchpointId,
        E::ModelId,
        E::StageId,
        E::FromStageId,
        E::LifecycleChangeId,
        E::MergeId,
        E::ConnectorId,
        E::SyncRunId,
    ]);
    insert
        .select_from(select)
        .expect("as many values as columns");
    let (sql, values) = match backend {
        DbBackend::Postgres => insert.with(with).build(PostgresQueryBuilder),
        _ => insert.build(SqliteQueryBuilder),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Which events a reader wants: every field left empty keeps every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only these types.
    pub types: Vec<EventType>,
    pub account: Option<Uuid>,
    pub stakeholder: Option<Uuid>,
    pub model: Option<Uuid>,
    pub connector: Option<Uuid>,
}

impl EventFilter {
    pub fn of_types(types: Vec<EventType>) -> Self {
        Self {
            types,
            ..Self::default()
        }
    }
}

/// A workspace's events, optionally of some types only.
fn log_of(ws: Uuid, types: &[EventType]) -> Select<event::Entity> {
    let mut select = event::Entity::find().filter(event::Column::WorkspaceId.eq(ws));
    if !types.is_empty() {
        select = select.filter(event::Column::EventType.is_in(types.iter().copied()));
    }
    select
}

/// A workspace's events that pass `filter`.
fn filtered(ws: Uuid, filter: &EventFilter) -> Select<event::Entity> {
    use event::Column as E;
    let mut select = log_of(ws, &filter.types);
    for (column, id) in [
        (E::AccountId, filter.account),
        (E::StakeholderId, filter.stakeholder),
        (E::ModelId, filter.model),
        (E::ConnectorId, filter.connector),
    ] {
        if let Some(id) = id {
            select = select.filter(column.eq(id));
        }
    }
    select
}

/// A page of the log, oldest first.
pub async fn page(
    db: &impl ConnectionTrait,
    ws: Uuid,
    types: &[EventType],
    page: &Page,
) -> CoreResult<Vec<event::Model>> {
    Ok(LOG_ORDER.fetch(db, log_of(ws, types), page).await?)
}

/// How many events the log holds (of those types).
pub async fn count(db: &impl ConnectionTrait, ws: Uuid, types: &[EventType]) -> CoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(log_of(ws, types).count(db).await?)
}

/// The sequence of the workspace's latest event (0 before its first).
pub async fn latest(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<i64> {
    Ok(bounds(db, ws).await?.1)
}

/// The sequences of the workspace's oldest and latest events still kept
/// (both 0 before its first).
pub async fn bounds(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<(i64, i64)> {
    let found: Option<(Option<i64>, Option<i64>)> = event::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col(event::Column::Sequence)))
        .expr(Func::max(Expr::col(event::Column::Sequence)))
        .filter(event::Column::WorkspaceId.eq(ws))
        .into_tuple()
        .one(db)
        .await?;
    let (oldest, latest) = found.unwrap_or_default();
    Ok((oldest.unwrap_or(0), latest.unwrap_or(0)))
}

/// The latest sequence of each of these workspaces that has events, in one
/// statement.
pub async fn latest_of(
    db: &impl ConnectionTrait,
    workspaces: &[Uuid],
) -> CoreResult<Vec<(Uuid, i64)>> {
    Ok(event::Entity::find()
        .select_only()
        .column(event::Column::WorkspaceId)
        .expr(Func::max(Expr::col(event::Column::Sequence)))
        .filter(event::Column::WorkspaceId.is_in(workspaces.iter().copied()))
        .group_by(event::Column::WorkspaceId)
        .into_tuple()
        .all(db)
        .await?)
}

/// At most `limit` events that pass `filter`, numbered after `after` and
/// up to `upto`, oldest first.
pub async fn between(
    db: &impl ConnectionTrait,
    ws: Uuid,
    after: i64,
    upto: i64,
    filter: &EventFilter,
    limit: u64,
) -> CoreResult<Vec<event::Model>> {
    Ok(filtered(ws, filter)
        .filter(event::Column::Sequence.gt(after))
        .filter(event::Column::Sequence.lte(upto))
        .order_by_asc(event::Column::Sequence)
        .limit(limit)
        .all(db)
        .await?)
}

/// Deletes events recorded before `before`, except each workspace's latest
/// (SQLite numbers new events after it); returns how many.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> CoreResult<u64> {
    let old = event::Entity::find()
        .filter(event::Column::RecordedAt.lt(before))
        .filter(Expr::cust(
            "sequence < (SELECT MAX(l.sequence) FROM events l \
             WHERE l.workspace_id = events.workspace_id)",
        ))
        .order_by_asc(event::Column::RecordedAt);
    db::delete_in_chunks(db, old, event::Column::Id).await
}
