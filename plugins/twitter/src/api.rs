//! Requests to the X API v2: one page of a stream, as the cursor says.

use std::time::Duration;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{Fetched, HttpClient, PullError};
use reqwest::header::HeaderMap;

use crate::cursor::{Engagement, OwnTweet, Stream, StreamCursor};
use crate::wire::{Problem, Tweet, TweetId, TweetsPage, User, UsersPage};

/// The credential every pull request carries.
pub const BEARER_TOKEN: &str = "bearer_token";
/// X's largest page, for both endpoints.
const PAGE_SIZE: &str = "100";
const TWEET_FIELDS: &str = "created_at,author_id,conversation_id,public_metrics";
/// For quotes and replies of the account's tweets: which tweet they quote or
/// reply to.
const ENGAGED_TWEET_FIELDS: &str =
    "created_at,author_id,conversation_id,public_metrics,referenced_tweets";
const USER_FIELDS: &str = "username,name";

/// The API as one configured connector calls it.
pub struct Api {
    pub http: HttpClient,
    pub base_url: reqwest::Url,
    pub bearer_token: String,
    pub user_id: String,
}

/// A page's tweets and where the stream goes next.
pub struct Page {
    pub tweets: Vec<Tweet>,
    pub users: Vec<User>,
    pub next_token: Option<String>,
    pub endpoint: String,
}

impl Api {
    /// The page the stream's cursor points at. `query` is required for search.
    pub async fn page(
        &self,
        stream: Stream,
        state: &StreamCursor,
        query: Option<&str>,
    ) -> Result<Page, PullError> {
        // Keep any path prefix of the base URL (a proxy, say).
        let prefix = self.base_url.path().trim_end_matches('/');
        let (path, page_token_param) = match stream {
            Stream::Mentions => (
                format!("{prefix}/2/users/{}/mentions", self.user_id),
                "pagination_token",
            ),
            Stream::Search => (format!("{prefix}/2/tweets/search/recent"), "next_token"),
        };
        let mut url = self.base_url.clone();
        url.set_path(&path);
        let mut params = vec![
            ("max_results", PAGE_SIZE.to_owned()),
            ("expansions", "author_id".to_owned()),
            ("tweet.fields", TWEET_FIELDS.to_owned()),
            ("user.fields", USER_FIELDS.to_owned()),
        ];
        if let (Stream::Search, Some(query)) = (stream, query) {
            params.push(("query", query.to_owned()));
        }
        if let Some(since) = state.since_id {
            params.push(("since_id", since.to_string()));
        }
        if let Some(token) = &state.page_token {
            params.push((page_token_param, token.clone()));
        }
        let request = self
            .http
            .client()
            .get(url)
            .bearer_auth(&self.bearer_token)
            .query(&params);
        let fetched = match self.http.send(request, BEARER_TOKEN, until_reset).await {
            // The timeline of a user X does not have.
            Err(PullError::Refused {
                status: 404,
                detail,
            }) if stream == Stream::Mentions => {
                return Err(unknown_user(&self.user_id, 404, &detail));
            }
            fetched => fetched?,
        };
        let page: TweetsPage = fetched.json()?;
        read_page(page, fetched.endpoint, &self.user_id)
    }

    /// The account's own tweets since `since` (retweets left out), every
    /// page at once, newest first.
    pub async fn own_tweets(&self, since: DateTime<Utc>) -> Result<Vec<OwnTweet>, PullError> {
        let path = format!("/2/users/{}/tweets", self.user_id);
        let mut own = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut params = vec![
                ("max_results", PAGE_SIZE.to_owned()),
                ("exclude", "retweets".to_owned()),
                (
                    "start_time",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
                ("expansions", "author_id".to_owned()),
                ("tweet.fields", TWEET_FIELDS.to_owned()),
                ("user.fields", USER_FIELDS.to_owned()),
            ];
            if let Some(token) = &page_token {
                params.push(("pagination_token", token.clone()));
            }
            let fetched = match self.get(&path, &params).await {
                Err(PullError::Refused {
                    status: 404,
                    detail,
                }) => {
                    return Err(unknown_user(&self.user_id, 404, &detail));
                }
                fetched => fetched?,
            };
            let page = read_page(fetched.json()?, fetched.endpoint, &self.user_id)?;
            let handle = page
                .users
                .iter()
                .find(|u| u.id == self.user_id)
                .map(|u| u.username.clone());
            for tweet in page.tweets {
                let created_at = tweet.created_at.ok_or_else(|| PullError::Malformed {
                    endpoint: page.endpoint.clone(),
                    detail: format!("tweet {} has no created_at", tweet.id),
                })?;
                own.push(OwnTweet {
                    id: tweet.id,
                    created_at,
                    handle: handle.clone(),
                });
            }
            page_token = page.next_token;
            if page_token.is_none() {
                return Ok(own);
            }
        }
    }

