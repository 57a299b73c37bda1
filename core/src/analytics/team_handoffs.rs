//! Hand-offs between teams along a model's sequence: wherever the owner team
//! changes from one stage to the next, how long the accounts that crossed
//! into the later stage within a window waited for its team's first
//! touchpoint.
//!
//! A handful of statements whatever the number of accounts or boundaries:
//! the sequence, the crossings with each one's first touch and whether the
//! account is still there, those touchpoints, and the accounts.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{account, stage, stage_position, stage_transition, touchpoint};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement,
};
use uuid::Uuid;

use super::handoff::{Gaps, Handoff, gaps};
use super::{Window, accounts_by_id, scalar, seconds, sequence};
use crate::{CoreResult, batch, time};

/// Two adjacent stages of a model's sequence owned by different teams.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// The earlier stage, owned by the team handing off.
    pub from: stage::Model,
    /// The later stage, owned by the team taking over.
    pub to: stage::Model,
}

/// Each pair of adjacent stages of `sequence` (by position) whose owner
/// teams differ, in the sequence's order.
pub fn boundaries(sequence: &[stage::Model]) -> Vec<Boundary> {
    sequence
        .windows(2)
        .filter(|pair| pair[0].owner_team != pair[1].owner_team)
        .map(|pair| Boundary {
            from: pair[0].clone(),
            to: pair[1].clone(),
        })
        .collect()
}

/// One account's first crossing of a boundary within the window.
#[derive(Debug, Clone)]
pub struct Crossing {
    pub account: account::Model,
    /// When it first moved into the later stage within the window.
    pub crossed_at: DateTime<Utc>,
    /// The later stage's team's first touchpoint on the account at or after
    /// the crossing; `None` while none came.
    pub first_touch: Option<touchpoint::Model>,
    /// Whether the account is in the later stage now.
    pub still_there: bool,
}

impl Crossing {
    /// Touched, waiting (untouched and still in the stage) or left
    /// (untouched and gone from it).
    pub fn handoff(&self) -> Handoff {
        match self.gap_seconds() {
            Some(gap) => Handoff::Touched(gap),
            None if self.still_there => Handoff::Waiting,
            None => Handoff::Left,
        }
    }

    /// Seconds from the crossing to the new team's first touch; `None` while
    /// untouched.
    pub fn gap_seconds(&self) -> Option<f64> {
        self.first_touch
            .as_ref()
            .map(|t| seconds(self.crossed_at, t.occurred_at))
    }
}

/// One boundary with the accounts that crossed it.
#[derive(Debug, Clone)]
pub struct TeamHandoff {
    pub boundary: Boundary,
    /// Each account once, at its first crossing, by crossing time then
    /// account id.
    pub crossings: Vec<Crossing>,
    pub gaps: Gaps,
}

/// A move into a boundary's later stage, as the statement returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossingRow {
    pub account: Uuid,
    pub stage: Uuid,
    pub at: DateTime<Utc>,
    pub first_touch: Option<Uuid>,
    pub still_there: bool,
}

/// Each account once per stage, at its first move into it, from rows in
/// time order.
pub fn first_crossings(rows: Vec<CrossingRow>) -> Vec<CrossingRow> {
    let mut seen = HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert((r.account, r.stage)))
        .collect()
}

/// The hand-offs between teams in `model` (a model of the workspace) within
/// the window: one entry per boundary of its sequence, in order, crossed or
/// not.
pub async fn team_handoffs(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
) -> CoreResult<Vec<TeamHandoff>> {
    let sequence = sequence(db, workspace, model).await?;
    let boundaries = boundaries(&sequence);
    if boundaries.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = crossings_statement(workspace, model, window, &sequence);
    let mut rows = Vec::new();
    for row in db.query_all(&stmt).await? {
        rows.push(CrossingRow {
            account: row.try_get("", "account_id")?,
            stage: row.try_get("", "stage_id")?,
            at: row.try_get("", "crossed_at")?,
            first_touch: row.try_get("", "first_touch")?,
            still_there: row.try_get("", "still_there")?,
        });
    }
    let rows = first_crossings(rows);
    let touch_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.first_touch).collect();
    let touches: HashMap<Uuid, touchpoint::Model> = if touch_ids.is_empty() {
        HashMap::new()
    } else {
        batch::touchpoints(db, workspace, &touch_ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect()
    };
    let account_ids: Vec<Uuid> = rows.iter().map(|r| r.account).collect();
    let accounts = if account_ids.is_empty() {
        HashMap::new()
    } else {
        accounts_by_id(db, workspace, &account_ids).await?
    };
    Ok(boundaries
        .into_iter()
        .map(|boundary| {
            let mut crossings: Vec<Crossing> = rows
                .iter()
                .filter(|r| r.stage == boundary.to.id)
                .filter_map(|r| {
                    Some(Crossing {
                        account: accounts.get(&r.account).cloned()?,
                        crossed_at: r.at,
                        first_touch: r.first_touch.and_then(|id| touches.get(&id).cloned()),
                        still_there: r.still_there,
                    })
                })
                .collect();
            crossings.sort_by_key(|c| (c.crossed_at, c.account.id));
            let gaps = gaps(crossings.iter().map(Crossing::handoff));
            TeamHandoff {
                boundary,
                crossings,
                gaps,
            }
        })
        .collect())
}

