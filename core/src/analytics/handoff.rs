//! The hand-off gap: how long accounts that became MQLs in a window waited for
//! sales' first touchpoint.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::Lifecycle;
use entity::{account, touchpoint};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    Touch, Window, accounts_becoming, accounts_by_id, first_changes, percentile, seconds,
    touch_around,
};
use crate::CoreResult;
use crate::touchpoints::TouchpointFilter;

/// One account's wait from MQL to sales' first touch.
#[derive(Debug, Clone)]
pub struct HandoffEntry {
    pub account: account::Model,
    /// When it first became an MQL within the window.
    pub mql_at: DateTime<Utc>,
    /// Sales' first touchpoint from then on; `None` while it waits.
    pub first_sales_touch: Option<touchpoint::Model>,
}

/// Where an account that became an MQL stands with sales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Handoff {
    /// Sales touched it this many seconds after the MQL.
    Touched(f64),
    /// Still in qualification (MQL or SQL) with no sales touch yet.
    Waiting,
    /// Left qualification with no sales touch (disqualified, moved back, or
    /// on to a customer): nobody is waiting for it any more.
    Left,
}

impl HandoffEntry {
    /// Where the account stands: touched, waiting, or gone from qualification.
    pub fn handoff(&self) -> Handoff {
        match self.gap_seconds() {
            Some(gap) => Handoff::Touched(gap),
            None if matches!(self.account.lifecycle, Lifecycle::Mql | Lifecycle::Sql) => {
                Handoff::Waiting
            }
            None => Handoff::Left,
        }
    }

    /// Seconds from MQL to sales' first touch; `None` while waiting.
    pub fn gap_seconds(&self) -> Option<f64> {
        self.first_sales_touch
            .as_ref()
            .map(|t| seconds(self.mql_at, t.occurred_at))
    }

    /// The account's touchpoints from the MQL to sales' first touch (until now
    /// while waiting), as a touchpoint list selects them.
    pub fn touchpoints_between(&self) -> TouchpointFilter {
        TouchpointFilter {
            account: Some(self.account.id),
            occurred_after: Some(self.mql_at),
            occurred_before: self.first_sales_touch.as_ref().map(|t| t.occurred_at),
            ..Default::default()
        }
    }
}

/// The distribution of waits.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaps {
    /// How many accounts sales has touched.
    pub handed_off: usize,
    /// How many accounts, still in qualification, sales has not touched yet.
    pub waiting: usize,
    /// How many left qualification before any sales touch.
    pub left: usize,
    /// The median gap of the handed-off accounts, in seconds (nearest rank).
    pub median_seconds: Option<f64>,
    /// The 90th percentile of the same gaps, in seconds (nearest rank).
    pub p90_seconds: Option<f64>,
}

/// Every account that became an MQL within a window, with the distribution.
#[derive(Debug, Clone)]
pub struct HandoffGap {
    /// By MQL time, then account id.
    pub entries: Vec<HandoffEntry>,
    pub gaps: Gaps,
}

/// The hand-off gap of the accounts that became MQLs within the window.
pub async fn handoff_gap(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    window: Window,
) -> CoreResult<HandoffGap> {
    let mqls = accounts_becoming(db, workspace, &[Lifecycle::Mql], window).await?;
    let first_mql = first_changes(mqls.iter().map(|m| (m.account_id, m.occurred_at)));
    let ids: Vec<Uuid> = first_mql.iter().map(|(a, _)| *a).collect();
    let mut sales = touch_around(
        db,
        workspace,
        &ids,
        &[Lifecycle::Mql],
        window,
        Touch::FirstSalesAfter,
    )
    .await?;
    let accounts: HashMap<Uuid, account::Model> = accounts_by_id(db, workspace, &ids).await?;
    let mut entries: Vec<HandoffEntry> = first_mql
        .into_iter()
        .filter_map(|(account, mql_at)| {
            Some(HandoffEntry {
                account: accounts.get(&account).cloned()?,
                mql_at,
                first_sales_touch: sales.remove(&account),
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.mql_at, e.account.id));
    let gaps = gaps(entries.iter().map(HandoffEntry::handoff));
    Ok(HandoffGap { entries, gaps })
}

/// The distribution of accounts' gaps, in seconds.
pub fn gaps(handoffs: impl IntoIterator<Item = Handoff>) -> Gaps {
    let (mut waiting, mut left) = (0, 0);
    let mut gaps = Vec::new();
    for handoff in handoffs {
        match handoff {
            Handoff::Touched(gap) => gaps.push(gap),
            Handoff::Waiting => waiting += 1,
            Handoff::Left => left += 1,
        }
    }
    gaps.sort_by(f64::total_cmp);
    Gaps {
        handed_off: gaps.len(),
        waiting,
        left,
        median_seconds: percentile(&gaps, 0.5),
        p90_seconds: percentile(&gaps, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_leaves_out_accounts_still_waiting_or_gone() {
        use Handoff::{Left, Touched, Waiting};
        let waits = [
            Touched(60.0),
            Waiting,
            Touched(30.0),
            Left,
            Touched(120.0),
            Waiting,
        ];
        // Gaps [30, 60, 120]: ranks ceil(1.5) = 2 and ceil(2.7) = 3.
        let expected = Gaps {
            handed_off: 3,
            waiting: 2,
            left: 1,
            median_seconds: Some(60.0),
            p90_seconds: Some(120.0),
        };
        assert_eq!(gaps(waits), expected);
    }

    #[test]
    fn nobody_handed_off_has_no_median() {
        let expected = Gaps {
            handed_off: 0,
            waiting: 1,
            left: 0,
            median_seconds: None,
            p90_seconds: None,
        };
        assert_eq!(gaps([Handoff::Waiting]), expected);
    }
}
