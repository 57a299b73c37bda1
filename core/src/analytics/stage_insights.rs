//! What happens in each stage of a model's sequence: over the stays that
//! began within a window, the touchpoints during them by channel, kind and
//! emotion, with mean sentiment, for all stays and apart for those that
//! moved on and those that dropped off.
//!
//! A stay runs from a move into the stage to the account's next move in the
//! model's sequence (ties by id, as `during_stage`), or is still open. It
//! moved on when that next move came before the window's end, and dropped
//! off otherwise, as the funnel counts its conversion. Its touchpoints are
//! the account's during the stay and before the window's end.
//!
//! Three statements for the whole model, grouped in SQL: the sequence, the
//! stays counted per stage and outcome, and their touchpoints counted per
//! stage, outcome, channel, kind and emotion (the window's moves joined to
//! the touchpoints along the (account, time) index, each stay's end a
//! correlated subquery). No touchpoint row is read into memory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, Emotion};
use entity::{stage, stage_transition, touchpoint};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Query, SelectStatement,
};
use sea_orm::{ActiveEnum, ConnectionTrait, Iterable};
use uuid::Uuid;

use super::{Window, scalar, sequence, stay_end};
use crate::{CoreResult, time};

/// How many touchpoints had one value of a breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally<T> {
    pub value: T,
    pub count: usize,
}

/// The figures of one group of stays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// Stays counted (an account that entered the stage twice counts twice).
    pub stays: usize,
    /// Touchpoints during those stays (before the window's end).
    pub touchpoints: usize,
    /// Those touchpoints per channel, most first, then by channel name; only
    /// channels that occur.
    pub by_channel: Vec<Tally<Channel>>,
    /// Those touchpoints per kind, most first, then by kind; only kinds that
    /// occur.
    pub by_kind: Vec<Tally<String>>,
    /// Those touchpoints per emotion, every emotion in the enum's order,
    /// zero included; touchpoints without an emotion count in none.
    pub emotions: Vec<Tally<Emotion>>,
    /// The mean sentiment of those touchpoints that have one; `None` when
    /// none has.
    pub mean_sentiment: Option<f64>,
}

impl Group {
    /// Touchpoints per stay; `None` without stays.
    pub fn touchpoints_per_stay(&self) -> Option<f64> {
        (self.stays > 0).then(|| self.touchpoints as f64 / self.stays as f64)
    }
}

/// One stage of the sequence with its groups of stays.
#[derive(Debug, Clone)]
pub struct StageInsight {
    pub stage: stage::Model,
    /// Every stay begun within the window.
    pub all: Group,
    /// The stays that moved on before the window's end.
    pub moved_on: Group,
    /// The stays still open at the window's end.
    pub dropped_off: Group,
}

/// How many stays of a stage began within the window, by outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct StayCount {
    pub stage: Uuid,
    pub moved_on: bool,
    pub stays: usize,
}

/// The touchpoints during a stage's stays of one outcome with one channel,
/// kind and emotion.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchCount {
    pub stage: Uuid,
    pub moved_on: bool,
    pub channel: Channel,
    pub kind: String,
    pub emotion: Option<Emotion>,
    pub touchpoints: usize,
    /// The sum of their sentiments, over those that have one.
    pub sentiment_sum: f64,
    /// How many have a sentiment.
    pub with_sentiment: usize,
}

/// Per stage of `model`'s sequence (a model of the workspace), by position:
/// its stays begun within the window and their touchpoints.
pub async fn stage_insights(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    window: Window,
) -> CoreResult<Vec<StageInsight>> {
    let sequence = sequence(db, workspace, model).await?;
    if sequence.is_empty() {
        return Ok(Vec::new());
    }
    let stage_ids: Vec<Uuid> = sequence.iter().map(|s| s.id).collect();
    let count = |row: &sea_orm::QueryResult, name: &str| -> CoreResult<usize> {
        let n: i64 = row.try_get("", name)?;
        Ok(usize::try_from(n).unwrap_or(0))
    };
    let mut stays = Vec::new();
    let stmt = stay_counts_statement(workspace, model, window, &stage_ids);
    for row in db.query_all(&stmt).await? {
        stays.push(StayCount {
            stage: row.try_get("", "stage_id")?,
            moved_on: row.try_get("", "moved_on")?,
            stays: count(&row, "stays")?,
        });
    }
    let mut touches = Vec::new();
    let stmt = touch_counts_statement(workspace, model, window, &stage_ids);
    for row in db.query_all(&stmt).await? {
        touches.push(read_touch_count(&row, row.try_get("", "moved_on")?)?);
    }
    Ok(insights(sequence, &stays, &touches))
}

