//! Zoom's JSON, as the REST API and the webhooks send it. Only the fields a
//! touchpoint uses are read; Zoom's others are ignored, as it adds fields.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The answer of the Server-to-Server OAuth token endpoint. No `Debug`: it
/// holds a live credential.
#[derive(Deserialize)]
pub struct AccessTokenGrant {
    pub access_token: String,
    /// Seconds the token lives (3600).
    pub expires_in: u64,
}

/// What every list page has: an empty or missing `next_page_token` ends the
/// list.
pub trait Page {
    fn next_page_token(&self) -> Option<&str>;
}

fn continuation(token: &Option<String>) -> Option<&str> {
    token.as_deref().filter(|t| !t.is_empty())
}

/// `GET /users/{userId}/webinars`.
#[derive(Debug, Deserialize)]
pub struct WebinarPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub webinars: Vec<Webinar>,
}

impl Page for WebinarPage {
    fn next_page_token(&self) -> Option<&str> {
        continuation(&self.next_page_token)
    }
}

#[derive(Debug, Deserialize)]
pub struct Webinar {
    /// A JSON number in REST (a string in webhooks).
    pub id: i64,
    #[serde(default)]
    pub topic: Option<String>,
    /// Absent for recurring webinars without a fixed time.
    #[serde(default)]
    pub start_time: Option<DateTime<Utc>>,
    /// Scheduled length in minutes.
    #[serde(default)]
    pub duration: Option<i64>,
}

/// `GET /webinars/{webinarId}/registrants` and, with the same shape,
/// `GET /past_webinars/{webinarId}/absentees`.
#[derive(Debug, Deserialize)]
pub struct RegistrantPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub registrants: Vec<Registrant>,
}

impl Page for RegistrantPage {
    fn next_page_token(&self) -> Option<&str> {
        continuation(&self.next_page_token)
    }
}

/// A registrant, in lists and in `webinar.registration_created` webhooks.
#[derive(Debug, Deserialize)]
pub struct Registrant {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub purchasing_time_frame: Option<String>,
    #[serde(default)]
    pub role_in_purchase_process: Option<String>,
    #[serde(default)]
    pub no_of_employees: Option<String>,
    #[serde(default)]
    pub custom_questions: Vec<CustomQuestion>,
    /// Always in lists; webhooks may leave it out.
    #[serde(default)]
    pub create_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
pub struct CustomQuestion {
    pub title: String,
    #[serde(default)]
    pub value: String,
}

/// `GET /past_webinars/{webinarId}/participants`.
#[derive(Debug, Deserialize)]
pub struct ParticipantPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub participants: Vec<Participant>,
}

impl Page for ParticipantPage {
    fn next_page_token(&self) -> Option<&str> {
        continuation(&self.next_page_token)
    }
}

/// One stay in a past webinar: a person who rejoined appears once per stay.
#[derive(Debug, Deserialize)]
pub struct Participant {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub registrant_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    pub join_time: DateTime<Utc>,
    /// Seconds of this stay.
    pub duration: u64,
}

/// `GET /past_webinars/{webinarId}/qa` and `GET /past_webinars/{webinarId}/polls`:
/// who asked or answered what. Zoom documents them unpaged; a
/// `next_page_token`, should one come, is followed like anywhere else.
#[derive(Debug, Deserialize)]
pub struct QuestionsPage {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub questions: Vec<Asker>,
}

impl Page for QuestionsPage {
    fn next_page_token(&self) -> Option<&str> {
        continuation(&self.next_page_token)
    }
}

/// One person's questions (Q&A) or answers (polls). An anonymous asker has
/// an empty `email`.
#[derive(Debug, Deserialize)]
pub struct Asker {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub question_details: Vec<QuestionDetail>,
}

/// A Q&A question with the host's answer, or a poll question with the
/// choices picked (several in one string for multiple choice).
#[derive(Debug, Deserialize)]
pub struct QuestionDetail {
    #[serde(default)]
    pub question: Option<String>,
    #[serde(default)]
    pub answer: Option<String>,
    /// Polls only: when it was answered, as Zoom writes it.
    #[serde(default)]
    pub date_time: Option<String>,
    /// Polls only: which poll.
    #[serde(default)]
    pub polling_id: Option<String>,
}

/// Every webhook delivery.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub event: String,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub event_ts: Option<i64>,
    pub payload: serde_json::Value,
}

/// `endpoint.url_validation`'s payload.
#[derive(Debug, Deserialize)]
pub struct UrlValidation {
    #[serde(rename = "plainToken")]
    pub plain_token: String,
}

/// The payload of a webinar event: the webinar, with what happened to it.
#[derive(Debug, Deserialize)]
pub struct WebinarEvent<T> {
    pub object: T,
}

/// `webinar.registration_created`'s object.
#[derive(Debug, Deserialize)]
pub struct RegistrationCreated {
    /// The webinar id, a string in webhooks.
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    pub registrant: Registrant,
}

/// `webinar.participant_joined`'s object.
#[derive(Debug, Deserialize)]
pub struct ParticipantJoined {
    /// The webinar id, a string in webhooks.
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    pub participant: JoinedParticipant,
}

#[derive(Debug, Deserialize)]
pub struct JoinedParticipant {
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub registrant_id: Option<String>,
    pub join_time: DateTime<Utc>,
}

/// `webinar.participant_left`'s object.
#[derive(Debug, Deserialize)]
pub struct ParticipantLeft {
    /// The webinar id, a string in webhooks.
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    pub participant: LeftParticipant,
}

#[derive(Debug, Deserialize)]
pub struct LeftParticipant {
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub registrant_id: Option<String>,
    pub leave_time: DateTime<Utc>,
}
