//! Consent per stakeholder and channel, and erasure (the right to be forgotten).
//!
//! Erasure removes what identifies a person: their name, email and title,
//! identities, consents, the contents of their touchpoints (and their external
//! ids, which become digests that re-deliveries still match), and their rows
//! in merge snapshots. The stakeholder and touchpoint rows stay, anonymous, so
//! funnels, scores and NPS totals do not change.
//!
//! External ids can embed what they were meant to hide
//! (`attended:81:email:ada@example.com`), so their digest is an HMAC under the
//! workspace's own random key, which a database dump's reader cannot
//! recompute from a guess.

use entity::vocab::Channel;
use entity::workspace::{self, ErasureKey};
use entity::{consent, identity, lifecycle_change, merge, stakeholder, touchpoint};
use hmac::{KeyInit, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::required_text;
use crate::events::{self, NewEvent};
use crate::people::stakeholders;
use crate::{CoreError, CoreResult, time, workspaces};

/// What an erased touchpoint's external id starts with.
const ERASED: &str = "erased:";

/// What an erased person's touchpoint is known by instead of its external id:
/// a digest that a later delivery of the same touchpoint still finds, keyed
/// so that no one without the key can test a guess against it.
pub fn erased_external_id(key: &ErasureKey, ws: Uuid, source: &str, external_id: &str) -> String {
    keyed(key, &bare_digest(ws, source, external_id))
}

/// The SHA-256 of the workspace, source and external id: what erasure
/// stored, unkeyed, before workspaces had keys; still the HMAC's message, so
/// those rows can be keyed without their external id.
fn bare_digest(ws: Uuid, source: &str, external_id: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(ws.as_bytes())
        .chain_update(source.as_bytes())
        .chain_update([0])
        .chain_update(external_id.as_bytes())
        .finalize()
        .into()
}

fn keyed(key: &ErasureKey, bare: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    mac.update(bare);
    format!("{ERASED}{}", hex::encode(mac.finalize().into_bytes()))
}

/// The workspace's erasure key. A workspace older than keys gets one now,
/// and the touchpoints it erased under bare digests are keyed in the same
/// transaction, so they still match re-deliveries and no bare digest is left.
pub async fn erasure_key(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<ErasureKey> {
    if let Some(key) = workspaces::find(db, ws).await?.erasure_key {
        return Ok(key);
    }
    let key = workspaces::new_erasure_key();
    let claimed = workspace::Entity::update_many()
        .col_expr(workspace::Column::ErasureKey, Expr::value(key.clone()))
        .filter(workspace::Column::Id.eq(ws))
        .filter(workspace::Column::ErasureKey.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        // A concurrent transaction keyed the workspace (and its rows) first.
        return workspaces::find(db, ws)
            .await?
            .erasure_key
            .ok_or_else(|| CoreError::Internal("the workspace lost its erasure key".into()));
    }
    let bare = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::ExternalId.starts_with(ERASED))
        .all(db)
        .await?;
    for old in bare {
        let digest = old.external_id.strip_prefix(ERASED);
        let Some(digest) = digest
            .and_then(|d| hex::decode(d).ok())
            .filter(|d| d.len() == 32)
        else {
            continue;
        };
        touchpoint::ActiveModel {
            id: Set(old.id),
            external_id: Set(keyed(&key, &digest)),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(key)
}

/// A person's consents, newest first, narrowed to the current one per channel
/// unless the whole `history` is wanted.
pub fn current_consents(rows: Vec<consent::Model>, history: bool) -> Vec<consent::Model> {
    let mut seen = Vec::new();
    rows.into_iter()
        .filter(|c| {
            history || {
                let first = !seen.contains(&c.channel);
                seen.push(c.channel);
                first
            }
        })
        .collect()
}

/// Whether a person may be contacted on `channel`: their newest consent for
/// it, from `rows` newest first, was given and not since taken back. Never
/// for an erased person.
pub fn can_contact(person: &stakeholder::Model, rows: &[consent::Model], channel: Channel) -> bool {
    person.erased_at.is_none()
        && rows
            .iter()
            .find(|c| c.channel == channel)
            .is_some_and(|c| c.granted)
}

/// Records a consent given or taken back (the history is kept); CONFLICT for
/// an erased person. Returns the person and the consent.
pub async fn set_consent(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    person: Uuid,
    channel: Channel,
    granted: bool,
    source: &str,
) -> CoreResult<(stakeholder::Model, consent::Model)> {
    let source = required_text("source", source, 200)?;
    let found = stakeholders::find(txn, ws, person).await?;
    if found.erased_at.is_some() {
        return Err(CoreError::Conflict("this stakeholder was erased".into()));
    }
    let row = consent::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        stakeholder_id: Set(person),
        channel: Set(channel),
        granted: Set(granted),
        source: Set(source),
        recorded_at: Set(time::now()),
    }
    .insert(txn)
    .await?;
    Ok((found, row))
}

/// Removes a person's identifying data everywhere; see the module docs.
pub async fn erase(db: &impl ConnectionTrait, ws: Uuid, person: Uuid) -> CoreResult<()> {
    let found = stakeholders::find(db, ws, person).await?;
    let key = erasure_key(db, ws).await?;
    let now = time::now();
    stakeholder::ActiveModel {
        id: Set(found.id),
        name: Set(None),
        email: Set(None),
        title: Set(None),
        updated_at: Set(now),
        erased_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await?;
    identity::Entity::delete_many()
        .filter(identity::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    consent::Entity::delete_many()
        .filter(consent::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    // External ids are rewritten one by one (each to its own digest); an
    // erasure touches one person's touchpoints, and it is rare. Digests stay
    // as they are (a second erasure must not hide them from re-deliveries).
    let touchpoints = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(person))
        .filter(touchpoint::Column::ExternalId.not_like(format!("{ERASED}%")))
        .all(db)
        .await?;
    for old in touchpoints {
        touchpoint::ActiveModel {
            id: Set(old.id),
            external_id: Set(erased_external_id(&key, ws, &old.source, &old.external_id)),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    touchpoint::Entity::update_many()
        .col_expr(
            touchpoint::Column::Title,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            touchpoint::Column::Body,
            Expr::value(Option::<String>::None),
        )
        .col_expr(touchpoint::Column::Url, Expr::value(Option::<String>::None))
        .col_expr(
            touchpoint::Column::Properties,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .col_expr(touchpoint::Column::UpdatedAt, Expr::value(now))
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(person))
        .exec(db)
        .await?;
    // Sales' free-text reasons for their lifecycle changes may describe them;
    // the kind of decision stays ("disqualified by sales").
    for change in lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_change::Column::StakeholderId.eq(person))
        .all(db)
        .await?
    {
        if let Some(cause) = crate::lifecycle::reason_erased(&change.cause) {
            lifecycle_change::ActiveModel {
                id: Set(change.id),
                cause: Set(cause),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    // Merge snapshots keep copies of people's rows: scrub this person's, and
    // in merges into them, the rows of the records found to be them too.
    for entry in merge::Entity::find()
        .filter(merge::Column::WorkspaceId.eq(ws))
        .all(db)
        .await?
    {
        let mut snapshot = entry.snapshot.clone();
        let whom = if entry.survivor_id == person {
            None
        } else {
            Some(person.to_string())
        };
        if scrub(&mut snapshot, whom.as_deref()) {
            merge::ActiveModel {
                id: Set(entry.id),
                snapshot: Set(snapshot),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    events::append(db, ws, vec![NewEvent::erased(found.id)]).await
}

/// Blanks the personal fields of the person rows (those with an `email` field)
/// and the reasons of the lifecycle changes in a snapshot: of the one with id
/// `person`, or of all when `None`.
fn scrub(value: &mut Value, person: Option<&str>) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            let id = map.get("id").and_then(Value::as_str);
            if map.contains_key("email") && (person.is_none() || id == person) {
                for field in ["name", "email", "title"] {
                    map.insert(field.into(), Value::Null);
                }
                changed = true;
            }
            // A lifecycle change kept aside: its reason may name the person.
            let whose = map.get("stakeholder_id").and_then(Value::as_str);
            if person.is_none() || whose == person {
                let reason = map.get("cause").and_then(Value::as_str);
                if let Some(cause) = reason.and_then(crate::lifecycle::reason_erased) {
                    map.insert("cause".into(), Value::String(cause));
                    changed = true;
                }
            }
            for child in map.values_mut() {
                changed |= scrub(child, person);
            }
        }
        Value::Array(items) => {
            for child in items {
                changed |= scrub(child, person);
            }
        }
        _ => {}
    }
    changed
}
