//! Writing checked touchpoints, set-based: one transaction per batch, a
//! fixed number of statements whatever its size. What the database holds is
//! read first (`known`), the batch is resolved in memory (`plan`), then each
//! kind of row is written in one multi-row statement; derived state
//! (progression, scores, qualification) follows in the same transaction.

use std::collections::HashMap;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use entity::vocab::EventType;
use entity::{account, stakeholder, touchpoint};
use sea_orm::sea_query::{CaseStatement, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::known::Known;
use super::plan::{self, Plan};
use super::{MAX_BATCH, NewTouchpoint, RecordOutcome};
use crate::events::{self, NewEvent};
use crate::journeys::progression::{self, Arrival, ModelRules, Replay};
use crate::{CoreError, CoreResult, db, lifecycle, privacy, scoring, time};

/// What recording one item did, and the touchpoint or why it was refused.
#[derive(Debug)]
pub struct Recorded {
    pub outcome: RecordOutcome,
    /// The touchpoint as recorded, `None` when it is an erased person's
    /// (UNCHANGED, shown to no one), or why the item was refused.
    pub result: Result<Option<touchpoint::Model>, CoreError>,
}

/// How many items of a batch had each outcome, counted once for every
/// caller (the API's payload, a sync run's totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

impl Tally {
    pub fn of(recorded: &[Recorded]) -> Self {
        let mut tally = Self::default();
        for item in recorded {
            match item.outcome {
                RecordOutcome::Created => tally.created += 1,
                RecordOutcome::Updated => tally.updated += 1,
                RecordOutcome::Unchanged => tally.unchanged += 1,
                RecordOutcome::Failed => tally.failed += 1,
            }
        }
        tally
    }

    pub fn add(&mut self, other: Tally) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
    }
}

/// The pauses between tries of a batch that lost a race: short and jittered,
/// so the racers do not collide again in step; four tries in all.
pub fn contention_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(100))
        .with_max_times(3)
        .with_jitter()
}

/// Records a batch of items in a transaction of its own; `check` builds them
/// as of the time of each try. Each item succeeds or fails on its own, and a
/// database failure undoes the whole batch. Two batches naming the same new person can race on
/// PostgreSQL: the loser's insert hits the winner's unique key, and its retry
/// sees the winner's rows.
pub async fn record(
    conn: &DatabaseConnection,
    ws: Uuid,
    len: usize,
    check: impl Fn(DateTime<Utc>) -> Vec<CoreResult<NewTouchpoint>>,
) -> CoreResult<Vec<Recorded>> {
    if len > MAX_BATCH {
        return Err(CoreError::invalid_field(
            "touchpoints",
            format!("a batch holds at most {MAX_BATCH} touchpoints, got {len}"),
        ));
    }
    let attempt = || async {
        let txn = db::begin_write(conn).await?;
        let out = record_in(&txn, ws, check(time::now())).await?;
        txn.commit().await?;
        Ok(out)
    };
    attempt
        .retry(contention_backoff())
        .sleep(tokio::time::sleep)
        .when(CoreError::is_contended)
        .notify(|err, pause| tracing::debug!(error = %err, ?pause, "batch contended; retrying"))
        .await
}

/// Records checked items inside the caller's transaction, so a connector can
/// save its cursor in the same one. Items that failed their check, or that
/// name what does not exist, are reported as failed in place and write
/// nothing; a database failure fails the whole batch.
pub async fn record_in(
    txn: &DatabaseTransaction,
    ws: Uuid,
    items: Vec<CoreResult<NewTouchpoint>>,
) -> CoreResult<Vec<Recorded>> {
    let models = progression::load_rules(txn, ws).await?;
    let key = privacy::erasure_key(txn, ws).await?;
    let rules = scoring::rules_of(txn, ws).await?;
    let checked: Vec<&NewTouchpoint> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
    let known = Known::load(txn, ws, &key, &checked).await?;
    let mut plan = plan::build(ws, &key, &rules, known, items);
    let mut logged = write(txn, ws, &models, &mut plan).await?;
    scoring::rescore(txn, ws, &rules, std::mem::take(&mut plan.touched)).await?;
    logged.extend(lifecycle::rules::apply(txn, ws, &plan.inserts).await?);
    events::append(txn, ws, logged).await?;
    Ok(plan.recorded)
}

