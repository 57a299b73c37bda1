//! Outbound HTTP with the runtime's retry rules, shared by every connector:
//! timeouts and 5xx back off exponentially with jitter (a 5xx's `Retry-After`
//! is waited out when longer), a 429 waits as long as the vendor says (each
//! vendor says it differently, see [`RateLimitHint`]; without a hint, as the
//! plugin chose with [`UnhintedRateLimit`]), 401/403 stop at once naming the
//! credential. A request with a [`Pace`] is counted in the connector's
//! [`PacingLog`] each time it is sent, retries included.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
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
    /// The first backoff after a timeout or 5xx (or a 429 without a hint, for
    /// [`UnhintedRateLimit::Backoff`]); it doubles each time.
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
            min_delay: Duration::from_secs(1),
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

/// What a 429 without a usable hint waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnhintedRateLimit {
    /// The policy's `default_rate_limit_wait`: for vendors whose limits are
    /// per minute or longer.
    #[default]
    Wait,
    /// Back off like a 5xx, from the policy's `min_delay`, with jitter: for
    /// vendors whose limits are per second (Zoom's QPS limits).
    Backoff,
}

/// A vendor's allowance: at most `limit` requests in any `window`, counted as
/// each is sent (retries too). Its `name` keys the [`PacingLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

/// A vendor counts requests when they arrive, we when we send them: a request
/// sent just after the window may arrive while the vendor's is still open
/// when the one it replaces arrived late. Paced windows are kept this much
/// longer than the vendor's.
const ARRIVAL_MARGIN: Duration = Duration::from_secs(1);

/// When a connector's paced requests were sent, by [`Pace`] name. The
/// runtime gives every run of one connector the same log and saves it with
/// each batch, so back-to-back runs (on any instance) share one window.
#[derive(Debug, Clone, Default)]
pub struct PacingLog(Arc<Mutex<BTreeMap<String, VecDeque<DateTime<Utc>>>>>);

impl PacingLog {
    /// A log as [`PacingLog::to_json`] saved it; anything else is an empty log
    /// (the worst that costs is one window's allowance).
    pub fn from_json(saved: Option<&serde_json::Value>) -> Self {
        let sent = saved
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        PacingLog(Arc::new(Mutex::new(sent)))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.lock()).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, VecDeque<DateTime<Utc>>>> {
        // A panic while holding it leaves a consistent map: keep using it.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until a request may go out under `pace`, and counts it as sent.
    /// The window is held open [`ARRIVAL_MARGIN`] longer than the vendor's.
    pub async fn acquire(&self, pace: &Pace) {
        let window = chrono::Duration::from_std(pace.window + ARRIVAL_MARGIN)
            .unwrap_or(chrono::Duration::MAX);
        loop {
            let wait = {
                let mut log = self.lock();
                let sent = log.entry(pace.name.to_owned()).or_default();
                let now = Utc::now();
                while sent.front().is_some_and(|t| *t + window <= now) {
                    sent.pop_front();
                }
                if sent.len() < pace.limit as usize {
                    sent.push_back(now);
                    return;
                }
                let oldest = sent[sent.len() - pace.limit as usize];
                (oldest + window - now).to_std().unwrap_or_default()
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
    unhinted: UnhintedRateLimit,
    pacing: PacingLog,
}

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Self {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("journeys/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client without custom TLS roots always builds");
        HttpClient {
            client,
            policy,
            unhinted: UnhintedRateLimit::default(),
            pacing: PacingLog::default(),
        }
    }

    /// Counts paced requests in `log` (the runtime's, shared across runs).
    pub fn with_pacing(self, log: PacingLog) -> Self {
        HttpClient {
            pacing: log,
            ..self
        }
    }

    /// What a 429 without a hint waits, as the plugin knows its vendor.
    pub fn with_unhinted_rate_limit(self, unhinted: UnhintedRateLimit) -> Self {
        HttpClient { unhinted, ..self }
    }

    pub fn pacing(&self) -> &PacingLog {
        &self.pacing
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
        self.send_paced(request, credential, hint, None).await
    }

    /// [`HttpClient::send`], each attempt waiting its turn under `pace`.
    pub async fn send_paced(
        &self,
        request: reqwest::RequestBuilder,
        credential: &'static str,
        hint: RateLimitHint,
        pace: Option<Pace>,
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
            if let Some(pace) = &pace {
                self.pacing.acquire(pace).await;
            }
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
                            Err(e) => (endpoint, Failure::Transient(describe(&e), None)),
                        },
                        401 | 403 => return Err(PullError::Unauthorized { credential, status }),
                        429 => match (hint(&headers, Utc::now()), self.unhinted) {
                            (Some(wait), _) => (endpoint, Failure::RateLimited(wait)),
                            (None, UnhintedRateLimit::Wait) => (
                                endpoint,
                                Failure::RateLimited(self.policy.default_rate_limit_wait),
                            ),
                            (None, UnhintedRateLimit::Backoff) => {
                                (endpoint, Failure::Transient("HTTP 429".into(), None))
                            }
                        },
                        500..=599 => (
                            endpoint,
                            Failure::Transient(
                                format!("HTTP {status}"),
                                retry_after(&headers, Utc::now()),
                            ),
                        ),
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
                    Failure::Transient(describe(&e), None),
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
                Failure::Transient(ref last, asked) => {
                    let Some(next) = backoff.next() else {
                        return Err(PullError::Unavailable {
                            attempts,
                            last: last.clone(),
                        });
                    };
                    match asked {
                        Some(wait) if wait > self.policy.max_rate_limit_wait => {
                            return Err(PullError::Unavailable {
                                attempts,
                                last: format!("{last}, retry after {} s", wait.as_secs()),
                            });
                        }
                        // The vendor knows when it will be back: not sooner.
                        Some(wait) => Some(wait.max(next)),
                        None => Some(next),
                    }
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
    /// What went wrong, and how long the vendor asked us to wait, if it did.
    Transient(String, Option<Duration>),
    RateLimited(Duration),
}

/// A `Retry-After` header, in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

/// A transport error with the host it was for and its cause, without the
/// URL's path or query (which may hold tokens).
fn describe(e: &reqwest::Error) -> String {
    let host = e
        .url()
        .and_then(|u| u.host_str().map(|h| (h.to_owned(), u.port())))
        .map(|(host, port)| match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
        .unwrap_or_else(|| "the vendor".into());
    let what = if e.is_timeout() {
        format!("{host} timed out")
    } else if e.is_connect() {
        format!("could not connect to {host}")
    } else if e.is_body() || e.is_decode() {
        format!("the body from {host} was cut off")
    } else {
        format!("transport error with {host}")
    };
    match cause(e) {
        Some(cause) => format!("{what}: {cause}"),
        None => what,
    }
}

/// The innermost causes of an error (`connection refused`, `dns error: …`),
/// the wrappers' own words left out; never a URL.
fn cause(e: &reqwest::Error) -> Option<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        let message = err.to_string();
        if !message.contains("://") && !messages.iter().any(|m| m.contains(&message)) {
            messages.push(message);
        }
        source = err.source();
    }
    // The deepest two say what happened ("tcp connect error: Connection refused").
    let start = messages.len().saturating_sub(2);
    (!messages.is_empty()).then(|| messages[start..].join(": "))
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

    /// Vendors (and partners' webhook endpoints) are HTTPS: the client must
    /// open TLS, not refuse the scheme. A local listener sees its first
    /// bytes: a TLS handshake record.
    #[tokio::test]
    async fn https_urls_are_spoken_over_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let first_byte = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.read_u8().await.unwrap()
        });
        let http = quick();
        let sent = http
            .client()
            .get(format!("https://127.0.0.1:{port}/"))
            .send();
        let _ = tokio::time::timeout(Duration::from_secs(2), sent).await;
        let first = tokio::time::timeout(Duration::from_secs(2), first_byte)
            .await
            .expect("the client connected")
            .unwrap();
        assert_eq!(first, 0x16, "a TLS handshake record");
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

    /// Answers 429 to the first `limited` requests, then 200, noting when
    /// each arrived.
    struct Arrivals {
        at: Arc<Mutex<Vec<std::time::Instant>>>,
        limited: usize,
    }

    impl wiremock::Respond for Arrivals {
        fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
            let mut at = self.at.lock().unwrap();
            at.push(std::time::Instant::now());
            if at.len() <= self.limited {
                ResponseTemplate::new(429)
            } else {
                ResponseTemplate::new(200).set_body_string("{}")
            }
        }
    }

