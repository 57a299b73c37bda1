//! Ingestion: the one path by which touchpoints enter, whether a client sends
//! them (`recordTouchpoints`), a connector pulls them or a webhook delivers
//! them. Each builds `RawTouchpoint`s, `NewTouchpoint::check` validates them,
//! and `record` / `record_in` write them.
//!
//! Per item: resolve the person by identity, the account by id, a connector's
//! organisation, the email's domain or the primary membership; upsert on
//! `(connector, externalId)` for a connector's, `(source, externalId)` for the
//! API's. Per batch, set-based: read what the database holds about every item
//! at once (`known`), resolve the items in memory in order (`plan`), write each
//! kind of row in one statement, then replay the paths and rescore the people
//! and accounts concerned once.

mod known;
mod plan;
mod record;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, Emotion, IdentityKind, OwnerTeam};
use uuid::Uuid;

use crate::people::identities::{normalise, normalise_email};
use crate::vocab::NPS_KIND;
use crate::{CoreError, CoreResult, time};

pub use record::{Recorded, Tally, contention_backoff, record, record_in};

/// The statement a batch first runs to find which of its items are already
/// recorded, for API touchpoints of `source`, as `backend` would run it:
/// public so that a test can read its plan.
pub fn lookup_statement(
    backend: sea_orm::DbBackend,
    ws: Uuid,
    source: &str,
    external_ids: &[&str],
) -> sea_orm::Statement {
    let ids = external_ids.iter().map(|id| (*id).to_owned()).collect();
    let scopes = [(known::Scope::Source(source.to_owned()), ids)];
    known::recorded_under(backend, ws, scopes.into_iter().collect())
}

/// The most touchpoints one batch may hold.
pub const MAX_BATCH: usize = 1_000;

/// How far in the future a touchpoint may claim to have happened (clock skew).
const FUTURE_SKEW_SECS: i64 = 300;

/// Who a touchpoint is with, by identities: the person is found by any of
/// them, or created when none matches.
#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    /// An email address; a new person with one starts as a LEAD.
    pub email: Option<String>,
    pub twitter_user_id: Option<String>,
    /// With or without the `@`.
    pub twitter_handle: Option<String>,
    pub zoom_registrant_id: Option<String>,
    pub zendesk_user_id: Option<String>,
    /// A user id in another system, as `system:id` (`hubspot:5120`).
    pub vendor_user_id: Option<String>,
    /// In any punctuation.
    pub phone: Option<String>,
    /// A web visitor's anonymous id, before they are identified.
    pub anonymous_id: Option<String>,
    /// Given to a new person, or to a known one who has none.
    pub name: Option<String>,
    /// Given to a new person, or to a known one who has none.
    pub title: Option<String>,
}

impl NewPerson {
    /// The normalised identities, strongest first; a bad one is refused
    /// with the `person` field it came in named.
    fn identities(&self) -> CoreResult<Vec<(IdentityKind, String)>> {
        use IdentityKind as K;
        let mut out = Vec::new();
        if let Some(email) = &self.email {
            let email = normalise_email(email).map_err(|e| blame("person.email", e))?;
            out.push((K::Email, email));
        }
        let others = [
            (
                K::TwitterUserId,
                "person.twitterUserId",
                &self.twitter_user_id,
            ),
            (
                K::ZendeskUserId,
                "person.zendeskUserId",
                &self.zendesk_user_id,
            ),
            (
                K::ZoomRegistrantId,
                "person.zoomRegistrantId",
                &self.zoom_registrant_id,
            ),
            (K::VendorUserId, "person.vendorUserId", &self.vendor_user_id),
            (
                K::TwitterHandle,
                "person.twitterHandle",
                &self.twitter_handle,
            ),
            (K::Phone, "person.phone", &self.phone),
            (K::AnonymousId, "person.anonymousId", &self.anonymous_id),
        ];
        for (kind, field, value) in others {
            if let Some(value) = value {
                let value = normalise(kind, value).map_err(|e| blame(field, e))?;
                out.push((kind, value));
            }
        }
        Ok(out)
    }
}

/// An input error with no field of its own, blamed on `field`.
fn blame(field: &'static str, err: CoreError) -> CoreError {
    match err {
        CoreError::InvalidInput {
            field: None,
            message,
        } => CoreError::invalid_field(field, message),
        other => other,
    }
}

