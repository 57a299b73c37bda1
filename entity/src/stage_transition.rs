//! One move of an account from a stage (or from nowhere) to another.

use sea_orm::entity::prelude::*;

use crate::vocab::TransitionCause;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stage_transitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub model_id: Uuid,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub cause: TransitionCause,
    /// The touchpoint that moved the account, for `TOUCHPOINT` moves.
    pub touchpoint_id: Option<Uuid>,
    /// Who moved the account, for `MANUAL` moves.
    pub actor: Option<String>,
    pub reason: Option<String>,
    /// A move into a continuous phase, beside the sequence: `from_stage_id`
    /// is none, and the account's sequence stage is unchanged.
    pub phase: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