/// The moves within the window into each boundary's later stage of
/// `sequence` (the model's, by position) from a stage before it there (an
/// account's first placement, from no stage, is no hand-off; skipping stages
/// is), oldest first, each with the later stage's team's first touchpoint at
/// or after it (one short range of the (account, team, time) index per move)
/// and whether the account is in that stage now: columns `account_id`,
/// `stage_id`, `crossed_at`, `first_touch` and `still_there`.
pub fn crossings_statement(
    workspace: Uuid,
    model: Uuid,
    window: Window,
    sequence: &[stage::Model],
) -> SelectStatement {
    use stage_transition::Column as T;
    let (st, to_stage) = (Alias::new("st"), Alias::new("to_stage"));
    let col = |c: T| Expr::col((st.clone(), c));
    let mut into_from_earlier = Condition::any();
    for b in boundaries(sequence) {
        let earlier = sequence
            .iter()
            .filter(|s| s.position < b.to.position)
            .map(|s| s.id);
        into_from_earlier = into_from_earlier.add(
            Condition::all()
                .add(col(T::ToStageId).eq(b.to.id))
                .add(col(T::FromStageId).is_in(earlier)),
        );
    }
    let tp = Alias::new("tp");
    let tp_col = |c: touchpoint::Column| Expr::col((tp.clone(), c));
    let first_touch = Query::select()
        .expr(tp_col(touchpoint::Column::Id))
        .from_as(touchpoint::Entity, tp.clone())
        .and_where(tp_col(touchpoint::Column::WorkspaceId).eq(workspace))
        .and_where(tp_col(touchpoint::Column::AccountId).equals((st.clone(), T::AccountId)))
        .and_where(
            tp_col(touchpoint::Column::OwnerTeam)
                .equals((to_stage.clone(), stage::Column::OwnerTeam)),
        )
        .and_where(tp_col(touchpoint::Column::OccurredAt).gte(col(T::OccurredAt)))
        // Time alone, so the walk stays on the (account, team, time) index,
        // which has no id: of touchpoints at the same instant any one is
        // first, with the same gap.
        .order_by((tp.clone(), touchpoint::Column::OccurredAt), Order::Asc)
        .limit(1)
        .to_owned();
    let p = Alias::new("p");
    let p_col = |c: stage_position::Column| Expr::col((p.clone(), c));
    let still_there = Query::select()
        .expr(Expr::val(1))
        .from_as(stage_position::Entity, p.clone())
        .and_where(p_col(stage_position::Column::WorkspaceId).eq(workspace))
        .and_where(p_col(stage_position::Column::AccountId).equals((st.clone(), T::AccountId)))
        .and_where(p_col(stage_position::Column::ModelId).equals((st.clone(), T::ModelId)))
        .and_where(p_col(stage_position::Column::StageId).equals((st.clone(), T::ToStageId)))
        .and_where(p_col(stage_position::Column::Phase).eq(false))
        .to_owned();
    Query::select()
        .expr_as(col(T::AccountId), Alias::new("account_id"))
        .expr_as(col(T::ToStageId), Alias::new("stage_id"))
        .expr_as(col(T::OccurredAt), Alias::new("crossed_at"))
        .expr_as(scalar(first_touch), Alias::new("first_touch"))
        .expr_as(Expr::exists(still_there), Alias::new("still_there"))
        .from_as(stage_transition::Entity, st.clone())
        .join_as(
            JoinType::InnerJoin,
            stage::Entity,
            to_stage.clone(),
            Expr::col((to_stage.clone(), stage::Column::Id)).equals((st.clone(), T::ToStageId)),
        )
        .and_where(col(T::WorkspaceId).eq(workspace))
        .and_where(col(T::ModelId).eq(model))
        .and_where(col(T::Phase).eq(false))
        .and_where(col(T::OccurredAt).gte(time::to_micros(window.from)))
        .and_where(col(T::OccurredAt).lt(time::to_micros(window.to)))
        .cond_where(into_from_earlier)
        .order_by((st.clone(), T::OccurredAt), Order::Asc)
        .order_by((st, T::Id), Order::Asc)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use entity::vocab::OwnerTeam;

    use super::*;

    fn stage(n: u128, position: i32, team: OwnerTeam) -> stage::Model {
        stage::Model {
            id: Uuid::from_u128(n),
            workspace_id: Uuid::nil(),
            model_id: Uuid::nil(),
            parent_stage_id: None,
            key: format!("s{n}"),
            name: format!("S{n}"),
            position,
            owner_team: team,
            target_duration_secs: None,
            continuous: false,
            entry_kinds: serde_json::json!([]),
            entry_channels: serde_json::json!([]),
            playbook: serde_json::json!([]),
            archived_at: None,
        }
    }

    #[test]
    fn a_boundary_is_where_the_owner_team_changes() {
        use OwnerTeam::{Marketing, Sales, Service};
        let seq = [
            stage(1, 0, Marketing),
            stage(2, 1, Marketing),
            stage(3, 2, Sales),
            stage(4, 3, Service),
        ];
        let pairs: Vec<(i32, i32)> = boundaries(&seq)
            .iter()
            .map(|b| (b.from.position, b.to.position))
            .collect();
        assert_eq!(pairs, [(1, 2), (2, 3)]);
        assert!(boundaries(&seq[..2]).is_empty());
    }

    #[test]
    fn an_account_counts_once_per_stage_at_its_first_crossing() {
        let at = |s: i64| DateTime::from_timestamp(1_772_359_200 + s, 0).unwrap();
        let row = |account: u128, stage: u128, s: i64| CrossingRow {
            account: Uuid::from_u128(account),
            stage: Uuid::from_u128(stage),
            at: at(s),
            first_touch: None,
            still_there: false,
        };
        let rows = vec![row(1, 3, 0), row(1, 4, 10), row(2, 3, 20), row(1, 3, 30)];
        assert_eq!(
            first_crossings(rows),
            [row(1, 3, 0), row(1, 4, 10), row(2, 3, 20)]
        );
    }
}