/// The figures per stage, in the order of `stages`, from the counts the
/// statements return.
pub fn insights(
    stages: Vec<stage::Model>,
    stays: &[StayCount],
    touches: &[TouchCount],
) -> Vec<StageInsight> {
    stages
        .into_iter()
        .map(|stage| {
            let group = |outcome: Option<bool>| {
                let wanted = |s: Uuid, moved_on: bool| {
                    s == stage.id && outcome.is_none_or(|o| o == moved_on)
                };
                group(
                    stays
                        .iter()
                        .filter(|c| wanted(c.stage, c.moved_on))
                        .map(|c| c.stays)
                        .sum(),
                    touches.iter().filter(|t| wanted(t.stage, t.moved_on)),
                )
            };
            StageInsight {
                all: group(None),
                moved_on: group(Some(true)),
                dropped_off: group(Some(false)),
                stage,
            }
        })
        .collect()
}

/// One group's figures from its stays and its touchpoints' counts.
fn group<'a>(stays: usize, touches: impl Iterator<Item = &'a TouchCount>) -> Group {
    let mut channels: HashMap<Channel, usize> = HashMap::new();
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    let mut emotions: HashMap<Emotion, usize> = HashMap::new();
    let (mut touchpoints, mut sum, mut with_sentiment) = (0, 0.0, 0);
    for t in touches {
        touchpoints += t.touchpoints;
        sum += t.sentiment_sum;
        with_sentiment += t.with_sentiment;
        *channels.entry(t.channel).or_default() += t.touchpoints;
        *kinds.entry(t.kind.as_str()).or_default() += t.touchpoints;
        if let Some(e) = t.emotion {
            *emotions.entry(e).or_default() += t.touchpoints;
        }
    }
    let mut by_channel: Vec<Tally<Channel>> = channels
        .into_iter()
        .map(|(value, count)| Tally { value, count })
        .collect();
    by_channel.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.value.to_value().cmp(&b.value.to_value()))
    });
    let mut by_kind: Vec<Tally<String>> = kinds
        .into_iter()
        .map(|(value, count)| Tally {
            value: value.to_owned(),
            count,
        })
        .collect();
    by_kind.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Group {
        stays,
        touchpoints,
        by_channel,
        by_kind,
        emotions: Emotion::iter()
            .map(|value| Tally {
                count: emotions.get(&value).copied().unwrap_or(0),
                value,
            })
            .collect(),
        mean_sentiment: (with_sentiment > 0).then(|| sum / with_sentiment as f64),
    }
}

/// Which stays a statement reads: moves into `stage_ids` of `model`, from
/// `from` (since ever when `None`) to before `to`, of `accounts` (every
/// account when `None`).
struct Stays<'a> {
    workspace: Uuid,
    model: Uuid,
    stage_ids: &'a [Uuid],
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
    accounts: Option<&'a [Uuid]>,
}

impl<'a> Stays<'a> {
    fn in_window(workspace: Uuid, model: Uuid, window: Window, stage_ids: &'a [Uuid]) -> Self {
        Self {
            workspace,
            model,
            stage_ids,
            from: Some(window.from()),
            to: window.to(),
            accounts: None,
        }
    }
}

