//! Zendesk Support connector for Journeys (kind `zendesk`).
//!
//! **Config:** `base_url` (the account, e.g. `https://acme.zendesk.com`),
//! `email` (the API user), optional `start_time` (Unix seconds the first export
//! starts from; 0, everything, by default; never less than a minute ago, as the
//! API requires) and optional `export_requests_per_minute` (10, the export's
//! documented allowance). **Secrets:** `api_token` (Basic auth as
//! `{email}/token:{api_token}`) and an optional `webhook_signing_secret`
//! (without it, webhooks are refused).
//!
//! **Touchpoints** (SUPPORT channel), by stream:
//!
//! | stream (endpoint) | kind | external id | at |
//! | --- | --- | --- | --- |
//! | ticket export | `ticket.opened` | `ticket:{id}:opened` | `created_at` |
//! | ticket export, until caught up | `ticket.solved` | `ticket:{id}:solved` | `updated_at` (fallback) |
//! | ticket events | `ticket.solved` | `ticket:{id}:solved` | the update that solved it |
//! | ticket events | `ticket.replied` | `ticket:{id}:comment:{comment id}` | the comment's `created_at` |
//! | ticket events | `ticket.reopened`, `ticket.pending`, `ticket.on_hold` | `ticket:{id}:status:{status}:{unix seconds}` | the update |
//! | satisfaction ratings | `satisfaction.rated` | `satisfaction:{id}` | `updated_at` |
//!
//! - **Ticket export** (`GET /api/v2/incremental/tickets/cursor`, a
//!   cursor-based incremental export sideloading `users` and `organizations`):
//!   `ticket.opened` for every ticket but deleted ones; subject as title,
//!   description as body, the agent page `{base_url}/agent/tickets/{id}` as
//!   url, and `ticket_id`, `status`, `priority`, `type`, `tags` and
//!   `via_channel` as properties. The requester is a person by Zendesk user
//!   id, email and name; the ticket's (else the requester's) organisation is
//!   the account, by id and name. Until the export first reaches its end (the
//!   backfill), a solved or closed ticket also makes `ticket.solved` at its
//!   `updated_at`: a ticket solved before the events export's start has no
//!   solve event. After that only the events date a solve, so a later update
//!   (e.g. closing) never moves it.
//! - **Ticket events** (`GET /api/v2/incremental/ticket_events` with
//!   `include=comment_events`, a time-based incremental export), one event
//!   per ticket update: a status change that solves the ticket (to solved, or
//!   to closed from an unsolved status) re-dates `ticket.solved`, the same
//!   touchpoint as the export's under the same external id, to the update (a
//!   ticket solved again after reopening moves to its latest solve). Solved to
//!   open is `ticket.reopened`, to pending `ticket.pending`, to hold
//!   `ticket.on_hold`, with `ticket_id`, `status` and `previous_status`; the
//!   person is the requester (from this run's ticket export or the ticket's
//!   creation event, else the updater when a known end user), or none. Each
//!   public reply or internal note is `ticket.replied` ("Public reply" or
//!   "Internal note" as title, the comment as body, `ticket_id`, `public` and
//!   `author_id` as properties): an agent's (known as one from the export's
//!   sideloaded users, or because the comment is internal) is owned by
//!   SERVICE, with the agent as actor (by name, else `zendesk user {id}`) and
//!   the requester as person; the requester's or another known end user's has
//!   them as person; an unknown author's has the requester and no actor. The
//!   events name tickets and users only by id: what the run's ticket export
//!   showed fills in the rest, and the tickets it did not show (a run resumed
//!   in this phase) are fetched first with `GET /api/v2/tickets/show_many`
//!   (up to 100 a request, sideloading `users` and `organizations`), so every
//!   touchpoint carries the same facts as the export's (see the `known`
//!   module).
//! - **Satisfaction ratings** (`GET /api/v2/satisfaction_ratings`, cursor
//!   paginated): ratings scored good or bad, at the rating's `updated_at`
//!   (when it was given), scored 1 for good and 0 for bad (so the mean score
//!   is the CSAT share), with `rating`, `comment` and `ticket_id` as
//!   properties and the requester by Zendesk user id. Ratings come only from
//!   this pull: no webhook event this connector handles carries one.
//!
//! **Cursor** (see [`Cursor`]): a run reads the ticket export until
//! `end_of_stream`, then the ticket events until `end_of_stream`, then one
//! pass over the ratings, one batch per page, so a killed run resumes after
//! its last saved page. The ticket export's `after_cursor` is kept, at the
//! end of the stream too, so the next poll asks only for tickets changed
//! since. The ticket events keep their own `start_time` watermark (the last
//! page's `end_time`) and the ids of the events read at that second, which
//! the inclusive `start_time` sends again and which are dropped. Ratings keep
//! a `start_time` watermark (the newest rating of the last pass, or the
//! oldest survey in it still awaiting an answer, for up to 7 days, since a
//! rating is scored on the record made when its survey was offered) and the
//! latest (`updated_at`, id) made into a touchpoint: rows at or before it are
//! dropped, so an unchanged re-sync records nothing again. While a pass
//! pages, `page[after]` is kept too. Cursors saved before a field existed
//! read with its default.
//!
//! **Pacing and limits:** both incremental exports share Zendesk's allowance
//! of export requests (10 a minute), so every request to either goes through
//! one function (`Api::incremental`) that keeps them to
//! `export_requests_per_minute` in any minute (with the SDK's margin for
//! network delays), each counted when it is sent (retries too) in the
//! connector's pacing log, which the runtime keeps across runs; the ratings
//! and `show_many` (ordinary endpoints) are not paced. A 429 (the export's `APIRateLimitExceeded`, or any other) and a 503
//! wait their `Retry-After`. A 401/403 names the credential `email` and
//! `api_token` (both make up the Basic auth).
//!
//! **Webhooks:** see the `webhook` module: signed ticket events (created,
//! status changed, comment added) make the same touchpoints, under the same
//! external ids, as the pull.

