//! Accounts bouncing between marketing and sales: within one stay in a stage
//! of a model's sequence, the owner team of their touchpoints switched from
//! MARKETING to SALES or back at least a given number of times in a window.
//!
//! Four statements whatever the number of accounts: the sequence, the stays
//! overlapping the window, those accounts' MARKETING and SALES touchpoints
//! within the window (four columns, along the (account, team, time) index),
//! and the bouncing accounts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::OwnerTeam;
use entity::{account, stage, stage_transition, touchpoint};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, QueryFilter, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

use super::{Window, accounts_by_id, scalar, sequence, stay_end};
use crate::{CoreError, CoreResult, time};

/// The largest `minSwitches` accepted.
pub const MAX_MIN_SWITCHES: i32 = 100;

/// The teams whose alternation counts.
const TEAMS: [OwnerTeam; 2] = [OwnerTeam::Marketing, OwnerTeam::Sales];

/// `min_switches` checked: from 1 to [`MAX_MIN_SWITCHES`].
pub fn check_min_switches(min_switches: i32) -> CoreResult<usize> {
    match usize::try_from(min_switches) {
        Ok(n) if (1..=MAX_MIN_SWITCHES as usize).contains(&n) => Ok(n),
        _ => Err(CoreError::invalid_field(
            "minSwitches",
            format!("`minSwitches` must be from 1 to {MAX_MIN_SWITCHES}"),
        )),
    }
}

/// A MARKETING or SALES touchpoint, as far as switches need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeamTouch {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub team: OwnerTeam,
}

/// A touchpoint whose team differs from the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Switch {
    /// When the touchpoint occurred.
    pub at: DateTime<Utc>,
    /// The previous touchpoint's team.
    pub from: OwnerTeam,
    /// This touchpoint's team.
    pub to: OwnerTeam,
    /// The touchpoint that switched.
    pub touchpoint: Uuid,
}

/// The switches among `touches`, in order (by time, then id).
pub fn switches(touches: &[TeamTouch]) -> Vec<Switch> {
    touches
        .windows(2)
        .filter(|pair| pair[0].team != pair[1].team)
        .map(|pair| Switch {
            at: pair[1].at,
            from: pair[0].team,
            to: pair[1].team,
            touchpoint: pair[1].id,
        })
        .collect()
}

/// One account's stay in a stage with its switches within the window.
#[derive(Debug, Clone)]
pub struct Bounce {
    /// The move that began the stay.
    pub stay: Uuid,
    pub account: account::Model,
    pub stage: stage::Model,
    /// When the stay began (possibly before the window).
    pub entered_at: DateTime<Utc>,
    /// The switches within the stay and the window, oldest first.
    pub switches: Vec<Switch>,
}

/// A stay as the statement returns it.
struct Stay {
    id: Uuid,
    account: Uuid,
    stage: Uuid,
    entered_at: DateTime<Utc>,
    left_at: Option<DateTime<Utc>>,
}

/// The stays in `model`'s sequence (a model of the workspace) overlapping the
/// window with at least `min_switches` switches between MARKETING and SALES
/// within the stay and the window; most switches first, then by the move
/// that began the stay (ids are time-ordered).
pub async fn bouncing(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
    min_switches: i32,
) -> CoreResult<Vec<Bounce>> {
    let min_switches = check_min_switches(min_switches)?;
    let sequence = sequence(db, workspace, model).await?;
    let stays = stays(db, workspace, model, window, &sequence).await?;
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    let mut account_ids: Vec<Uuid> = stays.iter().map(|s| s.account).collect();
    account_ids.sort();
    account_ids.dedup();
    let touches = team_touches(db, workspace, &account_ids, window).await?;
    let mut found: Vec<(Stay, Vec<Switch>)> = Vec::new();
    for stay in stays {
        let during: Vec<TeamTouch> = touches
            .get(&stay.account)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|t| t.at >= stay.entered_at && stay.left_at.is_none_or(|l| t.at < l))
            .copied()
            .collect();
        let switches = switches(&during);
        if switches.len() >= min_switches {
            found.push((stay, switches));
        }
    }
    let ids: Vec<Uuid> = found.iter().map(|(s, _)| s.account).collect();
    let accounts = if ids.is_empty() {
        HashMap::new()
    } else {
        accounts_by_id(db, workspace, &ids).await?
    };
    let stages: HashMap<Uuid, stage::Model> = sequence.into_iter().map(|s| (s.id, s)).collect();
    let mut bounces: Vec<Bounce> = found
        .into_iter()
        .filter_map(|(stay, switches)| {
            Some(Bounce {
                stay: stay.id,
                account: accounts.get(&stay.account).cloned()?,
                stage: stages.get(&stay.stage).cloned()?,
                entered_at: stay.entered_at,
                switches,
            })
        })
        .collect();
    bounces.sort_by_key(|b| (std::cmp::Reverse(b.switches.len()), b.stay));
    Ok(bounces)
}

/// The stays in the sequence's stages that overlap the window: begun before
/// its end and not ended by its start, each with when it ended.
async fn stays(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
    sequence: &[stage::Model],
) -> CoreResult<Vec<Stay>> {
    let mut out = Vec::new();
    for row in db
        .query_all(&stays_statement(workspace, model, window, sequence))
        .await?
    {
        out.push(Stay {
            id: row.try_get("", "stay_id")?,
            account: row.try_get("", "account_id")?,
            stage: row.try_get("", "stage_id")?,
            entered_at: row.try_get("", "entered_at")?,
            left_at: row.try_get("", "left_at")?,
        });
    }
    Ok(out)
}

