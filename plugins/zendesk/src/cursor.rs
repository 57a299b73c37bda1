//! Where a sync resumes. A run reads the ticket export to its end, then the
//! ticket events export to its end, then one pass over the satisfaction
//! ratings, one batch per vendor page; the cursor saved with each batch holds
//! everything the next request needs. Every field has a serde default, so a
//! cursor saved by an older version still reads (and starts the phases it
//! did not know from the configured `start_time`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::wire;

/// How long a survey may stay unanswered and still hold back the ratings
/// watermark (see [`RatingsCursor::oldest_unanswered`]).
pub const UNANSWERED_WAIT: Duration = Duration::days(7);

/// Where the next pull starts; `Default` is a first sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which endpoint the next pull reads.
    #[serde(default)]
    pub phase: Phase,
    /// The export's last `after_cursor`: the next export request continues
    /// from it, in this run or the next poll. `None` until the first page,
    /// which starts from the configured `start_time`.
    #[serde(default)]
    pub export_after: Option<String>,
    /// Set once the ticket export first reached `end_of_stream`: until then
    /// it dates a solved ticket's `ticket.solved` by its `updated_at` (see
    /// `touchpoints::from_export`), after it only ticket events do.
    #[serde(default)]
    pub tickets_caught_up: bool,
    #[serde(default)]
    pub ticket_events: EventsCursor,
    #[serde(default)]
    pub ratings: RatingsCursor,
}

/// A position in a stream ordered by time, then id: a row at or before it
/// was seen already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Mark {
    /// Unix seconds.
    pub time: i64,
    pub id: u64,
}

impl Mark {
    /// The later of `mark` and `other`.
    fn max_with(mark: Option<Mark>, other: Mark) -> Mark {
        mark.map_or(other, |m| m.max(other))
    }
}

/// The ticket events export's watermark: a time-based export, so the next
/// page (in this run or the next poll) starts at the last page's `end_time`.
/// `start_time` is inclusive, so the events of that second come again;
/// `ids_at_start` drops them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsCursor {
    /// `start_time` of the next request; `None` before the first page, which
    /// starts from the configured `start_time`.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// The events already read whose time is `start_time`.
    #[serde(default)]
    pub ids_at_start: Vec<u64>,
}

impl EventsCursor {
    /// Whether an event at `time` (Unix seconds) was read already.
    pub fn has_read(&self, time: i64, id: u64) -> bool {
        Some(time) == self.start_time && self.ids_at_start.contains(&id)
    }

    /// Moves past a page read from `start` whose events were `read` (time,
    /// id), to `end_time`. Whether it moved forward.
    pub fn advance(&mut self, start: i64, end_time: i64, read: &[(i64, u64)]) -> bool {
        let end = end_time.max(start);
        let before = self.ids_at_start.len();
        let mut at_end: Vec<u64> = if end == start {
            std::mem::take(&mut self.ids_at_start)
        } else {
            Vec::new()
        };
        at_end.extend(read.iter().filter(|(t, _)| *t == end).map(|(_, id)| *id));
        at_end.sort_unstable();
        at_end.dedup();
        let moved = end > start || at_end.len() > before;
        self.start_time = Some(end);
        self.ids_at_start = at_end;
        moved
    }
}

/// The endpoint a pull reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The incremental ticket export, until `end_of_stream`.
    #[default]
    Tickets,
    /// The incremental ticket events export, until `end_of_stream`.
    TicketEvents,
    /// One pass over the satisfaction ratings; the run ends after it.
    Ratings,
}

/// The satisfaction ratings' watermark and the pass under way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingsCursor {
    /// `start_time` (Unix seconds) of every page of the next or current pass;
    /// `None` before the first pass completes.
    #[serde(default)]
    pub since: Option<i64>,
    /// `page[after]` for the pass's next page; `None` at its first.
    #[serde(default)]
    pub page_after: Option<String>,
    /// The newest `created_at` seen in the pass so far.
    #[serde(default)]
    pub newest: Option<i64>,
    /// The oldest `created_at` of a survey seen unanswered (offered or
    /// unoffered) in the pass, when less than [`UNANSWERED_WAIT`] old. A
    /// survey's record is made when it is offered and scored when answered,
    /// so the next pass starts no later than this to see the answer.
    #[serde(default)]
    pub oldest_unanswered: Option<i64>,
    /// The latest (`updated_at`, id) of a rating made into a touchpoint by a
    /// finished pass: a later pass drops rows at or before it, which
    /// `start_time` (by creation, and inclusive) sends again.
    #[serde(default)]
    pub seen: Option<Mark>,
    /// The latest (`updated_at`, id) of the pass under way; `seen` at its end.
    #[serde(default)]
    pub pass_seen: Option<Mark>,
}