mod api;
mod cursor;
mod known;
mod ticket_events;
mod touchpoints;
mod webhook;
mod wire;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    Batch, Connector, HttpClient, PullError, WebhookError, WebhookReply, WebhookRequest,
    async_trait,
};
use serde::Deserialize;

pub use cursor::{Cursor, EventsCursor, Mark, Phase, RatingsCursor, UNANSWERED_WAIT};

use api::{Api, ExportFrom};
use known::Known;

/// Zendesk's documented allowance of incremental export requests a minute.
const DEFAULT_EXPORT_REQUESTS_PER_MINUTE: u32 = 10;
/// An export's `start_time` must be at least this far in the past.
const EXPORT_START_MIN_AGE_SECONDS: i64 = 60;

/// Which Zendesk account to read, and as whom.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The account's URL, e.g. `https://acme.zendesk.com`.
    pub base_url: String,
    /// The email of the agent or admin whose API token is used.
    pub email: String,
    /// Unix seconds the first ticket export, ticket events export and ratings
    /// pass start from; 0, everything, by default. Later syncs continue where
    /// the last stopped.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// The most incremental export requests (tickets and ticket events
    /// together) to make in any minute; Zendesk allows 10.
    #[serde(default)]
    pub export_requests_per_minute: Option<u32>,
}

/// Credentials, stored encrypted.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// An API token of `email` (Admin Center > Apps and integrations > Zendesk API).
    pub api_token: String,
    /// The webhook's signing secret; without it, webhooks are refused.
    #[serde(default)]
    pub webhook_signing_secret: Option<String>,
}

/// The Zendesk Support connector.
pub struct Zendesk {
    api: Api,
    start_time: Option<i64>,
    signing_secret: Option<String>,
    /// What this run's ticket export pages said, for its ticket events.
    known: Known,
}

#[async_trait]
impl Connector for Zendesk {
    const KIND: &'static str = "zendesk";
    const DESCRIPTION: &'static str = "Zendesk Support: tickets opened and solved, replies and status changes (incremental exports and ticket webhooks) and satisfaction ratings.";
    type Config = Config;
    type Secrets = Secrets;
    type Cursor = Cursor;

