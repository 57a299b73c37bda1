//! Explainable scoring: rules give touchpoints points by kind and/or channel,
//! capped and decaying with a half-life. A stakeholder's score is the sum of its
//! rules' decayed contributions; an account's is the sum of its people's.
//!
//! Contributions are stored per (stakeholder, rule) as of the time they were
//! computed; every touchpoint a rule counts decays with that rule's half-life,
//! so reading multiplies by one factor and is exact on the day it is read.
//!
//! Scoring owns qualification: it decides when a score makes someone an MQL
//! and records that through `lifecycle`, which never calls back in here.

use std::collections::BTreeMap;

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

pub mod rules;

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

/// One scored touchpoint: who, what, through what, when.
type Scored = (Uuid, String, vocab::Channel, DateTime<Utc>);

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
    let kinds: Vec<String> = rules.iter().filter_map(|r| r.kind.clone()).collect();
    let channels: Vec<vocab::Channel> = rules.iter().filter_map(|r| r.channel).collect();
    Ok(touchpoint::Entity::find()
        .select_only()
        .columns([
            touchpoint::Column::StakeholderId,
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
        .into_tuple()
        .all(db)
        .await?)
}

/// Each rule's (count, points) over one person's touchpoints (newest first)
/// as of `now`: a rule counts at most its cap of the newest it matches.
fn contributions<'a>(
    rules: &'a [scoring_rule::Model],
    touchpoints: &[&Scored],
    now: DateTime<Utc>,
) -> Vec<(&'a scoring_rule::Model, usize, f64)> {
    let mut out = Vec::new();
    for rule in rules {
        let cap = rule
            .max_count
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(0));
        let counted: Vec<DateTime<Utc>> = touchpoints
            .iter()
            .filter(|(_, k, c, _)| matches(rule, k, *c))
            .take(cap)
            .map(|(_, _, _, t)| *t)
            .collect();
        if counted.is_empty() {
            continue;
        }
        let points = total(
            counted
                .iter()
                .map(|t| decayed(rule.points, rule.half_life_days, *t, now)),
        );
        out.push((rule, counted.len(), points));
    }
    out
}

