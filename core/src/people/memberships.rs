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
use crate::{CoreResult, scoring, time};

/// A membership after [`upsert`], and what the change means for scores.
pub struct Upserted {
    pub membership: membership::Model,
    /// The accounts whose members or primary flags changed: this one when
    /// the person joined or its flag changed, and those it took primary from.
    pub changed: Vec<Uuid>,
    /// Whether the person's account-less touchpoints moved to this account.
    pub adopted: bool,
}

/// Adds `stakeholder` to `account`, or updates the role of an existing membership.
/// The first membership of a person is their primary one. Stored scores are
/// the caller's: [`add`] updates them, ingestion rescores at the batch's end.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
    role: Option<entity::vocab::DmuRole>,
    primary: Option<bool>,
) -> CoreResult<Upserted> {
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
    let mut changed = Vec::new();
    // One primary account per person: the others are demoted when this one
    // becomes primary (when it already was, they already are not).
    if primary && existing.as_ref().is_none_or(|m| !m.primary) {
        let demoted = membership::Entity::update_many()
            .col_expr(
                membership::Column::Primary,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(membership::Column::StakeholderId.eq(stakeholder))
            .filter(membership::Column::AccountId.ne(account))
            .filter(membership::Column::Primary.eq(true))
            .exec_with_returning(txn)
            .await?;
        changed.extend(demoted.into_iter().map(|m| m.account_id));
    }
    if existing.as_ref().is_none_or(|m| m.primary != primary) {
        changed.push(account);
    }
    let mut adopted = false;
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
                adopted = adopt_anonymous_touchpoints(txn, workspace, account, stakeholder).await?;
            }
            model
        }
    };
    Ok(Upserted {
        membership: model,
        changed,
        adopted,
    })
}

/// A visitor who joins their first account brings their account-less
/// touchpoints along: the account's journey then starts where theirs did.
/// Returns whether any moved.
async fn adopt_anonymous_touchpoints(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    account: Uuid,
    stakeholder: Uuid,
) -> CoreResult<bool> {
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
        return Ok(false);
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
    progression::replay_all(txn, &rules, &[progression::Replay::since(account, since)]).await?;
    Ok(true)
}

/// The two sides of a membership and the membership itself, after a change.
pub struct Joined {
    pub account: entity::account::Model,
    pub stakeholder: entity::stakeholder::Model,
    pub membership: membership::Model,
}

/// Adds a stakeholder to an account of the workspace (both must exist), or
/// changes the role or primary flag of an existing membership; the stored
/// scores of the accounts it changes follow, and qualify.
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
    let upserted = upsert(txn, workspace, account.id, stakeholder.id, role, primary).await?;
    let moved = upserted.adopted.then_some(stakeholder.id);
    let mut account = account;
    if !upserted.changed.is_empty() {
        scoring::memberships_changed(txn, workspace, moved, &upserted.changed).await?;
        // Its stored score and lifecycle as they now are.
        account = accounts::find(txn, workspace, account.id).await?;
    }
    let membership = upserted.membership;
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

/// Removes a stakeholder from an account of the workspace; their touchpoints
/// stay. The account's stored score follows, and may qualify it (a member's
/// negative points no longer count).
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
    let removed = result.rows_affected > 0;
    let mut account = account;
    if removed {
        scoring::memberships_changed(txn, workspace, None, &[account.id]).await?;
        account = accounts::find(txn, workspace, account.id).await?;
    }
    Ok(Left {
        account,
        stakeholder,
        removed,
    })
}

/// People whose memberships [`assign_roles`] sets per statement.
const ROLES_PER_STATEMENT: usize = 500;

/// Gives every membership of each person the role they hold in their
/// accounts' decision-making units, a statement per 500 people: how a bulk
/// import tags the DMU. Scores and qualification do not depend on roles.
pub async fn assign_roles(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    roles: &[(Uuid, entity::vocab::DmuRole)],
) -> CoreResult<()> {
    use sea_orm::sea_query::{CaseStatement, Expr};
    for chunk in roles.chunks(ROLES_PER_STATEMENT) {
        let mut role = CaseStatement::new();
        for (person, r) in chunk {
            role = role.case(
                membership::Column::StakeholderId.eq(*person),
                Expr::value(*r),
            );
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::Role, role.into())
            .filter(membership::Column::WorkspaceId.eq(workspace))
            .filter(membership::Column::StakeholderId.is_in(chunk.iter().map(|(p, _)| *p)))
            .exec(txn)
            .await?;
    }
    Ok(())
}
