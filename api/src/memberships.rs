//! Memberships: which people belong to which accounts, in what role.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::membership;
use journeys_core::db;
use journeys_core::people::memberships;

use crate::accounts::Account;
use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::MEMBERSHIP_ORDER;
use crate::graphql::pagination::{Cursor, PageInfo, SortKey, TotalCount};
use crate::stakeholders::Stakeholder;
use crate::vocab::DmuRole;

/// A membership's cursor, from a membership read with its other side.
pub fn cursor<O>((m, _): &(membership::Model, O)) -> Cursor {
    Cursor::new(MEMBERSHIP_ORDER, SortKey::None, m.id)
}

/// Declares a connection over memberships seen from one side: its edges carry
/// the membership's role and primary flag, and their nodes (the other side)
/// come from the same read as the memberships.
macro_rules! membership_connection {
    ($(#[$doc:meta])* $conn:ident, $edge:ident, $node:ident, $other:ty) => {
        $(#[$doc])*
        pub struct $conn {
            pub edges: Vec<$edge>,
            pub page_info: PageInfo,
            pub total: TotalCount,
        }

        $(#[$doc])*
        #[Object]
        impl $conn {
            /// The page's memberships in list order, each with its cursor.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }
            /// The nodes of `edges`, for clients that need no cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }
            /// Whether more items lie before or after this page, and the
            /// cursors to fetch them with.
            async fn page_info(&self) -> &PageInfo {
                &self.page_info
            }
            /// The number of items in the whole list, across all pages.
            async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
                self.total.resolve(ctx).await
            }
        }

        /// One membership: the other side, with the stakeholder's role.
        #[derive(SimpleObject)]
        pub struct $edge {
            /// An opaque position in this list; pass it as `after` or `before`
            /// to page on from this membership.
            pub cursor: String,
            /// The stakeholder's role in the account's decision-making unit.
            pub role: Option<DmuRole>,
            /// Whether this is the stakeholder's main account.
            pub primary: bool,
            /// The other side of the membership.
            pub node: $node,
        }

        impl $edge {
            /// The edges of a page of memberships read with their other side.
            pub fn all(edges: Vec<(String, (membership::Model, $other))>) -> Vec<Self> {
                edges
                    .into_iter()
                    .map(|(cursor, (m, node))| Self {
                        cursor,
                        role: m.role.map(Into::into),
                        primary: m.primary,
                        node: $node(node),
                    })
                    .collect()
            }
        }
    };
}

membership_connection!(
    /// A page of an account's stakeholders, in the order they joined it.
    AccountStakeholderConnection, AccountStakeholderEdge, Stakeholder, entity::stakeholder::Model
);

membership_connection!(
    /// A page of a stakeholder's accounts, in the order they joined them.
    StakeholderAccountConnection, StakeholderAccountEdge, Account, entity::account::Model
);

/// A stakeholder to add to an account, or a membership to change.
#[derive(InputObject)]
pub struct AddStakeholderToAccountInput {
    /// The account to join.
    pub account_id: ID,
    /// The person joining it.
    pub stakeholder_id: ID,
    /// Their role in the account's decision-making unit; when left out, an
    /// existing membership keeps its role.
    pub role: Option<DmuRole>,
    /// Make this the stakeholder's main account; the first account is by default.
    pub primary: Option<bool>,
}

/// A membership to end.
#[derive(InputObject)]
pub struct RemoveStakeholderFromAccountInput {
    /// The account the person leaves.
    pub account_id: ID,
    /// The person leaving it.
    pub stakeholder_id: ID,
}

/// The membership after `addStakeholderToAccount`.
#[derive(SimpleObject)]
pub struct MembershipPayload {
    /// The account.
    pub account: Account,
    /// The member.
    pub stakeholder: Stakeholder,
    /// The member's role in the account's decision-making unit, if known.
    pub role: Option<DmuRole>,
    /// Whether this is now the stakeholder's main account.
    pub primary: bool,
}

/// What `removeStakeholderFromAccount` did.
#[derive(SimpleObject)]
pub struct RemoveStakeholderFromAccountPayload {
    /// The account.
    pub account: Account,
    /// The former member.
    pub stakeholder: Stakeholder,
    /// False when the stakeholder was not a member.
    pub removed: bool,
}

#[derive(Default)]
pub struct MembershipMutation;

#[Object]
impl MembershipMutation {
    /// Adds a stakeholder to an account with a decision-making-unit role; on an
    /// existing membership it changes the role.
    async fn add_stakeholder_to_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account, the person and their role.")]
        input: AddStakeholderToAccountInput,
    ) -> ApiResult<MembershipPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let account_id = ids::decode(&input.account_id, NodeType::Account)?;
        let stakeholder_id = ids::decode(&input.stakeholder_id, NodeType::Stakeholder)?;
        let txn = db::begin_write(&rc.db).await?;
        let role = input.role.map(Into::into);
        let joined =
            memberships::add(&txn, ws, account_id, stakeholder_id, role, input.primary).await?;
        db::commit(txn).await?;
        Ok(MembershipPayload {
            account: Account(joined.account),
            stakeholder: Stakeholder(joined.stakeholder),
            role: joined.membership.role.map(Into::into),
            primary: joined.membership.primary,
        })
    }

    /// Removes a stakeholder from an account; their touchpoints stay.
    async fn remove_stakeholder_from_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account and the person leaving it.")]
        input: RemoveStakeholderFromAccountInput,
    ) -> ApiResult<RemoveStakeholderFromAccountPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Write)?.workspace_id;
        let account_id = ids::decode(&input.account_id, NodeType::Account)?;
        let stakeholder_id = ids::decode(&input.stakeholder_id, NodeType::Stakeholder)?;
        let txn = db::begin_write(&rc.db).await?;
        let left = memberships::remove(&txn, ws, account_id, stakeholder_id).await?;
        db::commit(txn).await?;
        Ok(RemoveStakeholderFromAccountPayload {
            account: Account(left.account),
            stakeholder: Stakeholder(left.stakeholder),
            removed: left.removed,
        })
    }
}