impl RatingsCursor {
    /// Notes one rating of the pass under way; whether it changed since the
    /// last pass (so is worth a touchpoint).
    pub fn saw(&mut self, rating: &wire::Rating, now: DateTime<Utc>) -> bool {
        let mark = Mark {
            time: rating.updated_at.unwrap_or(rating.created_at).timestamp(),
            id: rating.id,
        };
        let created = rating.created_at.timestamp();
        self.newest = Some(self.newest.map_or(created, |n| n.max(created)));
        let answered = ["good", "bad"]
            .iter()
            .any(|score| rating.score.eq_ignore_ascii_case(score));
        if !answered && rating.created_at > now - UNANSWERED_WAIT {
            self.oldest_unanswered = Some(
                self.oldest_unanswered
                    .map_or(created, |oldest| oldest.min(created)),
            );
        }
        if self.seen.is_some_and(|seen| mark <= seen) {
            return false;
        }
        self.pass_seen = Some(Mark::max_with(self.pass_seen, mark));
        true
    }

    /// Ends the pass: the next starts at the oldest survey still awaiting an
    /// answer, else at the newest rating seen (re-reading it is harmless:
    /// touchpoints are upserted), and never earlier than this one did.
    pub fn finish_pass(&mut self) {
        let next = self.oldest_unanswered.take().or(self.newest.take());
        self.since = match (self.since, next) {
            (Some(since), Some(next)) => Some(since.max(next)),
            (since, next) => next.or(since),
        };
        self.page_after = None;
        if let Some(pass) = self.pass_seen.take() {
            self.seen = Some(Mark::max_with(self.seen, pass));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(score: &str, created_at: DateTime<Utc>) -> wire::Rating {
        wire::Rating {
            id: 1,
            ticket_id: None,
            requester_id: None,
            score: score.into(),
            comment: None,
            created_at,
            updated_at: None,
        }
    }

    #[test]
    fn the_next_pass_starts_at_the_newest_rating() {
        let now = Utc::now();
        let mut ratings = RatingsCursor {
            since: Some(100),
            ..RatingsCursor::default()
        };
        ratings.saw(&rating("good", now - Duration::hours(3)), now);
        ratings.saw(&rating("bad", now - Duration::hours(1)), now);
        ratings.saw(&rating("good", now - Duration::hours(2)), now);
        ratings.page_after = Some("xyz".into());
        ratings.finish_pass();
        assert_eq!(
            ratings,
            RatingsCursor {
                since: Some((now - Duration::hours(1)).timestamp()),
                seen: Some(Mark {
                    time: (now - Duration::hours(1)).timestamp(),
                    id: 1,
                }),
                ..RatingsCursor::default()
            }
        );
    }

    #[test]
    fn an_unanswered_survey_holds_the_watermark_until_it_is_too_old() {
        let now = Utc::now();
        let offered = now - Duration::days(2);
        let mut ratings = RatingsCursor::default();
        ratings.saw(&rating("offered", now - Duration::days(9)), now);
        ratings.saw(&rating("offered", offered), now);
        ratings.saw(&rating("unoffered", now - Duration::days(1)), now);
        ratings.saw(&rating("good", now - Duration::hours(1)), now);
        ratings.finish_pass();
        assert_eq!(ratings.since, Some(offered.timestamp()));
    }

    #[test]
    fn the_events_watermark_keeps_the_ids_read_at_its_second() {
        let mut events = EventsCursor::default();
        assert!(events.advance(100, 200, &[(150, 1), (200, 2), (200, 3)]));
        assert_eq!(events.start_time, Some(200));
        assert_eq!(events.ids_at_start, [2, 3]);
        assert!(events.has_read(200, 2) && !events.has_read(200, 4));
        // The same second again, with one more event in it.
        assert!(events.advance(200, 200, &[(200, 4)]));
        assert_eq!(events.ids_at_start, [2, 3, 4]);
        // Nothing new: no progress.
        assert!(!events.advance(200, 200, &[]));
        assert_eq!(events.ids_at_start, [2, 3, 4]);
    }

    #[test]
    fn an_empty_pass_keeps_the_watermark() {
        let mut ratings = RatingsCursor {
            since: Some(1_700_000_000),
            ..RatingsCursor::default()
        };
        ratings.finish_pass();
        assert_eq!(ratings.since, Some(1_700_000_000));
        let mut first = RatingsCursor::default();
        first.finish_pass();
        assert_eq!(first.since, None);
    }
}