/// A connector's word on the organisation a person belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountHint {
    /// The organisation's id in the connector's system; mapped to an account
    /// the first time it is seen, so later touchpoints land there too.
    pub external_id: Option<String>,
    /// The organisation's name: the account of that name, created if need be.
    pub name: Option<String>,
}

/// What a new delivery of a recorded touchpoint does to its properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PropertiesUpdate {
    /// The delivery's properties are the touchpoint's (`recordTouchpoints`:
    /// the caller states the whole touchpoint).
    #[default]
    Replace,
    /// The delivery's keys are set and the others kept: a connector's
    /// webhook may know less than its pull (a Zoom join has no minutes yet),
    /// and a late one must not erase what the pull found.
    Merge,
}

impl PropertiesUpdate {
    fn apply(
        self,
        old: Option<&serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> Option<serde_json::Value> {
        match (self, old, new) {
            (PropertiesUpdate::Merge, Some(serde_json::Value::Object(old)), new) => {
                let mut merged = old.clone();
                if let Some(serde_json::Value::Object(new)) = new {
                    merged.extend(new);
                }
                Some(serde_json::Value::Object(merged))
            }
            (_, _, new) => new,
        }
    }
}

/// A touchpoint as a caller, a connector or a webhook describes it, before
/// any check.
#[derive(Debug, Clone)]
pub struct RawTouchpoint {
    /// The system it comes from, 1 to 64 characters.
    pub source: String,
    /// Unique within `source`, 1 to 255 characters: recording it again
    /// updates or leaves it.
    pub external_id: String,
    pub channel: Channel,
    /// What happened, 1 to 128 characters, such as `webinar.attended`.
    pub kind: String,
    /// At most 5 minutes in the future.
    pub occurred_at: DateTime<Utc>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    pub owner_team: Option<OwnerTeam>,
    pub actor: Option<String>,
    pub emotion: Option<Emotion>,
    /// From -1 to 1.
    pub sentiment: Option<f64>,
    /// A rating it carries; of an `nps.responded` touchpoint, 0 to 10.
    pub score: Option<f64>,
    /// A JSON object of at most 64 KiB.
    pub properties: Option<serde_json::Value>,
    /// The asset it shared or viewed.
    pub asset: Option<Asset>,
    /// The account; else found from the hint, the person's email domain or
    /// primary account.
    pub account: Option<Uuid>,
    /// The person; else found or created from `person`.
    pub stakeholder: Option<Uuid>,
    pub person: Option<NewPerson>,
    pub account_hint: Option<AccountHint>,
    pub properties_update: PropertiesUpdate,
}

impl RawTouchpoint {
    /// A touchpoint with its identifying fields and nothing else.
    pub fn new(
        source: &str,
        external_id: &str,
        channel: Channel,
        kind: &str,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            source: source.to_owned(),
            external_id: external_id.to_owned(),
            channel,
            kind: kind.to_owned(),
            occurred_at,
            title: None,
            body: None,
            url: None,
            owner_team: None,
            actor: None,
            emotion: None,
            sentiment: None,
            score: None,
            properties: None,
            asset: None,
            account: None,
            stakeholder: None,
            person: None,
            account_hint: None,
            properties_update: PropertiesUpdate::Replace,
        }
    }
}

/// Content a touchpoint shared or viewed: a whitepaper, a deck, a demo video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Names the asset across touchpoints and renames, 1 to 200 characters,
    /// such as `whitepaper-roi-2026`.
    pub key: String,
    /// At most 1,000 characters.
    pub title: Option<String>,
    /// At most 2,048 characters.
    pub url: Option<String>,
}

impl Asset {
    fn check(self) -> CoreResult<Self> {
        let key = self.key.trim().to_owned();
        if key.is_empty() || key.chars().count() > 200 {
            return Err(CoreError::invalid_field(
                "asset.key",
                "`asset.key` must be 1 to 200 characters",
            ));
        }
        Ok(Self {
            key,
            title: bounded("asset.title", self.title, 1_000)?,
            url: bounded("asset.url", self.url, 2_048)?,
        })
    }
}

