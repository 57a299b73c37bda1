//! Explainable scoring: rules give touchpoints points by kind and/or channel,
//! capped and decaying with a half-life. A stakeholder's score is the sum of its
//! rules' decayed contributions. An account's counts what happened with that
//! account: its members' contributions from touchpoints recorded on it, and
//! from account-less touchpoints of the members whose primary account it is.
//!
//! Contributions are stored per (stakeholder, rule, account) as of the time
//! they were computed, the account being the one the counted touchpoints were
//! recorded on (none for account-less ones). A rule's cap counts the person's
//! newest touchpoints whatever their account; their points are then split by
//! account. Every touchpoint a rule counts decays with that rule's half-life,
//! so reading multiplies by one factor and is exact on the day it is read.
//!
//! Stored scores follow memberships: whatever changes an account's members or
//! a member's primary account recomputes the account's stored score, and
//! qualifies it, in the same transaction ([`memberships_changed`]).
//!
//! Scoring owns qualification: it decides when a score makes someone an MQL
//! and records that through `lifecycle`, which never calls back in here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::vocab::Lifecycle as L;
use entity::{
    account, lifecycle_change, membership, score_contribution, scoring_rule, stakeholder,
    touchpoint, vocab, workspace,
};
use sea_orm::sea_query::{Condition, Expr, Func, Query, QueryStatementBuilder, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::lifecycle::{self, Change, Subject};
use crate::{CoreError, CoreResult, db, time};
use stored::StoredParts;

pub mod rules;
mod stored;
pub mod trend;

pub const DEFAULT_MQL_THRESHOLD: f64 = 50.0;

/// The sum of some points, `0` (never `-0`) when there are none: Rust's
/// float sum of nothing is negative zero, which a client prints as `-0`.
pub fn total(points: impl IntoIterator<Item = f64>) -> f64 {
    points.into_iter().fold(0.0, |sum, p| sum + p)
}

/// `points` as of `reference`, decayed to `now`.
pub fn decayed(
    points: f64,
    half_life_days: Option<f64>,
    reference: DateTime<Utc>,
    now: DateTime<Utc>,
) -> f64 {
    match half_life_days {
        Some(h) if h > 0.0 => {
            let days = (now - reference).num_seconds().max(0) as f64 / 86_400.0;
            points * 0.5_f64.powf(days / h)
        }
        _ => points,
    }
}

fn matches(rule: &scoring_rule::Model, kind: &str, channel: vocab::Channel) -> bool {
    rule.kind.as_deref().is_none_or(|k| k == kind) && rule.channel.is_none_or(|c| c == channel)
}

pub async fn rules_of(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<scoring_rule::Model>> {
    Ok(scoring_rule::Entity::find()
        .filter(scoring_rule::Column::WorkspaceId.eq(ws))
        .order_by_asc(scoring_rule::Column::Name)
        .all(db)
        .await?)
}

/// One scored touchpoint: who, on which account, what, through what, when.
type Scored = (Uuid, Option<Uuid>, String, vocab::Channel, DateTime<Utc>);

/// The touchpoints of `people` that some rule counts, person by person, each
/// person's newest first.
async fn scored_touchpoints(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rules: &[scoring_rule::Model],
    people: &[Uuid],
) -> CoreResult<Vec<Scored>> {
    if rules.is_empty() || people.is_empty() {
        return Ok(Vec::new());
    }
    Ok(scored_select(ws, rules, people)
        .into_tuple()
        .all(db)
        .await?)
}

/// The query of [`scored_touchpoints`], for rules and people that are not empty.
fn scored_select(
    ws: Uuid,
    rules: &[scoring_rule::Model],
    people: &[Uuid],
) -> sea_orm::Select<touchpoint::Entity> {
    let kinds: Vec<String> = rules.iter().filter_map(|r| r.kind.clone()).collect();
    let channels: Vec<vocab::Channel> = rules.iter().filter_map(|r| r.channel).collect();
    touchpoint::Entity::find()
        .select_only()
        .columns([
            touchpoint::Column::StakeholderId,
            touchpoint::Column::AccountId,
            touchpoint::Column::Kind,
            touchpoint::Column::Channel,
            touchpoint::Column::OccurredAt,
        ])
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.is_in(people.iter().copied()))
        .filter(
            Condition::any()
                .add(touchpoint::Column::Kind.is_in(kinds))
                .add(touchpoint::Column::Channel.is_in(channels)),
        )
        // Person first, so the (workspace, stakeholder, time) index serves
        // both the filter and the order, however many people are asked for.
        .order_by_asc(touchpoint::Column::StakeholderId)
        .order_by_desc(touchpoint::Column::OccurredAt)
        .order_by_desc(touchpoint::Column::Id)
}

/// What one rule gives one person through the touchpoints recorded on one
/// account (or on none).
struct Part<'a> {
    rule: &'a scoring_rule::Model,
    account: Option<Uuid>,
    count: usize,
    points: f64,
}

/// Each rule's parts over one person's touchpoints (newest first) as of
/// `now`: a rule counts at most its cap of the newest it matches, whatever
/// their account, and splits their points by account.
fn contributions<'a>(
    rules: &'a [scoring_rule::Model],
    touchpoints: &[&Scored],
    now: DateTime<Utc>,
) -> Vec<Part<'a>> {
    let mut out = Vec::new();
    for rule in rules {
        let cap = rule
            .max_count
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(0));
        let mut sums = Sums::new();
        for (_, account, _, _, at) in touchpoints
            .iter()
            .filter(|(_, _, k, c, _)| matches(rule, k, *c))
            .take(cap)
        {
            count_in(&mut sums, rule, *account, *at, now);
        }
        out.extend(parts_of(rule, sums));
    }
    out
}