    /// One page of one engagement list of the account's tweet `id`: users
    /// for likes and retweets, tweets for quotes and replies.
    pub async fn engagement(
        &self,
        list: Engagement,
        id: TweetId,
        page_token: Option<&str>,
    ) -> Result<Page, PullError> {
        let mut params = vec![("max_results", PAGE_SIZE.to_owned())];
        let (path, token_param) = match list {
            Engagement::Likes => (format!("/2/tweets/{id}/liking_users"), "pagination_token"),
            Engagement::Retweets => (format!("/2/tweets/{id}/retweeted_by"), "pagination_token"),
            Engagement::Quotes => (format!("/2/tweets/{id}/quote_tweets"), "pagination_token"),
            Engagement::Replies => {
                params.push(("query", format!("conversation_id:{id}")));
                ("/2/tweets/search/recent".to_owned(), "next_token")
            }
        };
        if matches!(list, Engagement::Quotes | Engagement::Replies) {
            params.push(("expansions", "author_id".to_owned()));
            params.push(("tweet.fields", ENGAGED_TWEET_FIELDS.to_owned()));
        }
        params.push(("user.fields", USER_FIELDS.to_owned()));
        if let Some(token) = page_token {
            params.push((token_param, token.to_owned()));
        }
        let fetched = self.get(&path, &params).await?;
        match list {
            Engagement::Likes | Engagement::Retweets => {
                let page: UsersPage = fetched.json()?;
                check(
                    page.data.is_some(),
                    page.meta.is_some(),
                    &page.errors,
                    &fetched.endpoint,
                    &self.user_id,
                )?;
                Ok(Page {
                    tweets: Vec::new(),
                    users: page.data.unwrap_or_default(),
                    next_token: page.meta.and_then(|m| m.next_token),
                    endpoint: fetched.endpoint,
                })
            }
            Engagement::Quotes | Engagement::Replies => {
                read_page(fetched.json()?, fetched.endpoint, &self.user_id)
            }
        }
    }

    /// A GET under the base URL, keeping its path prefix (a proxy's, say).
    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Fetched, PullError> {
        let prefix = self.base_url.path().trim_end_matches('/');
        let mut url = self.base_url.clone();
        url.set_path(&format!("{prefix}{path}"));
        let request = self
            .http
            .client()
            .get(url)
            .bearer_auth(&self.bearer_token)
            .query(params);
        self.http.send(request, BEARER_TOKEN, until_reset).await
    }
}

/// The configured `user_id` names no X user: said so, with the field to fix.
fn unknown_user(user_id: &str, status: u16, said: &str) -> PullError {
    PullError::Refused {
        status,
        detail: format!(
            "X knows no user with the configured id {user_id}; check the config field `user_id` (the account's numeric id). X said: {said}"
        ),
    }
}

/// Keeps a page's data despite partial errors. A 200 with nothing but errors
/// is X refusing the request: a user id that does not exist comes back so,
/// and fails the pull naming `user_id`; any other problem fails it with X's
/// own words rather than passing for an empty page.
fn read_page(page: TweetsPage, endpoint: String, user_id: &str) -> Result<Page, PullError> {
    check(
        page.data.is_some(),
        page.meta.is_some(),
        &page.errors,
        &endpoint,
        user_id,
    )?;
    Ok(Page {
        tweets: page.data.unwrap_or_default(),
        users: page.includes.map(|i| i.users).unwrap_or_default(),
        next_token: page.meta.and_then(|m| m.next_token),
        endpoint,
    })
}

/// A page with neither `data` nor `meta` fails: with X's problem (an unknown
/// configured user named as such), or as malformed without one. Partial
/// errors beside data are logged and the data kept.
fn check(
    data: bool,
    meta: bool,
    errors: &[Problem],
    endpoint: &str,
    user_id: &str,
) -> Result<(), PullError> {
    if !data && !meta {
        return Err(match errors.first() {
            Some(problem) if problem.is_unknown_user(user_id) => {
                unknown_user(user_id, 200, &problem.to_string())
            }
            Some(problem) => PullError::Refused {
                status: 200,
                detail: problem.to_string(),
            },
            None => PullError::Malformed {
                endpoint: endpoint.to_owned(),
                detail: "neither `data` nor `meta`".into(),
            },
        });
    }
    if !errors.is_empty() {
        tracing::warn!(
            endpoint,
            errors = errors.len(),
            "X reported partial errors; keeping the data it returned"
        );
    }
    Ok(())
}

/// A 429's wait: X gives the end of the rate-limit window in
/// `x-rate-limit-reset`, as Unix seconds.
fn until_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let reset: i64 = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let seconds = u64::try_from(reset.saturating_sub(now.timestamp())).unwrap_or(0);
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_runs_to_the_reset_and_never_below_zero() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit-reset", "1700000042".parse().unwrap());
        assert_eq!(until_reset(&headers, now), Some(Duration::from_secs(42)));
        headers.insert("x-rate-limit-reset", "1699999999".parse().unwrap());
        assert_eq!(until_reset(&headers, now), Some(Duration::ZERO));
        headers.insert("x-rate-limit-reset", "soon".parse().unwrap());
        assert_eq!(until_reset(&headers, now), None);
        assert_eq!(until_reset(&HeaderMap::new(), now), None);
    }
}
