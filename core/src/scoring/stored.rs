//! A batch's rescoring from the stored contributions: a person whose only
//! news is new touchpoints grows their stored parts by those touchpoints'
//! decayed points, without reading their history. Only a rule whose cap the
//! new touchpoints overflow reads history, and then only that rule's newest
//! `cap` touchpoints of each such person, through the `(workspace,
//! stakeholder, occurred_at, id)` index. Only the parts whose value changed
//! are written.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{score_contribution, scoring_rule, touchpoint};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, QueryFilter, Set};
use uuid::Uuid;

use super::{Part, Scored, Sums, contribution_row, count_in, decayed, matches, parts_of};
use crate::CoreResult;

type Key = (Uuid, Uuid, Option<Uuid>);

/// The stored contributions of the people a batch rescores, by (person,
/// rule, account), and which of them the batch recomputes.
pub(super) struct StoredParts<'r> {
    /// The workspace's rules, by id: a part of any other is a deleted rule's.
    rules: HashMap<Uuid, &'r scoring_rule::Model>,
    by_key: HashMap<Key, score_contribution::Model>,
    /// How many touchpoints each (person, rule) counts, over its accounts.
    counted: HashMap<(Uuid, Uuid), i64>,
    /// People all of whose parts are recomputed (`None`), or one rule's.
    settled: HashSet<(Uuid, Option<Uuid>)>,
    /// The parts recomputed so far.
    written: HashSet<Key>,
}

impl<'r> StoredParts<'r> {
    pub(super) async fn load(
        db: &impl ConnectionTrait,
        people: &[Uuid],
        rules: &'r [scoring_rule::Model],
    ) -> CoreResult<Self> {
        let rows = score_contribution::Entity::find()
            .filter(score_contribution::Column::StakeholderId.is_in(people.iter().copied()))
            .all(db)
            .await?;
        let mut counted: HashMap<(Uuid, Uuid), i64> = HashMap::new();
        for c in &rows {
            *counted.entry((c.stakeholder_id, c.rule_id)).or_default() += i64::from(c.count);
        }
        let by_key = rows
            .into_iter()
            .map(|c| ((c.stakeholder_id, c.rule_id, c.account_id), c))
            .collect();
        Ok(Self {
            rules: rules.iter().map(|r| (r.id, r)).collect(),
            by_key,
            counted,
            settled: HashSet::new(),
            written: HashSet::new(),
        })
    }