/// What a rule counted of one person, per account: how many touchpoints,
/// and their points decayed to one moment.
type Sums = BTreeMap<Option<Uuid>, (usize, f64)>;

/// Counts one touchpoint `rule` scores, recorded on `account` at `at`.
fn count_in(
    sums: &mut Sums,
    rule: &scoring_rule::Model,
    account: Option<Uuid>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let (count, points) = sums.entry(account).or_insert((0, 0.0));
    *count += 1;
    *points += decayed(rule.points, rule.half_life_days, at, now);
}

/// `rule`'s parts, one per account, from its sums.
fn parts_of(rule: &scoring_rule::Model, sums: Sums) -> impl Iterator<Item = Part<'_>> {
    sums.into_iter()
        .map(move |(account, (count, points))| Part {
            rule,
            account,
            count,
            points,
        })
}

fn contribution_row(
    ws: Uuid,
    person: Uuid,
    part: &Part<'_>,
    now: DateTime<Utc>,
) -> score_contribution::ActiveModel {
    score_contribution::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        stakeholder_id: Set(person),
        rule_id: Set(part.rule.id),
        account_id: Set(part.account),
        count: Set(i32::try_from(part.count).unwrap_or(i32::MAX)),
        points: Set(part.points),
        reference_at: Set(now),
    }
}

/// Whether a contribution recorded on `recorded_on` counts for `account`,
/// for a member whose primary account it is (`primary`) or not: touchpoints
/// recorded on the account count, account-less ones for the primary only.
pub fn counts_for(account: Uuid, primary: bool, recorded_on: Option<Uuid>) -> bool {
    match recorded_on {
        Some(on) => on == account,
        None => primary,
    }
}

/// One rule's share of a score, decayed to a moment.
#[derive(Debug, Clone)]
pub struct Share {
    pub rule: scoring_rule::Model,
    /// How many touchpoints the rule counted.
    pub count: i32,
    /// Their points at that moment.
    pub points: f64,
}

/// Stored contributions (one person's, or the part of them that counts for
/// an account) as each rule's share decayed to `now`, by rule name: a
/// person's rows of one rule, one per account, make one share.
pub fn shares<'a>(
    parts: impl IntoIterator<Item = &'a (score_contribution::Model, scoring_rule::Model)>,
    now: DateTime<Utc>,
) -> Vec<Share> {
    let mut by_rule: BTreeMap<(&str, Uuid), Share> = BTreeMap::new();
    for (c, rule) in parts {
        let points = decayed(c.points, rule.half_life_days, c.reference_at, now);
        by_rule
            .entry((rule.name.as_str(), rule.id))
            .and_modify(|s| {
                s.count += c.count;
                s.points += points;
            })
            .or_insert_with(|| Share {
                rule: rule.clone(),
                count: c.count,
                points,
            });
    }
    by_rule.into_values().collect()
}

