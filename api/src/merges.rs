//! The GraphQL face of merges; the merge itself and its ledger are
//! `journeys_core::merges`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::merge;
use journeys_core::{db, merges};
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::stakeholders::Stakeholder;

/// A merge in the ledger.
pub struct Merge(pub merge::Model);

/// A merge in the ledger: stakeholders found to be one person, merged into a
/// survivor. It records everything it moved, so `unmergeStakeholders` can
/// undo it exactly.
#[Object]
impl Merge {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Merge, self.0.id)
    }
    /// The stakeholder the others were merged into.
    async fn survivor(&self, ctx: &Context<'_>) -> ApiResult<Option<Stakeholder>> {
        crate::stakeholders::load(ctx, self.0.survivor_id).await
    }
    /// The ids the merged stakeholders had (and get back on unmerge).
    async fn merged_stakeholder_ids(&self) -> Vec<ID> {
        merges::merged_ids(&self.0)
            .into_iter()
            .map(|id| ids::encode(NodeType::Stakeholder, id))
            .collect()
    }
    /// Who merged them: the subject of the token used.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    /// When the merge was made (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the merge was undone (UTC); null while it stands.
    async fn undone_at(&self) -> Option<DateTime<Utc>> {
        self.0.undone_at
    }
}

/// Stakeholders to merge into one.
#[derive(InputObject)]
pub struct MergeStakeholdersInput {
    /// The stakeholder who remains and receives the others' touchpoints,
    /// identities, memberships, consents and lifecycle history.
    pub survivor_id: ID,
    /// The stakeholders merged into the survivor; they cease to exist.
    pub stakeholder_ids: Vec<ID>,
}

/// The merge to undo.
#[derive(InputObject)]
pub struct UnmergeStakeholdersInput {
    /// The merge's global id; CONFLICT when it was already undone.
    pub merge_id: ID,
}

/// The result of `mergeStakeholders`.
#[derive(SimpleObject)]
pub struct MergeStakeholdersPayload {
    /// The ledger entry, for undoing the merge later.
    pub merge: Merge,
    /// The survivor, now holding everything the others had.
    pub survivor: Stakeholder,
}

/// The result of `unmergeStakeholders`.
#[derive(SimpleObject)]
pub struct UnmergeStakeholdersPayload {
    /// The ledger entry, now with `undoneAt` set.
    pub merge: Merge,
    /// The survivor first, then the restored stakeholders.
    pub stakeholders: Vec<Stakeholder>,
}

#[derive(Default)]
pub struct MergeMutation;

#[Object]
impl MergeMutation {
    /// Merges stakeholders found to be one person into a survivor. CONFLICT
    /// when the survivor or one of them was erased. Needs `admin`.
    async fn merge_stakeholders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survivor and the 1 to 50 stakeholders to merge into it.")]
        input: MergeStakeholdersInput,
    ) -> ApiResult<MergeStakeholdersPayload> {
        let rc = request(ctx);
        let principal = rc.require(Scope::Admin)?;
        let ws = principal.workspace_id;
        let survivor = ids::decode(&input.survivor_id, NodeType::Stakeholder)?;
        let others: Vec<Uuid> = input
            .stakeholder_ids
            .iter()
            .map(|id| ids::decode(id, NodeType::Stakeholder))
            .collect::<ApiResult<_>>()?;
        let txn = db::begin_write(&rc.db).await?;
        let entry = merges::merge(&txn, ws, survivor, others, &principal.subject).await?;
        let survivor = journeys_core::people::stakeholders::find(&txn, ws, survivor).await?;
        db::commit(txn).await?;
        Ok(MergeStakeholdersPayload {
            merge: Merge(entry),
            survivor: Stakeholder(survivor),
        })
    }

    /// Undoes a merge: the merged stakeholders come back with their ids and
    /// everything they had. Needs `admin`.
    async fn unmerge_stakeholders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The merge to undo.")] input: UnmergeStakeholdersInput,
    ) -> ApiResult<UnmergeStakeholdersPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let merge_id = ids::decode(&input.merge_id, NodeType::Merge)?;
        let txn = db::begin_write(&rc.db).await?;
        let undone = merges::unmerge(&txn, ws, merge_id).await?;
        db::commit(txn).await?;
        Ok(UnmergeStakeholdersPayload {
            merge: Merge(undone.merge),
            stakeholders: undone.people.into_iter().map(Stakeholder).collect(),
        })
    }
}
