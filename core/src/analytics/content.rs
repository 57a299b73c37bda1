//! Content effectiveness: per asset, the accounts it reached, the stage they
//! were in, and how those stays ended beside the stays it did not reach.
//!
//! The stays are the funnel's: an account's first entry into a stage of the
//! model's sequence (as `sequence` gives it) within the window, ended by its
//! next move; a second entry into the same stage is not a second stay here,
//! where `stage_insights` counts every entry. An asset
//! **reached** a stay when the account had a touchpoint naming the asset while
//! in the stage, before the window's end. A stay **moved on** when its next
//! move came before the window's end; it was **won** when the account became
//! a CUSTOMER at or after entering the stage and before the window's end.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::vocab::Lifecycle;
use entity::{stage, touchpoint};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::funnel::{Visit, moves, visits};
use super::sales_engagement::AssetRef;
use super::{Segment, Window, accounts_becoming, sequence};
use crate::{CoreResult, time};

/// How a group of stays ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcomes {
    /// Stays counted.
    pub stays: usize,
    /// Of those, the stays that moved on to another stage.
    pub moved_on: usize,
    /// Of those, the stays whose account was won.
    pub won: usize,
}

impl Outcomes {
    /// `moved_on / stays`; `None` without stays.
    pub fn moved_on_share(&self) -> Option<f64> {
        (self.stays > 0).then(|| self.moved_on as f64 / self.stays as f64)
    }

    /// `won / stays`; `None` without stays.
    pub fn won_share(&self) -> Option<f64> {
        (self.stays > 0).then(|| self.won as f64 / self.stays as f64)
    }

    fn add(&mut self, moved_on: bool, won: bool) {
        self.stays += 1;
        self.moved_on += usize::from(moved_on);
        self.won += usize::from(won);
    }
}

/// The stays an asset reached beside those it did not.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Comparison {
    pub reached: Outcomes,
    pub not_reached: Outcomes,
}

/// One stage's comparison for one asset.
#[derive(Debug, Clone)]
pub struct StageEffect {
    pub stage: stage::Model,
    pub comparison: Comparison,
}

/// One asset's effect.
#[derive(Debug, Clone)]
pub struct AssetEffect {
    /// Its newest title and address within the window.
    pub asset: AssetRef,
    /// Touchpoints naming it within the window, on an account.
    pub touchpoints: usize,
    /// Distinct accounts those touchpoints were on, in a stay or not.
    pub accounts_reached: usize,
    /// Every stage's stays together.
    pub overall: Comparison,
    /// The stages (by position) where it reached at least one stay.
    pub stages: Vec<StageEffect>,
}

/// One touchpoint naming an asset.
#[derive(Debug, Clone)]
pub struct AssetTouch {
    pub account: Uuid,
    pub at: DateTime<Utc>,
    pub asset: AssetRef,
}

