//! The GraphQL face of scoring: rules, a person's score and its breakdown.
//! The rules, the rescoring and qualification are `journeys_core::scoring`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::scoring_rule;
use journeys_core::scoring::{self, rules};
use journeys_core::{db, time};
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::context::request;
use crate::graphql::error::ApiResult;
use crate::graphql::ids::{self, NodeType};
use crate::vocab::Channel;

/// A scoring rule.
pub struct ScoringRule(pub scoring_rule::Model);

/// A scoring rule: points a stakeholder earns for each touchpoint of a kind
/// and/or channel, optionally capped and decaying with a half-life.
#[Object]
impl ScoringRule {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ScoringRule, self.0.id)
    }
    /// Unique in the workspace; `upsertScoringRule` replaces a rule by name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Touchpoints of this kind count; any kind when null.
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }
    /// Touchpoints on this channel count; any channel when null.
    async fn channel(&self) -> Option<Channel> {
        self.0.channel.map(Into::into)
    }
    /// Points per matching touchpoint when it happens (may be negative),
    /// before decay.
    async fn points(&self) -> f64 {
        self.0.points
    }
    /// At most this many (the newest) touchpoints count.
    async fn max_count(&self) -> Option<i32> {
        self.0.max_count
    }
    /// Points halve after this many days.
    async fn half_life_days(&self) -> Option<f64> {
        self.0.half_life_days
    }
}

/// One rule's share of a stakeholder's score.
#[derive(SimpleObject)]
pub struct ScoreContribution {
    /// The rule contributing.
    pub rule: ScoringRule,
    /// How many touchpoints the rule counted.
    pub count: i32,
    /// Their points today, after decay.
    pub points: f64,
}

/// A stakeholder's decayed score and its parts, from the request's loader.
pub async fn breakdown(ctx: &Context<'_>, person: Uuid) -> ApiResult<Vec<ScoreContribution>> {
    use crate::graphql::connection::load_error;
    let parts = request(ctx)
        .loader
        .load_one(crate::graphql::loaders::ContributionsOf(person))
        .await
        .map_err(load_error)?
        .unwrap_or_default();
    Ok(scoring::shares(&parts, time::now())
        .into_iter()
        .map(|share| ScoreContribution {
            points: share.points,
            count: share.count,
            rule: ScoringRule(share.rule),
        })
        .collect())
}

/// A stakeholder's score today.
pub async fn stakeholder_score(ctx: &Context<'_>, person: Uuid) -> ApiResult<f64> {
    Ok(journeys_core::scoring::total(
        breakdown(ctx, person).await?.iter().map(|c| c.points),
    ))
}

/// One person's share, through one rule, of an account's score.
pub struct AccountScoreContribution {
    person: Uuid,
    share: scoring::Share,
}

impl AccountScoreContribution {
    /// The share's points today, after decay.
    pub fn points_today(&self) -> f64 {
        self.share.points
    }
}

