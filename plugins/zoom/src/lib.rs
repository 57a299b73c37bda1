//! Zoom webinars connector for Journeys (kind `zoom`), on the Zoom REST API v2
//! with Server-to-Server OAuth.
//!
//! **Config:** `base_url` (`https://api.zoom.us/v2`), `oauth_url` (the token
//! endpoint, `https://zoom.us/oauth/token`), `account_id` and `user_id` (the
//! host whose webinars are synced; `me` is the app's user). **Secrets:**
//! `client_id`, `client_secret` and an optional `webhook_secret_token`
//! (without it, webhooks are refused).
//!
//! **Streams** (WEBINAR channel, the webinar's topic as title, its id and
//! topic in the properties). Every list is paged by `next_page_token`
//! (`page_size=300`; an empty or missing token ends it) and, unless said
//! otherwise, each page is one batch with the cursor after it:
//!
//! | kind | external id | time | source |
//! |------|-------------|------|--------|
//! | `webinar.registered` | `registered:{webinar id}:{registrant id}` | the registration's `create_time` | `GET /webinars/{id}/registrants` (approved) |
//! | `webinar.registration_pending` | `registration_pending:{webinar id}:{registrant id}` | `create_time` | the same with `status=pending` |
//! | `webinar.registration_denied` | `registration_denied:{webinar id}:{registrant id}` | `create_time` | the same with `status=denied` |
//! | `webinar.attended` | `attended:{webinar id}:{person key}` | the first join | `GET /past_webinars/{id}/participants`, all pages in ONE batch |
//! | `webinar.missed` | `missed:{webinar id}:{registrant id}` | the webinar's start | `GET /past_webinars/{id}/absentees` |
//! | `webinar.question_asked` | `question_asked:{webinar id}:{lower-cased email}:{digest}` | the webinar's start (Zoom gives no time) | `GET /past_webinars/{id}/qa` |
//! | `webinar.poll_answered` | `poll_answered:{webinar id}:{poll id}:{lower-cased email}:{digest}` | the answer's `date_time`, else the webinar's start | `GET /past_webinars/{id}/polls` |
//! | `webinar.left` | `left:{webinar id}:{person key}:{leave time, Unix seconds}` | the leave time | webhooks only |
//!
//! - Registrations (all three) name the person by email, name and registrant
//!   id, with the job title, the organisation (as the account's name) and
//!   the qualification answers (`industry`, `purchasing_time_frame`,
//!   `role_in_purchase_process`, `no_of_employees`, `custom_questions`).
//! - `webinar.attended` is one per person per webinar: the stays of someone
//!   who rejoined are folded together (hence one batch for all pages), with
//!   `minutes_attended` (all stays, rounded) and `stays`. The person key is
//!   `registrant:{id}`, else `email:{lower-cased email}`, else `name:{display
//!   name}`; anonymous guests are left out.
//! - `webinar.question_asked` is one per question, with `question` and the
//!   host's `answer`; `webinar.poll_answered` one per answer, with `poll_id`,
//!   `question` and `answer` (the choices, several in one string for
//!   multiple choice). Zoom gives questions no id: the digest, 16 hex digits
//!   of an HMAC-SHA256 of the question's text, stands in for one. Both name
//!   the person by email and name; an anonymous asker (empty email) is left
//!   out. Zoom documents these two lists unpaged: a `next_page_token`, if one
//!   comes, is followed. An error answer (a webinar without Q&A or polls)
//!   records nothing.
//!
//! **Sync:** a run lists the user's webinars (all list pages in its first
//! batch), then visits each: the approved, then pending, then denied
//! registrants of every webinar; and for a webinar that has ended
//! (`start_time` + `duration` minutes before now), its participants, then
//! its absentees, its Q&A and its poll answers.
//!
//! **Cursor** (see [`Cursor`]): the ids of finished webinars already fully
//! synced, which later runs skip entirely (never fetching them again; a
//! cursor saved by an older version, whose `version` is lower, has them
//! visited once more for the streams added since), and
//! the run in progress: the webinars left to visit, the phase of the current
//! one and its page token. A killed run resumes right after the last saved
//! batch. Zoom's page tokens expire after 15 minutes, so a saved token older
//! than 10 minutes is dropped and its list read again from the start: the
//! pages come again under the same external ids, which creates nothing new.
//! Upcoming webinars' registrants are read again every run (idempotently).
//! When Zoom has no past instance of an ended webinar (404: never held, or not
//! processed yet), it is left unsynced and tried again on the next run.
//!
//! **Errors:** a 429 waits until its `Retry-After` date-time; without one (a
//! per-second limit) it backs off from about a second, with jitter. The
//! access token is cached until a minute before it expires, or until 90% of
//! its lifetime when that comes sooner (a token living 30 s serves calls for
//! 27 s); a 401 on a call fetches a new one and retries once, and a second
//! 401 names `client_id/client_secret`. The token endpoint's own 401 names
//! `client_secret`.
//!
//! **Webhooks:** see the `webhook` module: `x-zm-signature` verified over
//! `v0:{timestamp}:{body}`, URL validation answered, and
//! `webinar.registration_created` and `webinar.participant_joined` recorded
//! under the pull's external ids (a join has no minutes: the pull after the
//! webinar adds them). `webinar.participant_left` makes a `webinar.left`
//! touchpoint (webhooks only), external id `left:{webinar id}:{person
//! key}:{leave time in Unix seconds}`, one per departure, at the leave time:
//! it does not touch `webinar.attended`, whose minutes and stays come from
//! the pull's folded participants list, which a single departure cannot
//! know.

