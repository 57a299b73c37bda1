//! Tweets as touchpoints. Pulled (v2) and delivered (v1.1) mentions map to the
//! same external id, kind, time, text, link and author, so a tweet that comes
//! both ways is recorded once.

use journeys_plugin_sdk::{Channel, PersonHint, Touchpoint};
use serde_json::{Map, Value, json};

use crate::cursor::{Engagement, OwnTweet, Stream};
use crate::wire::{LegacyTweet, Tweet, TweetId, User};

pub const MENTION_KIND: &str = "tweet.mention";
pub const SEARCH_MATCH_KIND: &str = "tweet.search_match";
pub const REPLY_KIND: &str = "tweet.reply";
pub const QUOTE_KIND: &str = "tweet.quote";
pub const LIKED_KIND: &str = "tweet.liked";
pub const RETWEETED_KIND: &str = "tweet.retweeted";

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

/// From a page of quotes or replies of the account's tweet `own`:
/// `tweet.quote` (`quote:{tweet id}`) or `tweet.reply` (`reply:{tweet id}`),
/// someone else's tweet quoting or replying to `own`, like a pulled mention,
/// with `own`'s id in the properties (`quoted_tweet_id` or `in_reply_to`).
/// `None` for a tweet that does not reference `own` so (a reply further down
/// the conversation, say), for the account's own tweets, and on likes and
/// retweets pages.
pub fn from_engaged(
    list: Engagement,
    own: &OwnTweet,
    tweet: &Tweet,
    users: &[User],
    account_id: &str,
) -> Result<Option<Touchpoint>, String> {
    let (kind, relation, prefix, property) = match list {
        Engagement::Quotes => (QUOTE_KIND, "quoted", "quote", "quoted_tweet_id"),
        Engagement::Replies => (REPLY_KIND, "replied_to", "reply", "in_reply_to"),
        Engagement::Likes | Engagement::Retweets => return Ok(None),
    };
    if !tweet.references(relation, own.id) || tweet.author_id.as_deref() == Some(account_id) {
        return Ok(None);
    }
    let mut touchpoint = from_pulled(Stream::Mentions, tweet, users, None)?;
    touchpoint.external_id = format!("{prefix}:{}", tweet.id);
    touchpoint.kind = kind.into();
    touchpoint
        .properties
        .insert(property.into(), json!(own.id.to_string()));
    Ok(Some(touchpoint))
}

/// From a page of likes or retweets of the account's tweet `own`:
/// `tweet.liked` (`like:{tweet id}:{user id}`) or `tweet.retweeted`
/// (`retweet:{tweet id}:{user id}`). X does not say when someone liked or
/// retweeted, so the touchpoint is dated at `own`'s `created_at`: the same on
/// every pull, so a re-pull leaves it unchanged. `None` for the account
/// itself, and for the users expanded on quotes and replies pages.
pub fn from_engaging_user(
    list: Engagement,
    own: &OwnTweet,
    user: &User,
    account_id: &str,
) -> Option<Touchpoint> {
    let (kind, prefix) = match list {
        Engagement::Likes => (LIKED_KIND, "like"),
        Engagement::Retweets => (RETWEETED_KIND, "retweet"),
        Engagement::Quotes | Engagement::Replies => return None,
    };
    if user.id == account_id {
        return None;
    }
    let mut properties = Map::new();
    properties.insert("tweet_id".into(), json!(own.id.to_string()));
    Some(Touchpoint {
        external_id: format!("{prefix}:{}:{}", own.id, user.id),
        kind: kind.into(),
        channel: Channel::Social,
        occurred_at: own.created_at,
        title: None,
        body: None,
        url: Some(tweet_url(own.handle.as_deref(), own.id)),
        score: None,
        properties,
        person: PersonHint {
            twitter_user_id: Some(user.id.clone()),
            twitter_handle: Some(user.username.clone()),
            name: Some(user.name.clone()),
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
