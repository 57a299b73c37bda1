//! Sales engagement: what sales did with each account between its hand-off
//! and its outcome, per employee and per account, with the assets they used.
//!
//! An account's **hand-off** is its first change to MQL or SQL; its
//! **outcome** is its first change to CUSTOMER (won) or DISQUALIFIED (lost)
//! from then on, or open while it has neither. Its **engagement** is its
//! SALES-owned touchpoints within the window, at or after the hand-off and not
//! after the outcome.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::touchpoint;
use entity::vocab::{Lifecycle, OwnerTeam};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Window, changes_of};
use crate::{CoreResult, time};

/// How an account's deal ended, as of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It became a CUSTOMER.
    Won,
    /// It was DISQUALIFIED.
    Lost,
    /// Neither yet.
    Open,
}

/// An account's sales period: from its hand-off to its outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SalesPeriod {
    pub handed_off_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// When the outcome came; `None` while open.
    pub outcome_at: Option<DateTime<Utc>>,
}

impl SalesPeriod {
    fn covers(&self, at: DateTime<Utc>) -> bool {
        at >= self.handed_off_at && self.outcome_at.is_none_or(|end| at <= end)
    }
}

/// Each account's sales period, from its lifecycle changes oldest first.
pub fn periods(
    changes: impl IntoIterator<Item = (Uuid, Lifecycle, DateTime<Utc>)>,
) -> HashMap<Uuid, SalesPeriod> {
    let mut periods: HashMap<Uuid, SalesPeriod> = HashMap::new();
    for (account, to, at) in changes {
        match (to, periods.get_mut(&account)) {
            (Lifecycle::Mql | Lifecycle::Sql, None) => {
                periods.insert(
                    account,
                    SalesPeriod {
                        handed_off_at: at,
                        outcome: Outcome::Open,
                        outcome_at: None,
                    },
                );
            }
            (Lifecycle::Customer | Lifecycle::Disqualified, Some(p))
                if p.outcome == Outcome::Open =>
            {
                p.outcome = if to == Lifecycle::Customer {
                    Outcome::Won
                } else {
                    Outcome::Lost
                };
                p.outcome_at = Some(at);
            }
            _ => {}
        }
    }
    periods
}

/// One SALES-owned touchpoint, as far as engagement reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesTouch {
    pub account: Uuid,
    pub actor: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub asset: Option<AssetRef>,
}

/// An asset as a touchpoint recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRef {
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// How often touchpoints used one asset; its title and address are the
/// newest recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetUse {
    pub asset: AssetRef,
    pub touchpoints: usize,
}

/// One account's engagement (of every employee, or of one).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountEngagement {
    pub account: Uuid,
    pub period: SalesPeriod,
    /// SALES-owned touchpoints counted.
    pub touchpoints: usize,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// The employees who made them, by name; `None` for touchpoints without one.
    pub actors: Vec<Option<String>>,
    /// By touchpoints, most first, then key.
    pub assets: Vec<AssetUse>,
}

/// One employee's engagement across accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorEngagement {
    /// `None` gathers the touchpoints that name no employee.
    pub actor: Option<String>,
    pub touchpoints: usize,
    /// Of the accounts engaged, how many were won, lost or are still open.
    pub won: usize,
    pub lost: usize,
    pub open: usize,
    pub assets: Vec<AssetUse>,
    /// This employee's touchpoints per account, by hand-off then account id.
    pub accounts: Vec<AccountEngagement>,
}

/// Sales engagement over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesEngagement {
    /// By touchpoints, most first, then name; the unnamed last.
    pub actors: Vec<ActorEngagement>,
    /// Every engaged account, by hand-off then account id.
    pub accounts: Vec<AccountEngagement>,
}

/// Sales engagement within the window: one statement for the lifecycle
/// changes that bound the accounts' sales periods, one for those accounts'
/// SALES-owned touchpoints in the window (each a range of the account's
/// (team, time) index).
pub async fn sales_engagement(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    window: Window,
) -> CoreResult<SalesEngagement> {
    // Hand-offs may precede the window by any time.
    let changes = changes_of(db, workspace, None, &LIFECYCLES, None, window.to()).await?;
    let mut periods = periods_of(changes);
    periods.retain(|_, p| p.outcome_at.is_none_or(|end| end >= window.from()));
    let touches = sales_touches(db, workspace, &periods, Some(window)).await?;
    Ok(engagement(&periods, touches))
}

/// Each account's engagement over its whole sales period up to now, for the
/// accounts that have one: two statements for any number of accounts.
pub async fn account_engagements(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    accounts: &[Uuid],
    now: DateTime<Utc>,
) -> CoreResult<HashMap<Uuid, AccountEngagement>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let changes = changes_of(db, workspace, Some(accounts), &LIFECYCLES, None, now).await?;
    let periods = periods_of(changes);
    let touches = sales_touches(db, workspace, &periods, None).await?;
    Ok(engagement(&periods, touches)
        .accounts
        .into_iter()
        .map(|a| (a.account, a))
        .collect())
}