/// Content effectiveness within the window, most-reaching asset first: four
/// statements (the model's sequence, the window's moves, its asset touchpoints through the
/// partial asset index, its CUSTOMER changes), whatever the number of assets.
pub async fn content_effectiveness(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
) -> CoreResult<Vec<AssetEffect>> {
    let stages = sequence(db, workspace, model).await?;
    let moves = moves(db, workspace, model, window, &Segment::default()).await?;
    use touchpoint::Column as T;
    type Row = (
        Option<Uuid>,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = touchpoint::Entity::find()
        .select_only()
        .columns([
            T::AccountId,
            T::OccurredAt,
            T::AssetKey,
            T::AssetTitle,
            T::AssetUrl,
        ])
        .filter(T::WorkspaceId.eq(workspace))
        .filter(T::AssetKey.is_not_null())
        .filter(T::OccurredAt.gte(time::to_micros(window.from())))
        .filter(T::OccurredAt.lt(time::to_micros(window.to())))
        .order_by_asc(T::OccurredAt)
        .order_by_asc(T::Id)
        .into_tuple()
        .all(db)
        .await?;
    let touches: Vec<AssetTouch> = rows
        .into_iter()
        .filter_map(|(account, at, key, title, url)| {
            Some(AssetTouch {
                account: account?,
                at,
                asset: AssetRef {
                    key: key?,
                    title,
                    url,
                },
            })
        })
        .collect();
    let mut won_at: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for change in accounts_becoming(db, workspace, &[Lifecycle::Customer], window).await? {
        if let Some(account) = change.account_id {
            won_at.entry(account).or_insert(change.occurred_at);
        }
    }
    let visits = visits(&moves);
    Ok(effects(&stages, &visits, &touches, &won_at, window.to()))
}

/// The effect of each asset in `touches` (oldest first) on the stays in
/// `visits` (by stage, then account), given when accounts were won and the
/// window's end.
pub(crate) fn effects(
    stages: &[stage::Model],
    visits: &HashMap<Uuid, HashMap<Uuid, Visit>>,
    touches: &[AssetTouch],
    won_at: &HashMap<Uuid, DateTime<Utc>>,
    end: DateTime<Utc>,
) -> Vec<AssetEffect> {
    /// One asset's touches: the newest, how many, and each account's times.
    struct Reach<'a> {
        newest: &'a AssetTouch,
        count: usize,
        times: HashMap<Uuid, Vec<DateTime<Utc>>>,
    }
    let mut by_asset: BTreeMap<&str, Reach<'_>> = BTreeMap::new();
    for t in touches {
        let reach = by_asset
            .entry(t.asset.key.as_str())
            .or_insert_with(|| Reach {
                newest: t,
                count: 0,
                times: HashMap::new(),
            });
        reach.newest = t;
        reach.count += 1;
        reach.times.entry(t.account).or_default().push(t.at);
    }
    let mut effects: Vec<AssetEffect> = by_asset
        .into_values()
        .map(
            |Reach {
                 newest,
                 count,
                 times,
             }| {
                let mut overall = Comparison::default();
                let mut per_stage = Vec::new();
                for stage in stages {
                    let Some(stays) = visits.get(&stage.id) else {
                        continue;
                    };
                    let mut comparison = Comparison::default();
                    for (account, visit) in stays {
                        let until = visit.left.unwrap_or(end).min(end);
                        let reached = times
                            .get(account)
                            .is_some_and(|ts| ts.iter().any(|t| *t >= visit.entered && *t < until));
                        let moved_on = visit.left.is_some_and(|l| l < end);
                        let won = won_at
                            .get(account)
                            .is_some_and(|w| *w >= visit.entered && *w < end);
                        for c in [&mut comparison, &mut overall] {
                            let group = if reached {
                                &mut c.reached
                            } else {
                                &mut c.not_reached
                            };
                            group.add(moved_on, won);
                        }
                    }
                    if comparison.reached.stays > 0 {
                        per_stage.push(StageEffect {
                            stage: stage.clone(),
                            comparison,
                        });
                    }
                }
                AssetEffect {
                    asset: newest.asset.clone(),
                    touchpoints: count,
                    accounts_reached: times.len(),
                    overall,
                    stages: per_stage,
                }
            },
        )
        .collect();
    effects.sort_by(|a, b| {
        (std::cmp::Reverse(a.accounts_reached), &a.asset.key)
            .cmp(&(std::cmp::Reverse(b.accounts_reached), &b.asset.key))
    });
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::vocab::OwnerTeam;

    fn day(d: u32) -> DateTime<Utc> {
        format!("2026-03-{d:02}T12:00:00Z").parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn stage(n: u128, position: i32) -> stage::Model {
        stage::Model {
            id: id(n),
            workspace_id: id(0),
            model_id: id(0),
            parent_stage_id: None,
            key: format!("s{n}"),
            name: format!("Stage {n}"),
            position,
            owner_team: OwnerTeam::Sales,
            target_duration_secs: None,
            continuous: false,
            entry_kinds: serde_json::json!([]),
            entry_channels: serde_json::json!([]),
            playbook: serde_json::json!([]),
            archived_at: None,
        }
    }

    fn roi(account: u128, d: u32) -> AssetTouch {
        AssetTouch {
            account: id(account),
            at: day(d),
            asset: AssetRef {
                key: "roi".into(),
                title: Some(format!("ROI guide, day {d}")),
                url: None,
            },
        }
    }

    #[test]
    fn an_asset_in_two_of_three_won_deals_and_none_of_two_lost() {
        let (proposal, closed) = (stage(1, 0), stage(2, 1));
        let end = day(31);
        // Five accounts entered the proposal stage on day 2; 1, 2 and 3 were
        // won (moving to `closed` on day 20), 4 and 5 are still there (lost,
        // never won).
        let mut in_proposal = HashMap::new();
        let mut in_closed = HashMap::new();
        for a in 1..=5 {
            let won = a <= 3;
            let left = won.then(|| day(20));
            in_proposal.insert(
                id(a),
                Visit {
                    entered: day(2),
                    left,
                },
            );
            if won {
                in_closed.insert(
                    id(a),
                    Visit {
                        entered: day(20),
                        left: None,
                    },
                );
            }
        }
        let visits = HashMap::from([(id(1), in_proposal), (id(2), in_closed)]);
        let won_at: HashMap<Uuid, DateTime<Utc>> = (1..=3).map(|a| (id(a), day(20))).collect();
        // The guide reached 1 and 2 in the proposal stage; 4 got it on day 1,
        // before its stay began, and 6 has no stay at all.
        let touches = [roi(4, 1), roi(1, 5), roi(2, 6), roi(1, 7), roi(6, 8)];

        let effects = effects(&[proposal, closed], &visits, &touches, &won_at, end);

        assert_eq!(effects.len(), 1);
        let e = &effects[0];
        assert_eq!(e.asset.title.as_deref(), Some("ROI guide, day 8"));
        assert_eq!((e.touchpoints, e.accounts_reached), (5, 4));
        // Only the proposal stage was reached: 2 stays, both moved on and won;
        // of the 3 it missed, one moved on and was won.
        assert_eq!(e.stages.len(), 1);
        assert_eq!(e.stages[0].stage.id, id(1));
        let c = e.stages[0].comparison;
        let reached = Outcomes {
            stays: 2,
            moved_on: 2,
            won: 2,
        };
        let missed = Outcomes {
            stays: 3,
            moved_on: 1,
            won: 1,
        };
        assert_eq!((c.reached, c.not_reached), (reached, missed));
        assert_eq!(c.reached.won_share(), Some(1.0));
        assert_eq!(c.not_reached.won_share(), Some(1.0 / 3.0));
        // Overall adds the three stays in `closed`, none reached, none moved
        // on (still there), all won after entering it.
        let missed_overall = Outcomes {
            stays: 6,
            moved_on: 1,
            won: 4,
        };
        assert_eq!(e.overall.not_reached, missed_overall);
        assert_eq!(e.overall.reached, reached);
    }

    #[test]
    fn no_stays_have_no_shares() {
        assert_eq!(Outcomes::default().moved_on_share(), None);
        assert_eq!(Outcomes::default().won_share(), None);
    }
}
