//! The two Zendesk endpoints a sync reads, with the account's Basic
//! authentication (`{email}/token:{api_token}`).

use std::time::Duration;

use base64::Engine;
use journeys_plugin_sdk::{HttpClient, Pace, PullError, retry_after};
use reqwest::header::HeaderValue;

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
    export_pace: Pace,
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
            // Counted in the connector's pacing log, which every run of the
            // connector shares: the allowance is the account's, per minute.
            export_pace: Pace {
                name: "incremental_export",
                limit: export_requests_per_minute,
                window: Duration::from_secs(60),
            },
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

    /// One page of the incremental ticket export, each attempt paced to the
    /// allowance when it is sent.
    pub async fn export(&self, from: ExportFrom<'_>) -> Result<wire::ExportPage, PullError> {
        let request = self.get(EXPORT_PATH);
        let request = match from {
            ExportFrom::StartTime(start) => request.query(&[("start_time", start)]),
            ExportFrom::Cursor(cursor) => request.query(&[("cursor", cursor)]),
        };
        let request = request.query(&[("include", EXPORT_SIDELOADS)]);
        self.http
            .send_paced(request, CREDENTIAL, retry_after, Some(self.export_pace))
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
            .send(request, CREDENTIAL, retry_after)
            .await?
            .json()
    }
}
