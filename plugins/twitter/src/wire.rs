//! The vendor's JSON, only the fields used: X API v2 tweet pages
//! (`Get2UsersIdMentionsResponse`, `Get2TweetsSearchRecentResponse`, `Problem`
//! in the 2.159 OpenAPI description) and the Account Activity (v1.1) webhook
//! payload.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Whether `s` has the form of X's `TweetId` and `UserId`: 1 to 19 digits
/// (and no sign, which `u64::from_str` would take).
pub fn is_numeric_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A tweet id (`TweetId`: a string of 1–19 digits). Held as a number so that
/// ids of different lengths order correctly ("999" is older than "1000").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TweetId(u64);

impl fmt::Display for TweetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TweetId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if !is_numeric_id(s) {
            return Err(format!("`{s}` is not a tweet id (1 to 19 digits)"));
        }
        s.parse().map(TweetId).map_err(|e| format!("`{s}`: {e}"))
    }
}

/// As X writes it: a string, so JSON tools without 64-bit integers keep it whole.
impl Serialize for TweetId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TweetId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// One page of mentions or of recent search: both responses share this shape.
/// An empty page is `{"meta":{"result_count":0}}`; partial failures add
/// `errors` to a 200.
#[derive(Debug, Deserialize)]
pub struct TweetsPage {
    pub data: Option<Vec<Tweet>>,
    pub includes: Option<Expansions>,
    pub meta: Option<Meta>,
    #[serde(default)]
    pub errors: Vec<Problem>,
}

/// A tweet with the `tweet.fields` we ask for.
#[derive(Debug, Deserialize)]
pub struct Tweet {
    pub id: TweetId,
    pub text: String,
    pub author_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub conversation_id: Option<String>,
    /// Kept as given: `{"retweet_count":…,"reply_count":…,"like_count":…,…}`.
    pub public_metrics: Option<serde_json::Value>,
    /// The tweets this one replies to, quotes or retweets.
    #[serde(default)]
    pub referenced_tweets: Vec<ReferencedTweet>,
}

impl Tweet {
    /// Whether this tweet `relation`s (`replied_to`, `quoted`) the tweet `id`.
    pub fn references(&self, relation: &str, id: TweetId) -> bool {
        self.referenced_tweets
            .iter()
            .any(|r| r.kind == relation && r.id == id)
    }
}

/// An entry of `referenced_tweets`: `type` is `retweeted`, `quoted` or
/// `replied_to`.
#[derive(Debug, Deserialize)]
pub struct ReferencedTweet {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: TweetId,
}

/// A page of users (`Get2TweetsIdLikingUsersResponse`,
/// `Get2TweetsIdRetweetedByResponse`): the same `meta` and `errors` as a
/// page of tweets.
#[derive(Debug, Deserialize)]
pub struct UsersPage {
    pub data: Option<Vec<User>>,
    pub meta: Option<Meta>,
    #[serde(default)]
    pub errors: Vec<Problem>,
}

/// `includes`: the objects the `expansions` asked for.
#[derive(Debug, Deserialize)]
pub struct Expansions {
    #[serde(default)]
    pub users: Vec<User>,
}

/// An expanded author (`User`: `id`, `name` and `username` are required).
#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    /// The next page's token; absent on the last page.
    pub next_token: Option<String>,
}

/// An RFC 7807 problem (`Problem`: `type` and `title` are required), with
/// the fields of `ResourceNotFoundProblem`.
#[derive(Debug, Deserialize)]
pub struct Problem {
    pub title: String,
    pub detail: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

impl Problem {
    /// Whether X says the user `user_id` does not exist: a resource-not-found
    /// problem about a user, naming that id (or no id).
    pub fn is_unknown_user(&self, user_id: &str) -> bool {
        let not_found = self.title == "Not Found Error"
            || self
                .kind
                .as_deref()
                .is_some_and(|kind| kind.ends_with("/resource-not-found"));
        let about_users = self.resource_type.as_deref().is_none_or(|t| t == "user");
        let named = self.resource_id.as_deref().or(self.value.as_deref());
        not_found && about_users && named.is_none_or(|id| id == user_id)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.title),
            None => f.write_str(&self.title),
        }
    }
}

/// An Account Activity delivery. Only `tweet_create_events` are tracked; the
/// other event arrays (favorites, follows, DMs…) are ignored.
#[derive(Debug, Deserialize)]
pub struct Activity {
    /// The subscribed account the events are for.
    pub for_user_id: String,
    #[serde(default)]
    pub tweet_create_events: Vec<LegacyTweet>,
}

/// A v1.1 tweet object.
#[derive(Debug, Deserialize)]
pub struct LegacyTweet {
    pub id_str: TweetId,
    /// Cut at 140 characters when `truncated`; the whole text is then in
    /// `extended_tweet.full_text`.
    pub text: String,
    pub extended_tweet: Option<ExtendedTweet>,
    #[serde(deserialize_with = "legacy_time")]
    pub created_at: DateTime<Utc>,
    pub user: LegacyUser,
    pub entities: Option<Entities>,
    /// Set on replies; a tweet that replies to nothing starts its own conversation.
    pub in_reply_to_status_id_str: Option<String>,
    pub retweet_count: Option<u64>,
    pub favorite_count: Option<u64>,
    pub reply_count: Option<u64>,
    pub quote_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct ExtendedTweet {
    pub full_text: String,
}

#[derive(Debug, Deserialize)]
pub struct LegacyUser {
    pub id_str: String,
    pub screen_name: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Entities {
    #[serde(default)]
    pub user_mentions: Vec<UserMention>,
}

#[derive(Debug, Deserialize)]
pub struct UserMention {
    pub id_str: String,
}

/// v1.1 times: `Wed Oct 10 20:19:24 +0000 2018`.
fn legacy_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    DateTime::parse_from_str(&text, "%a %b %d %H:%M:%S %z %Y")
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| de::Error::custom(format!("created_at `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweet_ids_order_as_numbers_and_refuse_non_digits() {
        let short: TweetId = "999".parse().unwrap();
        let long: TweetId = "1000".parse().unwrap();
        assert!(short < long);
        assert_eq!(long.to_string(), "1000");
        for bad in ["", "+12", "12a", "-1", "12345678901234567890"] {
            assert!(bad.parse::<TweetId>().is_err(), "{bad}");
        }
        assert!(
            serde_json::from_str::<TweetId>("1").is_err(),
            "ids are strings"
        );
        assert_eq!(
            serde_json::to_string(&"1301573587187331074".parse::<TweetId>().unwrap()).unwrap(),
            "\"1301573587187331074\""
        );
    }

    #[test]
    fn legacy_times_parse() {
        let tweet: LegacyTweet = serde_json::from_str(
            r#"{"id_str":"1","text":"t","created_at":"Wed Oct 10 20:19:24 +0000 2018",
                "user":{"id_str":"2","screen_name":"s"}}"#,
        )
        .unwrap();
        assert_eq!(tweet.created_at.to_rfc3339(), "2018-10-10T20:19:24+00:00");
    }
}
