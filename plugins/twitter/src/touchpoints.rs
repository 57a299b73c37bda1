//! Tweets as touchpoints. Pulled (v2) and delivered (v1.1) mentions map to the
//! same external id, kind, time, text, link and author, so a tweet that comes
//! both ways is recorded once.

use journeys_plugin_sdk::{Channel, PersonHint, Touchpoint};
use serde_json::{Map, Value, json};

use crate::cursor::Stream;
use crate::wire::{LegacyTweet, Tweet, TweetId, User};

pub const MENTION_KIND: &str = "tweet.mention";
pub const SEARCH_MATCH_KIND: &str = "tweet.search_match";

/// `mention:{tweet id}` or `search:{tweet id}`: a tweet that both mentions the
/// account and matches the query is two touchpoints of two kinds.
fn external_id(stream: Stream, id: TweetId) -> String {
    match stream {
        Stream::Mentions => format!("mention:{id}"),
        Stream::Search => format!("search:{id}"),
    }
}

/// The tweet's page on x.com; without the author's handle, the id-only form
/// X redirects from.
fn tweet_url(handle: Option<&str>, id: TweetId) -> String {
    match handle {
        Some(handle) => format!("https://x.com/{handle}/status/{id}"),
        None => format!("https://x.com/i/web/status/{id}"),
    }
}

/// A pulled tweet. `users` are the page's `includes.users`; an author missing
/// from them (X reports that in `errors`) is still identified by id.
/// `query` is the search query, for search matches.
pub fn from_pulled(
    stream: Stream,
    tweet: &Tweet,
    users: &[User],
    query: Option<&str>,
) -> Result<Touchpoint, String> {
    let occurred_at = tweet
        .created_at
        .ok_or_else(|| format!("tweet {} has no created_at", tweet.id))?;
    let author_id = tweet
        .author_id
        .clone()
        .ok_or_else(|| format!("tweet {} has no author_id", tweet.id))?;
    let author = users.iter().find(|u| u.id == author_id);
    let mut properties = Map::new();
    if let Some(conversation) = &tweet.conversation_id {
        properties.insert("conversation_id".into(), json!(conversation));
    }
    if let Some(metrics) = &tweet.public_metrics {
        properties.insert("public_metrics".into(), metrics.clone());
    }
    if let (Stream::Search, Some(query)) = (stream, query) {
        properties.insert("query".into(), json!(query));
    }
    Ok(Touchpoint {
        external_id: external_id(stream, tweet.id),
        kind: match stream {
            Stream::Mentions => MENTION_KIND,
            Stream::Search => SEARCH_MATCH_KIND,
        }
        .into(),
        channel: Channel::Social,
        occurred_at,
        title: None,
        body: Some(tweet.text.clone()),
        url: Some(tweet_url(author.map(|a| a.username.as_str()), tweet.id)),
        score: None,
        properties,
        person: PersonHint {
            twitter_user_id: Some(author_id),
            twitter_handle: author.map(|a| a.username.clone()),
            name: author.map(|a| a.name.clone()),
            ..PersonHint::default()
        },
        account: None,
        owner_team: None,
        actor: None,
    })
}

/// A mention delivered by Account Activity, as the mentions pull makes it.
/// v1.1 has no `conversation_id`, but a tweet that replies to nothing is its
/// own conversation; its counts are put under v2's names.
pub fn from_delivered(tweet: &LegacyTweet) -> Touchpoint {
    let mut properties = Map::new();
    if tweet.in_reply_to_status_id_str.is_none() {
        properties.insert("conversation_id".into(), json!(tweet.id_str.to_string()));
    }
    let metrics: Map<String, Value> = [
        ("retweet_count", tweet.retweet_count),
        ("reply_count", tweet.reply_count),
        ("like_count", tweet.favorite_count),
        ("quote_count", tweet.quote_count),
    ]
    .into_iter()
    .filter_map(|(name, count)| Some((name.to_owned(), json!(count?))))
    .collect();
    if !metrics.is_empty() {
        properties.insert("public_metrics".into(), Value::Object(metrics));
    }
    let text = match &tweet.extended_tweet {
        Some(extended) => &extended.full_text,
        None => &tweet.text,
    };
    Touchpoint {
        external_id: external_id(Stream::Mentions, tweet.id_str),
        kind: MENTION_KIND.into(),
        channel: Channel::Social,
        occurred_at: tweet.created_at,
        title: None,
        body: Some(text.clone()),
        url: Some(tweet_url(Some(&tweet.user.screen_name), tweet.id_str)),
        score: None,
        properties,
        person: PersonHint {
            twitter_user_id: Some(tweet.user.id_str.clone()),
            twitter_handle: Some(tweet.user.screen_name.clone()),
            name: tweet.user.name.clone(),
            ..PersonHint::default()
        },
        account: None,
        owner_team: None,
        actor: None,
    }
}