    /// The most requests that arrived within any span of `window`.
    fn busiest(at: &[std::time::Instant], window: Duration) -> usize {
        (0..at.len())
            .map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn paced_requests_count_retries_when_sent_and_share_the_log() {
        let server = MockServer::start().await;
        let at = Arc::new(Mutex::new(Vec::new()));
        Mock::given(method("GET"))
            .respond_with(Arrivals {
                at: Arc::clone(&at),
                limited: 2,
            })
            .mount(&server)
            .await;
        let pace = Pace {
            name: "export",
            limit: 3,
            window: Duration::from_millis(600),
        };
        let log = PacingLog::default();
        // Two runs of one connector, back to back, each with a client of its
        // own built on the same log; the first meets two 429s.
        for _ in 0..2 {
            let http = HttpClient::new(RetryPolicy {
                max_attempts: 5,
                ..quick().policy
            })
            .with_pacing(log.clone());
            for _ in 0..2 {
                http.send_paced(http.client().get(server.uri()), "t", no_hint, Some(pace))
                    .await
                    .unwrap();
            }
        }
        let at = at.lock().unwrap().clone();
        assert_eq!(at.len(), 6, "two retries and four successes");
        assert_eq!(busiest(&at, Duration::from_millis(590)), 3);
        // The log survives a save and a load (another instance's next run).
        let reloaded = PacingLog::from_json(Some(&log.to_json()));
        assert_eq!(reloaded.lock()["export"].len(), 3, "{}", log.to_json());
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert("retry-after", "93".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(93)));
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }

    #[tokio::test]
    async fn a_server_error_waits_its_retry_after() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "2"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        let http = quick();
        let started = std::time::Instant::now();
        http.send(http.client().get(server.uri()), "token", no_hint)
            .await
            .unwrap();
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(2), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
    }

    #[tokio::test]
    async fn an_unhinted_rate_limit_backs_off_when_the_vendor_limits_per_second() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        let http = HttpClient::new(RetryPolicy {
            default_rate_limit_wait: Duration::from_secs(60),
            ..quick().policy
        })
        .with_unhinted_rate_limit(UnhintedRateLimit::Backoff);
        let started = std::time::Instant::now();
        http.send(http.client().get(server.uri()), "token", no_hint)
            .await
            .unwrap();
        // The backoff's 5 and 10 ms (jittered), not the 60 s default.
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn an_unreachable_host_is_named_with_the_cause() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = quick();
        let err = http
            .send(
                http.client()
                    .get(format!("http://127.0.0.1:{port}/x?token=s3cret")),
                "token",
                no_hint,
            )
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!("could not connect to 127.0.0.1:{port}: ")),
            "{message}"
        );
        assert!(message.to_lowercase().contains("refused"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
}
