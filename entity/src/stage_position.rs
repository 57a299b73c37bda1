//! Where an account stands now in one journey model: its stage in the
//! sequence, and each continuous phase it is in.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stage_positions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub account_id: Uuid,
    pub model_id: Uuid,
    pub stage_id: Uuid,
    /// When the account entered `stage_id` (the time of the transition).
    pub entered_at: DateTimeUtc,
    /// A continuous phase, held beside the sequence: an account has at most
    /// one sequence position per model and one position per phase it is in.
    pub phase: bool,
    /// When a sequence position passes its stage's target duration; none for
    /// phases and stages without a target.
    pub due_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
