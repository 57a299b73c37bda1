//! The GraphQL face of lifecycle rules: what moves people and accounts on
//! after qualification. The rules and their application are
//! `journeys_core::lifecycle::rules`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::lifecycle_rule;
use journeys_core::db;
use journeys_core::lifecycle::rules::{self, RuleSpec, Template};

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::vocab::Lifecycle;

/// A lifecycle rule.
pub struct LifecycleRule(pub lifecycle_rule::Model);

/// A lifecycle rule: when a touchpoint of `kind` is recorded (its score in
/// range, when one is set), its person and its account each move to `to`
/// if they stand at one of `from` (any value when null) and `to` is forward
/// of where they stand. Forward is up the main line (VISITOR to PROMOTER);
/// DISQUALIFIED from anything before CUSTOMER; CHURNED from CUSTOMER or
/// PROMOTER; from DISQUALIFIED to OPPORTUNITY or later; from CHURNED back to
/// CUSTOMER. Each change is in `lifecycleChanges` with the touchpoint as its
/// cause.
#[Object]
impl LifecycleRule {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::LifecycleRule, self.0.id)
    }
    /// Unique in the workspace; `upsertLifecycleRule` replaces a rule by name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The touchpoint kind that triggers it, such as `deal.won`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The touchpoint's score (an NPS answer's 0 to 10) must be at least this.
    async fn min_score(&self) -> Option<f64> {
        self.0.min_score
    }
    /// The touchpoint's score must be at most this.
    async fn max_score(&self) -> Option<f64> {
        self.0.max_score
    }
    /// It applies only to people and accounts now at one of these; any when null.
    async fn from(&self) -> Option<Vec<Lifecycle>> {
        rules::from_of(&self.0).map(|values| values.into_iter().map(Into::into).collect())
    }
    /// Where it moves them.
    async fn to(&self) -> Lifecycle {
        self.0.to_lifecycle.into()
    }
    /// When the rule was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the rule last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A lifecycle rule, identified by its name.
#[derive(InputObject)]
pub struct UpsertLifecycleRuleInput {
    /// 1 to 200 characters; an existing rule of this name is replaced.
    pub name: String,
    /// The touchpoint kind that triggers it, 1 to 100 characters.
    pub kind: String,
    /// The touchpoint's score must be at least this.
    pub min_score: Option<f64>,
    /// The touchpoint's score must be at most this; not below `minScore`.
    pub max_score: Option<f64>,
    /// Only people and accounts now at one of these; `to` must be forward of
    /// at least one. Any value when left out.
    pub from: Option<Vec<Lifecycle>>,
    /// Where it moves them; not VISITOR.
    pub to: Lifecycle,
}

/// The rule to delete.
#[derive(InputObject)]
pub struct DeleteLifecycleRuleInput {
    /// The rule's global id.
    pub id: ID,
}

/// A ready-made set of lifecycle rules.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleRuleTemplate {
    /// `deal.won` → CUSTOMER, `deal.lost` → DISQUALIFIED, an `nps.responded`
    /// scoring 9 or 10 from a CUSTOMER → PROMOTER, `subscription.cancelled`
    /// → CHURNED.
    Standard,
}

/// A lifecycle rule after `upsertLifecycleRule`.
#[derive(SimpleObject)]
pub struct LifecycleRulePayload {
    /// The rule as saved.
    pub lifecycle_rule: LifecycleRule,
}

/// What `deleteLifecycleRule` removed.
#[derive(SimpleObject)]
pub struct DeleteLifecycleRulePayload {
    /// The id of the deleted rule.
    pub deleted_id: ID,
}

/// The rules `installLifecycleRules` saved.
#[derive(SimpleObject)]
pub struct InstallLifecycleRulesPayload {
    /// The template's rules as saved.
    pub lifecycle_rules: Vec<LifecycleRule>,
}

#[derive(Default)]
pub struct LifecycleRuleQuery;

#[Object]
impl LifecycleRuleQuery {
    /// The workspace's lifecycle rules, by name.
    async fn lifecycle_rules(&self, ctx: &Context<'_>) -> ApiResult<Vec<LifecycleRule>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let rules = rules::list(&rc.db, ws).await?;
        Ok(rules.into_iter().map(LifecycleRule).collect())
    }
}

#[derive(Default)]
pub struct LifecycleRuleMutation;

#[Object]
impl LifecycleRuleMutation {
    /// Creates or replaces a lifecycle rule (at most 100 a workspace). It
    /// applies to touchpoints recorded from then on. Needs `admin`.
    async fn upsert_lifecycle_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule, identified by its name.")] input: UpsertLifecycleRuleInput,
    ) -> ApiResult<LifecycleRulePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let rule = RuleSpec {
            name: input.name,
            kind: input.kind,
            min_score: input.min_score,
            max_score: input.max_score,
            from: input
                .from
                .map(|values| values.into_iter().map(Into::into).collect()),
            to: input.to.into(),
        }
        .check()?;
        let txn = db::begin_write(&rc.db).await?;
        let saved = rules::upsert(&txn, ws, rule).await?;
        db::commit(txn).await?;
        Ok(LifecycleRulePayload {
            lifecycle_rule: LifecycleRule(saved),
        })
    }

    /// Deletes a lifecycle rule; the changes it made stay recorded. Needs `admin`.
    async fn delete_lifecycle_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule to delete.")] input: DeleteLifecycleRuleInput,
    ) -> ApiResult<DeleteLifecycleRulePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::LifecycleRule)?;
        let txn = db::begin_write(&rc.db).await?;
        rules::delete(&txn, ws, id).await?;
        db::commit(txn).await?;
        Ok(DeleteLifecycleRulePayload {
            deleted_id: input.id,
        })
    }

    /// Saves a template's rules, replacing rules of the same names. Needs `admin`.
    async fn install_lifecycle_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The set of rules to install.")] template: LifecycleRuleTemplate,
    ) -> ApiResult<InstallLifecycleRulesPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let template = match template {
            LifecycleRuleTemplate::Standard => Template::Standard,
        };
        let txn = db::begin_write(&rc.db).await?;
        let saved = rules::install(&txn, ws, template).await?;
        db::commit(txn).await?;
        Ok(InstallLifecycleRulesPayload {
            lifecycle_rules: saved.into_iter().map(LifecycleRule).collect(),
        })
    }
}