mod api;
mod cursor;
mod touchpoints;
mod webhook;
mod wire;

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    Batch, Connector, HttpClient, PullError, Touchpoint, UnhintedRateLimit, WebhookError,
    WebhookReply, WebhookRequest, async_trait,
};
use reqwest::Url;
use serde::Deserialize;

pub use cursor::{Cursor, PageToken, QueuedWebinar, Run, Step};

use api::Api;
use touchpoints::WebinarRef;
use wire::{Page, Webinar};

/// Whose webinars to sync, and where Zoom is.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The REST API's base URL, e.g. `https://api.zoom.us/v2`.
    pub base_url: String,
    /// The OAuth token endpoint's full URL, e.g. `https://zoom.us/oauth/token`.
    pub oauth_url: String,
    /// The Zoom account id of the Server-to-Server OAuth app.
    pub account_id: String,
    /// The host whose webinars are synced: a user id, an email, or `me`.
    pub user_id: String,
}

/// The Server-to-Server OAuth app's credentials, stored encrypted.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The app's webhook secret token, which signs webhooks; without it,
    /// webhooks are refused.
    #[serde(default)]
    pub webhook_secret_token: Option<String>,
}

/// The Zoom webinars connector.
pub struct Zoom {
    api: Api,
    webhook_secret: Option<String>,
}

#[async_trait]
impl Connector for Zoom {
    const KIND: &'static str = "zoom";
    const DESCRIPTION: &'static str = "Zoom webinars: registrations (approved, pending, denied), attendance (with minutes), no-shows, Q&A and poll answers.";
    type Config = Config;
    type Secrets = Secrets;
    type Cursor = Cursor;

    fn new(config: Config, secrets: Secrets, http: HttpClient) -> Result<Self, String> {
        let webhook_secret = match secrets.webhook_secret_token {
            Some(token) if token.trim().is_empty() => {
                return Err(
                    "secrets: webhook_secret_token must not be empty (leave it out to refuse webhooks)"
                        .into(),
                );
            }
            other => other,
        };
        let api = Api {
            // Zoom's usual 429 is a per-second (QPS) limit, and one without
            // `Retry-After` is over in about a second.
            http: http.with_unhinted_rate_limit(UnhintedRateLimit::Backoff),
            base_url: http_url("base_url", &config.base_url)?,
            oauth_url: http_url("oauth_url", &config.oauth_url)?,
            account_id: required("config", "account_id", config.account_id)?,
            user_id: required("config", "user_id", config.user_id)?,
            client_id: required("secrets", "client_id", secrets.client_id)?,
            client_secret: required("secrets", "client_secret", secrets.client_secret)?,
            token: None,
        };
        Ok(Zoom {
            api,
            webhook_secret,
        })
    }

