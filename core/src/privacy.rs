//! Consent per stakeholder and channel, and erasure (the right to be forgotten).
//!
//! Erasure removes what identifies a person: their name, email and title,
//! identities, consents, the contents of their touchpoints (and their external
//! ids, which become digests that re-deliveries still match), and their rows
//! in merge snapshots. The stakeholder and touchpoint rows stay, anonymous, so
//! funnels, scores and NPS totals do not change.

use entity::vocab::Channel;
use entity::{consent, identity, lifecycle_change, merge, stakeholder, touchpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::error::required_text;
use crate::people::stakeholders;
use crate::{CoreError, CoreResult, time};

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
    // erasure touches one person's touchpoints, and it is rare.
    let touchpoints = touchpoint::Entity::find()
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(person))
        .all(db)
        .await?;
    for old in touchpoints {
        touchpoint::ActiveModel {
            id: Set(old.id),
            external_id: Set(crate::ingestion::erased_external_id(
                ws,
                &old.source,
                &old.external_id,
            )),
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
    Ok(())
}

/// Blanks the personal fields of the person rows (those with an `email` field)
/// in a snapshot: of the one with id `person`, or of all when `None`.
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