    fn new(config: Config, secrets: Secrets, http: HttpClient) -> Result<Self, String> {
        let base_url = reqwest::Url::parse(config.base_url.trim())
            .map_err(|e| format!("config: base_url is not a URL ({e})"))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host().is_none() {
            return Err(
                "config: base_url must be an http(s) URL such as https://acme.zendesk.com".into(),
            );
        }
        let email = config.email.trim();
        if email.is_empty() {
            return Err("config: email must not be empty".into());
        }
        if config.start_time.is_some_and(|t| t < 0) {
            return Err("config: start_time must be Unix seconds, 0 or more".into());
        }
        let per_minute = config
            .export_requests_per_minute
            .unwrap_or(DEFAULT_EXPORT_REQUESTS_PER_MINUTE);
        if per_minute == 0 {
            return Err("config: export_requests_per_minute must be at least 1".into());
        }
        if secrets.api_token.trim().is_empty() {
            return Err("secrets: api_token must not be empty".into());
        }
        if secrets
            .webhook_signing_secret
            .as_deref()
            .is_some_and(|s| s.is_empty())
        {
            return Err("secrets: webhook_signing_secret must not be empty when given".into());
        }
        Ok(Zendesk {
            api: Api::new(base_url, email, secrets.api_token.trim(), per_minute, http)?,
            start_time: config.start_time,
            signing_secret: secrets.webhook_signing_secret,
            known: Known::default(),
        })
    }

    async fn pull(&mut self, cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
        match cursor.phase {
            Phase::Tickets => self.export_page(cursor, Utc::now()).await,
            Phase::TicketEvents => self.events_page(cursor, Utc::now()).await,
            Phase::Ratings => self.ratings_page(cursor, Utc::now()).await,
        }
    }

    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        let secret = self
            .signing_secret
            .as_deref()
            .ok_or(WebhookError::BadSignature)?;
        webhook::receive(secret, self.api.base_url(), request, now)
    }
}

impl Zendesk {
    /// Where an export without a cursor starts: the configured `start_time`,
    /// never less than a minute ago.
    fn first_start_time(&self, now: DateTime<Utc>) -> i64 {
        self.start_time
            .unwrap_or(0)
            .min(now.timestamp() - EXPORT_START_MIN_AGE_SECONDS)
    }

    /// One export page: its tickets' touchpoints, then the page after it, or
    /// the ticket events once the stream has ended.
    async fn export_page(
        &mut self,
        mut cursor: Cursor,
        now: DateTime<Utc>,
    ) -> Result<Batch<Cursor>, PullError> {
        let start_time = self.first_start_time(now);
        let from = match &cursor.export_after {
            Some(after) => ExportFrom::Cursor(after),
            None => ExportFrom::StartTime(start_time),
        };
        let page = self.api.export(from).await?;
        let sideloads = touchpoints::Sideloads::new(&page.users, &page.organizations);
        self.known.learn_users(&page.users);
        let mut found = Vec::new();
        for ticket in &page.tickets {
            if let Some(facts) = touchpoints::facts_of(ticket, &sideloads, self.api.base_url()) {
                found.extend(touchpoints::from_export(
                    ticket,
                    &facts,
                    !cursor.tickets_caught_up,
                ));
                self.known.learn_ticket(&facts);
            }
        }
        match (&page.after_cursor, page.end_of_stream) {
            (Some(after), _) => cursor.export_after = Some(after.clone()),
            // An empty account may end the stream without a cursor: the next
            // poll starts from `start_time` again.
            (None, true) => {}
            (None, false) => {
                return Err(PullError::Malformed {
                    endpoint: api::EXPORT_PATH.into(),
                    detail: "a page before the end of the stream has no after_cursor".into(),
                });
            }
        }
        if page.end_of_stream {
            cursor.tickets_caught_up = true;
            cursor.phase = Phase::TicketEvents;
        }
        Ok(Batch {
            touchpoints: found,
            cursor,
            more: true,
        })
    }

