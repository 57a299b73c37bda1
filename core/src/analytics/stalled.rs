//! Stalled accounts: those that have stayed in a stage of a model longer than
//! the stage's target, read from their current positions, longest overdue
//! first. A position knows when it falls due (entered plus its stage's
//! target), so a page is read through an index on that time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{stage, stage_position};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select};
use uuid::Uuid;

use super::seconds;
use crate::CoreResult;
use crate::page::{Keyset, Page};

/// Longest overdue first: those that fell due earliest.
pub const ORDER: Keyset<stage_position::Column> = Keyset {
    key: Some(stage_position::Column::DueAt),
    id: stage_position::Column::Id,
    descending: false,
};

/// The positions in a model that are past their stage's target.
#[derive(Debug, Clone)]
pub struct Stalled {
    /// The model's stages that have a target, by id.
    pub stages: HashMap<Uuid, stage::Model>,
    /// Every stalled position, unpaged: `page` fetches a page of it, and
    /// `count` counts it.
    positions: Select<stage_position::Entity>,
}

/// The positions in `model` (a model of the workspace) past their stage's
/// target at `now`.
pub async fn stalled(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    model: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<Stalled> {
    let stages: HashMap<Uuid, stage::Model> = stage::Entity::find()
        .filter(stage::Column::WorkspaceId.eq(workspace))
        .filter(stage::Column::ModelId.eq(model))
        .filter(stage::Column::TargetDurationSecs.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    // Phases and stages without a target never fall due.
    let positions = stage_position::Entity::find()
        .filter(stage_position::Column::WorkspaceId.eq(workspace))
        .filter(stage_position::Column::ModelId.eq(model))
        .filter(stage_position::Column::DueAt.lt(now));
    Ok(Stalled { stages, positions })
}

impl Stalled {
    /// The rows of one page, longest overdue first, fetched as
    /// [`Keyset::fetch`] does: one more than the page holds, in fetch order,
    /// for [`crate::page::finish`] to put right.
    pub async fn page(
        &self,
        db: &impl ConnectionTrait,
        page: &Page,
    ) -> CoreResult<Vec<stage_position::Model>> {
        Ok(ORDER.fetch(db, self.positions.clone(), page).await?)
    }

    /// How many positions are stalled.
    pub async fn count(&self, db: &impl ConnectionTrait) -> CoreResult<u64> {
        Ok(self.positions.clone().count(db).await?)
    }
}

/// How long past its stage's target a position entered at `entered_at` is at
/// `now`, in seconds.
pub fn overdue_seconds(
    entered_at: DateTime<Utc>,
    target_secs: Option<i64>,
    now: DateTime<Utc>,
) -> f64 {
    seconds(entered_at, now) - target_secs.unwrap_or_default() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn overdue_is_time_in_stage_past_the_target() {
        let entered = at("2026-03-01T10:00:00Z");
        let now = at("2026-03-01T12:30:00.5Z");
        // 2.5 h and half a second in the stage (9000.5 s), one hour allowed.
        assert_eq!(overdue_seconds(entered, Some(3600), now), 5400.5);
        assert_eq!(overdue_seconds(entered, None, now), 9000.5);
    }
}
