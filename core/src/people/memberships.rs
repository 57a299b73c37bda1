//! Memberships: which people belong to which accounts, in what role.

use chrono::{DateTime, Utc};
use entity::{membership, touchpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::journeys::progression;
use crate::people::{accounts, stakeholders};
use crate::{CoreResult, time};

/// Adds `stakeholder` to `account`, or updates the role of an existing membership.
/// The first membership of a person is their primary one.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
    role: Option<entity::vocab::DmuRole>,
    primary: Option<bool>,
) -> CoreResult<membership::Model> {
    let existing = membership::Entity::find()
        .filter(membership::Column::AccountId.eq(account))
        .filter(membership::Column::StakeholderId.eq(stakeholder))
        .one(txn)
        .await?;
    let primary = match primary {
        Some(p) => p,
        None => match &existing {
            Some(m) => m.primary,
            None => membership::Entity::find()
                .filter(membership::Column::StakeholderId.eq(stakeholder))
                .filter(membership::Column::Primary.eq(true))
                .one(txn)
                .await?
                .is_none(),
        },
    };
    // One primary account per person: the others are demoted when this one
    // becomes primary (when it already was, they already are not).
    if primary && existing.as_ref().is_none_or(|m| !m.primary) {
        membership::Entity::update_many()
            .col_expr(
                membership::Column::Primary,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(membership::Column::StakeholderId.eq(stakeholder))
            .filter(membership::Column::AccountId.ne(account))
            .exec(txn)
            .await?;
    }
    let model = match existing {
        // Nothing to change: no write.
        Some(m) if role.is_none_or(|r| m.role == Some(r)) && m.primary == primary => m,
        Some(m) => {
            let mut active: membership::ActiveModel = m.into();
            if role.is_some() {
                active.role = Set(role);
            }
            active.primary = Set(primary);
            active.update(txn).await?
        }
        None => {
            let first = membership::Entity::find()
                .filter(membership::Column::StakeholderId.eq(stakeholder))
                .one(txn)
                .await?
                .is_none();
            let model = membership::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(workspace),
                account_id: Set(account),
                stakeholder_id: Set(stakeholder),
                role: Set(role),
                primary: Set(primary),
                created_at: Set(time::now()),
            }
            .insert(txn)
            .await?;
            if first {
                adopt_anonymous_touchpoints(txn, workspace, account, stakeholder).await?;
            }
            model
        }
    };
    Ok(model)
}

/// A visitor who joins their first account brings their account-less
/// touchpoints along: the account's journey then starts where theirs did.
async fn adopt_anonymous_touchpoints(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
) -> CoreResult<()> {
    let anonymous = || {
        Condition::all()
            .add(touchpoint::Column::WorkspaceId.eq(workspace))
            .add(touchpoint::Column::StakeholderId.eq(stakeholder))
            .add(touchpoint::Column::AccountId.is_null())
    };
    let earliest: Option<DateTime<Utc>> = touchpoint::Entity::find()
        .select_only()
        .expr(touchpoint::Column::OccurredAt.min())
        .filter(anonymous())
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(txn)
        .await?
        .flatten();
    let Some(since) = earliest else {
        return Ok(());
    };
    touchpoint::Entity::update_many()
        .col_expr(
            touchpoint::Column::AccountId,
            sea_orm::sea_query::Expr::value(account),
        )
        .filter(anonymous())
        .exec(txn)
        .await?;
    let rules = progression::load_rules(txn, workspace).await?;
    progression::replay_all(txn, &rules, account, since).await?;
    Ok(())
}

/// The two sides of a membership and the membership itself, after a change.
pub struct Joined {
    pub account: entity::account::Model,
    pub stakeholder: entity::stakeholder::Model,
    pub membership: membership::Model,
}

/// Adds a stakeholder to an account of the workspace (both must exist), or
/// changes the role of an existing membership.
pub async fn add(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
    role: Option<entity::vocab::DmuRole>,
    primary: Option<bool>,
) -> CoreResult<Joined> {
    let account = accounts::find(txn, workspace, account).await?;
    let stakeholder = stakeholders::find(txn, workspace, stakeholder).await?;
    let membership = upsert(txn, workspace, account.id, stakeholder.id, role, primary).await?;
    Ok(Joined {
        account,
        stakeholder,
        membership,
    })
}

/// The two sides of a membership that was removed (or never was).
pub struct Left {
    pub account: entity::account::Model,
    pub stakeholder: entity::stakeholder::Model,
    /// Whether there was a membership to remove.
    pub removed: bool,
}

/// Removes a stakeholder from an account of the workspace; their touchpoints stay.
pub async fn remove(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
) -> CoreResult<Left> {
    let account = accounts::find(txn, workspace, account).await?;
    let stakeholder = stakeholders::find(txn, workspace, stakeholder).await?;
    let result = membership::Entity::delete_many()
        .filter(membership::Column::AccountId.eq(account.id))
        .filter(membership::Column::StakeholderId.eq(stakeholder.id))
        .exec(txn)
        .await?;
    Ok(Left {
        account,
        stakeholder,
        removed: result.rows_affected > 0,
    })
}