/// A touchpoint that passed every check: bounded text, a time not in the
/// future, a sentiment in -1..1, an NPS score that is a whole 0-10, a
/// properties object, a person with at least one valid identity. Only
/// `check` makes one, so ingestion never sees an unchecked touchpoint.
#[derive(Debug, Clone)]
pub struct NewTouchpoint {
    source: String,
    /// The connector that pulled or was sent it; its external ids are its own.
    connector: Option<Uuid>,
    external_id: String,
    channel: Channel,
    kind: String,
    occurred_at: DateTime<Utc>,
    title: Option<String>,
    body: Option<String>,
    url: Option<String>,
    owner_team: Option<OwnerTeam>,
    actor: Option<String>,
    emotion: Option<Emotion>,
    sentiment: Option<f64>,
    score: Option<f64>,
    properties: Option<serde_json::Value>,
    asset: Option<Asset>,
    account: Option<Uuid>,
    stakeholder: Option<Uuid>,
    person: Option<(Vec<(IdentityKind, String)>, NewPerson)>,
    account_hint: Option<AccountHint>,
    properties_update: PropertiesUpdate,
}

fn bounded(field: &'static str, value: Option<String>, max: usize) -> CoreResult<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(CoreError::invalid_field(
            field,
            format!("`{field}` must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

impl NewTouchpoint {
    /// Checks `raw` as of `now` (which bounds `occurredAt`).
    pub fn check(raw: RawTouchpoint, now: DateTime<Utc>) -> CoreResult<Self> {
        let source = raw.source.trim().to_owned();
        if source.is_empty() || source.len() > 64 {
            return Err(CoreError::invalid_field(
                "source",
                "`source` must be 1 to 64 characters",
            ));
        }
        let external_id = raw.external_id.trim().to_owned();
        if external_id.is_empty() || external_id.len() > 255 {
            return Err(CoreError::invalid_field(
                "externalId",
                "`externalId` must be 1 to 255 characters",
            ));
        }
        let kind = raw.kind.trim().to_owned();
        if kind.is_empty() || kind.len() > 128 {
            return Err(CoreError::invalid_field(
                "kind",
                "`kind` must be 1 to 128 characters",
            ));
        }
        if raw.occurred_at > now + chrono::Duration::seconds(FUTURE_SKEW_SECS) {
            return Err(CoreError::invalid_field(
                "occurredAt",
                "`occurredAt` is in the future",
            ));
        }
        if let Some(s) = raw.sentiment.filter(|s| !(-1.0..=1.0).contains(s)) {
            return Err(CoreError::invalid_field(
                "sentiment",
                format!("`sentiment` {s} is outside -1..1"),
            ));
        }
        if let Some(s) = raw.score.filter(|s| !s.is_finite()) {
            return Err(CoreError::invalid_field(
                "score",
                format!("`score` {s} is not a number"),
            ));
        }
        // An NPS answer is a whole number from 0 to 10: anything else would skew
        // every NPS figure it is counted in.
        if kind == NPS_KIND
            && let Some(s) = raw
                .score
                .filter(|s| !(0.0..=10.0).contains(s) || s.fract() != 0.0)
        {
            return Err(CoreError::invalid_field(
                "score",
                format!(
                    "`score` {s} of an `{kind}` touchpoint must be a whole number from 0 to 10"
                ),
            ));
        }
        if let Some(p) = &raw.properties {
            if !p.is_object() {
                return Err(CoreError::invalid_field(
                    "properties",
                    "`properties` must be a JSON object",
                ));
            }
            if p.to_string().len() > 64 * 1024 {
                return Err(CoreError::invalid_field(
                    "properties",
                    "`properties` must be at most 64 KiB",
                ));
            }
        }
        let person = match raw.person {
            Some(person) => {
                let identities = person.identities()?;
                if identities.is_empty() && raw.stakeholder.is_none() {
                    return Err(CoreError::invalid_field(
                        "person",
                        "`person` needs at least one identity",
                    ));
                }
                Some((identities, person))
            }
            None => None,
        };
        Ok(Self {
            source,
            connector: None,
            external_id,
            channel: raw.channel,
            kind,
            occurred_at: time::to_micros(raw.occurred_at),
            title: bounded("title", raw.title, 1_000)?,
            body: bounded("body", raw.body, 64 * 1024)?,
            url: bounded("url", raw.url, 2_048)?,
            owner_team: raw.owner_team,
            actor: bounded("actor", raw.actor, 200)?,
            emotion: raw.emotion,
            sentiment: raw.sentiment,
            score: raw.score,
            properties: raw.properties,
            asset: raw.asset.map(Asset::check).transpose()?,
            account: raw.account,
            stakeholder: raw.stakeholder,
            person,
            account_hint: raw.account_hint,
            properties_update: raw.properties_update,
        })
    }

    /// The same touchpoint as connector `id` delivered it: unique among that
    /// connector's, apart from any other connector of its kind.
    pub(crate) fn of_connector(self, id: Uuid) -> Self {
        Self {
            connector: Some(id),
            ..self
        }
    }

    /// The person's normalised identities, strongest first.
    pub fn identities(&self) -> &[(IdentityKind, String)] {
        self.person.as_ref().map_or(&[], |(ids, _)| ids)
    }
}

/// What recording one touchpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Recorded for the first time.
    Created,
    /// Already recorded under the same `(source, externalId)` (of a
    /// connector's, the same connector and `externalId`); its content changed.
    Updated,
    /// Already recorded with the same content.
    Unchanged,
    /// Refused; the other items are still recorded.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawTouchpoint {
        RawTouchpoint::new("api", "t-1", Channel::Email, "email.opened", Utc::now())
    }

    fn refused_field(raw: RawTouchpoint) -> Option<&'static str> {
        match NewTouchpoint::check(raw, Utc::now()) {
            Err(CoreError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn an_asset_needs_a_key_and_bounded_text() {
        let with = |key: &str, title: Option<String>| RawTouchpoint {
            asset: Some(Asset {
                key: key.into(),
                title,
                url: None,
            }),
            ..raw()
        };
        let checked = NewTouchpoint::check(with("  roi-guide ", None), Utc::now()).unwrap();
        assert_eq!(checked.asset.map(|a| a.key).as_deref(), Some("roi-guide"));
        assert_eq!(refused_field(with(" ", None)), Some("asset.key"));
        assert_eq!(
            refused_field(with(&"k".repeat(201), None)),
            Some("asset.key")
        );
        let long = Some("t".repeat(1_001));
        assert_eq!(refused_field(with("roi-guide", long)), Some("asset.title"));
    }

    #[test]
    fn an_nps_answer_is_a_whole_number_from_0_to_10() {
        let nps = |score| RawTouchpoint {
            kind: NPS_KIND.into(),
            score: Some(score),
            ..raw()
        };
        assert!(NewTouchpoint::check(nps(10.0), Utc::now()).is_ok());
        assert_eq!(refused_field(nps(7.5)), Some("score"));
        assert_eq!(refused_field(nps(11.0)), Some("score"));
        // Other kinds may carry any finite score (a CSAT of 4.5, say).
        let csat = RawTouchpoint {
            score: Some(4.5),
            ..raw()
        };
        assert!(NewTouchpoint::check(csat, Utc::now()).is_ok());
    }

    #[test]
    fn a_touchpoint_from_the_future_is_refused() {
        let late = RawTouchpoint {
            occurred_at: Utc::now() + chrono::Duration::minutes(10),
            ..raw()
        };
        assert_eq!(refused_field(late), Some("occurredAt"));
        let skewed = RawTouchpoint {
            occurred_at: Utc::now() + chrono::Duration::minutes(4),
            ..raw()
        };
        assert!(NewTouchpoint::check(skewed, Utc::now()).is_ok());
    }

    #[test]
    fn a_person_needs_an_identity_and_identities_are_normalised() {
        let nobody = RawTouchpoint {
            person: Some(NewPerson {
                name: Some("Ada".into()),
                ..NewPerson::default()
            }),
            ..raw()
        };
        assert_eq!(refused_field(nobody), Some("person"));
        let ada = RawTouchpoint {
            person: Some(NewPerson {
                email: Some(" Ada@Example.com".into()),
                twitter_handle: Some("@ada".into()),
                ..NewPerson::default()
            }),
            ..raw()
        };
        let checked = NewTouchpoint::check(ada, Utc::now()).unwrap();
        assert_eq!(
            checked.identities(),
            [
                (IdentityKind::Email, "ada@example.com".to_owned()),
                (IdentityKind::TwitterHandle, "ada".to_owned())
            ]
        );
    }

    #[test]
    fn a_webhook_merges_properties_where_the_api_replaces_them() {
        let old = serde_json::json!({"minutes": 42, "role": "attendee"});
        let new = Some(serde_json::json!({"role": "panelist"}));
        assert_eq!(
            PropertiesUpdate::Merge.apply(Some(&old), new.clone()),
            Some(serde_json::json!({"minutes": 42, "role": "panelist"}))
        );
        assert_eq!(
            PropertiesUpdate::Replace.apply(Some(&old), new.clone()),
            new
        );
    }
}