/// Recomputes a stakeholder's contributions as of `now`; returns the person
/// with their new score.
pub async fn recompute_stakeholder(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rules: &[scoring_rule::Model],
    person: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<stakeholder::Model> {
    // As a batch locks its people, so that the two never interleave.
    db::lock_in_order::<stakeholder::Entity>(db, stakeholder::Column::Id, [person]).await?;
    score_contribution::Entity::delete_many()
        .filter(score_contribution::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    let touchpoints = scored_touchpoints(db, ws, rules, &[person]).await?;
    let all: Vec<&Scored> = touchpoints.iter().collect();
    let parts = contributions(rules, &all, now);
    let score = total(parts.iter().map(|p| p.points));
    let rows: Vec<_> = parts
        .iter()
        .map(|part| contribution_row(ws, person, part, now))
        .collect();
    if !rows.is_empty() {
        score_contribution::Entity::insert_many(rows)
            .exec(db)
            .await?;
    }
    Ok(stakeholder::ActiveModel {
        id: Set(person),
        score: Set(score),
        ..Default::default()
    }
    .update(db)
    .await?)
}

/// Which of a batch's touchpoints took `people`'s combined score to the
/// threshold: the earliest whose moment, counting only what had happened by
/// then, scores enough. `touchpoints` are the people's scored ones (each
/// person's newest first); `share(person, account)` says whether a person's
/// part recorded on an account counts (for an account's score, only some
/// do). When none did (the threshold was lowered, say), the latest is
/// credited.
fn crossing(
    rules: &[scoring_rule::Model],
    touchpoints: &[&Scored],
    people: &[Uuid],
    share: impl Fn(Uuid, Option<Uuid>) -> bool,
    candidates: &[(Uuid, DateTime<Utc>)],
    threshold: f64,
) -> Option<(Uuid, DateTime<Utc>)> {
    let mut candidates = candidates.to_vec();
    candidates.sort_by_key(|&(id, at)| (at, id));
    candidates.dedup();
    if candidates.len() < 2 {
        return candidates.pop();
    }
    for &(id, at) in &candidates {
        let score = total(people.iter().map(|person| {
            let by_then: Vec<&Scored> = touchpoints
                .iter()
                .filter(|t| t.0 == *person && t.4 <= at)
                .copied()
                .collect();
            total(
                contributions(rules, &by_then, at)
                    .iter()
                    .filter(|part| share(*person, part.account))
                    .map(|part| part.points),
            )
        }));
        if score >= threshold {
            return Some((id, at));
        }
    }
    candidates.pop()
}

/// Sums what counts for an account of its members' stored contributions into
/// the account's score, in one statement; returns the account with its new
/// score.
pub async fn recompute_account(
    db: &impl ConnectionTrait,
    account: Uuid,
) -> CoreResult<account::Model> {
    let updated = account::Entity::update_many()
        .col_expr(account::Column::Score, sum_or_zero(account_contributions()))
        .filter(account::Column::Id.eq(account))
        .exec_with_returning(db)
        .await?;
    updated
        .into_iter()
        .next()
        .ok_or(CoreError::not_found("account"))
}

/// The sum of the stored contributions that count for the account being
/// updated, as a correlated subquery: its members' contributions recorded on
/// it, and the account-less ones of the members whose primary account it is
/// (see [`counts_for`]).
fn account_contributions() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    let this_account = || Expr::col((account::Entity, account::Column::Id));
    let recorded_on = || {
        Expr::col((
            score_contribution::Entity,
            score_contribution::Column::AccountId,
        ))
    };
    Query::select()
        .expr(
            Expr::col((
                score_contribution::Entity,
                score_contribution::Column::Points,
            ))
            .sum(),
        )
        .from(score_contribution::Entity)
        .inner_join(
            membership::Entity,
            Expr::col((membership::Entity, membership::Column::StakeholderId)).equals((
                score_contribution::Entity,
                score_contribution::Column::StakeholderId,
            )),
        )
        .and_where(
            Expr::col((membership::Entity, membership::Column::AccountId)).eq(this_account()),
        )
        .cond_where(
            Condition::any().add(recorded_on().eq(this_account())).add(
                recorded_on()
                    .is_null()
                    .and(Expr::col((membership::Entity, membership::Column::Primary)).eq(true)),
            ),
        )
        .to_owned()
}

/// Brings the stored scores of `accounts` up to date after their members or
/// a member's primary account changed, in one statement, and qualifies those
/// that now reach the MQL threshold (no touchpoint caused it). `moved` is a
/// person whose touchpoints changed account with the membership (a visitor's
/// first account adopts their account-less ones): their contributions are
/// recomputed first.
pub async fn memberships_changed(
    db: &impl ConnectionTrait,
    ws: Uuid,
    moved: Option<Uuid>,
    accounts: &[Uuid],
) -> CoreResult<()> {
    if let Some(person) = moved {
        let rules = rules_of(db, ws).await?;
        recompute_stakeholder(db, ws, &rules, person, time::now()).await?;
    }
    if accounts.is_empty() {
        return Ok(());
    }
    let mut updated = account::Entity::update_many()
        .col_expr(account::Column::Score, sum_or_zero(account_contributions()))
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Id.is_in(accounts.iter().copied()))
        .exec_with_returning(db)
        .await?;
    updated.sort_by_key(|a| a.id);
    let threshold = mql_threshold(db, ws).await?;
    let subjects = updated
        .into_iter()
        .map(|a| (Subject::Account(a.id), a.lifecycle, a.score));
    qualify_without_touchpoint(db, ws, threshold, subjects, "a membership changed").await?;
    Ok(())
}

/// The accounts whose stored score deleting `account` changes besides its
/// own: the primary accounts of the people with contributions on it, whose
/// touchpoints there become account-less.
pub async fn primaries_of_contributors(
    db: &impl ConnectionTrait,
    ws: Uuid,
    account: Uuid,
) -> CoreResult<Vec<Uuid>> {
    let contributors = Query::select()
        .distinct()
        .column(score_contribution::Column::StakeholderId)
        .from(score_contribution::Entity)
        .and_where(score_contribution::Column::AccountId.eq(account))
        .to_owned();
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::AccountId)
        .distinct()
        .filter(membership::Column::WorkspaceId.eq(ws))
        .filter(membership::Column::Primary.eq(true))
        .filter(membership::Column::AccountId.ne(account))
        .filter(membership::Column::StakeholderId.in_subquery(contributors))
        .order_by_asc(membership::Column::AccountId)
        .into_tuple()
        .all(db)
        .await?)
}

/// What a batch of writes changed, to rescore once at its end.
#[derive(Default)]
pub struct Touched {
    /// Each person to rescore, with the touchpoints recorded for them that
    /// may have taken them to the threshold, and their times. Ordered, so
    /// that concurrent batches update rows in the same order and cannot
    /// deadlock on PostgreSQL.
    pub stakeholders: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
    /// Each account to rescore besides the rescored people's, likewise.
    pub accounts: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
    /// People and accounts with new touchpoints that no rule scores: their
    /// score stays, but one already at the threshold qualifies again (a
    /// hand moved them back before), so those are rescored too.
    pub seen_stakeholders: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
    pub seen_accounts: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
    /// Each person's new scored touchpoints ([`Touched::append`]): unless
    /// the person is also `rewritten`, their stored parts grow by these.
    appended: BTreeMap<Uuid, Vec<Scored>>,
    /// People whose scored history changed otherwise (a touchpoint of theirs
    /// updated, moved or merged): recomputed from all of it.
    rewritten: BTreeSet<Uuid>,
}

