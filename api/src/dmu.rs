//! The GraphQL face of decision-making units: the roles a workspace's deals
//! need and each account's coverage of them (`Account.dmu`). The unit itself
//! is `journeys_core::people::dmu`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use journeys_core::analytics::Window;
use journeys_core::db;
use journeys_core::people::dmu;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::loaders::DmuOf;
use crate::stakeholders::Stakeholder;
use crate::vocab::DmuRole;

/// The window `Account.dmu` was asked for: `None` for the default (the 90
/// days up to now, settled when the page's units load, so every account of
/// the page shares it); otherwise up to `to` (now) and 90 days back.
fn window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> ApiResult<Option<Window>> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let to = to.unwrap_or_else(journeys_core::time::now);
    let from = from.unwrap_or(to - Duration::days(dmu::DEFAULT_WINDOW_DAYS));
    Ok(Some(Window::new(from, to)?))
}

/// An account's decision-making unit over `[from, to)`.
pub async fn load(
    ctx: &Context<'_>,
    account: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> ApiResult<AccountDmu> {
    let window = window(from, to)?;
    let unit = request(ctx)
        .loader
        .load_one(DmuOf { account, window })
        .await
        .map_err(load_error)?;
    let empty = || -> ApiResult<dmu::Unit> {
        let window = match window {
            Some(window) => window,
            None => dmu::default_window(journeys_core::time::now())?,
        };
        Ok(dmu::Unit {
            window,
            needed: Vec::new(),
            members: Vec::new(),
        })
    };
    Ok(AccountDmu(match unit {
        Some(unit) => unit,
        None => empty()?,
    }))
}

/// An account's decision-making unit: who holds each role the workspace's
/// deals need (the role on their membership), and whether they were in touch
/// within the window: a touchpoint of theirs on this account in it.
pub struct AccountDmu(dmu::Unit);

impl AccountDmu {
    /// The unit as already read.
    pub fn of(unit: dmu::Unit) -> Self {
        Self(unit)
    }
}

#[Object]
impl AccountDmu {
    /// The window's start, inclusive.
    async fn from(&self) -> DateTime<Utc> {
        self.0.window.from()
    }
    /// The window's end, exclusive.
    async fn to(&self) -> DateTime<Utc> {
        self.0.window.to()
    }
    /// Each role that the workspace's deals need or that someone here holds,
    /// decision maker first, with its holders in the order they joined.
    async fn roles(&self) -> Vec<DmuRoleCoverage> {
        self.0
            .roles()
            .into_iter()
            .map(|c| DmuRoleCoverage {
                role: c.role.into(),
                needed: c.needed,
                engaged: c.engaged(),
                members: c.members.into_iter().cloned().map(DmuMember).collect(),
            })
            .collect()
    }
    /// Needed roles that nobody at the account holds.
    async fn missing_roles(&self) -> Vec<DmuRole> {
        self.0.missing().into_iter().map(Into::into).collect()
    }
    /// Needed roles whose holders were none of them in touch within the window.
    async fn cold_roles(&self) -> Vec<DmuRole> {
        self.0.cold().into_iter().map(Into::into).collect()
    }
}

/// One role of an account's decision-making unit.
#[derive(SimpleObject)]
pub struct DmuRoleCoverage {
    /// The role.
    role: DmuRole,
    /// Whether the workspace's deals need it (`neededDmuRoles`).
    needed: bool,
    /// Whether any holder was in touch within the window.
    engaged: bool,
    /// The people who hold it here, in the order they joined the account.
    members: Vec<DmuMember>,
}

/// Someone who holds a role in an account's decision-making unit.
pub struct DmuMember(dmu::Member);

#[Object]
impl DmuMember {
    /// The person.
    async fn stakeholder(&self) -> Stakeholder {
        Stakeholder(self.0.stakeholder.clone())
    }
    /// Whether they had a touchpoint on this account within the window.
    async fn engaged(&self) -> bool {
        self.0.engaged
    }
    /// Their newest touchpoint on this account before the window's end;
    /// null when there is none.
    async fn last_touch_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_touch_at
    }
    /// Their score today, as `Stakeholder.score`.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<f64> {
        crate::scoring::stakeholder_score(ctx, self.0.stakeholder.id).await
    }
}

#[derive(Default)]
pub struct DmuQuery;

#[Object]
impl DmuQuery {
    /// The decision-making-unit roles the workspace's deals need, decision
    /// maker first; `Account.dmu` reports the missing and cold ones.
    async fn needed_dmu_roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<DmuRole>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let roles = dmu::needed_roles(&rc.db, ws).await?;
        Ok(roles.into_iter().map(Into::into).collect())
    }
}

/// The roles the workspace's deals need.
#[derive(InputObject)]
pub struct SetNeededDmuRolesInput {
    /// Every role needed, in any order; repeats count once. An empty list
    /// needs none, so no account misses a role.
    pub roles: Vec<DmuRole>,
}

/// The result of `setNeededDmuRoles`.
#[derive(SimpleObject)]
pub struct NeededDmuRolesPayload {
    /// The roles now needed, decision maker first.
    pub roles: Vec<DmuRole>,
}

#[derive(Default)]
pub struct DmuMutation;

#[Object]
impl DmuMutation {
    /// Sets which decision-making-unit roles the workspace's deals need
    /// (new workspaces need DECISION_MAKER, INFLUENCER, BUYER, USER and
    /// CHAMPION). Needs `admin`.
    async fn set_needed_dmu_roles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The roles needed.")] input: SetNeededDmuRolesInput,
    ) -> ApiResult<NeededDmuRolesPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let roles: Vec<entity::vocab::DmuRole> = input.roles.into_iter().map(Into::into).collect();
        let txn = db::begin_write(&rc.db).await?;
        let roles = dmu::set_needed_roles(&txn, ws, &roles).await?;
        db::commit(txn).await?;
        Ok(NeededDmuRolesPayload {
            roles: roles.into_iter().map(Into::into).collect(),
        })
    }
}