    async fn pull(&mut self, mut cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        let now = Utc::now();
        let Some(mut run) = cursor.run.take() else {
            cursor.upgrade();
            let queue: VecDeque<QueuedWebinar> = self
                .api
                .webinars()
                .await?
                .into_iter()
                .map(|webinar| queued(webinar, now))
                .filter(|w| !(w.finished() && cursor.synced_webinars.contains(&w.id)))
                .collect();
            cursor.run = (!queue.is_empty()).then_some(Run {
                queue,
                step: Step::Registrants { page: None },
            });
            return Ok(batch(Vec::new(), cursor));
        };
        let Some(webinar) = run.queue.front().cloned() else {
            return Ok(batch(Vec::new(), cursor));
        };
        let about = WebinarRef {
            id: webinar.id,
            topic: webinar.topic.as_deref(),
        };
        let mut touchpoints = Vec::new();
        let next = match &run.step {
            Step::Registrants { page } => {
                self.registrants(Listed::Approved, &webinar, page, now, &mut touchpoints)
                    .await?
            }
            Step::Pending { page } => {
                self.registrants(Listed::Pending, &webinar, page, now, &mut touchpoints)
                    .await?
            }
            Step::Denied { page } => {
                self.registrants(Listed::Denied, &webinar, page, now, &mut touchpoints)
                    .await?
            }
            Step::Participants => match self.api.participants(webinar.id).await? {
                Some(participants) => {
                    touchpoints = touchpoints::fold(&participants)
                        .iter()
                        .map(|attendance| touchpoints::attended(about, attendance))
                        .collect();
                    Some(Step::Absentees { page: None })
                }
                None => {
                    tracing::info!(
                        webinar = webinar.id,
                        "Zoom has no past instance of this ended webinar yet; trying again next run"
                    );
                    None
                }
            },
            Step::Absentees { page } => {
                let Some(started_at) = webinar.started_at else {
                    return Err(malformed(
                        "the saved cursor".into(),
                        "absentees of a webinar that has not started",
                    ));
                };
                let page = self
                    .api
                    .absentees(webinar.id, PageToken::usable(page, now))
                    .await?;
                let mut next_page = None;
                if let Some(page) = page {
                    for registrant in &page.registrants {
                        let touchpoint = touchpoints::missed(about, registrant, started_at)
                            .ok_or_else(|| {
                                malformed(
                                    format!("/past_webinars/{}/absentees", webinar.id),
                                    "an absentee without an id",
                                )
                            })?;
                        touchpoints.push(touchpoint);
                    }
                    next_page = page.next_page_token().map(|token| page_token(token, now));
                }
                Some(match next_page {
                    Some(page) => Step::Absentees { page: Some(page) },
                    None => Step::Questions { page: None },
                })
            }
            Step::Questions { page } | Step::Polls { page } => {
                let polls = matches!(run.step, Step::Polls { .. });
                let Some(started_at) = webinar.started_at else {
                    return Err(malformed(
                        "the saved cursor".into(),
                        "the Q&A or polls of a webinar that has not started",
                    ));
                };
                let list = if polls { "polls" } else { "qa" };
                let page = self
                    .api
                    .questions(webinar.id, list, PageToken::usable(page, now))
                    .await?;
                let mut next_page = None;
                if let Some(page) = page {
                    for asker in &page.questions {
                        touchpoints.extend(if polls {
                            touchpoints::polls_answered(about, asker, started_at)
                        } else {
                            touchpoints::questions_asked(about, asker, started_at)
                        });
                    }
                    next_page = page.next_page_token().map(|token| page_token(token, now));
                }
                match (polls, next_page) {
                    (false, page @ Some(_)) => Some(Step::Questions { page }),
                    (false, None) => Some(Step::Polls { page: None }),
                    (true, page @ Some(_)) => Some(Step::Polls { page }),
                    (true, None) => {
                        cursor.synced_webinars.insert(webinar.id);
                        None
                    }
                }
            }
        };
        match next {
            Some(step) => run.step = step,
            None => {
                run.queue.pop_front();
                run.step = Step::Registrants { page: None };
            }
        }
        cursor.run = (!run.queue.is_empty()).then_some(run);
        Ok(batch(touchpoints, cursor))
    }

    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        webhook::handle(self.webhook_secret.as_deref(), request, now)
    }
}

