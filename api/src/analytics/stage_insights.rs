//! What happens in each stage of a model, as GraphQL; the query and the
//! arithmetic are `journeys_core::analytics::stage_insights`.

use async_graphql::SimpleObject;
use journeys_core::analytics::stage_insights;

use super::int;
use crate::journeys::Stage;
use crate::vocab::{Channel, Emotion};

/// How many touchpoints were on one channel.
#[derive(SimpleObject)]
pub struct ChannelCount {
    /// The channel.
    pub channel: Channel,
    /// Touchpoints on it.
    pub count: i32,
}

/// How many touchpoints were of one kind.
#[derive(SimpleObject)]
pub struct KindCount {
    /// The kind.
    pub kind: String,
    /// Touchpoints of it.
    pub count: i32,
}

/// How many touchpoints expressed one emotion.
#[derive(SimpleObject)]
pub struct EmotionCount {
    /// The emotion.
    pub emotion: Emotion,
    /// Touchpoints expressing it.
    pub count: i32,
}

/// The touchpoints during a group of stays in a stage: each stay's account's
/// touchpoints from its move into the stage until its next move in the
/// sequence, and before the window's end (or, of one account's stays, now).
#[derive(SimpleObject)]
pub struct StayGroup {
    /// Stays counted: moves into the stage (an account that entered twice
    /// counts twice).
    pub stays: i32,
    /// Touchpoints during those stays.
    pub touchpoints: i32,
    /// Those touchpoints per channel, most first, then by channel name; only
    /// channels that occur.
    pub by_channel: Vec<ChannelCount>,
    /// Those touchpoints per kind, most first, then by kind; only kinds that
    /// occur.
    pub by_kind: Vec<KindCount>,
    /// Those touchpoints per emotion: all six, in the enum's order (PAIN,
    /// PROBLEM, FEAR, WANT, NEED, DESIRE), zero included; touchpoints without
    /// an emotion count in none.
    pub emotions: Vec<EmotionCount>,
    /// The mean sentiment (-1 to 1) over those touchpoints that have one;
    /// null when none has.
    pub mean_sentiment: Option<f64>,
    /// `touchpoints / stays`; null without stays.
    pub touchpoints_per_stay: Option<f64>,
}

impl From<stage_insights::Group> for StayGroup {
    fn from(g: stage_insights::Group) -> Self {
        Self {
            stays: int(g.stays),
            touchpoints: int(g.touchpoints),
            touchpoints_per_stay: g.touchpoints_per_stay(),
            mean_sentiment: g.mean_sentiment,
            by_channel: g
                .by_channel
                .into_iter()
                .map(|t| ChannelCount {
                    channel: t.value.into(),
                    count: int(t.count),
                })
                .collect(),
            by_kind: g
                .by_kind
                .into_iter()
                .map(|t| KindCount {
                    kind: t.value,
                    count: int(t.count),
                })
                .collect(),
            emotions: g
                .emotions
                .into_iter()
                .map(|t| EmotionCount {
                    emotion: t.value.into(),
                    count: int(t.count),
                })
                .collect(),
        }
    }
}

/// One stage of a model's sequence with the stays that began in it within
/// the window: all of them, those that moved on (their account's next move
/// came before the window's end) and those that dropped off (still there at
/// the window's end), as the funnel counts them.
#[derive(SimpleObject)]
pub struct StageInsight {
    /// The stage.
    pub stage: Stage,
    /// Every stay begun within the window.
    pub all: StayGroup,
    /// The stays that moved on before the window's end.
    pub moved_on: StayGroup,
    /// The stays still open at the window's end.
    pub dropped_off: StayGroup,
}

impl From<stage_insights::StageInsight> for StageInsight {
    fn from(s: stage_insights::StageInsight) -> Self {
        Self {
            stage: Stage(s.stage),
            all: s.all.into(),
            moved_on: s.moved_on.into(),
            dropped_off: s.dropped_off.into(),
        }
    }
}