fn stays_statement(
    workspace: Uuid,
    model: Uuid,
    window: Window,
    sequence: &[stage::Model],
) -> SelectStatement {
    use stage_transition::Column as T;
    let st = Alias::new("st");
    let col = |c: T| Expr::col((st.clone(), c));
    let mut ended_before = stay_end(&st);
    ended_before.and_where(
        Expr::col((Alias::new("nx"), T::OccurredAt)).lte(time::to_micros(window.from())),
    );
    Query::select()
        .expr_as(col(T::Id), Alias::new("stay_id"))
        .expr_as(col(T::AccountId), Alias::new("account_id"))
        .expr_as(col(T::ToStageId), Alias::new("stage_id"))
        .expr_as(col(T::OccurredAt), Alias::new("entered_at"))
        .expr_as(scalar(stay_end(&st)), Alias::new("left_at"))
        .from_as(stage_transition::Entity, st.clone())
        .and_where(col(T::WorkspaceId).eq(workspace))
        .and_where(col(T::ModelId).eq(model))
        .and_where(col(T::Phase).eq(false))
        .and_where(col(T::ToStageId).is_in(sequence.iter().map(|s| s.id)))
        .and_where(col(T::OccurredAt).lt(time::to_micros(window.to())))
        .and_where(Expr::exists(ended_before).not())
        .order_by((st.clone(), T::OccurredAt), Order::Asc)
        .order_by((st, T::Id), Order::Asc)
        .to_owned()
}

/// The accounts' MARKETING and SALES touchpoints within the window, by
/// account, each oldest first (by time, then id).
async fn team_touches(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    accounts: &[Uuid],
    window: Window,
) -> CoreResult<HashMap<Uuid, Vec<TeamTouch>>> {
    use touchpoint::Column as C;
    let stmt = team_touches_statement(workspace, accounts, window);
    let mut out: HashMap<Uuid, Vec<TeamTouch>> = HashMap::new();
    for row in db.query_all(&stmt).await? {
        let account: Uuid = row.try_get("", C::AccountId.as_str())?;
        out.entry(account).or_default().push(TeamTouch {
            id: row.try_get("", C::Id.as_str())?,
            at: row.try_get("", C::OccurredAt.as_str())?,
            team: row.try_get("", C::OwnerTeam.as_str())?,
        });
    }
    for touches in out.values_mut() {
        touches.sort_by_key(|t| (t.at, t.id));
    }
    Ok(out)
}

/// The statement [`team_touches`] runs: only the four columns switches need,
/// one range of the (account, team, time) index per account and team. It
/// leaves the order to memory: asked to sort by time, the backends would
/// rather walk the (account, time) index through every team's touchpoints.
pub fn team_touches_statement(
    workspace: Uuid,
    accounts: &[Uuid],
    window: Window,
) -> SelectStatement {
    use touchpoint::Column as C;
    touchpoint::Entity::find()
        .select_only()
        .columns([C::AccountId, C::Id, C::OccurredAt, C::OwnerTeam])
        .filter(C::WorkspaceId.eq(workspace))
        .filter(C::AccountId.is_in(accounts.iter().copied()))
        .filter(C::OwnerTeam.is_in(TEAMS.iter().map(ActiveEnum::to_value)))
        .filter(C::OccurredAt.gte(time::to_micros(window.from())))
        .filter(C::OccurredAt.lt(time::to_micros(window.to())))
        .into_query()
}

#[cfg(test)]
mod tests {
    use super::*;
    use OwnerTeam::{Marketing, Sales};

    fn touch(n: u128, minute: i64, team: OwnerTeam) -> TeamTouch {
        TeamTouch {
            id: Uuid::from_u128(n),
            at: DateTime::from_timestamp(1_772_359_200 + minute * 60, 0).unwrap(),
            team,
        }
    }

    #[test]
    fn a_switch_is_a_change_of_team_from_one_touchpoint_to_the_next() {
        // M, M, S, M, M, S: switches at 3 (M→S), 4 (S→M) and 6 (M→S).
        let touches = [
            touch(1, 0, Marketing),
            touch(2, 1, Marketing),
            touch(3, 2, Sales),
            touch(4, 3, Marketing),
            touch(5, 4, Marketing),
            touch(6, 5, Sales),
        ];
        let found: Vec<(u128, OwnerTeam, OwnerTeam)> = switches(&touches)
            .iter()
            .map(|s| (s.touchpoint.as_u128(), s.from, s.to))
            .collect();
        assert_eq!(
            found,
            [
                (3, Marketing, Sales),
                (4, Sales, Marketing),
                (6, Marketing, Sales)
            ]
        );
        assert!(switches(&touches[..2]).is_empty());
        assert!(switches(&[]).is_empty());
    }

    #[test]
    fn min_switches_is_from_one_to_a_hundred() {
        assert_eq!(check_min_switches(1).unwrap(), 1);
        assert_eq!(check_min_switches(100).unwrap(), 100);
        for bad in [0, -1, 101] {
            let err = check_min_switches(bad).unwrap_err();
            assert!(matches!(
                err,
                CoreError::InvalidInput {
                    field: Some("minSwitches"),
                    ..
                }
            ));
        }
    }
}