/// A webinar's registrant lists, read in this order, each with its
/// touchpoint.
#[derive(Debug, Clone, Copy)]
enum Listed {
    Approved,
    Pending,
    Denied,
}

type FromRegistrant = fn(WebinarRef<'_>, &wire::Registrant, DateTime<Utc>) -> Option<Touchpoint>;

impl Listed {
    /// The registrants endpoint's `status`; Zoom lists the approved ones
    /// without it.
    fn status(self) -> Option<&'static str> {
        match self {
            Listed::Approved => None,
            Listed::Pending => Some("pending"),
            Listed::Denied => Some("denied"),
        }
    }

    fn touchpoint(self) -> FromRegistrant {
        match self {
            Listed::Approved => touchpoints::registered,
            Listed::Pending => touchpoints::registration_pending,
            Listed::Denied => touchpoints::registration_denied,
        }
    }

    fn step(self, page: Option<PageToken>) -> Step {
        match self {
            Listed::Approved => Step::Registrants { page },
            Listed::Pending => Step::Pending { page },
            Listed::Denied => Step::Denied { page },
        }
    }

    fn next(self) -> Option<Listed> {
        match self {
            Listed::Approved => Some(Listed::Pending),
            Listed::Pending => Some(Listed::Denied),
            Listed::Denied => None,
        }
    }
}

impl Zoom {
    /// One page of one registrant list as touchpoints, and the step after
    /// it: the list's next page, the next list, the participants of an ended
    /// webinar, or nothing (the webinar is done).
    async fn registrants(
        &mut self,
        list: Listed,
        webinar: &QueuedWebinar,
        page: &Option<PageToken>,
        now: DateTime<Utc>,
        touchpoints: &mut Vec<Touchpoint>,
    ) -> Result<Option<Step>, PullError> {
        let about = WebinarRef {
            id: webinar.id,
            topic: webinar.topic.as_deref(),
        };
        let page = self
            .api
            .registrants(webinar.id, list.status(), PageToken::usable(page, now))
            .await?;
        let endpoint = || format!("/webinars/{}/registrants", webinar.id);
        for registrant in &page.registrants {
            let created = registrant
                .create_time
                .ok_or_else(|| malformed(endpoint(), "a registrant without create_time"))?;
            let touchpoint = list.touchpoint()(about, registrant, created)
                .ok_or_else(|| malformed(endpoint(), "a registrant without an id"))?;
            touchpoints.push(touchpoint);
        }
        Ok(match page.next_page_token() {
            Some(token) => Some(list.step(Some(page_token(token, now)))),
            None => match list.next() {
                Some(next) => Some(next.step(None)),
                None if webinar.finished() => Some(Step::Participants),
                None => None,
            },
        })
    }
}

impl QueuedWebinar {
    fn finished(&self) -> bool {
        self.started_at.is_some()
    }
}

/// A listed webinar, marked finished when its scheduled end has passed.
fn queued(webinar: Webinar, now: DateTime<Utc>) -> QueuedWebinar {
    let started_at = webinar.start_time.filter(|start| {
        chrono::Duration::try_minutes(webinar.duration.unwrap_or(0))
            .and_then(|duration| start.checked_add_signed(duration))
            .is_some_and(|end| end < now)
    });
    QueuedWebinar {
        id: webinar.id,
        topic: webinar.topic,
        started_at,
    }
}

fn page_token(token: &str, now: DateTime<Utc>) -> PageToken {
    PageToken {
        token: token.to_owned(),
        received_at: now,
    }
}

fn batch(touchpoints: Vec<Touchpoint>, cursor: Cursor) -> Batch<Cursor> {
    Batch {
        touchpoints,
        more: cursor.run.is_some(),
        cursor,
    }
}

fn malformed(endpoint: String, detail: &str) -> PullError {
    PullError::Malformed {
        endpoint,
        detail: detail.to_owned(),
    }
}

fn http_url(field: &str, value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("config: {field} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(format!("config: {field} must be an http(s) URL"));
    }
    Ok(url)
}

fn required(section: &str, field: &str, value: String) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{section}: {field} must not be empty"));
    }
    Ok(value.to_owned())
}
