//! Where a Zoom sync stands, saved with every batch.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a sync remembers between batches and between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Finished webinars whose registrants, attendees, absentees, Q&A and
    /// poll answers are all synced. Later runs skip them entirely.
    #[serde(default)]
    pub synced_webinars: BTreeSet<i64>,
    /// The run in progress; `None` between runs (the next pull starts one).
    #[serde(default)]
    pub run: Option<Run>,
    /// Which streams `synced_webinars` were synced with. A cursor saved by
    /// an older version (0: before pending and denied registrants; 1: before
    /// Q&A and polls) has its synced webinars visited once more,
    /// idempotently, for the new streams.
    #[serde(default)]
    pub version: u32,
}

impl Cursor {
    /// The streams this version syncs for each webinar.
    pub const VERSION: u32 = 2;

    /// At the start of a run: forgets the synced webinars of an older
    /// version's cursor, so the run reads their new streams.
    pub fn upgrade(&mut self) {
        if self.version < Self::VERSION {
            self.synced_webinars.clear();
            self.version = Self::VERSION;
        }
    }
}

/// A run in progress: the webinars left to visit and how far the first one
/// has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Webinars still to visit, in Zoom's order, the current one first.
    pub queue: VecDeque<QueuedWebinar>,
    /// What comes next for the current webinar.
    pub step: Step,
}

/// A webinar from the list, with what its touchpoints need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedWebinar {
    pub id: i64,
    pub topic: Option<String>,
    /// Its start, when it had ended by the time the run listed it: then its
    /// participants and absentees are synced after its registrants, and
    /// absentees missed it at this time. `None` for upcoming webinars.
    pub started_at: Option<DateTime<Utc>>,
}

/// The next request for the current webinar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Step {
    /// The next page of approved registrants (`None`: the first).
    Registrants { page: Option<PageToken> },
    /// The next page of registrants awaiting approval (`None`: the first).
    Pending { page: Option<PageToken> },
    /// The next page of registrants the host refused (`None`: the first).
    Denied { page: Option<PageToken> },
    /// All participant pages, in one batch.
    Participants,
    /// The next absentees page (`None`: the first).
    Absentees { page: Option<PageToken> },
    /// The next page of the Q&A (`None`: the first).
    Questions { page: Option<PageToken> },
    /// The next page of poll answers (`None`: the first).
    Polls { page: Option<PageToken> },
}

/// A `next_page_token`, with when Zoom gave it: tokens expire after 15
/// minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageToken {
    pub token: String,
    pub received_at: DateTime<Utc>,
}

impl PageToken {
    /// Zoom's tokens live 15 minutes; one older than this is not trusted.
    const TRUSTED_FOR: chrono::Duration = chrono::Duration::minutes(10);

    /// The token to continue with, or `None` to start its list over when it
    /// may have expired (a resumed run, or a slow one): the pages already
    /// read come again, under the same external ids, so nothing is doubled.
    pub fn usable(page: &Option<PageToken>, now: DateTime<Utc>) -> Option<&str> {
        page.as_ref()
            .filter(|page| now - page.received_at <= Self::TRUSTED_FOR)
            .map(|page| page.token.as_str())
    }
}
