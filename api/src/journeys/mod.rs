//! Journey models and their stages, with the built-in templates from the seeds.

pub mod editing;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::vocab::{self, JourneyTemplate as Template, OwnerTeam as Team};
use entity::{journey_model, stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::load_error;
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::StagesOf;
use crate::vocab::{Channel, JourneyTemplate, OwnerTeam};
use journeys_core::{db, time};

/// A stage as a template or a caller defines it.
#[derive(Debug, Clone)]
pub struct StageSpec {
    pub key: String,
    pub name: String,
    pub owner_team: Team,
    pub target_duration_secs: Option<i64>,
    pub continuous: bool,
    pub parent_key: Option<String>,
    pub entry_kinds: Vec<String>,
    pub entry_channels: Vec<vocab::Channel>,
}

impl From<StageInput> for StageSpec {
    fn from(s: StageInput) -> Self {
        Self {
            key: s.key.trim().to_owned(),
            name: s.name,
            owner_team: s.owner_team.into(),
            target_duration_secs: s.target_duration_seconds.map(i64::from),
            continuous: s.continuous,
            parent_key: s.parent_key,
            entry_kinds: s
                .entry_kinds
                .into_iter()
                .map(|k| k.trim().to_owned())
                .collect(),
            entry_channels: s.entry_channels.into_iter().map(Into::into).collect(),
        }
    }
}

const DAY: i64 = 86_400;

fn spec(
    key: &str,
    name: &str,
    team: Team,
    days: i64,
    kinds: &[&str],
    channels: &[vocab::Channel],
) -> StageSpec {
    StageSpec {
        key: key.to_owned(),
        name: name.to_owned(),
        owner_team: team,
        target_duration_secs: Some(days * DAY),
        continuous: false,
        parent_key: None,
        entry_kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        entry_channels: channels.to_vec(),
    }
}

/// A template's name, stages and loop, from DESIGN.md §2 and the seeds.
pub struct TemplateSpec {
    pub name: &'static str,
    pub stages: Vec<StageSpec>,
    pub circular: bool,
    pub loop_to: Option<&'static str>,
}

pub fn template(t: Template) -> Option<TemplateSpec> {
    use vocab::Channel as C;
    let (name, stages, circular, loop_to) = match t {
        Template::FiveStage => (
            "Five-stage customer journey",
            vec![
                spec(
                    "awareness",
                    "Awareness",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "page.visited", "ad.clicked"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "consideration",
                    "Consideration",
                    Team::Marketing,
                    45,
                    &[
                        "webinar.registered",
                        "webinar.attended",
                        "whitepaper.downloaded",
                        "email.clicked",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "purchase_decision",
                    "Purchase Decision",
                    Team::Sales,
                    60,
                    &[
                        "meeting.held",
                        "demo.requested",
                        "proposal.sent",
                        "deal.won",
                    ],
                    &[C::Meeting],
                ),
                spec(
                    "retention",
                    "Retention",
                    Team::Service,
                    365,
                    &["ticket.opened", "ticket.solved", "onboarding.completed"],
                    &[C::Support],
                ),
                spec(
                    "loyalty_advocacy",
                    "Loyalty & Advocacy",
                    Team::Relationship,
                    365,
                    &["review.posted", "referral.made", "case_study.published"],
                    &[],
                ),
            ],
            false,
            None,
        ),
        Template::Aida => (
            "AIDA",
            vec![
                spec(
                    "attention",
                    "Attention",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "ad.clicked", "page.visited"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "interest",
                    "Interest",
                    Team::Marketing,
                    30,
                    &[
                        "webinar.registered",
                        "whitepaper.downloaded",
                        "email.clicked",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "desire",
                    "Desire",
                    Team::Sales,
                    45,
                    &["demo.requested", "meeting.held", "webinar.attended"],
                    &[C::Meeting],
                ),
                spec(
                    "action",
                    "Action",
                    Team::Sales,
                    30,
                    &["deal.won", "trial.started"],
                    &[],
                ),
            ],
            false,
            None,
        ),
        Template::Kopan => (
            "KOPAN",
            vec![
                spec(
                    "know",
                    "Know",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "page.visited", "webinar.registered"],
                    &[C::Social, C::Web],
                ),
                spec(
                    "observe_needs",
                    "Observe needs",
                    Team::Sales,
                    30,
                    &["meeting.held", "call.held"],
                    &[C::Meeting, C::Phone],
                ),
                spec(
                    "present",
                    "Present",
                    Team::Sales,
                    30,
                    &["demo.requested", "proposal.sent"],
                    &[],
                ),
                spec("close", "Close", Team::Sales, 30, &["deal.won"], &[]),
                spec(
                    "aftercare",
                    "Aftercare",
                    Team::Service,
                    365,
                    &["ticket.opened", "ticket.solved", "satisfaction.rated"],
                    &[C::Support],
                ),
            ],
            false,
            None,
        ),
        Template::Mckinsey => (
            "McKinsey consumer decision journey",
            vec![
                spec(
                    "consider",
                    "Consider",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "ad.clicked", "page.visited"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "evaluate",
                    "Evaluate",
                    Team::Marketing,
                    45,
                    &[
                        "webinar.attended",
                        "whitepaper.downloaded",
                        "demo.requested",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "purchase",
                    "Purchase",
                    Team::Sales,
                    30,
                    &["deal.won", "renewal.signed"],
                    &[],
                ),
                spec(
                    "experience",
                    "Experience",
                    Team::Service,
                    180,
                    &["ticket.opened", "ticket.solved", "onboarding.completed"],
                    &[C::Support],
                ),
                spec(
                    "advocate",
                    "Advocate",
                    Team::Relationship,
                    90,
                    &["review.posted", "referral.made"],
                    &[],
                ),
                spec(
                    "bond",
                    "Bond",
                    Team::Relationship,
                    365,
                    &["community.joined", "advisory_board.joined"],
                    &[],
                ),
            ],
            true,
            Some("purchase"),
        ),
        Template::BabcockJenkins => {
            let mut advocate = spec(
                "advocate",
                "Advocate",
                Team::Relationship,
                365,
                &["review.posted", "referral.made", "tweet.mention"],
                &[],
            );
            advocate.continuous = true;
            advocate.target_duration_secs = None;
            (
                "Babcock-Jenkins B2B journey",
                vec![
                    spec(
                        "discover",
                        "Discover",
                        Team::Marketing,
                        45,
                        &[
                            "page.visited",
                            "whitepaper.downloaded",
                            "webinar.registered",
                        ],
                        &[C::Web, C::Webinar],
                    ),
                    spec(
                        "consider",
                        "Consider",
                        Team::Sales,
                        60,
                        &["demo.requested", "meeting.held", "webinar.attended"],
                        &[C::Meeting],
                    ),
                    spec(
                        "decide",
                        "Decide",
                        Team::Sales,
                        45,
                        &["proposal.sent", "deal.won"],
                        &[],
                    ),
                    advocate,
                ],
                false,
                None,
            )
        }
        Template::Custom => return None,
    };
    Some(TemplateSpec {
        name,
        stages,
        circular,
        loop_to,
    })
}

/// Checks a model's stages: unique keys, known parents and loop target.
pub(crate) fn check_stages(stages: &[StageSpec], loop_to: Option<&str>) -> ApiResult<()> {
    if stages.is_empty() || stages.len() > 50 {
        return Err(ApiError::bad_input("a journey model has 1 to 50 stages"));
    }
    let mut keys = std::collections::HashSet::new();
    for s in stages {
        let key_ok = !s.key.is_empty()
            && s.key.len() <= 64
            && s.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(ApiError::bad_input(format!(
                "stage key `{}` must be 1 to 64 of a-z, 0-9 and _",
                s.key
            )));
        }
        if s.name.trim().is_empty() || s.name.len() > 200 {
            return Err(ApiError::bad_input(
                "a stage name must be 1 to 200 characters",
            ));
        }
        if s.target_duration_secs.is_some_and(|d| d <= 0) {
            return Err(ApiError::bad_input("a target duration must be positive"));
        }
        if !keys.insert(s.key.as_str()) {
            return Err(ApiError::bad_input(format!(
                "stage key `{}` is used twice",
                s.key
            )));
        }
    }
    for s in stages {
        if let Some(parent) = &s.parent_key
            && (!keys.contains(parent.as_str()) || parent == &s.key)
        {
            return Err(ApiError::bad_input(format!(
                "unknown parent stage `{parent}`"
            )));
        }
    }
    if let Some(target) = loop_to
        && !keys.contains(target)
    {
        return Err(ApiError::bad_input(format!(
            "unknown loop stage `{target}`"
        )));
    }
    Ok(())
}

/// Creates a journey model with its stages.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    name: &str,
    template: Template,
    stages: &[StageSpec],
    circular: bool,
    loop_to: Option<&str>,
    is_default: bool,
) -> ApiResult<journey_model::Model> {
    check_stages(stages, loop_to)?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_input("`name` must be 1 to 200 characters"));
    }
    let model = journey_model::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        name: Set(name.to_owned()),
        template: Set(template),
        circular: Set(circular),
        loop_to_stage_key: Set(loop_to.map(str::to_owned)),
        is_default: Set(is_default),
        created_at: Set(time::now()),
    }
    .insert(txn)
    .await?;
    let ids: Vec<Uuid> = stages.iter().map(|_| entity::new_id()).collect();
    let id_of = |key: &str| stages.iter().position(|s| s.key == key).map(|i| ids[i]);
    for (position, (s, id)) in stages.iter().zip(&ids).enumerate() {
        stage::ActiveModel {
            id: Set(*id),
            workspace_id: Set(ws),
            model_id: Set(model.id),
            parent_stage_id: Set(None),
            key: Set(s.key.clone()),
            name: Set(s.name.trim().to_owned()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            owner_team: Set(s.owner_team),
            target_duration_secs: Set(s.target_duration_secs),
            continuous: Set(s.continuous),
            entry_kinds: Set(serde_json::json!(s.entry_kinds)),
            entry_channels: Set(serde_json::json!(s.entry_channels)),
            archived_at: Set(None),
        }
        .insert(txn)
        .await?;
    }
    // Parents are linked once every stage exists.
    for (s, id) in stages.iter().zip(&ids) {
        if let Some(parent) = s.parent_key.as_deref().and_then(id_of) {
            stage::ActiveModel {
                id: Set(*id),
                parent_stage_id: Set(Some(parent)),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
    }
    Ok(model)
}

/// Creates a model from a built-in template.
pub async fn create_from_template(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    t: Template,
    name: Option<&str>,
    is_default: bool,
) -> ApiResult<journey_model::Model> {
    let spec = template(t).ok_or_else(|| ApiError::bad_input("CUSTOM models need `stages`"))?;
    let name = name.unwrap_or(spec.name);
    create(
        txn,
        ws,
        name,
        t,
        &spec.stages,
        spec.circular,
        spec.loop_to,
        is_default,
    )
    .await
}

/// A journey model: the ordered stages an account moves through.
pub struct JourneyModel(pub journey_model::Model);

/// A journey model: the ordered stages an account moves through, built from a
/// template or custom. A workspace can run several side by side.
#[Object]
impl JourneyModel {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::JourneyModel, self.0.id)
    }
    /// The model's name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The template it was created from, or CUSTOM.
    async fn template(&self) -> JourneyTemplate {
        self.0.template.into()
    }
    /// A circular model loops back after its last stage.
    async fn circular(&self) -> bool {
        self.0.circular
    }
    /// The stage a circular model loops back to.
    async fn loop_to_stage_key(&self) -> Option<&str> {
        self.0.loop_to_stage_key.as_deref()
    }
    /// The workspace's default model.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    /// When the model was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The stages, by position.
    async fn stages(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Also list removed (archived) stages, which accounts' history may still name."
        )]
        include_archived: bool,
    ) -> ApiResult<Vec<Stage>> {
        let rows = request(ctx)
            .loader
            .load_one(StagesOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|s| include_archived || s.archived_at.is_none())
            .map(Stage)
            .collect())
    }
}