impl Touched {
    /// A new scored touchpoint, never counted before.
    pub fn append(&mut self, tp: &touchpoint::Model) {
        self.caused(tp);
        if let Some(s) = tp.stakeholder_id {
            let scored = (
                s,
                tp.account_id,
                tp.kind.clone(),
                tp.channel,
                tp.occurred_at,
            );
            self.appended.entry(s).or_default().push(scored);
        }
    }

    /// A scored touchpoint that changed: its person is recomputed from
    /// their history.
    pub fn add(&mut self, tp: &touchpoint::Model) {
        self.caused(tp);
        if let Some(s) = tp.stakeholder_id {
            self.rewritten.insert(s);
        }
    }

    /// A person whose scored history changed with no new touchpoint of
    /// theirs (one moved away from them, or to their first account).
    pub fn rewrite(&mut self, person: Uuid) {
        self.stakeholders.entry(person).or_default();
        self.rewritten.insert(person);
    }

    /// Whether `person`'s stored parts can grow by their new touchpoints:
    /// those are all the news about them.
    fn grows(&self, person: &Uuid) -> bool {
        self.appended.contains_key(person) && !self.rewritten.contains(person)
    }

    fn caused(&mut self, tp: &touchpoint::Model) {
        let cause = (tp.id, tp.occurred_at);
        if let Some(s) = tp.stakeholder_id {
            self.stakeholders.entry(s).or_default().push(cause);
        }
        if let Some(a) = tp.account_id {
            self.accounts.entry(a).or_default().push(cause);
        }
    }

    /// A touchpoint no rule scores.
    pub fn saw(&mut self, tp: &touchpoint::Model) {
        let cause = (tp.id, tp.occurred_at);
        if let Some(s) = tp.stakeholder_id {
            self.seen_stakeholders.entry(s).or_default().push(cause);
        }
        if let Some(a) = tp.account_id {
            self.seen_accounts.entry(a).or_default().push(cause);
        }
    }

    fn is_empty(&self) -> bool {
        self.stakeholders.is_empty()
            && self.accounts.is_empty()
            && self.seen_stakeholders.is_empty()
            && self.seen_accounts.is_empty()
    }

    /// Moves the seen people and accounts whose stored score reaches
    /// `threshold` while unqualified into those to rescore: two statements
    /// at most, and it is rare that any is found.
    async fn rescore_seen_at_threshold(
        &mut self,
        db: &impl ConnectionTrait,
        ws: Uuid,
        threshold: f64,
    ) -> CoreResult<()> {
        let unqualified = [L::Visitor, L::Lead];
        let seen = std::mem::take(&mut self.seen_stakeholders);
        if !seen.is_empty() {
            let due: Vec<Uuid> = stakeholder::Entity::find()
                .select_only()
                .column(stakeholder::Column::Id)
                .filter(stakeholder::Column::WorkspaceId.eq(ws))
                .filter(stakeholder::Column::Id.is_in(seen.keys().copied()))
                .filter(stakeholder::Column::Lifecycle.is_in(unqualified))
                .filter(stakeholder::Column::Score.gte(threshold))
                .into_tuple()
                .all(db)
                .await?;
            for id in due {
                let causes = self.stakeholders.entry(id).or_default();
                causes.extend(seen[&id].iter().copied());
            }
        }
        let seen = std::mem::take(&mut self.seen_accounts);
        if !seen.is_empty() {
            let due: Vec<Uuid> = account::Entity::find()
                .select_only()
                .column(account::Column::Id)
                .filter(account::Column::WorkspaceId.eq(ws))
                .filter(account::Column::Id.is_in(seen.keys().copied()))
                .filter(account::Column::Lifecycle.is_in(unqualified))
                .filter(account::Column::Score.gte(threshold))
                .into_tuple()
                .all(db)
                .await?;
            for id in due {
                let causes = self.accounts.entry(id).or_default();
                causes.extend(seen[&id].iter().copied());
            }
        }
        Ok(())
    }
}

/// Whether some rule counts a touchpoint of this kind and channel: a batch
/// rescores only the people who have one.
pub fn scores(rules: &[scoring_rule::Model], kind: &str, channel: vocab::Channel) -> bool {
    rules.iter().any(|r| matches(r, kind, channel))
}

/// Each person's scored touchpoints, by person.
fn by_person(touchpoints: &[Scored]) -> BTreeMap<Uuid, Vec<&Scored>> {
    let mut out: BTreeMap<Uuid, Vec<&Scored>> = BTreeMap::new();
    for t in touchpoints {
        out.entry(t.0).or_default().push(t);
    }
    out
}

