//! Lifecycle rules: after qualification, what sales and service report moves
//! people and accounts on. A rule names a touchpoint kind, optionally a range
//! of the touchpoint's score (an NPS answer's 0 to 10) and the lifecycle
//! values it applies from, and the value it moves to. When a touchpoint of
//! that kind is recorded, its person and its account each move there if that
//! is forward from where they stand ([`moves_forward`]); each change is
//! recorded in the ledger with the touchpoint as its cause.
//!
//! Rules apply to touchpoints as they are recorded, in a batch's time order,
//! after scoring has qualified whoever it qualifies, so a rule from MQL sees
//! an MQL made by the same batch.

use std::collections::HashMap;

use entity::lifecycle_rule;
use entity::vocab::Lifecycle as L;
use entity::{account, stakeholder, touchpoint};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Change, Subject, row};
use crate::error::required_text;
use crate::events::NewEvent;
use crate::{CoreError, CoreResult, db, time};

/// At most this many rules a workspace: each recorded touchpoint is matched
/// against all of them.
pub const MAX_RULES: u64 = 100;

/// Where a value stands on the main line, VISITOR (0) to PROMOTER (6); the
/// side exits have no place on it.
fn rank(l: L) -> Option<u8> {
    Some(match l {
        L::Visitor => 0,
        L::Lead => 1,
        L::Mql => 2,
        L::Sql => 3,
        L::Opportunity => 4,
        L::Customer => 5,
        L::Promoter => 6,
        L::Disqualified | L::Churned => return None,
    })
}

/// Whether a rule may move a subject from `from` to `to`: up the main line;
/// to DISQUALIFIED before becoming a customer; to CHURNED from CUSTOMER or
/// PROMOTER; from DISQUALIFIED back to OPPORTUNITY or later (a lead turned
/// down that buys after all); from CHURNED back to CUSTOMER (won back).
pub fn moves_forward(from: L, to: L) -> bool {
    match (from, to) {
        (_, L::Visitor) => false,
        (f, L::Disqualified) => rank(f).is_some_and(|r| r < 5),
        (f, L::Churned) => matches!(f, L::Customer | L::Promoter),
        (L::Disqualified, t) => rank(t).is_some_and(|r| r >= 4),
        (L::Churned, t) => t == L::Customer,
        (f, t) => rank(f) < rank(t),
    }
}

/// A rule as a caller describes it, before any check.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Unique in the workspace: an existing rule of this name is replaced.
    pub name: String,
    /// The touchpoint kind that triggers it, such as `deal.won`.
    pub kind: String,
    /// The touchpoint's score must be at least this (inclusive).
    pub min_score: Option<f64>,
    /// The touchpoint's score must be at most this (inclusive).
    pub max_score: Option<f64>,
    /// Applies only to subjects now at one of these; from anywhere when `None`.
    pub from: Option<Vec<L>>,
    pub to: L,
}

/// A rule that passed every check: a name of 1 to 200 characters, a kind of
/// 1 to 100, finite scores in order, a target other than VISITOR, and a
/// `from` list with at least one value the target is forward of.
#[derive(Debug, Clone)]
pub struct CheckedRule(RuleSpec);

