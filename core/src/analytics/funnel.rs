//! The funnel: per stage of a model, the accounts that entered it within a
//! window, how many moved on, and how long they stayed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{stage, stage_transition};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{Segment, Window, percentile, seconds};
use crate::{CoreResult, time};

/// One account's move into a stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move {
    pub account: Uuid,
    pub stage: Uuid,
    pub at: DateTime<Utc>,
}

/// How accounts went through one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Accounts that entered the stage.
    pub entered: usize,
    /// Of those, accounts that moved on to another stage.
    pub moved_on: usize,
    /// `moved_on / entered`; `None` when none entered.
    pub conversion: Option<f64>,
    /// `1 - conversion`.
    pub drop_off: Option<f64>,
    /// The median time in the stage of the accounts that moved on, in seconds
    /// (nearest rank).
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same times, in seconds (nearest rank).
    pub p90_seconds: Option<f64>,
}

/// One active stage of the model with its flow.
#[derive(Debug, Clone)]
pub struct FunnelStage {
    pub stage: stage::Model,
    pub flow: Flow,
}

/// The funnel of `model` (a model of the workspace) over the window, for the
/// segment's accounts: one entry per active stage, by position.
pub async fn funnel(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
    segment: &Segment,
) -> CoreResult<Vec<FunnelStage>> {
    let stages = active_stages(db, workspace, model).await?;
    let moves = moves(db, workspace, model, window, segment).await?;
    let ids: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    Ok(stages
        .into_iter()
        .zip(flows(&ids, &moves))
        .map(|(stage, flow)| FunnelStage { stage, flow })
        .collect())
}

/// The model's active stages, by position.
async fn active_stages(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
) -> CoreResult<Vec<stage::Model>> {
    Ok(stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(workspace))
        .filter(stage::Column::ModelId.eq(model))
        .filter(stage::Column::ArchivedAt.is_null())
        .order_by_asc(stage::Column::Position)
        .all(db)
        .await?)
}

/// The segment's moves through the model's sequence within the window, by
/// account then time.
pub(crate) async fn moves(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
    segment: &Segment,
) -> CoreResult<Vec<Move>> {
    let mut query = stage_transition::Entity::find()
        .filter(stage_transition::Column::WorkspaceId.eq(workspace))
        .filter(stage_transition::Column::ModelId.eq(model))
        // The sequence: entering a phase beside it leaves no stage.
        .filter(stage_transition::Column::Phase.eq(false))
        // Only the window's moves: an entry within it and the move that ended
        // it (before `to`) both lie inside, so history before `from` is never read.
        .filter(stage_transition::Column::OccurredAt.gte(time::to_micros(window.from)))
        .filter(stage_transition::Column::OccurredAt.lt(time::to_micros(window.to)))
        .order_by_asc(stage_transition::Column::AccountId)
        .order_by_asc(stage_transition::Column::OccurredAt)
        .order_by_asc(stage_transition::Column::Id);
    if let Some(accounts) = segment.accounts(workspace) {
        query = query.filter(stage_transition::Column::AccountId.in_subquery(accounts));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|t| Move {
            account: t.account_id,
            stage: t.to_stage_id,
            at: t.occurred_at,
        })
        .collect())
}

/// When each account entered each stage and when it left, by stage then
/// account, from moves sorted by account then time: an account's next move
/// is when it left. An account that loops back into a stage counts once, by
/// its first entry.
pub(crate) fn visits(moves: &[Move]) -> HashMap<Uuid, HashMap<Uuid, Visit>> {
    let mut visits: HashMap<Uuid, HashMap<Uuid, Visit>> = HashMap::new();
    for (i, m) in moves.iter().enumerate() {
        let left = moves
            .get(i + 1)
            .filter(|n| n.account == m.account)
            .map(|n| n.at);
        visits
            .entry(m.stage)
            .or_default()
            .entry(m.account)
            .or_insert(Visit {
                entered: m.at,
                left,
            });
    }
    visits
}

/// One account's time in one stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Visit {
    pub entered: DateTime<Utc>,
    /// When it moved on; `None` while it is still there (or left after the window).
    pub left: Option<DateTime<Utc>>,
}

/// The flow through each of `stages`, in the same order, from moves sorted by
/// account then time (see `visits`).
pub fn flows(stages: &[Uuid], moves: &[Move]) -> Vec<Flow> {
    let mut visits = visits(moves);
    stages
        .iter()
        .map(|s| {
            let visits = visits.remove(s).unwrap_or_default();
            let entered = visits.len();
            let mut durations: Vec<f64> = visits
                .values()
                .filter_map(|v| v.left.map(|l| seconds(v.entered, l)))
                .collect();
            durations.sort_by(f64::total_cmp);
            let moved_on = durations.len();
            let conversion = (entered > 0).then(|| moved_on as f64 / entered as f64);
            Flow {
                entered,
                moved_on,
                conversion,
                drop_off: conversion.map(|c| 1.0 - c),
                median_seconds: percentile(&durations, 0.5),
                p90_seconds: percentile(&durations, 0.9),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// `seconds` after 2026-03-01T10:00:00Z.
    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_359_200 + seconds, 0).unwrap()
    }

    fn mv(account: u128, stage: u128, seconds: i64) -> Move {
        Move {
            account: id(account),
            stage: id(stage),
            at: at(seconds),
        }
    }

    #[test]
    fn counts_entries_moves_and_times_per_stage() {
        let (a, b, c, d) = (10, 20, 30, 40);
        let moves = [
            // Account 1: A, 100 s later B, 300 s later C.
            mv(1, a, 0),
            mv(1, b, 100),
            mv(1, c, 400),
            // Account 2: A, 200 s later B, still there.
            mv(2, a, 10),
            mv(2, b, 210),
            // Account 3: still in A.
            mv(3, a, 20),
        ];
        let flows = flows(&[id(a), id(b), id(c), id(d)], &moves);
        let stage_a = Flow {
            entered: 3,
            moved_on: 2,
            conversion: Some(2.0 / 3.0),
            drop_off: Some(1.0 - 2.0 / 3.0),
            // Times [100, 200]: ranks ceil(1.0) = 1 and ceil(1.8) = 2.
            median_seconds: Some(100.0),
            p90_seconds: Some(200.0),
        };
        let stage_b = Flow {
            entered: 2,
            moved_on: 1,
            conversion: Some(0.5),
            drop_off: Some(0.5),
            median_seconds: Some(300.0),
            p90_seconds: Some(300.0),
        };
        let stage_c = Flow {
            entered: 1,
            moved_on: 0,
            conversion: Some(0.0),
            drop_off: Some(1.0),
            median_seconds: None,
            p90_seconds: None,
        };
        let stage_d = Flow {
            entered: 0,
            moved_on: 0,
            conversion: None,
            drop_off: None,
            median_seconds: None,
            p90_seconds: None,
        };
        assert_eq!(flows, vec![stage_a, stage_b, stage_c, stage_d]);
    }

    #[test]
    fn an_account_looping_back_counts_once_by_its_first_entry() {
        let (a, b) = (10, 20);
        let moves = [mv(1, a, 0), mv(1, b, 10), mv(1, a, 50), mv(1, b, 60)];
        let flows = flows(&[id(a), id(b)], &moves);
        // A: entered at 0, left at 10. B: entered at 10, left at 50.
        assert_eq!(
            (flows[0].entered, flows[0].moved_on, flows[0].median_seconds),
            (1, 1, Some(10.0))
        );
        assert_eq!(
            (flows[1].entered, flows[1].moved_on, flows[1].median_seconds),
            (1, 1, Some(40.0))
        );
    }
}
