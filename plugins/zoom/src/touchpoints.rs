//! Zoom facts as touchpoints, with the external ids that pulls and webhooks
//! share so that neither duplicates the other.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{AccountHint, Channel, PersonHint, Touchpoint, hmac_sha256};
use serde_json::{Map, Value, json};

use crate::wire::{Asker, Participant, QuestionDetail, Registrant};

pub const REGISTERED: &str = "webinar.registered";
pub const REGISTRATION_PENDING: &str = "webinar.registration_pending";
pub const REGISTRATION_DENIED: &str = "webinar.registration_denied";
pub const ATTENDED: &str = "webinar.attended";
pub const MISSED: &str = "webinar.missed";
pub const LEFT: &str = "webinar.left";
pub const QUESTION_ASKED: &str = "webinar.question_asked";
pub const POLL_ANSWERED: &str = "webinar.poll_answered";

/// The webinar a touchpoint is about.
#[derive(Debug, Clone, Copy)]
pub struct WebinarRef<'a> {
    pub id: i64,
    pub topic: Option<&'a str>,
}

/// `webinar.registered`, at the registration's time; `None` when the
/// registrant has no id (which Zoom always sends).
pub fn registered(
    webinar: WebinarRef<'_>,
    registrant: &Registrant,
    occurred_at: DateTime<Utc>,
) -> Option<Touchpoint> {
    from_registrant(REGISTERED, "registered", webinar, registrant, occurred_at)
}

/// `webinar.registration_pending`: a registration awaiting the host's
/// approval, at its time; `None` when the registrant has no id.
pub fn registration_pending(
    webinar: WebinarRef<'_>,
    registrant: &Registrant,
    occurred_at: DateTime<Utc>,
) -> Option<Touchpoint> {
    from_registrant(
        REGISTRATION_PENDING,
        "registration_pending",
        webinar,
        registrant,
        occurred_at,
    )
}

/// `webinar.registration_denied`: a registration the host refused, at its
/// time; `None` when the registrant has no id.
pub fn registration_denied(
    webinar: WebinarRef<'_>,
    registrant: &Registrant,
    occurred_at: DateTime<Utc>,
) -> Option<Touchpoint> {
    from_registrant(
        REGISTRATION_DENIED,
        "registration_denied",
        webinar,
        registrant,
        occurred_at,
    )
}

/// `webinar.missed`: a registrant who did not come, at the webinar's start;
/// `None` when the registrant has no id.
pub fn missed(
    webinar: WebinarRef<'_>,
    registrant: &Registrant,
    starts_at: DateTime<Utc>,
) -> Option<Touchpoint> {
    from_registrant(MISSED, "missed", webinar, registrant, starts_at)
}

fn from_registrant(
    kind: &str,
    id_prefix: &str,
    webinar: WebinarRef<'_>,
    registrant: &Registrant,
    occurred_at: DateTime<Utc>,
) -> Option<Touchpoint> {
    let registrant_id = present(Some(&registrant.id))?;
    let mut properties = webinar_properties(webinar);
    let facts = [
        ("industry", &registrant.industry),
        ("purchasing_time_frame", &registrant.purchasing_time_frame),
        (
            "role_in_purchase_process",
            &registrant.role_in_purchase_process,
        ),
        ("no_of_employees", &registrant.no_of_employees),
    ];
    for (name, value) in facts {
        if let Some(value) = present(value.as_deref()) {
            properties.insert(name.into(), value.into());
        }
    }
    if !registrant.custom_questions.is_empty() {
        let answers: Vec<Value> = registrant
            .custom_questions
            .iter()
            .map(|q| json!({"title": q.title, "value": q.value}))
            .collect();
        properties.insert("custom_questions".into(), answers.into());
    }
    let name = [&registrant.first_name, &registrant.last_name]
        .into_iter()
        .filter_map(|part| present(part.as_deref()))
        .collect::<Vec<_>>()
        .join(" ");
    Some(Touchpoint {
        external_id: format!("{id_prefix}:{}:{registrant_id}", webinar.id),
        kind: kind.into(),
        channel: Channel::Webinar,
        occurred_at,
        title: webinar.topic.map(str::to_owned),
        body: None,
        url: None,
        score: None,
        properties,
        person: PersonHint {
            email: present(registrant.email.as_deref()).map(str::to_owned),
            zoom_registrant_id: Some(registrant_id.to_owned()),
            name: (!name.is_empty()).then_some(name),
            title: present(registrant.job_title.as_deref()).map(str::to_owned),
            ..PersonHint::default()
        },
        account: present(registrant.org.as_deref()).map(|org| AccountHint {
            external_id: None,
            name: Some(org.to_owned()),
        }),
        owner_team: None,
        actor: None,
    })
}