/// One person's share, through one rule, of an account's score: what the
/// rule gives them for touchpoints recorded on this account, and for their
/// account-less touchpoints when it is their primary account.
#[Object]
impl AccountScoreContribution {
    /// The member contributing.
    async fn stakeholder(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::stakeholders::Stakeholder>> {
        crate::stakeholders::load(ctx, self.person).await
    }
    /// The rule contributing.
    async fn rule(&self) -> ScoringRule {
        ScoringRule(self.share.rule.clone())
    }
    /// How many of the person's touchpoints the rule counted for this account.
    async fn count(&self) -> i32 {
        self.share.count
    }
    /// Their points today, after decay.
    async fn points(&self) -> f64 {
        self.share.points
    }
}

/// An account's score today: the sum of its breakdown.
pub async fn account_score(ctx: &Context<'_>, account: Uuid) -> ApiResult<f64> {
    let parts = account_breakdown(ctx, account).await?;
    Ok(scoring::total(parts.iter().map(|p| p.points_today())))
}

/// An account's decayed score in parts, per member and rule (members in the
/// order of their ids, rules by name), from the request's loaders: a fixed
/// number of statements for a page of accounts.
pub async fn account_breakdown(
    ctx: &Context<'_>,
    account: Uuid,
) -> ApiResult<Vec<AccountScoreContribution>> {
    use crate::graphql::connection::load_error;
    use crate::graphql::loaders::{ContributionsOf, MembersOf};
    let loader = &request(ctx).loader;
    let mut members = loader
        .load_one(MembersOf(account))
        .await
        .map_err(load_error)?
        .unwrap_or_default();
    members.sort();
    let mut parts = loader
        .load_many(members.iter().map(|(person, _)| ContributionsOf(*person)))
        .await
        .map_err(load_error)?;
    let now = time::now();
    let mut out = Vec::new();
    for (person, primary) in members {
        let Some(theirs) = parts.remove(&ContributionsOf(person)) else {
            continue;
        };
        let counted = theirs
            .iter()
            .filter(|(c, _)| scoring::counts_for(account, primary, c.account_id));
        out.extend(
            scoring::shares(counted, now)
                .into_iter()
                .map(|share| AccountScoreContribution { person, share }),
        );
    }
    Ok(out)
}

/// A scoring rule to create, or to replace by name. It needs a `kind`, a
/// `channel`, or both.
#[derive(InputObject)]
pub struct UpsertScoringRuleInput {
    /// Unique in the workspace: an existing rule of this name is replaced.
    pub name: String,
    /// Only touchpoints of this kind count; any kind when left out.
    pub kind: Option<String>,
    /// Only touchpoints on this channel count; any channel when left out.
    pub channel: Option<Channel>,
    /// Points per matching touchpoint, before decay; may be negative.
    pub points: f64,
    /// Count at most this many (the newest) matching touchpoints per person;
    /// at least 1. No cap when left out.
    pub max_count: Option<i32>,
    /// Points halve every this many days after the touchpoint (positive); no
    /// decay when left out.
    pub half_life_days: Option<f64>,
}

/// The scoring rule to delete.
#[derive(InputObject)]
pub struct DeleteScoringRuleInput {
    /// The rule's global id.
    pub id: ID,
}

/// A scoring rule after `upsertScoringRule`.
#[derive(SimpleObject)]
pub struct ScoringRulePayload {
    /// The rule as saved.
    pub scoring_rule: ScoringRule,
}

/// What `deleteScoringRule` removed.
#[derive(SimpleObject)]
pub struct DeleteScoringRulePayload {
    /// The id of the deleted rule.
    pub deleted_id: ID,
}

#[derive(Default)]
pub struct ScoringQuery;

#[Object]
impl ScoringQuery {
    /// The workspace's scoring rules, by name.
    async fn scoring_rules(&self, ctx: &Context<'_>) -> ApiResult<Vec<ScoringRule>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        Ok(scoring::rules_of(&rc.db, ws)
            .await?
            .into_iter()
            .map(ScoringRule)
            .collect())
    }
}

#[derive(Default)]
pub struct ScoringMutation;

#[Object]
impl ScoringMutation {
    /// Creates or replaces a rule, then rescores the workspace (people and
    /// accounts whose score now reaches the MQL threshold qualify). Needs
    /// `admin`.
    async fn upsert_scoring_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule, identified by its name.")] input: UpsertScoringRuleInput,
    ) -> ApiResult<ScoringRulePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let rule = rules::RuleSpec {
            name: input.name,
            kind: input.kind,
            channel: input.channel.map(Into::into),
            points: input.points,
            max_count: input.max_count,
            half_life_days: input.half_life_days,
        }
        .check()?;
        let txn = db::begin_write(&rc.db).await?;
        let rule = rules::upsert(&txn, ws, rule).await?;
        db::commit(txn).await?;
        Ok(ScoringRulePayload {
            scoring_rule: ScoringRule(rule),
        })
    }

    /// Deletes a rule, then rescores the workspace. Needs `admin`.
    async fn delete_scoring_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule to delete.")] input: DeleteScoringRuleInput,
    ) -> ApiResult<DeleteScoringRulePayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::ScoringRule)?;
        let txn = db::begin_write(&rc.db).await?;
        rules::delete(&txn, ws, id).await?;
        db::commit(txn).await?;
        Ok(DeleteScoringRulePayload {
            deleted_id: input.id,
        })
    }
}