/// One stage of a journey model.
pub struct Stage(pub stage::Model);

/// One stage of a journey model, owned by one team, with the rules that move
/// accounts into it and the time they should take to move on.
#[Object]
impl Stage {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Stage, self.0.id)
    }
    /// Unique within its model.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The display name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its place in the model's order, from 0. An archived stage keeps the
    /// position it last had.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The team that owns accounts in this stage.
    async fn owner_team(&self) -> OwnerTeam {
        self.0.owner_team.into()
    }
    /// How long an account should stay here before it counts as stalled.
    async fn target_duration_seconds(&self) -> Option<i32> {
        self.0
            .target_duration_secs
            .map(|s| i32::try_from(s).unwrap_or(i32::MAX))
    }
    /// A continuous phase (like Babcock-Jenkins' Advocate) runs beside the
    /// sequence: its entry rules take an account in from any stage, and a
    /// touchpoint for a stage beyond the furthest one reached takes it on.
    async fn continuous(&self) -> bool {
        self.0.continuous
    }
    /// The phase this decision point sits under.
    async fn parent_stage_id(&self) -> Option<ID> {
        self.0
            .parent_stage_id
            .map(|id| ids::encode(NodeType::Stage, id))
    }
    /// When the stage was removed; removed stages stay in accounts' history.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    /// Touchpoint kinds that move an account into this stage.
    async fn entry_kinds(&self) -> Vec<String> {
        serde_json::from_value(self.0.entry_kinds.clone()).unwrap_or_default()
    }
    /// Touchpoint channels that move an account into this stage.
    async fn entry_channels(&self) -> Vec<Channel> {
        let channels: Vec<vocab::Channel> =
            serde_json::from_value(self.0.entry_channels.clone()).unwrap_or_default();
        channels.into_iter().map(Into::into).collect()
    }
}

