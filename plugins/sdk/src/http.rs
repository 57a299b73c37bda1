//! Outbound HTTP with the runtime's retry rules, shared by every connector:
//! timeouts and 5xx back off exponentially with jitter, a 429 waits as long as
//! the vendor says (each vendor says it differently, see [`RateLimitHint`]),
//! 401/403 stop at once naming the credential.

use std::time::Duration;

use backon::BackoffBuilder;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::PullError;

/// Reads how long a vendor wants us to wait from a 429's headers, given the
/// time now. `None` when the vendor gave no usable hint.
pub type RateLimitHint = fn(&HeaderMap, DateTime<Utc>) -> Option<Duration>;

/// How hard to try. The defaults suit real vendors; tests shorten them.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all for one request, the first included.
    pub max_attempts: u32,
    /// The first backoff after a timeout or 5xx; it doubles each time.
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest a 429 may make us wait; a longer wait fails the run and the
    /// next scheduled run resumes from the saved cursor.
    pub max_rate_limit_wait: Duration,
    /// The wait after a 429 that says nothing about when to come back.
    pub default_rate_limit_wait: Duration,
    /// For one request, connecting and reading the body included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(15 * 60),
            default_rate_limit_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A successful (2xx) response, read in full.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The request's path, for error messages (never the query: it may hold
    /// tokens).
    pub endpoint: String,
}

impl Fetched {
    /// Parses the body; bad or truncated JSON is [`PullError::Malformed`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PullError> {
        serde_json::from_slice(&self.body).map_err(|e| PullError::Malformed {
            endpoint: self.endpoint.clone(),
            detail: e.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Self {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("journeys/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client without custom TLS roots always builds");
        HttpClient { client, policy }
    }

    /// For building requests to pass to [`HttpClient::send`].
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `request` (which must be clonable: no streaming body) until it
    /// succeeds or the policy gives up. `credential` names the secret that
    /// authenticates it, for the 401/403 error.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        credential: &'static str,
        hint: RateLimitHint,
    ) -> Result<Fetched, PullError> {
        let mut backoff = backon::ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = request
                .try_clone()
                .expect("connector requests have no streaming body");
            let (endpoint, failure) = match attempt.send().await {
                Ok(response) => {
                    let endpoint = response.url().path().to_owned();
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match status {
                        200..=299 => match response.bytes().await {
                            Ok(body) => {
                                return Ok(Fetched {
                                    status,
                                    headers,
                                    body,
                                    endpoint,
                                });
                            }
                            Err(e) => (endpoint, Failure::Transient(describe(&e))),
                        },
                        401 | 403 => return Err(PullError::Unauthorized { credential, status }),
                        429 => {
                            let wait = hint(&headers, Utc::now())
                                .unwrap_or(self.policy.default_rate_limit_wait);
                            (endpoint, Failure::RateLimited(wait))
                        }
                        500..=599 => (endpoint, Failure::Transient(format!("HTTP {status}"))),
                        _ => {
                            let body = response.bytes().await.unwrap_or_default();
                            return Err(PullError::Refused {
                                status,
                                detail: String::from_utf8_lossy(&body).chars().take(300).collect(),
                            });
                        }
                    }
                }
                Err(e) => (
                    e.url().map(|u| u.path().to_owned()).unwrap_or_default(),
                    Failure::Transient(describe(&e)),
                ),
            };
            let wait = match failure {
                Failure::RateLimited(wait) => {
                    if wait > self.policy.max_rate_limit_wait {
                        return Err(PullError::RateLimited {
                            wait_seconds: wait.as_secs(),
                            max_seconds: self.policy.max_rate_limit_wait.as_secs(),
                        });
                    }
                    // Rate limits count against the attempts too, so a vendor
                    // that never lets up cannot hold a run forever.
                    backoff.next().map(|_| wait)
                }
                Failure::Transient(ref last) => {
                    let next = backoff.next();
                    if next.is_none() {
                        return Err(PullError::Unavailable {
                            attempts,
                            last: last.clone(),
                        });
                    }
                    next
                }
            };
            let Some(wait) = wait else {
                return Err(PullError::Unavailable {
                    attempts,
                    last: "still rate limited".into(),
                });
            };
            tracing::warn!(endpoint, attempts, wait_ms = wait.as_millis() as u64, failure = ?failure, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(Debug)]
enum Failure {
    Transient(String),
    RateLimited(Duration),
}

/// A transport error without its URL (whose query may hold tokens).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_body() || e.is_decode() {
        "the body was cut off".into()
    } else {
        "transport error".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn quick() -> HttpClient {
        HttpClient::new(RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_rate_limit_wait: Duration::from_secs(2),
            default_rate_limit_wait: Duration::from_millis(10),
            timeout: Duration::from_millis(500),
        })
    }

    fn no_hint(_: &HeaderMap, _: DateTime<Utc>) -> Option<Duration> {
        None
    }

    fn seconds_hint(headers: &HeaderMap, _: DateTime<Utc>) -> Option<Duration> {
        let secs = headers.get("retry-after")?.to_str().ok()?.parse().ok()?;
        Some(Duration::from_secs(secs))
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_success() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
            .mount(&server)
            .await;
        let http = quick();
        let got = http
            .send(
                http.client().get(format!("{}/x", server.uri())),
                "token",
                no_hint,
            )
            .await
            .unwrap();
        assert_eq!(got.json::<serde_json::Value>().unwrap()["ok"], true);
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn server_errors_give_up_after_the_attempts() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let http = quick();
        let err = http
            .send(http.client().get(server.uri()), "token", no_hint)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PullError::Unavailable { attempts: 3, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unauthorized_names_the_credential_and_is_not_retried() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        let http = quick();
        let err = http
            .send(http.client().get(server.uri()), "api_token", no_hint)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("`api_token`"), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_rate_limit_waits_as_the_hint_says() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        let http = quick();
        let started = std::time::Instant::now();
        http.send(http.client().get(server.uri()), "token", seconds_hint)
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_rate_limit_longer_than_allowed_fails_at_once() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
            .mount(&server)
            .await;
        let http = quick();
        let err = http
            .send(http.client().get(server.uri()), "token", seconds_hint)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PullError::RateLimited {
                    wait_seconds: 3600,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn truncated_json_is_malformed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/page"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\":[{\"id\":"))
            .mount(&server)
            .await;
        let http = quick();
        let got = http
            .send(
                http.client()
                    .get(format!("{}/page?token=s3cret", server.uri())),
                "token",
                no_hint,
            )
            .await
            .unwrap();
        let err = got.json::<serde_json::Value>().unwrap_err();
        assert_eq!(err.code(), "CONNECTOR_MALFORMED");
        assert!(err.to_string().contains("/page") && !err.to_string().contains("s3cret"));
    }
}
