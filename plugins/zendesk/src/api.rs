//! The two Zendesk endpoints a sync reads, with the account's Basic
//! authentication (`{email}/token:{api_token}`).

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{HttpClient, PullError};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::limiter::PerMinute;
use crate::wire;

pub const EXPORT_PATH: &str = "/api/v2/incremental/tickets/cursor";
pub const RATINGS_PATH: &str = "/api/v2/satisfaction_ratings";
/// The largest page cursor pagination allows.
const RATINGS_PAGE_SIZE: u32 = 100;
/// Requesters and their organisations come with the tickets.
const EXPORT_SIDELOADS: &str = "users,organizations";
/// The one secret every request is authenticated with.
const CREDENTIAL: &str = "api_token";

/// Where an export request starts.
pub enum ExportFrom<'a> {
    /// The first request: tickets changed since then (Unix seconds).
    StartTime(i64),
    /// A later one: the previous page's `after_cursor`.
    Cursor(&'a str),
}

pub struct Api {
    base_url: reqwest::Url,
    authorization: HeaderValue,
    http: HttpClient,
    export_limit: PerMinute,
}

/// Zendesk says how long to wait in `Retry-After`, in seconds.
fn retry_after_seconds(headers: &HeaderMap, _now: DateTime<Utc>) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

impl Api {
    pub fn new(
        base_url: reqwest::Url,
        email: &str,
        api_token: &str,
        export_requests_per_minute: u32,
        http: HttpClient,
    ) -> Result<Self, String> {
        let credentials = format!("{email}/token:{api_token}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        let mut authorization = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| "config: email cannot be sent in a header".to_owned())?;
        authorization.set_sensitive(true);
        Ok(Api {
            base_url,
            authorization,
            http,
            export_limit: PerMinute::new(export_requests_per_minute),
        })
    }

    pub fn base_url(&self) -> &reqwest::Url {
        &self.base_url
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let mut url = self.base_url.clone();
        url.set_path(path);
        url.set_query(None);
        self.http
            .client()
            .get(url)
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// One page of the incremental ticket export, paced to the allowance.
    pub async fn export(&mut self, from: ExportFrom<'_>) -> Result<wire::ExportPage, PullError> {
        let request = self.get(EXPORT_PATH);
        let request = match from {
            ExportFrom::StartTime(start) => request.query(&[("start_time", start)]),
            ExportFrom::Cursor(cursor) => request.query(&[("cursor", cursor)]),
        };
        let request = request.query(&[("include", EXPORT_SIDELOADS)]);
        self.export_limit.acquire().await;
        self.http
            .send(request, CREDENTIAL, retry_after_seconds)
            .await?
            .json()
    }

    /// One page of satisfaction ratings made since `start_time`.
    pub async fn ratings(
        &self,
        start_time: Option<i64>,
        after: Option<&str>,
    ) -> Result<wire::RatingsPage, PullError> {
        let mut request = self
            .get(RATINGS_PATH)
            .query(&[("page[size]", RATINGS_PAGE_SIZE)]);
        if let Some(after) = after {
            request = request.query(&[("page[after]", after)]);
        }
        if let Some(start_time) = start_time {
            request = request.query(&[("start_time", start_time)]);
        }
        self.http
            .send(request, CREDENTIAL, retry_after_seconds)
            .await?
            .json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_seconds(&headers, Utc::now()), None);
        headers.insert("retry-after", HeaderValue::from_static("93"));
        assert_eq!(
            retry_after_seconds(&headers, Utc::now()),
            Some(Duration::from_secs(93))
        );
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_seconds(&headers, Utc::now()), None);
    }
}
