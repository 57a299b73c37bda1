//! Scoring rules: validated, written, and followed by a rescore of the
//! workspace in the same transaction.

use entity::scoring_rule;
use entity::vocab::Channel;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::rescore_workspace;
use crate::error::required_text;
use crate::{CoreError, CoreResult, time};

/// A rule as a caller describes it, before any check.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Unique in the workspace: an existing rule of this name is replaced.
    pub name: String,
    /// Only touchpoints of this kind count; any kind when `None`.
    pub kind: Option<String>,
    /// Only touchpoints on this channel count; any channel when `None`.
    pub channel: Option<Channel>,
    /// Points per matching touchpoint, before decay; may be negative.
    pub points: f64,
    /// At most this many (the newest) matching touchpoints count per person.
    pub max_count: Option<i32>,
    /// Points halve every this many days after the touchpoint.
    pub half_life_days: Option<f64>,
}

/// A rule that passed every check: a name of 1 to 200 characters, a kind or
/// a channel, finite points, a cap of at least 1, a positive half-life.
#[derive(Debug, Clone)]
pub struct CheckedRule {
    name: String,
    kind: Option<String>,
    channel: Option<Channel>,
    points: f64,
    max_count: Option<i32>,
    half_life_days: Option<f64>,
}

impl RuleSpec {
    pub fn check(self) -> CoreResult<CheckedRule> {
        let name = required_text("name", &self.name, 200)?;
        let kind = self
            .kind
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty());
        if kind.is_none() && self.channel.is_none() {
            return Err(CoreError::invalid(
                "a rule needs a `kind`, a `channel`, or both",
            ));
        }
        if !self.points.is_finite() {
            return Err(CoreError::invalid_field(
                "points",
                "`points` must be a number",
            ));
        }
        if self.max_count.is_some_and(|n| n < 1) {
            return Err(CoreError::invalid_field(
                "maxCount",
                "`maxCount` must be at least 1",
            ));
        }
        if self
            .half_life_days
            .is_some_and(|h| !h.is_finite() || h <= 0.0)
        {
            return Err(CoreError::invalid_field(
                "halfLifeDays",
                "`halfLifeDays` must be positive",
            ));
        }
        Ok(CheckedRule {
            name,
            kind,
            channel: self.channel,
            points: self.points,
            max_count: self.max_count,
            half_life_days: self.half_life_days,
        })
    }
}

/// Creates or replaces (by name) a rule, then rescores the workspace: people
/// and accounts whose score now reaches the MQL threshold qualify.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    rule: CheckedRule,
) -> CoreResult<scoring_rule::Model> {
    let saved = save(txn, ws, rule).await?;
    rescore_workspace(txn, ws, "a scoring rule changed").await?;
    Ok(saved)
}

/// Creates or replaces a rule by name.
async fn save(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    rule: CheckedRule,
) -> CoreResult<scoring_rule::Model> {
    let existing = scoring_rule::Entity::find()
        .filter(scoring_rule::Column::WorkspaceId.eq(ws))
        .filter(scoring_rule::Column::Name.eq(rule.name.as_str()))
        .one(txn)
        .await?;
    let now = time::now();
    let fill = |mut active: scoring_rule::ActiveModel| {
        active.kind = Set(rule.kind.clone());
        active.channel = Set(rule.channel);
        active.points = Set(rule.points);
        active.max_count = Set(rule.max_count);
        active.half_life_days = Set(rule.half_life_days);
        active.updated_at = Set(now);
        active
    };
    let saved = match existing {
        Some(existing) => fill(existing.into()).update(txn).await?,
        None => {
            fill(scoring_rule::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(ws),
                name: Set(rule.name.clone()),
                created_at: Set(now),
                ..Default::default()
            })
            .insert(txn)
            .await?
        }
    };
    Ok(saved)
}

/// Deletes a rule, then rescores the workspace; NOT_FOUND when the workspace
/// has no such rule.
pub async fn delete(txn: &impl ConnectionTrait, ws: Uuid, id: Uuid) -> CoreResult<()> {
    let deleted = scoring_rule::Entity::delete_many()
        .filter(scoring_rule::Column::WorkspaceId.eq(ws))
        .filter(scoring_rule::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(CoreError::not_found("scoring rule"));
    }
    rescore_workspace(txn, ws, "a scoring rule changed").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RuleSpec {
        RuleSpec {
            name: "Webinar".into(),
            kind: Some("webinar.attended".into()),
            channel: None,
            points: 10.0,
            max_count: None,
            half_life_days: None,
        }
    }

    fn refusal(spec: RuleSpec) -> (Option<&'static str>, String) {
        match spec.check() {
            Err(CoreError::InvalidInput { field, message }) => (field, message),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn a_rule_needs_a_kind_or_a_channel() {
        let blank_kind = RuleSpec {
            kind: Some("  ".into()),
            ..spec()
        };
        assert_eq!(
            refusal(blank_kind),
            (None, "a rule needs a `kind`, a `channel`, or both".into())
        );
        let by_channel = RuleSpec {
            kind: None,
            channel: Some(Channel::Webinar),
            ..spec()
        };
        assert!(by_channel.check().is_ok());
    }

    #[test]
    fn numbers_out_of_range_name_their_field() {
        let cases = [
            (
                RuleSpec {
                    points: f64::NAN,
                    ..spec()
                },
                "points",
            ),
            (
                RuleSpec {
                    max_count: Some(0),
                    ..spec()
                },
                "maxCount",
            ),
            (
                RuleSpec {
                    half_life_days: Some(0.0),
                    ..spec()
                },
                "halfLifeDays",
            ),
            (
                RuleSpec {
                    name: " ".into(),
                    ..spec()
                },
                "name",
            ),
        ];
        for (spec, field) in cases {
            assert_eq!(refusal(spec).0, Some(field));
        }
    }
}
