//! Scores at an earlier moment, for a trend: what today's rules give the
//! touchpoints that had happened by then, decayed to then, through the
//! memberships the accounts have now. Nothing is stored per day: a trend is
//! as available for history imported yesterday as for history recorded live,
//! and a rule change applies to both ends of it alike.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::touchpoint;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

use super::{Scored, contributions, counts_for, rules_of, scored_select, total};
use crate::{CoreResult, time};

/// Each account's score as of `at`, in three statements whatever the number
/// of accounts (rules, memberships, the members' scored touchpoints before
/// `at` along the (workspace, stakeholder, time) index); an account without
/// members scores 0.
pub async fn account_scores_at(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
    at: DateTime<Utc>,
) -> CoreResult<HashMap<Uuid, f64>> {
    let mut scores: HashMap<Uuid, f64> = accounts.iter().map(|a| (*a, 0.0)).collect();
    if accounts.is_empty() {
        return Ok(scores);
    }
    let rules = rules_of(db, ws).await?;
    if rules.is_empty() {
        return Ok(scores);
    }
    let members = crate::batch::members_of(db, ws, accounts).await?;
    let mut people: Vec<Uuid> = members.values().flatten().map(|(p, _)| *p).collect();
    people.sort();
    people.dedup();
    if people.is_empty() {
        return Ok(scores);
    }
    let at = time::to_micros(at);
    let scored: Vec<Scored> = scored_select(ws, &rules, &people)
        .filter(touchpoint::Column::OccurredAt.lt(at))
        .into_tuple()
        .all(db)
        .await?;
    let mut by_person: BTreeMap<Uuid, Vec<&Scored>> = BTreeMap::new();
    for row in &scored {
        by_person.entry(row.0).or_default().push(row);
    }
    let parts: HashMap<Uuid, _> = by_person
        .iter()
        .map(|(person, theirs)| (*person, contributions(&rules, theirs, at)))
        .collect();
    for (account, held) in members {
        let Some(score) = scores.get_mut(&account) else {
            continue;
        };
        for (person, primary) in held {
            let Some(parts) = parts.get(&person) else {
                continue;
            };
            let counted = parts
                .iter()
                .filter(|p| counts_for(account, primary, p.account))
                .map(|p| p.points);
            *score = total([*score, total(counted)]);
        }
    }
    Ok(scores)
}