    /// `rule`'s parts of `person` grown by `new`, touchpoints it counts that
    /// the stored parts do not: `None` when they would overflow the rule's
    /// cap, which drops the oldest counted ones (the caller reads them).
    pub(super) fn grow<'a>(
        &self,
        person: Uuid,
        rule: &'a scoring_rule::Model,
        new: &[&Scored],
        now: DateTime<Utc>,
    ) -> Option<Vec<Part<'a>>> {
        if let Some(cap) = rule.max_count {
            let counted = self.counted.get(&(person, rule.id)).copied().unwrap_or(0);
            if counted + i64::try_from(new.len()).ok()? > i64::from(cap) {
                return None;
            }
        }
        // Each account's sums start from its stored part, decayed to now.
        let mut sums = Sums::new();
        for (_, account, _, _, _) in new {
            sums.entry(*account).or_insert_with(|| {
                match self.by_key.get(&(person, rule.id, *account)) {
                    Some(old) => (
                        usize::try_from(old.count).unwrap_or(0),
                        decayed(old.points, rule.half_life_days, old.reference_at, now),
                    ),
                    None => (0, 0.0),
                }
            });
        }
        for (_, account, _, _, at) in new {
            count_in(&mut sums, rule, *account, *at, now);
        }
        Some(parts_of(rule, sums).collect())
    }

    /// Marks `person`'s parts of `rule` (of every rule with `None`) as
    /// recomputed: those the recomputation does not give again are deleted.
    pub(super) fn settle(&mut self, person: Uuid, rule: Option<Uuid>) {
        self.settled.insert((person, rule));
    }

    /// The row to write for `part` of `person`, or `None` when the stored
    /// one says the same: the same count, and points that decay to the same
    /// value now (to a millionth: stored points are decayed from their own
    /// reference time, in whole seconds).
    pub(super) fn changed(
        &mut self,
        ws: Uuid,
        person: Uuid,
        part: &Part<'_>,
        now: DateTime<Utc>,
    ) -> Option<score_contribution::ActiveModel> {
        let key = (person, part.rule.id, part.account);
        self.written.insert(key);
        let mut row = contribution_row(ws, person, part, now);
        if let Some(old) = self.by_key.get(&key) {
            let then = decayed(old.points, part.rule.half_life_days, old.reference_at, now);
            let same = usize::try_from(old.count).is_ok_and(|c| c == part.count)
                && (then - part.points).abs() <= 1e-6 * part.points.abs().max(1.0);
            if same {
                return None;
            }
            row.id = Set(old.id);
        }
        Some(row)
    }

    fn vanished(&self, key: &Key) -> bool {
        let (person, rule, _) = *key;
        !self.written.contains(key)
            && (self.settled.contains(&(person, None))
                || self.settled.contains(&(person, Some(rule)))
                || !self.rules.contains_key(&rule))
    }

    /// Each person's score now: their parts written by this batch, and their
    /// stored ones that stay, decayed to `now`.
    pub(super) fn scores(
        &self,
        people: &[Uuid],
        parts: &[(Uuid, Part<'_>)],
        now: DateTime<Utc>,
    ) -> HashMap<Uuid, f64> {
        let mut scores: HashMap<Uuid, f64> = people.iter().map(|p| (*p, 0.0)).collect();
        for (person, part) in parts {
            *scores.entry(*person).or_default() += part.points;
        }
        for (key, c) in &self.by_key {
            if self.written.contains(key) || self.vanished(key) {
                continue;
            }
            let half_life = self.rules.get(&c.rule_id).and_then(|r| r.half_life_days);
            *scores.entry(c.stakeholder_id).or_default() +=
                decayed(c.points, half_life, c.reference_at, now);
        }
        scores
    }

    /// Deletes the stored parts the batch recomputed and no rule gives any
    /// longer (their touchpoints moved to another account or kind): rare, so
    /// a statement only then.
    pub(super) async fn delete_vanished(&self, db: &impl ConnectionTrait) -> CoreResult<()> {
        let gone: Vec<Uuid> = self
            .by_key
            .iter()
            .filter(|(key, _)| self.vanished(key))
            .map(|(_, c)| c.id)
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        score_contribution::Entity::delete_many()
            .filter(score_contribution::Column::Id.is_in(gone))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// The newest `rule.max_count` touchpoints `rule` counts of each of
/// `people`, each person's newest first, in one statement that reads at most
/// that many per person through the `(workspace, stakeholder, occurred_at,
/// id)` index: PostgreSQL with a `LATERAL … LIMIT`, SQLite with a
/// correlated `id IN (… LIMIT)`.
pub(super) async fn newest_counted(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rule: &scoring_rule::Model,
    people: &[Uuid],
) -> CoreResult<Vec<Scored>> {
    use touchpoint::Column as T;
    let cap = u64::try_from(rule.max_count.unwrap_or(i32::MAX)).unwrap_or(0);
    let person = || Expr::col((Alias::new("p"), Alias::new("column1")));
    let mut counted = Query::select();
    counted
        .from(touchpoint::Entity)
        .and_where(T::WorkspaceId.eq(ws))
        .and_where(Expr::col(T::StakeholderId).eq(person()))
        .order_by(T::OccurredAt, Order::Desc)
        .order_by(T::Id, Order::Desc)
        .limit(cap);
    if let Some(kind) = &rule.kind {
        counted.and_where(T::Kind.eq(kind.as_str()));
    }
    if let Some(channel) = rule.channel {
        counted.and_where(T::Channel.eq(channel));
    }
    let row = Alias::new("r");
    let mut stmt = Query::select();
    stmt.from_values(people.iter().copied(), Alias::new("p"));
    for col in [
        T::StakeholderId,
        T::AccountId,
        T::Kind,
        T::Channel,
        T::OccurredAt,
    ] {
        stmt.expr_as(Expr::col((row.clone(), col)), Alias::new(col.as_str()));
    }
    if db.get_database_backend() == DbBackend::Postgres {
        counted.column(Asterisk);
        stmt.join_lateral(
            JoinType::InnerJoin,
            counted,
            row.clone(),
            Expr::cust("TRUE"),
        );
    } else {
        counted.column(T::Id);
        stmt.join_as(
            JoinType::InnerJoin,
            touchpoint::Entity,
            row.clone(),
            Expr::col((row.clone(), T::Id)).in_subquery(counted),
        );
    }
    stmt.order_by((row.clone(), T::StakeholderId), Order::Asc)
        .order_by((row.clone(), T::OccurredAt), Order::Desc)
        .order_by((row, T::Id), Order::Desc);
    let rows = db.query_all(&stmt).await?;
    let mut out: Vec<Scored> = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((
            r.try_get("", T::StakeholderId.as_str())?,
            r.try_get("", T::AccountId.as_str())?,
            r.try_get("", T::Kind.as_str())?,
            r.try_get("", T::Channel.as_str())?,
            r.try_get("", T::OccurredAt.as_str())?,
        ));
    }
    debug_assert!(out.iter().all(|(_, _, k, c, _)| matches(rule, k, *c)));
    Ok(out)
}