/// The stays as a table `s`: `stay_id, account_id, stage_id, entered_at,
/// left_at` (null while open), and `moved_on` (left before `to`).
fn stays_table(stays: &Stays<'_>) -> SelectStatement {
    use stage_transition::Column as T;
    let st = Alias::new("st");
    let col = |c: T| Expr::col((st.clone(), c));
    let mut raw = Query::select()
        .expr_as(col(T::Id), Alias::new("stay_id"))
        .expr_as(col(T::AccountId), Alias::new("account_id"))
        .expr_as(col(T::ToStageId), Alias::new("stage_id"))
        .expr_as(col(T::OccurredAt), Alias::new("entered_at"))
        .expr_as(scalar(stay_end(&st)), Alias::new("left_at"))
        .from_as(stage_transition::Entity, st.clone())
        .and_where(col(T::WorkspaceId).eq(stays.workspace))
        .and_where(col(T::ModelId).eq(stays.model))
        .and_where(col(T::Phase).eq(false))
        .and_where(col(T::ToStageId).is_in(stays.stage_ids.iter().copied()))
        .and_where(col(T::OccurredAt).lt(time::to_micros(stays.to)))
        .to_owned();
    if let Some(from) = stays.from {
        raw.and_where(col(T::OccurredAt).gte(time::to_micros(from)));
    }
    if let Some(accounts) = stays.accounts {
        raw.and_where(col(T::AccountId).is_in(accounts.iter().copied()));
    }
    // A fence: without a LIMIT, PostgreSQL pulls the stays up into the join
    // with the touchpoints and runs `left_at`'s subquery once per touchpoint
    // rather than once per stay (EXPLAIN showed 126,850 runs for 133 stays).
    raw.limit(i64::MAX as u64);
    let r = Alias::new("r");
    let rc = |name: &str| Expr::col((r.clone(), Alias::new(name)));
    let mut q = Query::select();
    for name in ["stay_id", "account_id", "stage_id", "entered_at", "left_at"] {
        q.expr_as(rc(name), Alias::new(name));
    }
    q.expr_as(
        rc("left_at")
            .is_not_null()
            .and(rc("left_at").lt(time::to_micros(stays.to))),
        Alias::new("moved_on"),
    )
    .from_subquery(raw, r);
    q
}

fn s_col(name: &str) -> Expr {
    Expr::col((Alias::new("s"), Alias::new(name)))
}

/// Stays begun within the window per stage and outcome:
/// `stage_id, moved_on, stays`.
pub fn stay_counts_statement(
    workspace: Uuid,
    model: Uuid,
    window: Window,
    stage_ids: &[Uuid],
) -> SelectStatement {
    stay_counts(
        &Stays::in_window(workspace, model, window, stage_ids),
        "moved_on",
    )
}

/// The stays per stage and `split` (a column of the stays table):
/// `stage_id, <split>, stays`.
fn stay_counts(stays: &Stays<'_>, split: &str) -> SelectStatement {
    let s = Alias::new("s");
    Query::select()
        .expr_as(s_col("stage_id"), Alias::new("stage_id"))
        .expr_as(s_col(split), Alias::new(split))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("stays"))
        .from_subquery(stays_table(stays), s.clone())
        .add_group_by([s_col("stage_id"), s_col(split)])
        .to_owned()
}

/// The touchpoints during those stays and before the window's end, per
/// stage, outcome, channel, kind and emotion: `stage_id, moved_on, channel,
/// kind, emotion, touchpoints, sentiment_sum, with_sentiment`.
pub fn touch_counts_statement(
    workspace: Uuid,
    model: Uuid,
    window: Window,
    stage_ids: &[Uuid],
) -> SelectStatement {
    touch_counts(
        &Stays::in_window(workspace, model, window, stage_ids),
        "moved_on",
    )
}

/// The touchpoints during the stays and before their `to`, per stage,
/// `split` (a column of the stays table), channel, kind and emotion.
fn touch_counts(stays: &Stays<'_>, split: &str) -> SelectStatement {
    use touchpoint::Column as C;
    let (s, tp) = (Alias::new("s"), Alias::new("tp"));
    let t = |c: C| Expr::col((tp.clone(), c));
    let during = Condition::all()
        .add(t(C::WorkspaceId).eq(stays.workspace))
        .add(t(C::AccountId).eq(s_col("account_id")))
        .add(t(C::OccurredAt).gte(s_col("entered_at")))
        .add(t(C::OccurredAt).lt(time::to_micros(stays.to)))
        .add(
            Condition::any()
                .add(s_col("left_at").is_null())
                .add(t(C::OccurredAt).lt(s_col("left_at"))),
        );
    Query::select()
        .expr_as(s_col("stage_id"), Alias::new("stage_id"))
        .expr_as(s_col(split), Alias::new(split))
        .expr_as(t(C::Channel), Alias::new("channel"))
        .expr_as(t(C::Kind), Alias::new("kind"))
        .expr_as(t(C::Emotion), Alias::new("emotion"))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("touchpoints"))
        .expr_as(Func::sum(t(C::Sentiment)), Alias::new("sentiment_sum"))
        .expr_as(Func::count(t(C::Sentiment)), Alias::new("with_sentiment"))
        .from_subquery(stays_table(stays), s)
        .join_as(JoinType::InnerJoin, touchpoint::Entity, tp.clone(), during)
        .add_group_by([
            s_col("stage_id"),
            s_col(split),
            t(C::Channel),
            t(C::Kind),
            t(C::Emotion),
        ])
        .to_owned()
}

