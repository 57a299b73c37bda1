//! Workspaces: the tenants every other record belongs to.

use entity::vocab::JourneyTemplate;
use entity::workspace::{self, ErasureKey};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::journeys::models;
use crate::people::dmu;
use crate::{CoreError, CoreResult, db, scoring, time};

/// Checks a workspace slug: 1 to 64 of a-z, 0-9 and `-`, not at either end.
pub fn check_slug(slug: &str) -> CoreResult<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid_field(
            "slug",
            format!("`{slug}` is not a slug: use 1 to 64 of a-z, 0-9 and -"),
        ))
    }
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> CoreResult<Option<workspace::Model>> {
    Ok(workspace::Entity::find()
        .filter(workspace::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<workspace::Model> {
    workspace::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::not_found("workspace"))
}

/// A new erasure key: 32 bytes from the thread's CSPRNG (seeded by the OS).
pub(crate) fn new_erasure_key() -> ErasureKey {
    let mut key = vec![0; 32];
    rand::rng().fill_bytes(&mut key);
    ErasureKey(key)
}

/// Creates a workspace, with its erasure key and the default FIVE_STAGE
/// journey model, in one transaction.
pub async fn create(
    db: &sea_orm::DatabaseConnection,
    slug: &str,
    name: &str,
) -> CoreResult<workspace::Model> {
    check_slug(slug)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CoreError::invalid_field(
            "name",
            "the workspace name must be 1 to 200 characters",
        ));
    }
    let txn = db::begin_write(db).await?;
    if find_by_slug(&txn, slug).await?.is_some() {
        return Err(CoreError::conflict(format!(
            "a workspace `{slug}` already exists"
        )));
    }
    let ws = workspace::ActiveModel {
        id: Set(entity::new_id()),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(time::now()),
        mql_threshold: Set(scoring::DEFAULT_MQL_THRESHOLD),
        scores_version: Set(scoring::SCORES_VERSION),
        erasure_key: Set(Some(new_erasure_key())),
        event_sequence: Set(0),
    }
    .insert(&txn)
    .await?;
    models::create_from_template(&txn, ws.id, JourneyTemplate::FiveStage, true).await?;
    dmu::insert_needed(&txn, ws.id, &dmu::DEFAULT_NEEDED).await?;
    txn.commit().await?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::check_slug;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        for ok in ["demo", "acme-2", "a"] {
            assert!(check_slug(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-demo", "demo-", "Demo", "de mo", &"a".repeat(65)] {
            assert!(check_slug(bad).is_err(), "{bad:?}");
        }
    }
}
