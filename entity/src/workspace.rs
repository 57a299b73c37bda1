//! A tenant: every other row belongs to exactly one workspace.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workspaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// The score at which a lead becomes marketing-qualified.
    pub mql_threshold: f64,
    /// Which way of computing scores the stored ones follow; the server
    /// rescores a workspace an older release scored (see
    /// `journeys_core::scoring::SCORES_VERSION`).
    pub scores_version: i32,
    /// The secret under which an erased person's external ids are digested;
    /// `None` only for a workspace older than keys, until it first needs one.
    pub erasure_key: Option<ErasureKey>,
    /// The sequence number of the workspace's latest event.
    pub event_sequence: i64,
}

/// 32 random bytes, never shown: its `Debug` prints no byte of it, so a
/// logged workspace does not leak it.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct ErasureKey(pub Vec<u8>);

impl std::fmt::Debug for ErasureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErasureKey(..)")
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