/// A stage of a CUSTOM model, or one to add to a model with `addStage`.
#[derive(InputObject)]
pub struct StageInput {
    /// Unique within the model: 1 to 64 of a-z, 0-9 and `_`.
    pub key: String,
    /// The display name, 1 to 200 characters.
    pub name: String,
    /// The team that owns accounts in this stage.
    pub owner_team: OwnerTeam,
    /// How long an account should stay, in seconds (positive), before it
    /// counts as stalled; no target when left out.
    pub target_duration_seconds: Option<i32>,
    /// A continuous phase (like Babcock-Jenkins' Advocate) runs beside the
    /// sequence: its entry rules take an account in from any stage, and a
    /// touchpoint for a stage beyond the furthest one reached takes it on.
    #[graphql(default)]
    pub continuous: bool,
    /// The key of the phase this stage sits under.
    pub parent_key: Option<String>,
    /// Touchpoint kinds that move an account into this stage.
    #[graphql(default)]
    pub entry_kinds: Vec<String>,
    /// Touchpoint channels that move an account into this stage.
    #[graphql(default)]
    pub entry_channels: Vec<Channel>,
}

/// A new journey model.
#[derive(InputObject)]
pub struct CreateJourneyModelInput {
    /// Defaults to the template's name.
    pub name: Option<String>,
    /// A built-in template, or CUSTOM with `stages`.
    pub template: JourneyTemplate,
    /// Required for CUSTOM, refused otherwise.
    pub stages: Option<Vec<StageInput>>,
    /// CUSTOM only.
    #[graphql(default)]
    pub circular: bool,
    /// CUSTOM only: the stage key a circular model loops back to.
    pub loop_to_stage_key: Option<String>,
}

