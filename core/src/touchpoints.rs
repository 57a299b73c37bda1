//! Reading touchpoints: filtered, keyset-paged lists. Writing them is
//! `ingestion`'s.

use chrono::{DateTime, Utc};
use entity::touchpoint;
use entity::vocab::{Channel, Emotion, OwnerTeam};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::journeys::progression::during_stage;
use crate::page::{Keyset, Page, Position, SortKey};
use crate::{CoreError, CoreResult, time};

/// Latest `occurredAt` first, ties by id.
pub const NEWEST_FIRST: Keyset<touchpoint::Column> = Keyset {
    key: Some(touchpoint::Column::OccurredAt),
    id: touchpoint::Column::Id,
    descending: true,
};

/// Earliest `occurredAt` first, ties by id.
pub const OLDEST_FIRST: Keyset<touchpoint::Column> = Keyset {
    key: Some(touchpoint::Column::OccurredAt),
    id: touchpoint::Column::Id,
    descending: false,
};

/// Where a touchpoint stands in either ordering by time.
pub fn position(t: &touchpoint::Model) -> Position {
    Position {
        key: SortKey::Time(t.occurred_at),
        id: t.id,
    }
}

/// Which touchpoints to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct TouchpointFilter {
    pub account: Option<Uuid>,
    pub stakeholder: Option<Uuid>,
    /// A connector kind or `api`.
    pub source: Option<String>,
    /// One connector's touchpoints.
    pub connector: Option<Uuid>,
    pub channels: Option<Vec<Channel>>,
    /// At most 100 kinds, matched exactly.
    pub kinds: Option<Vec<String>>,
    /// At or after this time.
    pub occurred_after: Option<DateTime<Utc>>,
    /// Strictly before this time.
    pub occurred_before: Option<DateTime<Utc>>,
    /// Touchpoints that happened while their account was in this stage.
    pub stage: Option<Uuid>,
    /// Touchpoints whose score is at most this.
    pub max_score: Option<f64>,
    /// Touchpoints expressing any of these emotions.
    pub emotions: Option<Vec<Emotion>>,
    /// Touchpoints owned by any of these teams.
    pub owner_teams: Option<Vec<OwnerTeam>>,
    /// Touchpoints by this employee, matched exactly.
    pub actor: Option<String>,
    /// Touchpoints that shared or viewed this asset, by key.
    pub asset_key: Option<String>,
}

fn filter_condition(workspace: Uuid, filter: &TouchpointFilter) -> CoreResult<Condition> {
    let mut cond = Condition::all().add(touchpoint::Column::WorkspaceId.eq(workspace));
    if let Some(account) = filter.account {
        cond = cond.add(touchpoint::Column::AccountId.eq(account));
    }
    if let Some(stakeholder) = filter.stakeholder {
        cond = cond.add(touchpoint::Column::StakeholderId.eq(stakeholder));
    }
    if let Some(source) = &filter.source {
        cond = cond.add(touchpoint::Column::Source.eq(source.trim()));
    }
    if let Some(connector) = filter.connector {
        cond = cond.add(touchpoint::Column::ConnectorId.eq(connector));
    }
    if let Some(channels) = &filter.channels {
        cond = cond.add(touchpoint::Column::Channel.is_in(channels.clone()));
    }
    if let Some(kinds) = &filter.kinds {
        if kinds.len() > 100 {
            return Err(CoreError::invalid_field("kinds", "at most 100 `kinds`"));
        }
        cond = cond.add(touchpoint::Column::Kind.is_in(kinds.iter().map(|k| k.trim().to_owned())));
    }
    if let Some(after) = filter.occurred_after {
        cond = cond.add(touchpoint::Column::OccurredAt.gte(time::to_micros(after)));
    }
    if let Some(before) = filter.occurred_before {
        cond = cond.add(touchpoint::Column::OccurredAt.lt(time::to_micros(before)));
    }
    if let Some(stage) = filter.stage {
        cond = cond.add(during_stage(stage));
    }
    if let Some(max) = filter.max_score {
        cond = cond.add(touchpoint::Column::Score.lte(max));
    }
    if let Some(emotions) = &filter.emotions {
        cond = cond.add(touchpoint::Column::Emotion.is_in(emotions.clone()));
    }
    if let Some(teams) = &filter.owner_teams {
        cond = cond.add(touchpoint::Column::OwnerTeam.is_in(teams.clone()));
    }
    if let Some(actor) = &filter.actor {
        cond = cond.add(touchpoint::Column::Actor.eq(actor.trim()));
    }
    if let Some(key) = &filter.asset_key {
        cond = cond.add(touchpoint::Column::AssetKey.eq(key.trim()));
    }
    Ok(cond)
}

/// A page of the workspace's touchpoints in `order` (one row more than the
/// page, to tell whether more follow; see `page::finish`).
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &TouchpointFilter,
    order: Keyset<touchpoint::Column>,
    page: &Page,
) -> CoreResult<Vec<touchpoint::Model>> {
    let base = touchpoint::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(order.fetch(db, base, page).await?)
}

/// How many touchpoints `filter` lets through.
pub async fn count(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &TouchpointFilter,
) -> CoreResult<u64> {
    let base = touchpoint::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(base.count(db).await?)
}