/// Rescores what a batch touched, set-based (a fixed number of statements
/// however many people and accounts), and qualifies the people and accounts
/// whose score crossed the workspace's MQL threshold, under the workspace's
/// `rules`. With no rules there is nothing to score: every stored score is
/// already 0.
pub async fn rescore(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rules: &[scoring_rule::Model],
    mut touched: Touched,
) -> CoreResult<()> {
    if touched.is_empty() || rules.is_empty() {
        return Ok(());
    }
    let threshold = mql_threshold(db, ws).await?;
    touched.rescore_seen_at_threshold(db, ws, threshold).await?;
    let now = time::now();
    let people: Vec<Uuid> = touched.stakeholders.keys().copied().collect();
    let mut accounts = std::mem::take(&mut touched.accounts);
    let mut qualified = Vec::new();
    let mut scored = Vec::new();
    // The people whose scored history `scored` holds.
    let mut loaded: BTreeSet<Uuid> = BTreeSet::new();
    if !people.is_empty() {
        let mut stored = StoredParts::load(db, &people, rules).await?;
        let mut parts: Vec<(Uuid, Part<'_>)> = Vec::new();
        // Rule by rule, the people whose new touchpoints overflow its cap.
        let mut overflowing: BTreeMap<usize, Vec<Uuid>> = BTreeMap::new();
        let (grown, full): (Vec<Uuid>, Vec<Uuid>) = people.iter().partition(|p| touched.grows(p));
        for person in &grown {
            let new = &touched.appended[person];
            for (i, rule) in rules.iter().enumerate() {
                let counted: Vec<&Scored> =
                    new.iter().filter(|t| matches(rule, &t.2, t.3)).collect();
                if counted.is_empty() {
                    continue;
                }
                match stored.grow(*person, rule, &counted, now) {
                    Some(grown) => parts.extend(grown.into_iter().map(|part| (*person, part))),
                    None => overflowing.entry(i).or_default().push(*person),
                }
            }
        }
        for (i, persons) in overflowing {
            let rule = std::slice::from_ref(&rules[i]);
            let newest = stored::newest_counted(db, ws, &rules[i], &persons).await?;
            let of_person = by_person(&newest);
            for person in persons {
                stored.settle(person, Some(rules[i].id));
                let theirs = of_person.get(&person).map_or(&[][..], |v| v);
                parts.extend(
                    contributions(rule, theirs, now)
                        .into_iter()
                        .map(|part| (person, part)),
                );
            }
        }
        if !full.is_empty() {
            scored = scored_touchpoints(db, ws, rules, &full).await?;
            let of_person = by_person(&scored);
            for person in &full {
                stored.settle(*person, None);
                let theirs = of_person.get(person).map_or(&[][..], |v| v);
                parts.extend(
                    contributions(rules, theirs, now)
                        .into_iter()
                        .map(|part| (*person, part)),
                );
            }
        }
        loaded.extend(full.iter().copied());
        let rows: Vec<_> = parts
            .iter()
            .filter_map(|(person, part)| stored.changed(ws, *person, part, now))
            .collect();
        let scores = stored.scores(&people, &parts, now);
        stored.delete_vanished(db).await?;
        use score_contribution::Column as C;
        db::update_all(db, rows, C::Id, [C::Count, C::Points, C::ReferenceAt]).await?;
        let mut score = sea_orm::sea_query::CaseStatement::new();
        for person in &people {
            score = score.case(
                stakeholder::Column::Id.eq(*person),
                Expr::value(total([scores[person]])),
            );
        }
        let mut updated = stakeholder::Entity::update_many()
            .col_expr(stakeholder::Column::Score, score.into())
            .filter(stakeholder::Column::Id.is_in(people.iter().copied()))
            .exec_with_returning(db)
            .await?;
        updated.retain(|p| qualifies(p.lifecycle, p.score, threshold));
        updated.sort_by_key(|p| p.id);
        // Which touchpoint took a person over needs their history: read
        // only for the few who crossed.
        let unread: Vec<Uuid> = updated
            .iter()
            .map(|p| p.id)
            .filter(|p| !loaded.contains(p))
            .collect();
        if !unread.is_empty() {
            scored.extend(scored_touchpoints(db, ws, rules, &unread).await?);
            loaded.extend(unread);
        }
        let of_person = by_person(&scored);
        for person in updated {
            let causes = &touched.stakeholders[&person.id];
            let mine = of_person.get(&person.id).map_or(&[][..], |v| v);
            let cause = crossing(rules, mine, &[person.id], |_, _| true, causes, threshold);
            let reached = Reached {
                score: person.score,
                threshold,
                touchpoint: cause,
                because: None,
            };
            qualified.push((Subject::Stakeholder(person.id), person.lifecycle, reached));
        }
        let memberships: Vec<(Uuid, Uuid)> = membership::Entity::find()
            .select_only()
            .columns([
                membership::Column::StakeholderId,
                membership::Column::AccountId,
            ])
            .filter(membership::Column::StakeholderId.is_in(people.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (person, account) in memberships {
            let causes = &touched.stakeholders[&person];
            accounts
                .entry(account)
                .or_default()
                .extend(causes.iter().copied());
        }
    }
    if !accounts.is_empty() {
        let mut updated = account::Entity::update_many()
            .col_expr(account::Column::Score, sum_or_zero(account_contributions()))
            .filter(account::Column::WorkspaceId.eq(ws))
            .filter(account::Column::Id.is_in(accounts.keys().copied()))
            .exec_with_returning(db)
            .await?;
        updated.retain(|a| qualifies(a.lifecycle, a.score, threshold));
        updated.sort_by_key(|a| a.id);
        if !updated.is_empty() {
            let members = members_of(db, updated.iter().map(|a| a.id)).await?;
            // The members' touchpoints that were not read for the people above.
            let unread: Vec<Uuid> = members
                .values()
                .flatten()
                .map(|(p, _)| *p)
                .filter(|p| !loaded.contains(p))
                .collect();
            if !unread.is_empty() {
                scored.extend(scored_touchpoints(db, ws, rules, &unread).await?);
            }
            let of_person = by_person(&scored);
            for a in updated {
                let members = members.get(&a.id).map_or(&[][..], |m| m);
                let people: Vec<Uuid> = members.iter().map(|(p, _)| *p).collect();
                let theirs: Vec<&Scored> = people
                    .iter()
                    .filter_map(|p| of_person.get(p))
                    .flatten()
                    .copied()
                    .collect();
                let share = |person, recorded_on| {
                    members
                        .iter()
                        .any(|&(p, primary)| p == person && counts_for(a.id, primary, recorded_on))
                };
                let causes = &accounts[&a.id];
                let cause = crossing(rules, &theirs, &people, share, causes, threshold);
                let reached = Reached {
                    score: a.score,
                    threshold,
                    touchpoint: cause,
                    because: None,
                };
                qualified.push((Subject::Account(a.id), a.lifecycle, reached));
            }
        }
    }
    qualify_all(db, ws, qualified).await
}

fn qualifies(lifecycle: L, score: f64, threshold: f64) -> bool {
    score >= threshold && lifecycle::is_unqualified(lifecycle)
}

/// The members of `accounts`, each with whether it is their primary
/// account, by account.
async fn members_of(
    db: &impl ConnectionTrait,
    accounts: impl IntoIterator<Item = Uuid>,
) -> CoreResult<BTreeMap<Uuid, Vec<(Uuid, bool)>>> {
    let rows: Vec<(Uuid, Uuid, bool)> = membership::Entity::find()
        .select_only()
        .columns([
            membership::Column::AccountId,
            membership::Column::StakeholderId,
            membership::Column::Primary,
        ])
        .filter(membership::Column::AccountId.is_in(accounts))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<Uuid, Vec<(Uuid, bool)>> = BTreeMap::new();
    for (account, person, primary) in rows {
        out.entry(account).or_default().push((person, primary));
    }
    Ok(out)
}

/// A score that reached the MQL threshold, and what took it there.
struct Reached<'a> {
    score: f64,
    threshold: f64,
    /// The touchpoint that did, and when it happened.
    touchpoint: Option<(Uuid, DateTime<Utc>)>,
    /// What did instead, when no touchpoint did (a rule changed).
    because: Option<&'a str>,
}

impl Reached<'_> {
    /// What the ledger says caused the move.
    fn cause(&self) -> String {
        let cause = format!(
            "score {:.1} reached the MQL threshold {}",
            self.score, self.threshold
        );
        match self.because {
            Some(because) => format!("{cause} ({because})"),
            None => cause,
        }
    }

    /// The move to MQL from `lifecycle`, at the touchpoint that caused it or now.
    fn change<'c>(&self, lifecycle: L, cause: &'c str) -> Change<'c> {
        Change {
            from: Some(lifecycle),
            to: L::Mql,
            at: self.touchpoint.map_or_else(time::now, |(_, at)| at),
            cause,
            actor: None,
            touchpoint: self.touchpoint.map(|(id, _)| id),
        }
    }
}

