//! The decision-making unit of an account: the roles the workspace's deals
//! need, who at the account holds each role (the role on their membership),
//! and which of them has been in touch lately. Read from memberships and, per
//! role holder, their newest touchpoint on the account through the
//! stakeholder's time index: never the account's whole history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::DmuRole;
use entity::{membership, needed_dmu_role, stakeholder, touchpoint};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::analytics::Window;
use crate::{CoreResult, batch};

/// The roles a deal needs unless the workspace says otherwise.
pub const DEFAULT_NEEDED: [DmuRole; 5] = [
    DmuRole::DecisionMaker,
    DmuRole::Buyer,
    DmuRole::Influencer,
    DmuRole::User,
    DmuRole::Champion,
];

/// How far back a unit looks for engagement unless told otherwise.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

/// The window a unit looks at unless told otherwise: the 90 days up to `now`.
pub fn default_window(now: DateTime<Utc>) -> CoreResult<Window> {
    Window::new(now - chrono::Duration::days(DEFAULT_WINDOW_DAYS), now)
}

/// Roles in their declared order (decision maker first), each once.
fn in_order(roles: impl IntoIterator<Item = DmuRole>) -> Vec<DmuRole> {
    let roles: Vec<DmuRole> = roles.into_iter().collect();
    DmuRole::iter().filter(|r| roles.contains(r)).collect()
}

/// The roles the workspace's deals need, in the declared order.
pub async fn needed_roles(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<DmuRole>> {
    let rows: Vec<DmuRole> = needed_dmu_role::Entity::find()
        .select_only()
        .column(needed_dmu_role::Column::Role)
        .filter(needed_dmu_role::Column::WorkspaceId.eq(ws))
        .into_tuple()
        .all(db)
        .await?;
    Ok(in_order(rows))
}

/// Replaces the roles the workspace's deals need (none is allowed: then no
/// role is ever missing); returns them in the declared order.
pub async fn set_needed_roles(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    roles: &[DmuRole],
) -> CoreResult<Vec<DmuRole>> {
    needed_dmu_role::Entity::delete_many()
        .filter(needed_dmu_role::Column::WorkspaceId.eq(ws))
        .exec(txn)
        .await?;
    let roles = in_order(roles.iter().copied());
    insert_needed(txn, ws, &roles).await?;
    Ok(roles)
}

/// Stores `roles` as needed by the workspace (none already stored).
pub(crate) async fn insert_needed(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    roles: &[DmuRole],
) -> CoreResult<()> {
    if roles.is_empty() {
        return Ok(());
    }
    needed_dmu_role::Entity::insert_many(roles.iter().map(|&role| needed_dmu_role::ActiveModel {
        workspace_id: Set(ws),
        role: Set(role),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Someone who holds a role at the account.
#[derive(Debug, Clone)]
pub struct Member {
    pub stakeholder: stakeholder::Model,
    pub role: DmuRole,
    /// Their newest touchpoint on this account before the window's end.
    pub last_touch_at: Option<DateTime<Utc>>,
    /// Whether they had a touchpoint on this account within the window.
    pub engaged: bool,
}

/// One role of the unit: who holds it and whether the deal needs it.
#[derive(Debug)]
pub struct RoleCoverage<'a> {
    pub role: DmuRole,
    pub needed: bool,
    pub members: Vec<&'a Member>,
}

impl RoleCoverage<'_> {
    /// Someone in the role was in touch within the window.
    pub fn engaged(&self) -> bool {
        self.members.iter().any(|m| m.engaged)
    }
}

/// An account's decision-making unit over a window.
#[derive(Debug, Clone)]
pub struct Unit {
    pub window: Window,
    /// The roles the workspace's deals need, in the declared order.
    pub needed: Vec<DmuRole>,
    /// The role holders, in the order they joined the account.
    pub members: Vec<Member>,
}

impl Unit {
    /// Each role that is needed or held, in the declared order.
    pub fn roles(&self) -> Vec<RoleCoverage<'_>> {
        DmuRole::iter()
            .map(|role| RoleCoverage {
                role,
                needed: self.needed.contains(&role),
                members: self.members.iter().filter(|m| m.role == role).collect(),
            })
            .filter(|c| c.needed || !c.members.is_empty())
            .collect()
    }

    /// Needed roles that nobody at the account holds.
    pub fn missing(&self) -> Vec<DmuRole> {
        self.roles()
            .into_iter()
            .filter(|c| c.needed && c.members.is_empty())
            .map(|c| c.role)
            .collect()
    }

    /// Needed roles that are held, but by nobody in touch within the window.
    pub fn cold(&self) -> Vec<DmuRole> {
        self.roles()
            .into_iter()
            .filter(|c| c.needed && !c.members.is_empty() && !c.engaged())
            .map(|c| c.role)
            .collect()
    }
}

/// The decision-making units of `accounts` over `window`, every account
/// asked for included: three statements whatever the number of accounts.
pub async fn units(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
    window: Window,
) -> CoreResult<HashMap<Uuid, Unit>> {
    let needed = needed_roles(db, ws).await?;
    let mut out: HashMap<Uuid, Unit> = accounts
        .iter()
        .map(|&a| {
            let unit = Unit {
                window,
                needed: needed.clone(),
                members: Vec::new(),
            };
            (a, unit)
        })
        .collect();
    if accounts.is_empty() {
        return Ok(out);
    }
    // The holder's newest touchpoint on the account before the window's end:
    // a backward walk of the stakeholder's time index that stops at the
    // first one on this account.
    let tp = Alias::new("t");
    let last_touch = Query::select()
        .expr(Expr::col((tp.clone(), touchpoint::Column::OccurredAt)))
        .from_as(touchpoint::Entity, tp.clone())
        .and_where(Expr::col((tp.clone(), touchpoint::Column::WorkspaceId)).eq(ws))
        .and_where(
            Expr::col((tp.clone(), touchpoint::Column::StakeholderId))
                .equals((membership::Entity, membership::Column::StakeholderId)),
        )
        .and_where(
            Expr::col((tp.clone(), touchpoint::Column::AccountId))
                .equals((membership::Entity, membership::Column::AccountId)),
        )
        .and_where(Expr::col((tp.clone(), touchpoint::Column::OccurredAt)).lt(window.to()))
        .order_by((tp.clone(), touchpoint::Column::OccurredAt), Order::Desc)
        .limit(1)
        .to_owned();
    let holders: Vec<(Uuid, Uuid, DmuRole, Option<DateTime<Utc>>)> = membership::Entity::find()
        .select_only()
        .columns([
            membership::Column::AccountId,
            membership::Column::StakeholderId,
            membership::Column::Role,
        ])
        .expr_as(
            Expr::SubQuery(None, Box::new(last_touch.into())),
            "last_touch_at",
        )
        .filter(membership::Column::WorkspaceId.eq(ws))
        .filter(membership::Column::AccountId.is_in(accounts.iter().copied()))
        .filter(membership::Column::Role.is_not_null())
        .order_by_asc(membership::Column::CreatedAt)
        .order_by_asc(membership::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<Uuid> = holders.iter().map(|h| h.1).collect();
    let people: HashMap<Uuid, stakeholder::Model> = batch::stakeholders(db, ws, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    for (account, person, role, last_touch_at) in holders {
        let (Some(unit), Some(stakeholder)) = (out.get_mut(&account), people.get(&person)) else {
            continue;
        };
        unit.members.push(Member {
            stakeholder: stakeholder.clone(),
            role,
            last_touch_at,
            engaged: last_touch_at.is_some_and(|t| t >= window.from()),
        });
    }
    Ok(out)
}
