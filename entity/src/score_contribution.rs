//! What one rule adds to one stakeholder's score through the touchpoints
//! recorded on one account (or on none), as of `reference_at`. All the
//! touchpoints a rule counts decay with the rule's half-life, so the value at
//! any later time is `points * 0.5^(elapsed / half_life)`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score_contributions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub stakeholder_id: Uuid,
    pub rule_id: Uuid,
    /// The account the counted touchpoints were recorded on; `None` for
    /// account-less ones, which count for the person's primary account.
    pub account_id: Option<Uuid>,
    /// How many touchpoints the rule counted.
    pub count: i32,
    /// Their decayed points at `reference_at`.
    pub points: f64,
    pub reference_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
