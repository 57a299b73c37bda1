//! Where a sync stands, saved with every batch.
//!
//! Each stream is read in passes: a pass walks the vendor's pages (newest
//! first) down to the previous pass's newest tweet (`since_id`). While a pass
//! is under way the cursor keeps its `since_id` and page token unchanged, so a
//! run resumed after a crash asks for the very next page of the same sequence;
//! the newest id it has seen is promoted to `since_id` only when the last page
//! is saved.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::wire::TweetId;

/// The whole sync position: which stream the next pull reads, and each
/// stream's pass. The default is a first sync.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    /// The stream the next pull reads. A run reads mentions, then (with a
    /// `query`) recent search.
    pub stream: Stream,
    /// The mentions timeline's pass.
    pub mentions: StreamCursor,
    /// The recent-search pass.
    pub search: StreamCursor,
    /// The query `search` was made with: another query starts search over, as
    /// its ids and page token mean nothing for the new one.
    pub search_query: Option<String>,
    /// The engagement pass under way (with `engagement` configured): while
    /// set, the next pull reads it instead of `stream`. Left out of the
    /// saved JSON when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engagement: Option<EngagementPass>,
}

/// A pass over the likes, retweets, quotes and replies of the account's
/// recent tweets.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngagementPass {
    /// The account's tweets still to visit, the current one first; `None`
    /// until the pass's first pull lists them.
    pub tweets: Option<VecDeque<OwnTweet>>,
    /// What the current tweet's next request reads.
    pub list: Engagement,
    /// `meta.next_token` of the last saved page of that list.
    pub page_token: Option<String>,
}

/// One of the account's tweets, as its engagement touchpoints need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnTweet {
    pub id: TweetId,
    /// When it was tweeted: also the time of its likes and retweets, which
    /// X does not date.
    pub created_at: DateTime<Utc>,
    /// The account's handle, for the tweet's link.
    pub handle: Option<String>,
}

/// The engagement lists of one tweet, read in this order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engagement {
    /// `GET /2/tweets/{id}/liking_users`.
    #[default]
    Likes,
    /// `GET /2/tweets/{id}/retweeted_by`.
    Retweets,
    /// `GET /2/tweets/{id}/quote_tweets`.
    Quotes,
    /// `GET /2/tweets/search/recent?query=conversation_id:{id}`.
    Replies,
}

impl Engagement {
    pub fn next(self) -> Option<Engagement> {
        match self {
            Engagement::Likes => Some(Engagement::Retweets),
            Engagement::Retweets => Some(Engagement::Quotes),
            Engagement::Quotes => Some(Engagement::Replies),
            Engagement::Replies => None,
        }
    }
}

/// One stream of tweets.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// `GET /2/users/{id}/mentions`.
    #[default]
    Mentions,
    /// `GET /2/tweets/search/recent`.
    Search,
}

/// One stream's pass.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamCursor {
    /// The newest tweet of the last completed pass: this pass asks only for
    /// newer ones. `None` until a pass has seen a tweet.
    pub since_id: Option<TweetId>,
    /// The newest tweet seen so far in the pass under way.
    pub newest_id: Option<TweetId>,
    /// `meta.next_token` of the last saved page: the pass under way continues
    /// there. `None` when a new pass starts.
    pub page_token: Option<String>,
}

impl Cursor {
    /// Makes the cursor fit the configured query: search state made with
    /// another query (or none) is dropped, and without a query only mentions
    /// are read.
    pub fn follow_query(&mut self, query: Option<&str>) {
        if self.search_query.as_deref() != query {
            self.search = StreamCursor::default();
            self.search_query = query.map(str::to_owned);
        }
        if query.is_none() {
            self.stream = Stream::Mentions;
        }
    }

    /// Without `engagement` configured, no engagement pass is under way.
    pub fn follow_engagement(&mut self, enabled: bool) {
        if !enabled {
            self.engagement = None;
        }
    }

    pub fn stream_mut(&mut self, stream: Stream) -> &mut StreamCursor {
        match stream {
            Stream::Mentions => &mut self.mentions,
            Stream::Search => &mut self.search,
        }
    }
}

impl StreamCursor {
    pub fn saw(&mut self, id: TweetId) {
        self.newest_id = self.newest_id.max(Some(id));
    }

    /// The pass is over: the next one starts after the newest tweet seen.
    pub fn finish_pass(&mut self) {
        self.since_id = self.since_id.max(self.newest_id.take());
        self.page_token = None;
    }

    /// Drops what may have gone stale while the cursor waited, after X
    /// refused a request built from it: a page token, and for recent search a
    /// `since_id` (X refuses one older than its 7-day window). Returns whether
    /// anything was dropped, i.e. whether starting the pass over can help.
    /// Tweets seen so far in the pass stay counted in `newest_id`.
    pub fn forget_stale(&mut self, stream: Stream) -> bool {
        let stale_since = stream == Stream::Search && self.since_id.is_some();
        let dropped = self.page_token.is_some() || stale_since;
        self.page_token = None;
        if stale_since {
            self.since_id = None;
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> TweetId {
        s.parse().unwrap()
    }

    #[test]
    fn a_pass_promotes_its_newest_id_only_when_it_ends() {
        let mut pass = StreamCursor {
            since_id: Some(id("50")),
            ..StreamCursor::default()
        };
        pass.saw(id("999"));
        pass.saw(id("1000"));
        pass.saw(id("70"));
        pass.page_token = Some("next".into());
        assert_eq!(pass.since_id, Some(id("50")), "unchanged mid-pass");
        pass.finish_pass();
        assert_eq!(
            pass,
            StreamCursor {
                since_id: Some(id("1000")),
                newest_id: None,
                page_token: None
            }
        );
        // An empty pass keeps the previous since_id.
        pass.finish_pass();
        assert_eq!(pass.since_id, Some(id("1000")));
    }

    #[test]
    fn another_query_starts_search_over() {
        let mut cursor = Cursor {
            stream: Stream::Search,
            search: StreamCursor {
                since_id: Some(id("5")),
                newest_id: Some(id("9")),
                page_token: Some("p".into()),
            },
            search_query: Some("acme".into()),
            ..Cursor::default()
        };
        cursor.follow_query(Some("acme"));
        assert_eq!(cursor.search.since_id, Some(id("5")));
        cursor.follow_query(Some("acme OR widgets"));
        assert_eq!(cursor.search, StreamCursor::default());
        assert_eq!(cursor.stream, Stream::Search);
        cursor.follow_query(None);
        assert_eq!(cursor.stream, Stream::Mentions);
        assert_eq!(cursor.search_query, None);
    }

    #[test]
    fn stale_state_is_forgotten_once() {
        let mut mentions = StreamCursor {
            since_id: Some(id("5")),
            newest_id: Some(id("9")),
            page_token: Some("p".into()),
        };
        assert!(mentions.forget_stale(Stream::Mentions));
        assert_eq!(mentions.since_id, Some(id("5")), "mentions keep since_id");
        assert_eq!(mentions.newest_id, Some(id("9")));
        assert!(!mentions.forget_stale(Stream::Mentions));

        let mut search = StreamCursor {
            since_id: Some(id("5")),
            ..StreamCursor::default()
        };
        assert!(search.forget_stale(Stream::Search));
        assert_eq!(search.since_id, None);
        assert!(!search.forget_stale(Stream::Search));
    }
}