/// Records the move to MQL, at the touchpoint that caused it or now.
async fn qualify(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    lifecycle: L,
    reached: Reached<'_>,
) -> CoreResult<Option<lifecycle_change::Model>> {
    let cause = reached.cause();
    lifecycle::set(db, ws, subject, reached.change(lifecycle, &cause)).await
}

/// Records many moves to MQL at once: three statements however many.
async fn qualify_all(
    db: &impl ConnectionTrait,
    ws: Uuid,
    qualified: Vec<(Subject, L, Reached<'_>)>,
) -> CoreResult<()> {
    if qualified.is_empty() {
        return Ok(());
    }
    let causes: Vec<String> = qualified.iter().map(|(_, _, r)| r.cause()).collect();
    let changes: Vec<(Subject, Change<'_>)> = qualified
        .iter()
        .zip(&causes)
        .map(|((subject, lifecycle, reached), cause)| (*subject, reached.change(*lifecycle, cause)))
        .collect();
    lifecycle::set_all(db, ws, L::Mql, &changes).await
}

/// The workspace's MQL threshold.
pub async fn mql_threshold(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<f64> {
    Ok(workspace::Entity::find_by_id(ws)
        .one(db)
        .await?
        .map_or(DEFAULT_MQL_THRESHOLD, |w| w.mql_threshold))
}

/// How old a decaying stored score may grow before [`refresh_decayed`]
/// recomputes it.
pub const STORED_SCORE_MAX_AGE: chrono::Duration = chrono::Duration::days(1);

/// Recomputes stored scores whose decaying contributions were computed more
/// than [`STORED_SCORE_MAX_AGE`] ago, at most `limit` people per call, with
/// their accounts. Score fields decay exactly when read; this keeps the
/// stored columns behind the `minScore`/`maxScore` filters correct to the
/// day. Returns how many people it rescored.
pub async fn refresh_decayed(db: &sea_orm::DatabaseConnection, limit: u64) -> CoreResult<usize> {
    let now = time::now();
    let decaying: Vec<Uuid> = scoring_rule::Entity::find()
        .select_only()
        .column(scoring_rule::Column::Id)
        .filter(scoring_rule::Column::HalfLifeDays.gt(0.0))
        .into_tuple()
        .all(db)
        .await?;
    if decaying.is_empty() {
        return Ok(0);
    }
    let stale: Vec<(Uuid, Uuid)> = score_contribution::Entity::find()
        .select_only()
        .column(score_contribution::Column::WorkspaceId)
        .column(score_contribution::Column::StakeholderId)
        .distinct()
        .filter(score_contribution::Column::RuleId.is_in(decaying))
        .filter(score_contribution::Column::ReferenceAt.lt(now - STORED_SCORE_MAX_AGE))
        .order_by_asc(score_contribution::Column::WorkspaceId)
        .order_by_asc(score_contribution::Column::StakeholderId)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_workspace: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (ws, person) in &stale {
        by_workspace.entry(*ws).or_default().push(*person);
    }
    for (ws, people) in by_workspace {
        let txn = db::begin_write(db).await?;
        let rules = rules_of(&txn, ws).await?;
        let mut accounts = std::collections::BTreeSet::new();
        for person in people {
            recompute_stakeholder(&txn, ws, &rules, person, now).await?;
            let held: Vec<Uuid> = membership::Entity::find()
                .select_only()
                .column(membership::Column::AccountId)
                .filter(membership::Column::StakeholderId.eq(person))
                .into_tuple()
                .all(&txn)
                .await?;
            accounts.extend(held);
        }
        for account in accounts {
            recompute_account(&txn, account).await?;
        }
        txn.commit().await?;
    }
    Ok(stale.len())
}

/// Runs [`refresh_decayed`] every `every`, in pages, for the life of the process.
pub fn keep_decay_fresh(db: sea_orm::DatabaseConnection, every: std::time::Duration) {
    const PAGE: u64 = 500;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tick.tick().await;
            loop {
                match refresh_decayed(&db, PAGE).await {
                    Ok(n) if n as u64 == PAGE => continue,
                    Ok(n) => {
                        tracing::debug!(rescored = n, "refreshed decayed scores");
                        break;
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "could not refresh decayed scores");
                        break;
                    }
                }
            }
        }
    });
}