    /// One page of the ticket events export: the replies, status changes and
    /// solve times of its events not read before, then the page after it, or
    /// the ratings once the stream has ended.
    async fn events_page(
        &mut self,
        mut cursor: Cursor,
        now: DateTime<Utc>,
    ) -> Result<Batch<Cursor>, PullError> {
        let start = cursor
            .ticket_events
            .start_time
            .unwrap_or_else(|| self.first_start_time(now));
        let page = self.api.ticket_events(start).await?;
        let malformed = |detail: String| PullError::Malformed {
            endpoint: api::TICKET_EVENTS_PATH.into(),
            detail,
        };
        let unread: Vec<&wire::TicketEvent> = page
            .ticket_events
            .iter()
            .filter(|event| {
                ticket_events::time_of(event)
                    .is_none_or(|at| !cursor.ticket_events.has_read(at.timestamp(), event.id))
            })
            .collect();
        let tickets: Vec<u64> = unread
            .iter()
            .filter(|event| ticket_events::may_make_touchpoints(event))
            .map(|event| event.ticket_id)
            .collect();
        self.learn_tickets(&tickets).await?;
        let mut found = Vec::new();
        let mut read = Vec::new();
        for event in unread {
            let at = ticket_events::time_of(event).ok_or_else(|| {
                malformed(format!("ticket event {} says nothing of when", event.id))
            })?;
            read.push((at.timestamp(), event.id));
            found.extend(
                ticket_events::touchpoints(event, at, &mut self.known, self.api.base_url())
                    .map_err(malformed)?,
            );
        }
        let newest = read.iter().map(|(time, _)| *time).max().unwrap_or(start);
        let end_time = page.end_time.unwrap_or(newest);
        let moved = cursor.ticket_events.advance(start, end_time, &read);
        if page.end_of_stream {
            cursor.phase = Phase::Ratings;
        } else if !moved {
            return Err(malformed(
                "a page before the end of the stream neither moves end_time forward nor has new events"
                    .into(),
            ));
        }
        Ok(Batch {
            touchpoints: found,
            cursor,
            more: true,
        })
    }

    /// Fetches the tickets of a ticket events page that this run has not
    /// exported (it resumed in the events phase, or forgot them in a long
    /// backfill), so their touchpoints carry the same facts as the export's.
    async fn learn_tickets(&mut self, tickets: &[u64]) -> Result<(), PullError> {
        let missing = self.known.missing(tickets);
        for ids in missing.chunks(api::SHOW_MANY_MOST) {
            let page = self.api.tickets(ids).await?;
            let sideloads = touchpoints::Sideloads::new(&page.users, &page.organizations);
            self.known.learn_users(&page.users);
            for ticket in &page.tickets {
                if let Some(facts) = touchpoints::facts_of(ticket, &sideloads, self.api.base_url())
                {
                    self.known.learn_ticket(&facts);
                }
            }
        }
        Ok(())
    }

    /// One page of the ratings pass; its last page ends the run.
    async fn ratings_page(
        &mut self,
        mut cursor: Cursor,
        now: DateTime<Utc>,
    ) -> Result<Batch<Cursor>, PullError> {
        let since = cursor.ratings.since.or(self.start_time);
        let page = self
            .api
            .ratings(since, cursor.ratings.page_after.as_deref())
            .await?;
        let mut found = Vec::new();
        for rating in &page.satisfaction_ratings {
            if cursor.ratings.saw(rating, now) {
                found.extend(touchpoints::from_rating(rating));
            }
        }
        let more = page.meta.has_more;
        if more {
            let after = page.meta.after_cursor.ok_or_else(|| PullError::Malformed {
                endpoint: api::RATINGS_PATH.into(),
                detail: "meta.has_more without meta.after_cursor".into(),
            })?;
            cursor.ratings.page_after = Some(after);
        } else {
            cursor.ratings.finish_pass();
            cursor.phase = Phase::Tickets;
        }
        Ok(Batch {
            touchpoints: found,
            cursor,
            more,
        })
    }
}