/// One stage an account has been in, with its stays there.
#[derive(Debug, Clone)]
pub struct AccountStage {
    pub stage: stage::Model,
    /// Every stay of the account in the stage up to now (`moved_on` and
    /// `dropped_off` are not split here: a stay still open is simply open).
    pub group: Group,
}

/// Per account, the stages of `model`'s sequence it has been in (by
/// position) with what happened there over its whole history up to `now`:
/// the same figures as [`stage_insights`], for these accounts' stays. Three
/// statements for any number of accounts.
pub async fn account_stages(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    accounts: &[Uuid],
    now: DateTime<Utc>,
) -> CoreResult<HashMap<Uuid, Vec<AccountStage>>> {
    let sequence = sequence(db, workspace, model).await?;
    if sequence.is_empty() || accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let stage_ids: Vec<Uuid> = sequence.iter().map(|s| s.id).collect();
    let stays = Stays {
        workspace,
        model,
        stage_ids: &stage_ids,
        from: None,
        to: now,
        accounts: Some(accounts),
    };
    let mut counts: HashMap<(Uuid, Uuid), usize> = HashMap::new();
    for row in db.query_all(&stay_counts(&stays, "account_id")).await? {
        let n: i64 = row.try_get("", "stays")?;
        counts.insert(
            (row.try_get("", "account_id")?, row.try_get("", "stage_id")?),
            usize::try_from(n).unwrap_or(0),
        );
    }
    let mut touches: HashMap<(Uuid, Uuid), Vec<TouchCount>> = HashMap::new();
    for row in db.query_all(&touch_counts(&stays, "account_id")).await? {
        let account: Uuid = row.try_get("", "account_id")?;
        let count = read_touch_count(&row, false)?;
        touches
            .entry((account, count.stage))
            .or_default()
            .push(count);
    }
    let mut out: HashMap<Uuid, Vec<AccountStage>> = HashMap::new();
    for stage in &sequence {
        for account in accounts {
            let Some(stays) = counts.get(&(*account, stage.id)) else {
                continue;
            };
            let theirs = touches
                .get(&(*account, stage.id))
                .map_or(&[][..], Vec::as_slice);
            out.entry(*account).or_default().push(AccountStage {
                stage: stage.clone(),
                group: group(*stays, theirs.iter()),
            });
        }
    }
    Ok(out)
}

/// A row of a touch-count statement; `moved_on` when it does not split by
/// outcome.
fn read_touch_count(row: &sea_orm::QueryResult, moved_on: bool) -> CoreResult<TouchCount> {
    let count = |name: &str| -> CoreResult<usize> {
        let n: i64 = row.try_get("", name)?;
        Ok(usize::try_from(n).unwrap_or(0))
    };
    let sum: Option<f64> = row.try_get("", "sentiment_sum")?;
    Ok(TouchCount {
        stage: row.try_get("", "stage_id")?,
        moved_on,
        channel: row.try_get("", "channel")?,
        kind: row.try_get("", "kind")?,
        emotion: row.try_get("", "emotion")?,
        touchpoints: count("touchpoints")?,
        sentiment_sum: sum.unwrap_or_default(),
        with_sentiment: count("with_sentiment")?,
    })
}

#[cfg(test)]
mod tests {
    use entity::vocab::OwnerTeam;

    use super::*;