/// Someone in a webinar, as participants lists and join webhooks name them.
#[derive(Debug, Clone, Default)]
pub struct Attendee {
    pub registrant_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

impl Attendee {
    pub fn new(registrant_id: Option<&str>, email: Option<&str>, name: Option<&str>) -> Self {
        Attendee {
            registrant_id: present(registrant_id).map(str::to_owned),
            email: present(email).map(str::to_owned),
            name: present(name).map(str::to_owned),
        }
    }

    /// Who this is, for folding rejoins and for the external id: the
    /// registrant id, else the email, else the display name; `None` for an
    /// anonymous guest.
    pub fn key(&self) -> Option<String> {
        if let Some(id) = &self.registrant_id {
            Some(format!("registrant:{id}"))
        } else if let Some(email) = &self.email {
            Some(format!("email:{}", email.to_lowercase()))
        } else {
            self.name.as_ref().map(|name| format!("name:{name}"))
        }
    }
}

/// One person's stays in one past webinar, folded together.
#[derive(Debug)]
pub struct Attendance {
    pub key: String,
    pub attendee: Attendee,
    pub first_join: DateTime<Utc>,
    pub stays: u32,
    pub seconds: u64,
}

/// Folds a webinar's participants list (all its pages) into one attendance
/// per person, in the order people first appear. Anonymous guests (no
/// registrant id, email or name) cannot be told apart and are left out.
pub fn fold(participants: &[Participant]) -> Vec<Attendance> {
    let mut folded: Vec<Attendance> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for stay in participants {
        let attendee = Attendee::new(
            stay.registrant_id.as_deref(),
            stay.user_email.as_deref(),
            stay.name.as_deref(),
        );
        let Some(key) = attendee.key() else {
            continue;
        };
        match position.get(&key).map(|&at| &mut folded[at]) {
            Some(seen) => {
                seen.first_join = seen.first_join.min(stay.join_time);
                seen.stays = seen.stays.saturating_add(1);
                seen.seconds = seen.seconds.saturating_add(stay.duration);
                let known = &mut seen.attendee;
                known.email = known.email.take().or(attendee.email);
                known.name = known.name.take().or(attendee.name);
            }
            None => {
                position.insert(key.clone(), folded.len());
                folded.push(Attendance {
                    key,
                    attendee,
                    first_join: stay.join_time,
                    stays: 1,
                    seconds: stay.duration,
                });
            }
        }
    }
    folded
}

/// `webinar.attended` from the folded participants list, with the minutes
/// attended and the number of stays.
pub fn attended(webinar: WebinarRef<'_>, attendance: &Attendance) -> Touchpoint {
    let mut touchpoint = attended_at(
        webinar,
        &attendance.key,
        &attendance.attendee,
        attendance.first_join,
    );
    // Rounded to the nearest minute.
    let minutes = attendance.seconds.saturating_add(30) / 60;
    touchpoint
        .properties
        .insert("minutes_attended".into(), minutes.into());
    touchpoint
        .properties
        .insert("stays".into(), attendance.stays.into());
    touchpoint
}

/// `webinar.attended` as a join webhook knows it: no minutes yet (the pull
/// after the webinar fills them in under the same external id).
pub fn attended_at(
    webinar: WebinarRef<'_>,
    key: &str,
    attendee: &Attendee,
    joined_at: DateTime<Utc>,
) -> Touchpoint {
    Touchpoint {
        external_id: format!("attended:{}:{key}", webinar.id),
        kind: ATTENDED.into(),
        channel: Channel::Webinar,
        occurred_at: joined_at,
        title: webinar.topic.map(str::to_owned),
        body: None,
        url: None,
        score: None,
        properties: webinar_properties(webinar),
        person: PersonHint {
            email: attendee.email.clone(),
            zoom_registrant_id: attendee.registrant_id.clone(),
            name: attendee.name.clone(),
            ..PersonHint::default()
        },
        account: None,
        owner_team: None,
        actor: None,
    }
}

/// `webinar.question_asked`, one per question in the Q&A, at the webinar's
/// start (Zoom gives no time), with the question and the host's answer.
/// Anonymous askers (no email) are left out, as is a detail without a
/// question. The external id is
/// `question_asked:{webinar id}:{lower-cased email}:{digest of the question}`.
pub fn questions_asked(
    webinar: WebinarRef<'_>,
    asker: &Asker,
    starts_at: DateTime<Utc>,
) -> Vec<Touchpoint> {
    asked_or_answered(webinar, asker, |email, detail, question| {
        let mut properties = webinar_properties(webinar);
        properties.insert("question".into(), question.into());
        if let Some(answer) = present(detail.answer.as_deref()) {
            properties.insert("answer".into(), answer.into());
        }
        let external_id = format!("question_asked:{}:{email}:{}", webinar.id, digest(question));
        (QUESTION_ASKED, external_id, starts_at, properties)
    })
}

/// `webinar.poll_answered`, one per answer, at its `date_time` (else the
/// webinar's start), with the poll's id, the question and the answer
/// (several choices in one string for multiple choice). Anonymous answerers
/// and details without a question are left out. The external id is
/// `poll_answered:{webinar id}:{poll id}:{lower-cased email}:{digest of the
/// question}`.
pub fn polls_answered(
    webinar: WebinarRef<'_>,
    answerer: &Asker,
    starts_at: DateTime<Utc>,
) -> Vec<Touchpoint> {
    asked_or_answered(webinar, answerer, |email, detail, question| {
        let poll = present(detail.polling_id.as_deref()).unwrap_or("-");
        let mut properties = webinar_properties(webinar);
        properties.insert("poll_id".into(), poll.into());
        properties.insert("question".into(), question.into());
        properties.insert(
            "answer".into(),
            present(detail.answer.as_deref()).unwrap_or("").into(),
        );
        let answered_at = present(detail.date_time.as_deref())
            .and_then(zoom_time)
            .unwrap_or(starts_at);
        let external_id = format!(
            "poll_answered:{}:{poll}:{email}:{}",
            webinar.id,
            digest(question)
        );
        (POLL_ANSWERED, external_id, answered_at, properties)
    })
}

type Made = (&'static str, String, DateTime<Utc>, Map<String, Value>);

fn asked_or_answered(
    webinar: WebinarRef<'_>,
    asker: &Asker,
    make: impl Fn(&str, &QuestionDetail, &str) -> Made,
) -> Vec<Touchpoint> {
    let Some(email) = present(asker.email.as_deref()) else {
        return Vec::new();
    };
    let key = email.to_lowercase();
    asker
        .question_details
        .iter()
        .filter_map(|detail| {
            let question = present(detail.question.as_deref())?;
            let (kind, external_id, occurred_at, properties) = make(&key, detail, question);
            Some(Touchpoint {
                external_id,
                kind: kind.into(),
                channel: Channel::Webinar,
                occurred_at,
                title: webinar.topic.map(str::to_owned),
                body: None,
                url: None,
                score: None,
                properties,
                person: PersonHint {
                    email: Some(email.to_owned()),
                    name: present(asker.name.as_deref()).map(str::to_owned),
                    ..PersonHint::default()
                },
                account: None,
                owner_team: None,
                actor: None,
            })
        })
        .collect()
}

/// A short, stable digest of a question's text, for external ids: Zoom
/// gives questions no id. The same question asked twice by one person is one
/// touchpoint.
fn digest(text: &str) -> String {
    hex::encode(&hmac_sha256(b"journeys-zoom-question", &[text.as_bytes()])[..8])
}

/// Zoom's poll times: RFC 3339, or `YYYY-MM-DD HH:MM:SS` in UTC.
fn zoom_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|time| time.and_utc())
        })
}

/// `webinar.left`, from a leave webhook: one per departure (a rejoin
/// leaves again), at the leave time, under
/// `left:{webinar id}:{person key}:{leave time, Unix seconds}`. It is its own
/// touchpoint rather than an update of `webinar.attended`: a webhook knows
/// one stay, and the pull's attendance (all stays, folded) stays whole.
pub fn left(
    webinar: WebinarRef<'_>,
    key: &str,
    attendee: &Attendee,
    left_at: DateTime<Utc>,
) -> Touchpoint {
    let mut touchpoint = attended_at(webinar, key, attendee, left_at);
    touchpoint.external_id = format!("left:{}:{key}:{}", webinar.id, left_at.timestamp());
    touchpoint.kind = LEFT.into();
    touchpoint
}

fn webinar_properties(webinar: WebinarRef<'_>) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("webinar_id".into(), webinar.id.into());
    if let Some(topic) = webinar.topic {
        properties.insert("webinar_topic".into(), topic.into());
    }
    properties
}

/// Zoom sends empty strings for unanswered fields.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}