/// The lifecycle changes that bound a sales period.
const LIFECYCLES: [Lifecycle; 4] = [
    Lifecycle::Mql,
    Lifecycle::Sql,
    Lifecycle::Customer,
    Lifecycle::Disqualified,
];

fn periods_of(changes: Vec<entity::lifecycle_change::Model>) -> HashMap<Uuid, SalesPeriod> {
    periods(
        changes
            .into_iter()
            .filter_map(|c| Some((c.account_id?, c.to_lifecycle, c.occurred_at))),
    )
}

/// The SALES-owned touchpoints of the accounts with a period, within the
/// window when given, oldest first.
async fn sales_touches(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    periods: &HashMap<Uuid, SalesPeriod>,
    window: Option<Window>,
) -> CoreResult<Vec<SalesTouch>> {
    if periods.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (
        Option<Uuid>,
        Option<String>,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    use touchpoint::Column as T;
    let mut query = touchpoint::Entity::find()
        .select_only()
        .columns([T::AccountId, T::Actor, T::OccurredAt])
        .columns([T::AssetKey, T::AssetTitle, T::AssetUrl])
        .filter(T::WorkspaceId.eq(workspace))
        .filter(T::AccountId.is_in(periods.keys().copied()))
        .filter(T::OwnerTeam.eq(OwnerTeam::Sales));
    if let Some(window) = window {
        query = query
            .filter(T::OccurredAt.gte(time::to_micros(window.from())))
            .filter(T::OccurredAt.lt(time::to_micros(window.to())));
    }
    let rows: Vec<Row> = query
        .order_by_asc(T::OccurredAt)
        .order_by_asc(T::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(account, actor, occurred_at, key, title, url)| {
            Some(SalesTouch {
                account: account?,
                actor,
                occurred_at,
                asset: key.map(|key| AssetRef { key, title, url }),
            })
        })
        .collect())
}

/// The engagement of `touches` (oldest first) within their accounts' periods.
pub fn engagement(
    periods: &HashMap<Uuid, SalesPeriod>,
    touches: Vec<SalesTouch>,
) -> SalesEngagement {
    let counted: Vec<(SalesPeriod, SalesTouch)> = touches
        .into_iter()
        .filter_map(|t| {
            let period = *periods.get(&t.account)?;
            period.covers(t.occurred_at).then_some((period, t))
        })
        .collect();
    let mut by_actor: BTreeMap<Option<String>, Vec<&(SalesPeriod, SalesTouch)>> = BTreeMap::new();
    for pair in &counted {
        by_actor.entry(pair.1.actor.clone()).or_default().push(pair);
    }
    let mut actors: Vec<ActorEngagement> = by_actor
        .into_iter()
        .map(|(actor, touches)| {
            let accounts = per_account(&touches);
            let count = |o: Outcome| accounts.iter().filter(|a| a.period.outcome == o).count();
            ActorEngagement {
                touchpoints: touches.len(),
                won: count(Outcome::Won),
                lost: count(Outcome::Lost),
                open: count(Outcome::Open),
                assets: assets(touches.iter().map(|(_, t)| t)),
                accounts,
                actor,
            }
        })
        .collect();
    actors.sort_by(|a, b| {
        (
            a.actor.is_none(),
            std::cmp::Reverse(a.touchpoints),
            &a.actor,
        )
            .cmp(&(
                b.actor.is_none(),
                std::cmp::Reverse(b.touchpoints),
                &b.actor,
            ))
    });
    let all: Vec<&(SalesPeriod, SalesTouch)> = counted.iter().collect();
    SalesEngagement {
        accounts: per_account(&all),
        actors,
    }
}

/// The touches (oldest first) per account, by hand-off then account id.
fn per_account(touches: &[&(SalesPeriod, SalesTouch)]) -> Vec<AccountEngagement> {
    let mut by_account: HashMap<Uuid, Vec<&(SalesPeriod, SalesTouch)>> = HashMap::new();
    for pair in touches {
        by_account.entry(pair.1.account).or_default().push(pair);
    }
    let mut out: Vec<AccountEngagement> = by_account
        .into_iter()
        .filter_map(|(account, touches)| {
            let (first, last) = (touches.first()?, touches.last()?);
            let mut actors: Vec<Option<String>> =
                touches.iter().map(|(_, t)| t.actor.clone()).collect();
            actors.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
            actors.dedup();
            Some(AccountEngagement {
                account,
                period: first.0,
                touchpoints: touches.len(),
                first_at: first.1.occurred_at,
                last_at: last.1.occurred_at,
                actors,
                assets: assets(touches.iter().map(|(_, t)| t)),
            })
        })
        .collect();
    out.sort_by_key(|a| (a.period.handed_off_at, a.account));
    out
}

