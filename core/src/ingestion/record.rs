//! Writing checked touchpoints: one transaction per batch, a savepoint per
//! item, derived state (progression, scores, qualification) in the same
//! transaction.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use entity::touchpoint;
use entity::workspace::ErasureKey;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{MAX_BATCH, NewTouchpoint, RecordOutcome, people};
use crate::journeys::progression::{self, ModelRules};
use crate::people::{accounts, memberships, stakeholders};
use crate::{CoreError, CoreResult, db, privacy, scoring, time};

/// Records one checked touchpoint inside the batch's transaction; `None` for
/// an erased person's, which stays out of sight.
async fn record_one(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    key: &ErasureKey,
    rules: &[ModelRules],
    item: NewTouchpoint,
) -> CoreResult<(RecordOutcome, Option<touchpoint::Model>)> {
    let erased_id = privacy::erased_external_id(key, ws, &item.source, &item.external_id);
    let same_source = match item.connector {
        Some(connector) => Condition::all().add(touchpoint::Column::ConnectorId.eq(connector)),
        None => Condition::all()
            .add(touchpoint::Column::ConnectorId.is_null())
            .add(touchpoint::Column::Source.eq(item.source.as_str())),
    };
    let existing = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(same_source)
        .filter(touchpoint::Column::ExternalId.is_in([item.external_id.as_str(), &erased_id]))
        .one(txn)
        .await?;
    // An erased person stays erased: a re-delivery (a connector's next pull,
    // a webhook, a client's retry) neither refills their touchpoint nor
    // finds them again by identity, nor tells the caller who they were.
    if existing
        .as_ref()
        .is_some_and(|old| old.external_id == erased_id)
    {
        return Ok((RecordOutcome::Unchanged, None));
    }
    let mut stakeholder = match item.stakeholder {
        Some(id) => Some(stakeholders::find(txn, ws, id).await?),
        None => None,
    };
    if stakeholder.is_none()
        && let Some((identities, person)) = &item.person
    {
        stakeholder =
            Some(people::resolve_person(txn, ws, identities, person, item.occurred_at).await?);
    }
    let account = match item.account {
        Some(id) => Some(accounts::find(txn, ws, id).await?.id),
        None => {
            let hint = item.account_hint.as_ref();
            people::resolve_account(txn, ws, item.connector, hint, stakeholder.as_ref()).await?
        }
    };
    if let (Some(account), Some(person)) = (account, &stakeholder) {
        // Joins the person to the account; a no-op when they already belong.
        // The batch's rescore recomputes every account of the people it touched.
        memberships::upsert(txn, ws, account, person.id, None, None).await?;
    }
    let stakeholder = stakeholder.map(|s| s.id);
    let now = time::now();
    match existing {
        Some(old) => {
            let properties = item
                .properties_update
                .apply(old.properties.as_ref(), item.properties);
            let same = old.account_id == account.or(old.account_id)
                && old.stakeholder_id == stakeholder.or(old.stakeholder_id)
                && old.channel == item.channel
                && old.kind == item.kind
                && old.occurred_at == item.occurred_at
                && old.title == item.title
                && old.body == item.body
                && old.url == item.url
                && old.owner_team == item.owner_team
                && old.actor == item.actor
                && old.emotion == item.emotion
                && old.sentiment == item.sentiment
                && old.score == item.score
                && old.properties == properties;
            if same {
                return Ok((RecordOutcome::Unchanged, Some(old)));
            }
            let mut active: touchpoint::ActiveModel = old.clone().into();
            active.account_id = Set(account.or(old.account_id));
            active.stakeholder_id = Set(stakeholder.or(old.stakeholder_id));
            active.channel = Set(item.channel);
            active.kind = Set(item.kind);
            active.occurred_at = Set(item.occurred_at);
            active.title = Set(item.title);
            active.body = Set(item.body);
            active.url = Set(item.url);
            active.owner_team = Set(item.owner_team);
            active.actor = Set(item.actor);
            active.emotion = Set(item.emotion);
            active.sentiment = Set(item.sentiment);
            active.score = Set(item.score);
            active.properties = Set(properties);
            active.updated_at = Set(now);
            let updated = active.update(txn).await?;
            // Its time, kind or account may have changed: rebuild the paths it was on.
            let mut accounts = vec![old.account_id, updated.account_id];
            accounts.dedup();
            let since = old.occurred_at.min(updated.occurred_at);
            for account in accounts.into_iter().flatten() {
                progression::replay_all(txn, rules, account, since).await?;
            }
            Ok((RecordOutcome::Updated, Some(updated)))
        }
        None => {
            let model = touchpoint::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(ws),
                account_id: Set(account),
                stakeholder_id: Set(stakeholder),
                source: Set(item.source),
                connector_id: Set(item.connector),
                external_id: Set(item.external_id),
                channel: Set(item.channel),
                kind: Set(item.kind),
                occurred_at: Set(item.occurred_at),
                title: Set(item.title),
                body: Set(item.body),
                url: Set(item.url),
                owner_team: Set(item.owner_team),
                actor: Set(item.actor),
                emotion: Set(item.emotion),
                sentiment: Set(item.sentiment),
                score: Set(item.score),
                properties: Set(item.properties),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            progression::apply(txn, rules, &model).await?;
            Ok((RecordOutcome::Created, Some(model)))
        }
    }
}

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
/// as of the time of each try. Each item succeeds or fails on its own (an
/// item's partial writes are undone by a savepoint), and a database failure
/// undoes the whole batch. Two batches naming the same new person can race on
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
/// save its cursor in the same one. Items that failed their check are reported
/// as failed in place; any other item failing rolls back only its savepoint.
pub async fn record_in(
    txn: &DatabaseTransaction,
    ws: Uuid,
    items: Vec<CoreResult<NewTouchpoint>>,
) -> CoreResult<Vec<Recorded>> {
    let rules = progression::load_rules(txn, ws).await?;
    let key = privacy::erasure_key(txn, ws).await?;
    let mut touched = scoring::Touched::default();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                out.push(Recorded {
                    outcome: RecordOutcome::Failed,
                    result: Err(e),
                });
                continue;
            }
        };
        let savepoint = txn.begin().await?;
        match record_one(&savepoint, ws, &key, &rules, item).await {
            Ok((outcome, model)) => {
                savepoint.commit().await?;
                if let Some(model) = model
                    .as_ref()
                    .filter(|_| outcome != RecordOutcome::Unchanged)
                {
                    touched.add(model);
                }
                out.push(Recorded {
                    outcome,
                    result: Ok(model),
                });
            }
            // The whole batch fails (and may be retried), not just this item.
            Err(
                e @ (CoreError::Database(_) | CoreError::Contended(_) | CoreError::Internal(_)),
            ) => {
                return Err(e);
            }
            Err(e) => {
                savepoint.rollback().await?;
                out.push(Recorded {
                    outcome: RecordOutcome::Failed,
                    result: Err(e),
                });
            }
        }
    }
    // Scores and qualification once per person and account, not per item.
    scoring::rescore(txn, ws, touched).await?;
    Ok(out)
}
