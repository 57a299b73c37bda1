//! First- and last-touch attribution of the accounts that became customers
//! within a window.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, Lifecycle};
use entity::{account, touchpoint};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{Touch, Window, accounts_becoming, accounts_by_id, first_changes, touch_around};
use crate::CoreResult;

/// Where an account that became a customer first and last came from.
#[derive(Debug, Clone)]
pub struct AttributionEntry {
    pub account: account::Model,
    /// When it first became a customer, promoter or churned within the window.
    pub customer_at: DateTime<Utc>,
    /// Its first touchpoint, up to then.
    pub first: Option<touchpoint::Model>,
    /// Its last touchpoint up to then.
    pub last: Option<touchpoint::Model>,
}

/// How many customers one source and channel brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub source: String,
    pub channel: Channel,
    pub accounts: usize,
}

/// The customers won within a window and the sources that brought them.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// By when each became a customer, then account id.
    pub entries: Vec<AttributionEntry>,
    /// Customers counted by their first touchpoint, most first.
    pub first_touch: Vec<Share>,
    /// Customers counted by their last touchpoint, most first.
    pub last_touch: Vec<Share>,
}

/// A customer, or what only a customer becomes: an account that reached any
/// of these was won (the demo's Granite went straight to PROMOTER).
const WON: [Lifecycle; 3] = [Lifecycle::Customer, Lifecycle::Promoter, Lifecycle::Churned];

/// The attribution of the accounts that became customers (or later: promoter,
/// churned) within the window, dated by the first such change.
pub async fn attribution(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    window: Window,
) -> CoreResult<Attribution> {
    let changes = accounts_becoming(db, workspace, &WON, window).await?;
    let converted = first_changes(changes.iter().map(|c| (c.account_id, c.occurred_at)));
    let ids: Vec<Uuid> = converted.iter().map(|(a, _)| *a).collect();
    let mut accounts = accounts_by_id(db, workspace, &ids).await?;
    let around = |touch| touch_around(db, workspace, &ids, &WON, window, touch);
    let mut firsts = around(Touch::First).await?;
    let mut lasts = around(Touch::Last).await?;
    let mut entries: Vec<AttributionEntry> = converted
        .into_iter()
        .filter_map(|(id, customer_at)| {
            Some(AttributionEntry {
                account: accounts.remove(&id)?,
                customer_at,
                first: firsts.remove(&id),
                last: lasts.remove(&id),
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.customer_at, e.account.id));
    let touches = |pick: fn(&AttributionEntry) -> Option<&touchpoint::Model>| {
        shares(
            entries
                .iter()
                .filter_map(pick)
                .map(|t| (t.source.as_str(), t.channel)),
        )
    };
    Ok(Attribution {
        first_touch: touches(|e| e.first.as_ref()),
        last_touch: touches(|e| e.last.as_ref()),
        entries,
    })
}

/// Customers counted per source and channel of their touchpoints, one
/// touchpoint each: most first, then by source.
pub fn shares<'a>(touches: impl IntoIterator<Item = (&'a str, Channel)>) -> Vec<Share> {
    let mut counts: HashMap<(&str, Channel), usize> = HashMap::new();
    for touch in touches {
        *counts.entry(touch).or_default() += 1;
    }
    let mut out: Vec<Share> = counts
        .into_iter()
        .map(|((source, channel), accounts)| Share {
            source: source.to_owned(),
            channel,
            accounts,
        })
        .collect();
    out.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.source.cmp(&b.source)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(source: &str, channel: Channel, accounts: usize) -> Share {
        Share {
            source: source.to_owned(),
            channel,
            accounts,
        }
    }

    #[test]
    fn shares_count_per_source_and_channel_most_first() {
        let touches = [
            ("twitter", Channel::Social),
            ("zendesk", Channel::Support),
            ("twitter", Channel::Social),
            ("api", Channel::Email),
            ("twitter", Channel::Social),
        ];
        // Twitter 3; then the ties of one, by source.
        let expected = vec![
            share("twitter", Channel::Social, 3),
            share("api", Channel::Email, 1),
            share("zendesk", Channel::Support, 1),
        ];
        assert_eq!(shares(touches), expected);
    }

    #[test]
    fn one_source_on_two_channels_is_two_shares() {
        let touches = [
            ("api", Channel::Email),
            ("api", Channel::Web),
            ("api", Channel::Web),
        ];
        let expected = vec![
            share("api", Channel::Web, 2),
            share("api", Channel::Email, 1),
        ];
        assert_eq!(shares(touches), expected);
    }

    #[test]
    fn no_touchpoints_no_shares() {
        assert_eq!(shares([]), vec![]);
    }
}