impl RuleSpec {
    pub fn check(self) -> CoreResult<CheckedRule> {
        let name = required_text("name", &self.name, 200)?;
        let kind = required_text("kind", &self.kind, 100)?;
        for (field, score) in [("minScore", self.min_score), ("maxScore", self.max_score)] {
            if score.is_some_and(|s| !s.is_finite()) {
                return Err(CoreError::invalid_field(
                    field,
                    format!("`{field}` must be a number"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min_score, self.max_score)
            && min > max
        {
            return Err(CoreError::invalid_field(
                "maxScore",
                "`maxScore` must not be below `minScore`",
            ));
        }
        if self.to == L::Visitor {
            return Err(CoreError::invalid_field(
                "to",
                "no rule moves anyone back to VISITOR",
            ));
        }
        let from = match self.from {
            None => None,
            Some(from) => {
                let mut values: Vec<L> = Vec::new();
                for f in from {
                    if !values.contains(&f) {
                        values.push(f);
                    }
                }
                if !values.iter().any(|&f| moves_forward(f, self.to)) {
                    return Err(CoreError::invalid_field(
                        "from",
                        format!(
                            "`to` {} is forward of none of the `from` values",
                            self.to.to_value()
                        ),
                    ));
                }
                Some(values)
            }
        };
        Ok(CheckedRule(RuleSpec {
            name,
            kind,
            from,
            ..self
        }))
    }
}

/// The lifecycle values a stored rule applies from; `None` for any.
pub fn from_of(rule: &lifecycle_rule::Model) -> Option<Vec<L>> {
    let values = rule.from_lifecycles.as_ref()?.as_array()?;
    Some(
        values
            .iter()
            .filter_map(|v| L::try_from_value(&v.as_str()?.to_owned()).ok())
            .collect(),
    )
}

fn from_json(from: &Option<Vec<L>>) -> Option<serde_json::Value> {
    from.as_ref()
        .map(|values| values.iter().map(|v| v.to_value()).collect())
}

/// The workspace's rules, by name.
pub async fn list(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<lifecycle_rule::Model>> {
    Ok(lifecycle_rule::Entity::find()
        .filter(lifecycle_rule::Column::WorkspaceId.eq(ws))
        .order_by_asc(lifecycle_rule::Column::Name)
        .all(db)
        .await?)
}

/// Creates or replaces (by name) a rule. It applies to touchpoints recorded
/// from now on; what was recorded before keeps its lifecycle.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    rule: CheckedRule,
) -> CoreResult<lifecycle_rule::Model> {
    let rule = rule.0;
    let existing = lifecycle_rule::Entity::find()
        .filter(lifecycle_rule::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_rule::Column::Name.eq(rule.name.as_str()))
        .one(txn)
        .await?;
    let now = time::now();
    let fill = |mut active: lifecycle_rule::ActiveModel| {
        active.kind = Set(rule.kind.clone());
        active.min_score = Set(rule.min_score);
        active.max_score = Set(rule.max_score);
        active.from_lifecycles = Set(from_json(&rule.from));
        active.to_lifecycle = Set(rule.to);
        active.updated_at = Set(now);
        active
    };
    Ok(match existing {
        Some(existing) => fill(existing.into()).update(txn).await?,
        None => {
            let count = lifecycle_rule::Entity::find()
                .filter(lifecycle_rule::Column::WorkspaceId.eq(ws))
                .count(txn)
                .await?;
            if count >= MAX_RULES {
                return Err(CoreError::invalid(format!(
                    "a workspace has at most {MAX_RULES} lifecycle rules"
                )));
            }
            fill(lifecycle_rule::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(ws),
                name: Set(rule.name.clone()),
                created_at: Set(now),
                ..Default::default()
            })
            .insert(txn)
            .await?
        }
    })
}

/// Deletes a rule; NOT_FOUND when the workspace has no such rule. The
/// changes it made stay in the ledger.
pub async fn delete(txn: &impl ConnectionTrait, ws: Uuid, id: Uuid) -> CoreResult<()> {
    let deleted = lifecycle_rule::Entity::delete_many()
        .filter(lifecycle_rule::Column::WorkspaceId.eq(ws))
        .filter(lifecycle_rule::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(CoreError::not_found("lifecycle rule"));
    }
    Ok(())
}

/// A ready-made set of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `deal.won` → CUSTOMER, `deal.lost` → DISQUALIFIED, an `nps.responded`
    /// of 9 or 10 from a CUSTOMER → PROMOTER, `subscription.cancelled` →
    /// CHURNED.
    Standard,
}

impl Template {
    pub fn rules(self) -> Vec<RuleSpec> {
        let rule = |name: &str, kind: &str, to| RuleSpec {
            name: name.to_owned(),
            kind: kind.to_owned(),
            min_score: None,
            max_score: None,
            from: None,
            to,
        };
        match self {
            Template::Standard => vec![
                rule("Deal won", "deal.won", L::Customer),
                rule("Deal lost", "deal.lost", L::Disqualified),
                RuleSpec {
                    min_score: Some(9.0),
                    from: Some(vec![L::Customer]),
                    ..rule("Promoter", "nps.responded", L::Promoter)
                },
                rule(
                    "Subscription cancelled",
                    "subscription.cancelled",
                    L::Churned,
                ),
            ],
        }
    }
}

/// Creates or replaces the template's rules (by name); returns them.
pub async fn install(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    template: Template,
) -> CoreResult<Vec<lifecycle_rule::Model>> {
    let mut saved = Vec::new();
    for spec in template.rules() {
        saved.push(upsert(txn, ws, spec.check()?).await?);
    }
    Ok(saved)
}

fn matches(rule: &lifecycle_rule::Model, tp: &touchpoint::Model) -> bool {
    rule.kind == tp.kind
        && rule
            .min_score
            .is_none_or(|min| tp.score.is_some_and(|s| s >= min))
        && rule
            .max_score
            .is_none_or(|max| tp.score.is_some_and(|s| s <= max))
}

/// Applies the workspace's rules to touchpoints just recorded: one statement
/// when no rule exists or none matches, otherwise a few (the subjects'
/// lifecycles, the ledger rows, an update per resulting value). Returns the
/// events of the changes, for the caller to log.
pub(crate) async fn apply(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    recorded: &[touchpoint::Model],
) -> CoreResult<Vec<NewEvent>> {
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    let rules = list(txn, ws).await?;
    let mut fired: Vec<(&touchpoint::Model, &lifecycle_rule::Model)> = Vec::new();
    let mut in_order: Vec<&touchpoint::Model> = recorded.iter().collect();
    in_order.sort_by_key(|t| (t.occurred_at, t.id));
    for tp in in_order {
        fired.extend(rules.iter().filter(|r| matches(r, tp)).map(|r| (tp, r)));
    }
    if fired.is_empty() {
        return Ok(Vec::new());
    }
    let people: Vec<Uuid> = fired.iter().filter_map(|(t, _)| t.stakeholder_id).collect();
    let accounts: Vec<Uuid> = fired.iter().filter_map(|(t, _)| t.account_id).collect();
    let mut state: HashMap<Subject, L> = HashMap::new();
    let stored: Vec<(Uuid, L)> = stakeholder::Entity::find()
        .select_only()
        .columns([stakeholder::Column::Id, stakeholder::Column::Lifecycle])
        .filter(stakeholder::Column::WorkspaceId.eq(ws))
        .filter(stakeholder::Column::Id.is_in(people))
        .into_tuple()
        .all(txn)
        .await?;
    state.extend(
        stored
            .into_iter()
            .map(|(id, l)| (Subject::Stakeholder(id), l)),
    );
    let stored: Vec<(Uuid, L)> = account::Entity::find()
        .select_only()
        .columns([account::Column::Id, account::Column::Lifecycle])
        .filter(account::Column::WorkspaceId.eq(ws))
        .filter(account::Column::Id.is_in(accounts))
        .into_tuple()
        .all(txn)
        .await?;
    state.extend(stored.into_iter().map(|(id, l)| (Subject::Account(id), l)));

    let mut rows = Vec::new();
    let mut moved: Vec<Subject> = Vec::new();
    for (tp, rule) in fired {
        let from = from_of(rule);
        let cause = format!("lifecycle rule `{}`: {}", rule.name, rule.kind);
        let subjects = [
            tp.stakeholder_id.map(Subject::Stakeholder),
            tp.account_id.map(Subject::Account),
        ];
        for subject in subjects.into_iter().flatten() {
            let Some(&now) = state.get(&subject) else {
                continue;
            };
            let allowed = from.as_ref().is_none_or(|f| f.contains(&now));
            if !allowed || !moves_forward(now, rule.to_lifecycle) {
                continue;
            }
            let change = Change {
                from: Some(now),
                to: rule.to_lifecycle,
                at: tp.occurred_at,
                cause: &cause,
                actor: None,
                touchpoint: Some(tp.id),
            };
            rows.extend(row(ws, subject, &change));
            state.insert(subject, rule.to_lifecycle);
            if !moved.contains(&subject) {
                moved.push(subject);
            }
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Each subject ends where its last change took it: one update per
    // value and side.
    let mut finals: HashMap<L, (Vec<Uuid>, Vec<Uuid>)> = HashMap::new();
    for subject in moved {
        let (accounts, people) = finals.entry(state[&subject]).or_default();
        match subject {
            Subject::Account(id) => accounts.push(id),
            Subject::Stakeholder(id) => people.push(id),
        }
    }
    for (to, (accounts, people)) in finals {
        super::set_lifecycles(txn, ws, to, accounts, people).await?;
    }
    let logged = NewEvent::lifecycle_rows(&rows);
    db::insert_all(txn, rows, None).await?;
    Ok(logged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_move_forward_only() {
        assert!(moves_forward(L::Sql, L::Customer));
        assert!(moves_forward(L::Customer, L::Promoter));
        assert!(!moves_forward(L::Promoter, L::Customer));
        assert!(!moves_forward(L::Customer, L::Customer));
        assert!(moves_forward(L::Opportunity, L::Disqualified));
        assert!(!moves_forward(L::Customer, L::Disqualified));
        assert!(moves_forward(L::Promoter, L::Churned));
        assert!(!moves_forward(L::Lead, L::Churned));
        assert!(moves_forward(L::Churned, L::Customer));
        assert!(!moves_forward(L::Churned, L::Lead));
        assert!(moves_forward(L::Disqualified, L::Customer));
        assert!(!moves_forward(L::Disqualified, L::Mql));
        assert!(!moves_forward(L::Lead, L::Visitor));
    }

    #[test]
    fn a_rule_from_values_it_cannot_move_forward_from_is_refused() {
        let spec = RuleSpec {
            name: "back".into(),
            kind: "deal.won".into(),
            min_score: None,
            max_score: None,
            from: Some(vec![L::Promoter]),
            to: L::Customer,
        };
        let err = spec.check().unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidInput {
                    field: Some("from"),
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