/// People rescored per round of [`rescore_workspace`]: one read of their
/// touchpoints and one delete and insert of their contributions.
const RESCORE_CHUNK: usize = 500;
/// Contribution rows per insert, under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 1_000;

/// Rescores every person and account of a workspace (after its rules
/// changed, say: `why`), a chunk of people at a time, then sets every stored
/// score from the new contributions in one statement per table; people and
/// accounts whose new score reaches the MQL threshold qualify.
async fn rescore_workspace(db: &impl ConnectionTrait, ws: Uuid, why: &str) -> CoreResult<()> {
    // Its `max` would shadow `Ord::max` in the whole module.
    use sea_orm::sea_query::ExprTrait;
    let rules = rules_of(db, ws).await?;
    let now = time::now();
    let people: Vec<Uuid> = stakeholder::Entity::find()
        .select_only()
        .column(stakeholder::Column::Id)
        .filter(stakeholder::Column::WorkspaceId.eq(ws))
        .order_by_asc(stakeholder::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    for chunk in people.chunks(RESCORE_CHUNK) {
        let locked = chunk.iter().copied();
        db::lock_in_order::<stakeholder::Entity>(db, stakeholder::Column::Id, locked).await?;
        score_contribution::Entity::delete_many()
            .filter(score_contribution::Column::StakeholderId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
        let touchpoints = scored_touchpoints(db, ws, &rules, chunk).await?;
        let mut by_person: BTreeMap<Uuid, Vec<&Scored>> = BTreeMap::new();
        for scored in &touchpoints {
            by_person.entry(scored.0).or_default().push(scored);
        }
        let rows: Vec<score_contribution::ActiveModel> = by_person
            .iter()
            .flat_map(|(person, scored)| {
                contributions(&rules, scored, now)
                    .iter()
                    .map(|part| contribution_row(ws, *person, part, now))
                    .collect::<Vec<_>>()
            })
            .collect();
        for rows in rows.chunks(INSERT_CHUNK) {
            score_contribution::Entity::insert_many(rows.to_vec())
                .exec(db)
                .await?;
        }
    }
    let contributed = Query::select()
        .expr(
            Expr::col((
                score_contribution::Entity,
                score_contribution::Column::Points,
            ))
            .sum(),
        )
        .from(score_contribution::Entity)
        .and_where(
            Expr::col((
                score_contribution::Entity,
                score_contribution::Column::StakeholderId,
            ))
            .equals((stakeholder::Entity, stakeholder::Column::Id)),
        )
        .to_owned();
    stakeholder::Entity::update_many()
        .col_expr(stakeholder::Column::Score, sum_or_zero(contributed))
        .filter(stakeholder::Column::WorkspaceId.eq(ws))
        .exec(db)
        .await?;
    account::Entity::update_many()
        .col_expr(account::Column::Score, sum_or_zero(account_contributions()))
        .filter(account::Column::WorkspaceId.eq(ws))
        .exec(db)
        .await?;
    qualify_workspace(db, ws, why).await
}

/// How stored scores are computed, as `workspaces.scores_version` records
/// it: 1 since contributions are kept per account. A workspace an older
/// release scored (0) is rescored by [`rescore_outdated`].
pub const SCORES_VERSION: i32 = 1;

/// Rescores each workspace whose stored scores an older release computed
/// (before contributions were kept per account), one transaction each, and
/// marks it current; who now reaches the MQL threshold qualifies. The server
/// runs it at start, before it serves. The mark is claimed first, so that
/// of several instances starting together one rescores each workspace.
/// Returns how many it rescored.
pub async fn rescore_outdated(db: &sea_orm::DatabaseConnection) -> CoreResult<usize> {
    let outdated: Vec<Uuid> = workspace::Entity::find()
        .select_only()
        .column(workspace::Column::Id)
        .filter(workspace::Column::ScoresVersion.lt(SCORES_VERSION))
        .order_by_asc(workspace::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut rescored = 0;
    for ws in outdated {
        let txn = db::begin_write(db).await?;
        let claimed = workspace::Entity::update_many()
            .col_expr(
                workspace::Column::ScoresVersion,
                Expr::value(SCORES_VERSION),
            )
            .filter(workspace::Column::Id.eq(ws))
            .filter(workspace::Column::ScoresVersion.lt(SCORES_VERSION))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            rescore_workspace(&txn, ws, "scores were recomputed on upgrade").await?;
            rescored += 1;
        }
        txn.commit().await?;
    }
    Ok(rescored)
}

/// `COALESCE((subquery), 0)`: a scalar sum that is 0 over no rows.
fn sum_or_zero(sum: SelectStatement) -> Expr {
    Func::coalesce([
        Expr::SubQuery(None, Box::new(sum.into_sub_query_statement())),
        Expr::val(0.0),
    ])
    .into()
}

/// Qualifies a merge's survivor and the accounts it touched when their
/// recomputed stored scores reach the MQL threshold: the data was one
/// person's all along. No touchpoint caused it. Returns the changes recorded,
/// so that an unmerge can take them back.
pub async fn qualify_merged(
    db: &impl ConnectionTrait,
    ws: Uuid,
    person: Uuid,
    accounts: &[Uuid],
) -> CoreResult<Vec<lifecycle_change::Model>> {
    let threshold = mql_threshold(db, ws).await?;
    let mut subjects = Vec::new();
    if let Some(p) = stakeholder::Entity::find_by_id(person).one(db).await? {
        subjects.push((Subject::Stakeholder(p.id), p.lifecycle, p.score));
    }
    let accounts = account::Entity::find()
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Id.is_in(accounts.iter().copied()))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?;
    subjects.extend(
        accounts
            .into_iter()
            .map(|a| (Subject::Account(a.id), a.lifecycle, a.score)),
    );
    let why = "a merge joined their records";
    qualify_without_touchpoint(db, ws, threshold, subjects, why).await
}

/// Qualifies those of `subjects` (each with its lifecycle and stored score)
/// that reached `threshold` for `why`, with no touchpoint to credit; returns
/// the changes recorded.
async fn qualify_without_touchpoint(
    db: &impl ConnectionTrait,
    ws: Uuid,
    threshold: f64,
    subjects: impl IntoIterator<Item = (Subject, L, f64)>,
    why: &str,
) -> CoreResult<Vec<lifecycle_change::Model>> {
    let mut changes = Vec::new();
    for (subject, lifecycle, score) in subjects {
        if qualifies(lifecycle, score, threshold) {
            let reached = Reached {
                score,
                threshold,
                touchpoint: None,
                because: Some(why),
            };
            changes.extend(qualify(db, ws, subject, lifecycle, reached).await?);
        }
    }
    Ok(changes)
}

/// Qualifies every unqualified person and account of the workspace whose
/// stored score has reached the MQL threshold, for `why` (no touchpoint
/// caused it: a rule or the threshold changed).
pub async fn qualify_workspace(db: &impl ConnectionTrait, ws: Uuid, why: &str) -> CoreResult<()> {
    let threshold = mql_threshold(db, ws).await?;
    let people: Vec<(Uuid, L, f64)> = stakeholder::Entity::find()
        .select_only()
        .columns([
            stakeholder::Column::Id,
            stakeholder::Column::Lifecycle,
            stakeholder::Column::Score,
        ])
        .filter(stakeholder::Column::WorkspaceId.eq(ws))
        .filter(stakeholder::Column::Score.gte(threshold))
        .order_by_asc(stakeholder::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let accounts: Vec<(Uuid, L, f64)> = account::Entity::find()
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Lifecycle,
            account::Column::Score,
        ])
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Score.gte(threshold))
        .order_by_asc(account::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let people = people
        .into_iter()
        .map(|(id, lifecycle, score)| (Subject::Stakeholder(id), lifecycle, score));
    let accounts = accounts
        .into_iter()
        .map(|(id, lifecycle, score)| (Subject::Account(id), lifecycle, score));
    qualify_without_touchpoint(db, ws, threshold, people.chain(accounts), why).await?;
    Ok(())
}

