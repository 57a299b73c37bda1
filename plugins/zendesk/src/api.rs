//! The Zendesk endpoints a sync reads, with the account's Basic
//! authentication (`{email}/token:{api_token}`). The two incremental exports
//! share one allowance (10 requests a minute), so both go through
//! [`Api::incremental`], the one place that paces them.

use std::time::Duration;

use base64::Engine;
use journeys_plugin_sdk::{HttpClient, Pace, PullError, retry_after};
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;

use crate::wire;

pub const EXPORT_PATH: &str = "/api/v2/incremental/tickets/cursor";
pub const TICKET_EVENTS_PATH: &str = "/api/v2/incremental/ticket_events";
pub const RATINGS_PATH: &str = "/api/v2/satisfaction_ratings";
pub const SHOW_MANY_PATH: &str = "/api/v2/tickets/show_many";
/// The most ids `show_many` takes.
pub const SHOW_MANY_MOST: usize = 100;
/// The largest page cursor pagination allows.
const RATINGS_PAGE_SIZE: u32 = 100;
/// Requesters and their organisations come with the tickets.
const EXPORT_SIDELOADS: &str = "users,organizations";
/// The comments themselves come with the ticket events, not just a flag.
const TICKET_EVENTS_SIDELOADS: &str = "comment_events";
/// What every request is authenticated with: the Basic auth is
/// `{email}/token:{api_token}`, so a refusal may be either.
const CREDENTIAL: &str = "email` and `api_token";

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

    /// One page of the incremental ticket export.
    pub async fn export(&self, from: ExportFrom<'_>) -> Result<wire::ExportPage, PullError> {
        let from = match from {
            ExportFrom::StartTime(start) => ("start_time", start.to_string()),
            ExportFrom::Cursor(cursor) => ("cursor", cursor.to_owned()),
        };
        self.incremental(
            EXPORT_PATH,
            &[from, ("include", EXPORT_SIDELOADS.to_owned())],
        )
        .await
    }

    /// One page of the incremental ticket events export, with comments.
    pub async fn ticket_events(
        &self,
        start_time: i64,
    ) -> Result<wire::TicketEventsPage, PullError> {
        self.incremental(
            TICKET_EVENTS_PATH,
            &[
                ("start_time", start_time.to_string()),
                ("include", TICKET_EVENTS_SIDELOADS.to_owned()),
            ],
        )
        .await
    }

    /// Every incremental export request goes out here, each attempt paced to
    /// the exports' shared allowance when it is sent.
    async fn incremental<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PullError> {
        let request = self.get(path).query(query);
        self.http
            .send_paced(request, CREDENTIAL, retry_after, Some(self.export_pace))
            .await?
            .json()
    }

    /// Up to [`SHOW_MANY_MOST`] tickets by id, with their users and
    /// organisations; tickets Zendesk no longer shows (deleted) are left out.
    /// An ordinary endpoint: not paced with the exports.
    pub async fn tickets(&self, ids: &[u64]) -> Result<wire::TicketsPage, PullError> {
        let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
        let request = self.get(SHOW_MANY_PATH).query(&[
            ("ids", ids.join(",").as_str()),
            ("include", EXPORT_SIDELOADS),
        ]);
        self.http
            .send(request, CREDENTIAL, retry_after)
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