fn contribution_row(
    ws: Uuid,
    person: Uuid,
    rule: &scoring_rule::Model,
    count: usize,
    points: f64,
    now: DateTime<Utc>,
) -> score_contribution::ActiveModel {
    score_contribution::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        stakeholder_id: Set(person),
        rule_id: Set(rule.id),
        count: Set(i32::try_from(count).unwrap_or(i32::MAX)),
        points: Set(points),
        reference_at: Set(now),
    }
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
    score_contribution::Entity::delete_many()
        .filter(score_contribution::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    let touchpoints = scored_touchpoints(db, ws, rules, &[person]).await?;
    let all: Vec<&Scored> = touchpoints.iter().collect();
    let mut score = 0.0;
    let mut rows = Vec::new();
    for (rule, count, points) in contributions(rules, &all, now) {
        score += points;
        rows.push(contribution_row(ws, person, rule, count, points, now));
    }
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
/// then, scores enough. When none did (the threshold was lowered, say), the
/// latest is credited.
async fn crossing(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rules: &[scoring_rule::Model],
    people: &[Uuid],
    candidates: &[(Uuid, DateTime<Utc>)],
    threshold: f64,
) -> CoreResult<Option<(Uuid, DateTime<Utc>)>> {
    let mut candidates = candidates.to_vec();
    candidates.sort_by_key(|&(id, at)| (at, id));
    if candidates.len() < 2 {
        return Ok(candidates.pop());
    }
    let touchpoints = scored_touchpoints(db, ws, rules, people).await?;
    for &(id, at) in &candidates {
        let score = total(people.iter().map(|person| {
            let by_then: Vec<&Scored> = touchpoints
                .iter()
                .filter(|t| t.0 == *person && t.3 <= at)
                .collect();
            total(
                contributions(rules, &by_then, at)
                    .iter()
                    .map(|(_, _, points)| *points),
            )
        }));
        if score >= threshold {
            return Ok(Some((id, at)));
        }
    }
    Ok(candidates.pop())
}

/// Sums an account's people's stored scores into the account's score, in one
/// statement; returns the account with its new score.
pub async fn recompute_account(
    db: &impl ConnectionTrait,
    account: Uuid,
) -> CoreResult<account::Model> {
    let updated = account::Entity::update_many()
        .col_expr(account::Column::Score, sum_or_zero(members_scores()))
        .filter(account::Column::Id.eq(account))
        .exec_with_returning(db)
        .await?;
    updated
        .into_iter()
        .next()
        .ok_or(CoreError::not_found("account"))
}

/// The sum of the stored scores of the people of the account being updated,
/// as a correlated subquery.
fn members_scores() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    Query::select()
        .expr(Expr::col((stakeholder::Entity, stakeholder::Column::Score)).sum())
        .from(membership::Entity)
        .inner_join(
            stakeholder::Entity,
            Expr::col((stakeholder::Entity, stakeholder::Column::Id))
                .equals((membership::Entity, membership::Column::StakeholderId)),
        )
        .and_where(
            Expr::col((membership::Entity, membership::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .to_owned()
}

/// What a batch of touchpoints changed, to rescore once at its end.
#[derive(Default)]
pub struct Touched {
    /// Each person, with the touchpoints recorded for them and their times.
    /// Ordered, so that concurrent batches update rows in the same order and
    /// cannot deadlock on PostgreSQL.
    pub stakeholders: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
    pub accounts: BTreeMap<Uuid, Vec<(Uuid, DateTime<Utc>)>>,
}

impl Touched {
    pub fn add(&mut self, tp: &touchpoint::Model) {
        let cause = (tp.id, tp.occurred_at);
        if let Some(s) = tp.stakeholder_id {
            self.stakeholders.entry(s).or_default().push(cause);
        }
        if let Some(a) = tp.account_id {
            self.accounts.entry(a).or_default().push(cause);
        }
    }
}

/// Rescores what a batch touched and qualifies leads whose score crossed the
/// workspace's MQL threshold.
pub async fn rescore(db: &impl ConnectionTrait, ws: Uuid, touched: Touched) -> CoreResult<()> {
    let rules = rules_of(db, ws).await?;
    let threshold = mql_threshold(db, ws).await?;
    let now = time::now();
    let mut accounts = touched.accounts;
    for (person, causes) in touched.stakeholders {
        let model = recompute_stakeholder(db, ws, &rules, person, now).await?;
        let score = model.score;
        if qualifies(model.lifecycle, score, threshold) {
            let cause = crossing(db, ws, &rules, &[person], &causes, threshold).await?;
            let reached = Reached {
                score,
                threshold,
                touchpoint: cause,
                because: None,
            };
            qualify(
                db,
                ws,
                Subject::Stakeholder(person),
                model.lifecycle,
                reached,
            )
            .await?;
        }
        let memberships: Vec<Uuid> = membership::Entity::find()
            .select_only()
            .column(membership::Column::AccountId)
            .filter(membership::Column::StakeholderId.eq(person))
            .into_tuple()
            .all(db)
            .await?;
        for account in memberships {
            accounts
                .entry(account)
                .or_default()
                .extend(causes.iter().copied());
        }
    }
    for (account, mut causes) in accounts {
        let model = recompute_account(db, account).await?;
        let score = model.score;
        if qualifies(model.lifecycle, score, threshold) {
            causes.sort();
            causes.dedup();
            let people = members(db, account).await?;
            let cause = crossing(db, ws, &rules, &people, &causes, threshold).await?;
            let reached = Reached {
                score,
                threshold,
                touchpoint: cause,
                because: None,
            };
            qualify(db, ws, Subject::Account(account), model.lifecycle, reached).await?;
        }
    }
    Ok(())
}

fn qualifies(lifecycle: L, score: f64, threshold: f64) -> bool {
    score >= threshold && lifecycle::is_unqualified(lifecycle)
}

async fn members(db: &impl ConnectionTrait, account: Uuid) -> CoreResult<Vec<Uuid>> {
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::StakeholderId)
        .filter(membership::Column::AccountId.eq(account))
        .into_tuple()
        .all(db)
        .await?)
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

/// Records the move to MQL, at the touchpoint that caused it or now.
async fn qualify(
    db: &impl ConnectionTrait,
    ws: Uuid,
    subject: Subject,
    lifecycle: L,
    reached: Reached<'_>,
) -> CoreResult<Option<lifecycle_change::Model>> {
    let Reached {
        score,
        threshold,
        touchpoint,
        because,
    } = reached;
    let mut cause_text = format!("score {score:.1} reached the MQL threshold {threshold}");
    if let Some(because) = because {
        cause_text = format!("{cause_text} ({because})");
    }
    let change = Change {
        from: Some(lifecycle),
        to: L::Mql,
        at: touchpoint.map_or_else(time::now, |(_, at)| at),
        cause: &cause_text,
        actor: None,
        touchpoint: touchpoint.map(|(id, _)| id),
    };
    lifecycle::set(db, ws, subject, change).await
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

/// Rescores every person and account of a workspace after its rules changed,
/// a chunk of people at a time, then sets every stored score from the new
/// contributions in one statement per table; people and accounts whose new
/// score reaches the MQL threshold qualify.
async fn rescore_workspace(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<()> {
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
                    .into_iter()
                    .map(|(rule, count, points)| {
                        contribution_row(ws, *person, rule, count, points, now)
                    })
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
        .col_expr(account::Column::Score, sum_or_zero(members_scores()))
        .filter(account::Column::WorkspaceId.eq(ws))
        .exec(db)
        .await?;
    qualify_workspace(db, ws, "a scoring rule changed").await
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
