//! X API v2 JSON (`Get2UsersIdMentionsResponse`, `Get2TweetsSearchRecentResponse`)
//! and the Account Activity webhook payload, only the fields used.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A page of tweets; an empty page is `{"meta":{"result_count":0}}`.
#[derive(Debug, Deserialize)]
pub struct TweetsPage {
    #[serde(default)]
    pub data: Vec<Tweet>,
    pub includes: Option<Includes>,
    pub meta: Option<Meta>,
    /// Partial failures, delivered with a 200.
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Tweet {
    pub id: String,
    pub text: String,
    pub author_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub conversation_id: Option<String>,
    pub public_metrics: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Includes {
    #[serde(default)]
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    pub next_token: Option<String>,
}

/// An Account Activity delivery (v1.1 tweet objects).
#[derive(Debug, Deserialize)]
pub struct Activity {
    pub for_user_id: String,
    #[serde(default)]
    pub tweet_create_events: Vec<ActivityTweet>,
}

#[derive(Debug, Deserialize)]
pub struct ActivityTweet {
    pub id_str: String,
    pub text: String,
    /// `Wed Oct 10 20:19:24 +0000 2018`.
    pub created_at: String,
    pub user: ActivityUser,
    pub entities: Option<Entities>,
}

#[derive(Debug, Deserialize)]
pub struct ActivityUser {
    pub id_str: String,
    pub screen_name: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Entities {
    #[serde(default)]
    pub user_mentions: Vec<Mention>,
}

#[derive(Debug, Deserialize)]
pub struct Mention {
    pub id_str: String,
}
