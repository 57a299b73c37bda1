//! Zoom's REST API behind Server-to-Server OAuth. The access token lives in
//! memory only: it is reused until shortly before it expires, and fetched
//! again once when a call is refused with 401 (a token can be revoked early).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{HttpClient, PullError};
use reqwest::Url;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::wire::{
    AccessTokenGrant, Page, Participant, ParticipantPage, QuestionsPage, RegistrantPage, Webinar,
    WebinarPage,
};

/// Named when the token endpoint refuses the app's credentials.
pub const TOKEN_CREDENTIAL: &str = "client_secret";
/// Named when API calls are refused even with a fresh token: the app's
/// credentials (or their scopes) do not allow them.
pub const API_CREDENTIAL: &str = "client_id/client_secret";
/// Zoom's largest page.
const PAGE_SIZE: &str = "300";
/// The longest margin before its expiry at which a token is replaced; a
/// short-lived token is replaced after 90% of its lifetime instead.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// Where the app is and how it signs in.
pub struct Api {
    pub http: HttpClient,
    pub base_url: Url,
    pub oauth_url: Url,
    pub account_id: String,
    pub user_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub token: Option<AccessToken>,
}

pub struct AccessToken {
    value: String,
    renew_at: Instant,
}

impl Api {
    /// Every webinar of the user, all list pages at once (the list is short,
    /// and its page tokens are then never old).
    pub async fn webinars(&mut self) -> Result<Vec<Webinar>, PullError> {
        let url = self.endpoint(&["users", &self.user_id, "webinars"]);
        let mut webinars = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page: WebinarPage = self.page(url.clone(), page_token.as_deref()).await?;
            page_token = page.next_page_token().map(str::to_owned);
            webinars.extend(page.webinars);
            if page_token.is_none() {
                return Ok(webinars);
            }
        }
    }

    /// One page of a webinar's registrants with the given `status`
    /// (`pending`, `denied`); without one, Zoom lists the approved ones.
    pub async fn registrants(
        &mut self,
        webinar: i64,
        status: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<RegistrantPage, PullError> {
        let mut url = self.endpoint(&["webinars", &webinar.to_string(), "registrants"]);
        if let Some(status) = status {
            url.query_pairs_mut().append_pair("status", status);
        }
        self.page(url, page_token).await
    }

    /// All stays in a past webinar, every page at once (rejoins are folded
    /// across pages). `None` when Zoom has no past instance of it (404): never
    /// held, or not processed yet.
    pub async fn participants(
        &mut self,
        webinar: i64,
    ) -> Result<Option<Vec<Participant>>, PullError> {
        let url = self.endpoint(&["past_webinars", &webinar.to_string(), "participants"]);
        let mut participants = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page: ParticipantPage = match self.page(url.clone(), page_token.as_deref()).await {
                Err(PullError::Refused { status: 404, .. }) => return Ok(None),
                outcome => outcome?,
            };
            page_token = page.next_page_token().map(str::to_owned);
            participants.extend(page.participants);
            if page_token.is_none() {
                return Ok(Some(participants));
            }
        }
    }

    /// Registrants who did not attend a past webinar; `None` when Zoom has no
    /// absentees list for it (404, e.g. no registration).
    pub async fn absentees(
        &mut self,
        webinar: i64,
        page_token: Option<&str>,
    ) -> Result<Option<RegistrantPage>, PullError> {
        let url = self.endpoint(&["past_webinars", &webinar.to_string(), "absentees"]);
        match self.page(url, page_token).await {
            Err(PullError::Refused { status: 404, .. }) => Ok(None),
            outcome => outcome.map(Some),
        }
    }

    /// One page of a past webinar's Q&A (`list` = `qa`) or poll answers
    /// (`polls`). `None` when Zoom answers with an error, as it does for a
    /// webinar without Q&A or polls: nothing to record.
    pub async fn questions(
        &mut self,
        webinar: i64,
        list: &str,
        page_token: Option<&str>,
    ) -> Result<Option<QuestionsPage>, PullError> {
        let url = self.endpoint(&["past_webinars", &webinar.to_string(), list]);
        match self.page(url, page_token).await {
            Err(PullError::Refused { status, detail }) => {
                tracing::info!(webinar, list, status, detail, "no {list} to record");
                Ok(None)
            }
            outcome => outcome.map(Some),
        }
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        // `Zoom::new` refused base URLs that cannot take a path.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// One list page, with a fresh token and one retry after a 401.
    async fn page<T: DeserializeOwned + Page>(
        &mut self,
        url: Url,
        page_token: Option<&str>,
    ) -> Result<T, PullError> {
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            let mut request = self
                .http
                .client()
                .get(url.clone())
                .bearer_auth(token)
                .query(&[("page_size", PAGE_SIZE)]);
            if let Some(page_token) = page_token {
                request = request.query(&[("next_page_token", page_token)]);
            }
            match self.http.send(request, API_CREDENTIAL, retry_after).await {
                Err(PullError::Unauthorized { status: 401, .. }) if !renewed => {
                    self.token = None;
                    renewed = true;
                }
                outcome => return outcome?.json(),
            }
        }
    }

    async fn access_token(&mut self) -> Result<String, PullError> {
        if let Some(token) = &self.token
            && Instant::now() < token.renew_at
        {
            return Ok(token.value.clone());
        }
        let request = self
            .http
            .client()
            .post(self.oauth_url.clone())
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .query(&[
                ("grant_type", "account_credentials"),
                ("account_id", &self.account_id),
            ]);
        let grant: AccessTokenGrant = self
            .http
            .send(request, TOKEN_CREDENTIAL, retry_after)
            .await?
            .json()?;
        self.token = Some(AccessToken {
            value: grant.access_token.clone(),
            renew_at: Instant::now() + usable_for(Duration::from_secs(grant.expires_in)),
        });
        Ok(grant.access_token)
    }
}

/// How long a token of this lifetime is used: its lifetime less a margin of
/// a minute, or of a tenth of its lifetime when that is shorter, so a token
/// that lives under a minute still serves many calls.
fn usable_for(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(RENEW_BEFORE_EXPIRY.min(lifetime / 10))
}

/// Zoom's 429 `Retry-After` is an ISO date-time (not seconds): wait until
/// then, or not at all if it has passed. Absent or unreadable, the SDK's
/// default wait applies.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    let until = DateTime::parse_from_rfc3339(value.trim()).ok()?;
    Some(
        (until.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(retry_after).unwrap());
        headers
    }

    #[test]
    fn tokens_are_renewed_in_proportion_to_their_lifetime() {
        // Zoom's hour: renewed a minute early.
        assert_eq!(
            usable_for(Duration::from_secs(3600)),
            Duration::from_secs(3540)
        );
        // Ten minutes: a minute early still.
        assert_eq!(
            usable_for(Duration::from_secs(600)),
            Duration::from_secs(540)
        );
        // Short lifetimes: at 90%.
        assert_eq!(usable_for(Duration::from_secs(30)), Duration::from_secs(27));
        assert_eq!(
            usable_for(Duration::from_secs(1)),
            Duration::from_millis(900)
        );
        assert_eq!(usable_for(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_a_date_time_to_wait_for() {
        let now = DateTime::parse_from_rfc3339("2024-02-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            retry_after(&headers("2024-02-01T12:00:42Z"), now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            retry_after(&headers("2024-02-01T11:59:00Z"), now),
            Some(Duration::ZERO)
        );
        // Seconds are not Zoom's format: the SDK's default wait applies.
        assert_eq!(retry_after(&headers("42"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