/// A journey model after a change.
#[derive(SimpleObject)]
pub struct JourneyModelPayload {
    /// The model, with its stages as they are now.
    pub journey_model: JourneyModel,
}

/// Finds a model of `ws`, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> ApiResult<journey_model::Model> {
    journey_model::Entity::find_by_id(id)
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or(ApiError::not_found("journey model"))
}

#[derive(Default)]
pub struct JourneyQuery;

#[Object]
impl JourneyQuery {
    /// The workspace's journey models, oldest first.
    async fn journey_models(&self, ctx: &Context<'_>) -> ApiResult<Vec<JourneyModel>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let rows = journey_model::Entity::find()
            .filter(journey_model::Column::WorkspaceId.eq(ws))
            .order_by_asc(journey_model::Column::Id)
            .all(&rc.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(JourneyModel).collect())
    }

    /// One journey model; NOT_FOUND when it is not in the token's workspace.
    async fn journey_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model's global id.")] id: ID,
    ) -> ApiResult<Option<JourneyModel>> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let id = ids::decode(&id, NodeType::JourneyModel)?;
        Ok(Some(JourneyModel(find(&rc.db, ws, id).await?)))
    }
}

#[derive(Default)]
pub struct JourneyMutation;

#[Object]
impl JourneyMutation {
    /// Creates a journey model from a template, or CUSTOM with its own stages.
    /// Needs the `admin` scope.
    async fn create_journey_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template, or the custom stages, and a name.")]
        input: CreateJourneyModelInput,
    ) -> ApiResult<JourneyModelPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Admin)?.workspace_id;
        let t: Template = input.template.into();
        let txn = db::begin_write(&rc.db).await.map_err(ApiError::from)?;
        let model = match (t, input.stages) {
            (Template::Custom, Some(stages)) => {
                let specs: Vec<StageSpec> = stages.into_iter().map(StageSpec::from).collect();
                let name = input.name.as_deref().unwrap_or("Custom journey");
                let loop_to = input.loop_to_stage_key.as_deref();
                if input.circular && loop_to.is_none() {
                    return Err(ApiError::bad_input(
                        "a circular model needs `loopToStageKey`",
                    ));
                }
                create(&txn, ws, name, t, &specs, input.circular, loop_to, false).await?
            }
            (Template::Custom, None) => {
                return Err(ApiError::bad_input("a CUSTOM model needs `stages`"));
            }
            (_, Some(_)) => {
                return Err(ApiError::bad_input("`stages` are only for CUSTOM models"));
            }
            (t, None) => create_from_template(&txn, ws, t, input.name.as_deref(), false).await?,
        };
        txn.commit().await.map_err(ApiError::from)?;
        Ok(JourneyModelPayload {
            journey_model: JourneyModel(model),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_valid() {
        for t in [
            Template::FiveStage,
            Template::Aida,
            Template::Kopan,
            Template::Mckinsey,
            Template::BabcockJenkins,
        ] {
            let spec = template(t).unwrap();
            check_stages(&spec.stages, spec.loop_to).unwrap();
        }
        assert_eq!(template(Template::FiveStage).unwrap().stages.len(), 5);
        assert!(template(Template::Mckinsey).unwrap().circular);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let s = spec("a", "A", Team::Sales, 1, &[], &[]);
        assert!(check_stages(&[s.clone(), s], None).is_err());
    }
}
