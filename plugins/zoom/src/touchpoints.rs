//! Zoom facts as touchpoints, with the external ids that pulls and webhooks
//! share so that neither duplicates the other.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{AccountHint, Channel, PersonHint, Touchpoint};
use serde_json::{Map, Value, json};

use crate::wire::{Participant, Registrant};

pub const REGISTERED: &str = "webinar.registered";
pub const REGISTRATION_PENDING: &str = "webinar.registration_pending";
pub const REGISTRATION_DENIED: &str = "webinar.registration_denied";
pub const ATTENDED: &str = "webinar.attended";
pub const MISSED: &str = "webinar.missed";

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