/// Writes a plan's rows, each kind in one statement (more only past the
/// backends' limits on bound values), parents before the rows that name
/// them, then brings the paths through every model up to date. Returns the
/// events of the touchpoints and new people's lifecycles, for the caller
/// to log last.
async fn write(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    models: &[ModelRules],
    plan: &mut Plan,
) -> CoreResult<Vec<NewEvent>> {
    // The batch's people were locked as they were read; its accounts now,
    // before their positions and scores are read.
    let accounts = (plan.inserts.iter().chain(&plan.updates))
        .filter_map(|t| t.account_id)
        .chain(plan.replays.iter().map(|r| r.account))
        .chain(plan.adoptions.iter().map(|&(_, account)| account))
        .chain(plan.touched.accounts.keys().copied());
    db::lock_in_order::<account::Entity>(txn, account::Column::Id, accounts).await?;
    let mut logged = NewEvent::lifecycle_rows(&plan.lifecycle);
    db::insert_all(txn, std::mem::take(&mut plan.new_accounts), None).await?;
    let new_people = plan.new_people.iter().cloned().map(Into::into).collect();
    db::insert_all::<stakeholder::ActiveModel>(txn, new_people, None).await?;
    // An identity nobody held when the batch was read that someone holds now
    // was given by a concurrent batch: its unique key makes this batch
    // contended, and the retry finds that person.
    db::insert_all(txn, std::mem::take(&mut plan.identities), None).await?;
    use stakeholder::Column as S;
    let changed = plan
        .changed_people
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    db::update_all::<stakeholder::ActiveModel>(
        txn,
        changed,
        S::Id,
        [S::Name, S::Title, S::Email, S::Lifecycle, S::UpdatedAt],
    )
    .await?;
    db::insert_all(txn, std::mem::take(&mut plan.lifecycle), None).await?;
    db::insert_all(txn, std::mem::take(&mut plan.refs), None).await?;
    db::insert_all(txn, std::mem::take(&mut plan.memberships), None).await?;
    let adopted = adopt(txn, ws, &plan.adoptions).await?;
    let planned = plan.inserts.len() as u64;
    let inserts = plan.inserts.iter().cloned().map(Into::into).collect();
    let inserted = db::insert_all::<touchpoint::ActiveModel>(
        txn,
        inserts,
        Some(OnConflict::new().do_nothing().to_owned()),
    )
    .await?;
    if inserted < planned {
        // A concurrent batch recorded one of these keys after this one read them.
        return Err(CoreError::Contended(sea_orm::DbErr::Custom(
            "a concurrent batch recorded the same touchpoint".into(),
        )));
    }
    use touchpoint::Column as T;
    let updates = plan.updates.iter().cloned().map(Into::into).collect();
    db::update_all::<touchpoint::ActiveModel>(
        txn,
        updates,
        T::Id,
        [
            T::AccountId,
            T::StakeholderId,
            T::Channel,
            T::Kind,
            T::OccurredAt,
            T::Title,
            T::Body,
            T::Url,
            T::OwnerTeam,
            T::Actor,
            T::Emotion,
            T::Sentiment,
            T::Score,
            T::Properties,
            T::AssetKey,
            T::AssetTitle,
            T::AssetUrl,
            T::UpdatedAt,
        ],
    )
    .await?;
    let arrivals: Vec<Arrival<'_>> = plan
        .inserts
        .iter()
        .filter_map(|t| {
            Some(Arrival {
                account: t.account_id?,
                kind: &t.kind,
                channel: t.channel,
                at: t.occurred_at,
            })
        })
        .collect();
    let replays: Vec<Replay> = plan.replays.iter().copied().chain(adopted).collect();
    progression::advance(txn, models, &arrivals, &replays).await?;
    let recorded = plan
        .inserts
        .iter()
        .map(|t| (EventType::TouchpointRecorded, t));
    let updated = plan
        .updates
        .iter()
        .map(|t| (EventType::TouchpointUpdated, t));
    logged.extend(
        recorded
            .chain(updated)
            .map(|(kind, t)| NewEvent::touchpoint(kind, t)),
    );
    Ok(logged)
}

/// Moves the stored account-less touchpoints of people who joined their
/// first account to that account, in one statement; returns the replays
/// their accounts need.
async fn adopt(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    adoptions: &[(Uuid, Uuid)],
) -> CoreResult<Vec<Replay>> {
    if adoptions.is_empty() {
        return Ok(Vec::new());
    }
    let mut account = CaseStatement::new();
    for (person, joined) in adoptions {
        account = account.case(
            touchpoint::Column::StakeholderId.eq(*person),
            Expr::value(*joined),
        );
    }
    let moved = touchpoint::Entity::update_many()
        .col_expr(touchpoint::Column::AccountId, account.into())
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.is_in(adoptions.iter().map(|(p, _)| *p)))
        .filter(touchpoint::Column::AccountId.is_null())
        .exec_with_returning(txn)
        .await?;
    let mut since: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for t in moved {
        if let Some(account) = t.account_id {
            let at = since.entry(account).or_insert(t.occurred_at);
            *at = (*at).min(t.occurred_at);
        }
    }
    Ok(since
        .into_iter()
        .map(|(account, at)| Replay::since(account, at))
        .collect())
}