    fn stage(n: u128) -> stage::Model {
        stage::Model {
            id: Uuid::from_u128(n),
            workspace_id: Uuid::nil(),
            model_id: Uuid::nil(),
            parent_stage_id: None,
            key: format!("s{n}"),
            name: format!("S{n}"),
            position: n as i32,
            owner_team: OwnerTeam::Sales,
            target_duration_secs: None,
            continuous: false,
            entry_kinds: serde_json::json!([]),
            entry_channels: serde_json::json!([]),
            playbook: serde_json::json!([]),
            archived_at: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn touches(
        moved_on: bool,
        channel: Channel,
        kind: &str,
        emotion: Option<Emotion>,
        touchpoints: usize,
        sentiment_sum: f64,
        with_sentiment: usize,
    ) -> TouchCount {
        TouchCount {
            stage: Uuid::from_u128(1),
            moved_on,
            channel,
            kind: kind.into(),
            emotion,
            touchpoints,
            sentiment_sum,
            with_sentiment,
        }
    }

    fn emotions(counts: [usize; 6]) -> Vec<Tally<Emotion>> {
        Emotion::iter()
            .zip(counts)
            .map(|(value, count)| Tally { value, count })
            .collect()
    }

    #[test]
    fn groups_add_up_by_outcome_and_sort_most_first() {
        let stays = [
            StayCount {
                stage: Uuid::from_u128(1),
                moved_on: true,
                stays: 2,
            },
            StayCount {
                stage: Uuid::from_u128(1),
                moved_on: false,
                stays: 1,
            },
        ];
        let rows = [
            // Moved on: 3 emails (2 WANT with sentiments 0.5 and 0.3, one
            // with neither), 1 meeting (NEED, 0.9).
            touches(
                true,
                Channel::Email,
                "email.opened",
                Some(Emotion::Want),
                2,
                0.8,
                2,
            ),
            touches(true, Channel::Email, "email.opened", None, 1, 0.0, 0),
            touches(
                true,
                Channel::Meeting,
                "meeting.held",
                Some(Emotion::Need),
                1,
                0.9,
                1,
            ),
            // Dropped off: 2 tickets (PAIN, -0.5 and -0.7), 2 emails (FEAR,
            // no sentiment).
            touches(
                false,
                Channel::Support,
                "ticket.opened",
                Some(Emotion::Pain),
                2,
                -1.2,
                2,
            ),
            touches(
                false,
                Channel::Email,
                "email.opened",
                Some(Emotion::Fear),
                2,
                0.0,
                0,
            ),
        ];
        let [insight] = insights(vec![stage(1)], &stays, &rows).try_into().unwrap();
        let tally = |value: &str, count| Tally {
            value: value.to_owned(),
            count,
        };
        // Moved on: 4 touchpoints over 2 stays; sentiment (0.8 + 0.9) / 3.
        let moved_on = &insight.moved_on;
        assert_eq!((moved_on.stays, moved_on.touchpoints), (2, 4));
        assert_eq!(moved_on.touchpoints_per_stay(), Some(2.0));
        assert!((moved_on.mean_sentiment.unwrap() - 1.7 / 3.0).abs() < 1e-12);
        assert_eq!(
            moved_on.by_kind,
            [tally("email.opened", 3), tally("meeting.held", 1)]
        );
        assert_eq!(moved_on.emotions, emotions([0, 0, 0, 2, 1, 0]));
        // Dropped off: 4 touchpoints, one stay; sentiment -1.2 / 2.
        let dropped = &insight.dropped_off;
        assert_eq!((dropped.stays, dropped.touchpoints), (1, 4));
        assert_eq!(dropped.mean_sentiment, Some(-0.6));
        assert_eq!(dropped.emotions, emotions([2, 0, 2, 0, 0, 0]));
        // Two of each channel: a tie, broken by name.
        let channels: Vec<(Channel, usize)> = dropped
            .by_channel
            .iter()
            .map(|t| (t.value, t.count))
            .collect();
        assert_eq!(channels, [(Channel::Email, 2), (Channel::Support, 2)]);
        // All: 8 touchpoints over 3 stays; sentiment (1.7 - 1.2) / 5.
        let all = &insight.all;
        assert_eq!((all.stays, all.touchpoints), (3, 8));
        assert!((all.mean_sentiment.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(all.by_kind[0], tally("email.opened", 5));
        assert_eq!(all.emotions, emotions([2, 0, 2, 2, 1, 0]));
    }

    #[test]
    fn a_stage_without_stays_has_zeros_and_no_means() {
        let [insight] = insights(vec![stage(2)], &[], &[]).try_into().unwrap();
        assert_eq!(insight.all.stays, 0);
        assert_eq!(insight.all.touchpoints_per_stay(), None);
        assert_eq!(insight.all.mean_sentiment, None);
        assert_eq!(insight.dropped_off.emotions, emotions([0; 6]));
        assert!(insight.moved_on.by_channel.is_empty());
    }
}