/// Sets the score at which leads become MQLs; unqualified people and
/// accounts already at or above it qualify now. Raising it qualifies no one
/// and takes no one back.
pub async fn set_mql_threshold(txn: &impl ConnectionTrait, ws: Uuid, mql: f64) -> CoreResult<()> {
    if !mql.is_finite() || mql <= 0.0 {
        return Err(CoreError::invalid_field(
            "mql",
            "`mql` must be a positive number",
        ));
    }
    workspace::ActiveModel {
        id: Set(ws),
        mql_threshold: Set(mql),
        ..Default::default()
    }
    .update(txn)
    .await?;
    qualify_workspace(txn, ws, "the MQL threshold changed").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_points_total_a_positive_zero() {
        // What `Iterator::sum` gives for nothing, and what a client would print.
        assert!(std::iter::empty::<f64>().sum::<f64>().is_sign_negative());
        assert!(total([]).is_sign_positive());
        assert!(total([-0.0]).is_sign_positive());
        assert_eq!(total([1.5, 2.0]), 3.5);
    }

    #[test]
    fn points_halve_every_half_life() {
        let t0 = Utc::now();
        let later = t0 + chrono::Duration::days(14);
        assert!((decayed(10.0, Some(7.0), t0, later) - 2.5).abs() < 1e-9);
        assert_eq!(decayed(10.0, None, t0, later), 10.0);
        assert_eq!(
            decayed(10.0, Some(7.0), later, t0),
            10.0,
            "no growth before the reference"
        );
    }
}
