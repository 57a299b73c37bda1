//! Requests to the X API v2: one page of a stream, as the cursor says.

use std::time::Duration;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{HttpClient, PullError};
use reqwest::header::HeaderMap;

use crate::cursor::{Stream, StreamCursor};
use crate::wire::{Tweet, TweetsPage, User};

/// The credential every pull request carries.
pub const BEARER_TOKEN: &str = "bearer_token";
/// X's largest page, for both endpoints.
const PAGE_SIZE: &str = "100";
const TWEET_FIELDS: &str = "created_at,author_id,conversation_id,public_metrics";
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
    if page.data.is_none() && page.meta.is_none() {
        return Err(match page.errors.first() {
            Some(problem) if problem.is_unknown_user(user_id) => {
                unknown_user(user_id, 200, &problem.to_string())
            }
            Some(problem) => PullError::Refused {
                status: 200,
                detail: problem.to_string(),
            },
            None => PullError::Malformed {
                endpoint,
                detail: "neither `data` nor `meta`".into(),
            },
        });
    }
    if !page.errors.is_empty() {
        tracing::warn!(
            endpoint,
            errors = page.errors.len(),
            "X reported partial errors; keeping the data it returned"
        );
    }
    Ok(Page {
        tweets: page.data.unwrap_or_default(),
        users: page.includes.map(|i| i.users).unwrap_or_default(),
        next_token: page.meta.and_then(|m| m.next_token),
        endpoint,
    })
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