/// The assets of touches (oldest first), most used first, then by key.
pub fn assets<'a>(touches: impl IntoIterator<Item = &'a SalesTouch>) -> Vec<AssetUse> {
    let mut uses: BTreeMap<String, AssetUse> = BTreeMap::new();
    for asset in touches.into_iter().filter_map(|t| t.asset.as_ref()) {
        uses.entry(asset.key.clone())
            .and_modify(|u| {
                u.touchpoints += 1;
                u.asset = asset.clone();
            })
            .or_insert(AssetUse {
                asset: asset.clone(),
                touchpoints: 1,
            });
    }
    let mut out: Vec<AssetUse> = uses.into_values().collect();
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.touchpoints), &a.asset.key)
            .cmp(&(std::cmp::Reverse(b.touchpoints), &b.asset.key))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        format!("2026-03-{d:02}T12:00:00Z").parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn touch(account: u128, actor: Option<&str>, d: u32, asset: Option<&str>) -> SalesTouch {
        SalesTouch {
            account: id(account),
            actor: actor.map(str::to_owned),
            occurred_at: day(d),
            asset: asset.map(|key| AssetRef {
                key: key.to_owned(),
                title: Some(format!("{key} (day {d})")),
                url: None,
            }),
        }
    }

    #[test]
    fn a_period_runs_from_the_first_qualification_to_the_first_outcome() {
        let changes = [
            (id(1), Lifecycle::Lead, day(1)),
            (id(1), Lifecycle::Mql, day(2)),
            (id(1), Lifecycle::Sql, day(3)),
            (id(1), Lifecycle::Customer, day(9)),
            (id(1), Lifecycle::Disqualified, day(10)),
            // Lost before it qualified: no period.
            (id(2), Lifecycle::Disqualified, day(2)),
            (id(3), Lifecycle::Sql, day(4)),
            (id(4), Lifecycle::Mql, day(5)),
            (id(4), Lifecycle::Disqualified, day(6)),
        ];
        let periods = periods(changes);
        assert_eq!(periods.len(), 3);
        let won = periods[&id(1)];
        assert_eq!(
            (won.handed_off_at, won.outcome, won.outcome_at),
            (day(2), Outcome::Won, Some(day(9)))
        );
        assert_eq!(periods[&id(3)].outcome, Outcome::Open);
        assert_eq!(periods[&id(4)].outcome, Outcome::Lost);
    }

    #[test]
    fn touches_outside_the_period_are_not_engagement() {
        let periods = HashMap::from([
            (
                id(1),
                SalesPeriod {
                    handed_off_at: day(5),
                    outcome: Outcome::Won,
                    outcome_at: Some(day(20)),
                },
            ),
            (
                id(2),
                SalesPeriod {
                    handed_off_at: day(5),
                    outcome: Outcome::Open,
                    outcome_at: None,
                },
            ),
        ]);
        let touches = vec![
            touch(1, Some("sam"), 4, Some("deck")), // before the hand-off
            touch(1, Some("sam"), 6, Some("roi")),
            touch(1, Some("ria"), 8, None),
            touch(2, Some("sam"), 9, Some("roi")),
            touch(1, Some("sam"), 20, Some("roi")), // the day it was won
            touch(1, Some("sam"), 21, Some("deck")), // after the outcome
            touch(3, Some("sam"), 9, Some("roi")),  // never qualified
            touch(2, None, 10, None),
        ];
        let e = engagement(&periods, touches);

        // sam: 6, 20 on account 1 and 9 on account 2; ria: 8; nobody: 10.
        let names: Vec<(Option<&str>, usize)> = e
            .actors
            .iter()
            .map(|a| (a.actor.as_deref(), a.touchpoints))
            .collect();
        assert_eq!(names, [(Some("sam"), 3), (Some("ria"), 1), (None, 1)]);
        let sam = &e.actors[0];
        assert_eq!((sam.won, sam.lost, sam.open), (1, 0, 1));
        assert_eq!(sam.assets.len(), 1);
        assert_eq!(sam.assets[0].asset.key, "roi");
        assert_eq!(sam.assets[0].touchpoints, 3);
        // The newest title wins.
        assert_eq!(sam.assets[0].asset.title.as_deref(), Some("roi (day 20)"));

        let accounts: Vec<(Uuid, usize)> = e
            .accounts
            .iter()
            .map(|a| (a.account, a.touchpoints))
            .collect();
        assert_eq!(accounts, [(id(1), 3), (id(2), 2)]);
        let first = &e.accounts[0];
        assert_eq!((first.first_at, first.last_at), (day(6), day(20)));
        assert_eq!(
            first.actors,
            [Some("ria".to_owned()), Some("sam".to_owned())]
        );
        assert_eq!(e.accounts[1].actors, [Some("sam".to_owned()), None]);
    }
}
