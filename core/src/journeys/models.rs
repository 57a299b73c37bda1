//! Journey models and their stages: a model is made from a built-in template
//! or from a caller's own stages, checked whole before anything is written.

use std::collections::HashSet;

use entity::vocab::{Channel, JourneyTemplate, OwnerTeam};
use entity::{journey_model, stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::playbooks::{self, PlaybookStep};
use super::templates::template;
use crate::{CoreError, CoreResult, time};

/// A stage as a template or a caller defines it.
#[derive(Debug, Clone)]
pub struct NewStage {
    /// Unique within the model: 1 to 64 of a-z, 0-9 and `_`.
    pub key: String,
    /// The display name, 1 to 200 characters.
    pub name: String,
    pub owner_team: OwnerTeam,
    /// Positive; no target when `None`.
    pub target_duration_secs: Option<i64>,
    pub continuous: bool,
    /// The key of the phase this stage sits under.
    pub parent_key: Option<String>,
    pub entry_kinds: Vec<String>,
    pub entry_channels: Vec<Channel>,
    /// The stage's next steps, in order; see [`playbooks::check`].
    pub playbook: Vec<PlaybookStep>,
}

impl NewStage {
    /// The key and entry kinds trimmed, so a stray space from a client is
    /// neither refused in a key nor kept in a rule that would never match.
    pub(crate) fn trimmed(self) -> Self {
        Self {
            key: self.key.trim().to_owned(),
            entry_kinds: self
                .entry_kinds
                .into_iter()
                .map(|k| k.trim().to_owned())
                .collect(),
            playbook: playbooks::trimmed(self.playbook),
            ..self
        }
    }
}

/// A model as a caller asks for it: a built-in template, or CUSTOM with its
/// own stages.
#[derive(Debug, Clone)]
pub struct NewModel {
    /// Defaults to the template's name.
    pub name: Option<String>,
    pub template: JourneyTemplate,
    /// Required for CUSTOM, refused otherwise.
    pub stages: Option<Vec<NewStage>>,
    /// CUSTOM only; a template brings its own loop.
    pub circular: bool,
    /// CUSTOM only: the stage key a circular model loops back to.
    pub loop_to_stage_key: Option<String>,
}

/// A model with its name, stages and loop settled, ready to check and store.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub template: JourneyTemplate,
    pub stages: Vec<NewStage>,
    pub circular: bool,
    pub loop_to: Option<String>,
}

impl ModelSpec {
    /// Settles what `new` asks for: a template's stages and loop, or its own.
    pub fn resolve(new: NewModel) -> CoreResult<Self> {
        match (new.template, new.stages) {
            (JourneyTemplate::Custom, Some(stages)) => Ok(Self {
                name: new.name.unwrap_or_else(|| "Custom journey".to_owned()),
                template: JourneyTemplate::Custom,
                stages: stages.into_iter().map(NewStage::trimmed).collect(),
                circular: new.circular,
                loop_to: new.loop_to_stage_key,
            }),
            (JourneyTemplate::Custom, None) => {
                Err(CoreError::invalid("a CUSTOM model needs `stages`"))
            }
            (_, Some(_)) => Err(CoreError::invalid("`stages` are only for CUSTOM models")),
            (t, None) => Self::from_template(t, new.name),
        }
    }

    /// The model a built-in template makes, under the template's name unless
    /// `name` is given.
    pub fn from_template(t: JourneyTemplate, name: Option<String>) -> CoreResult<Self> {
        let spec = template(t).ok_or_else(|| CoreError::invalid("CUSTOM models need `stages`"))?;
        Ok(Self {
            name: name.unwrap_or_else(|| spec.name.to_owned()),
            template: t,
            stages: spec.stages,
            circular: spec.circular,
            loop_to: spec.loop_to.map(str::to_owned),
        })
    }

    /// Checks the whole model: its loop, its stages and its name.
    pub fn check(&self) -> CoreResult<()> {
        if self.circular && self.loop_to.is_none() {
            return Err(CoreError::invalid(
                "a circular model needs `loopToStageKey`",
            ));
        }
        check_stages(&self.stages, self.loop_to.as_deref())?;
        let name = self.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(CoreError::invalid("`name` must be 1 to 200 characters"));
        }
        Ok(())
    }
}

/// Checks a model's stages: unique keys, known parents and loop target.
pub fn check_stages(stages: &[NewStage], loop_to: Option<&str>) -> CoreResult<()> {
    if stages.is_empty() || stages.len() > 50 {
        return Err(CoreError::invalid("a journey model has 1 to 50 stages"));
    }
    let mut keys = HashSet::new();
    for s in stages {
        let key_ok = !s.key.is_empty()
            && s.key.len() <= 64
            && s.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(CoreError::invalid(format!(
                "stage key `{}` must be 1 to 64 of a-z, 0-9 and _",
                s.key
            )));
        }
        if s.name.trim().is_empty() || s.name.len() > 200 {
            return Err(CoreError::invalid(
                "a stage name must be 1 to 200 characters",
            ));
        }
        if s.target_duration_secs.is_some_and(|d| d <= 0) {
            return Err(CoreError::invalid("a target duration must be positive"));
        }
        playbooks::check(&s.playbook)?;
        if !keys.insert(s.key.as_str()) {
            return Err(CoreError::invalid(format!(
                "stage key `{}` is used twice",
                s.key
            )));
        }
    }
    for s in stages {
        if let Some(parent) = &s.parent_key
            && (!keys.contains(parent.as_str()) || parent == &s.key)
        {
            return Err(CoreError::invalid(format!(
                "unknown parent stage `{parent}`"
            )));
        }
    }
    if let Some(target) = loop_to
        && !keys.contains(target)
    {
        return Err(CoreError::invalid(format!("unknown loop stage `{target}`")));
    }
    Ok(())
}

/// The row of a new stage of `model` at `position`; the parent is the caller's.
pub(crate) fn stage_row(
    ws: Uuid,
    model: Uuid,
    s: &NewStage,
    position: usize,
    parent: Option<Uuid>,
) -> stage::ActiveModel {
    stage::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        model_id: Set(model),
        parent_stage_id: Set(parent),
        key: Set(s.key.clone()),
        name: Set(s.name.trim().to_owned()),
        position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        owner_team: Set(s.owner_team),
        target_duration_secs: Set(s.target_duration_secs),
        continuous: Set(s.continuous),
        entry_kinds: Set(serde_json::json!(s.entry_kinds)),
        entry_channels: Set(serde_json::json!(s.entry_channels)),
        playbook: Set(playbooks::to_json(&s.playbook)),
        archived_at: Set(None),
    }
}

/// Creates a journey model of `ws` with its stages, once `spec` checks out.
pub async fn create(
    db: &impl ConnectionTrait,
    ws: Uuid,
    spec: &ModelSpec,
    is_default: bool,
) -> CoreResult<journey_model::Model> {
    spec.check()?;
    // A workspace with history: every account's path through the new model
    // is built from its touchpoints in the background.
    let accounts = super::backfill::accounts_to_rebuild(db, ws).await?;
    let model = journey_model::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        name: Set(spec.name.trim().to_owned()),
        template: Set(spec.template),
        circular: Set(spec.circular),
        loop_to_stage_key: Set(spec.loop_to.clone()),
        is_default: Set(is_default),
        created_at: Set(time::now()),
        backfill_pending: Set(accounts > 0),
        backfill_after: Set(None),
        backfill_processed: Set(0),
        backfill_total: Set(i64::try_from(accounts).unwrap_or(i64::MAX)),
        backfill_lease_until: Set(None),
    }
    .insert(db)
    .await?;
    let mut ids = Vec::with_capacity(spec.stages.len());
    for (position, s) in spec.stages.iter().enumerate() {
        let row = stage_row(ws, model.id, s, position, None)
            .insert(db)
            .await?;
        ids.push(row.id);
    }
    // Parents are linked once every stage exists.
    let id_of = |key: &str| {
        spec.stages
            .iter()
            .position(|s| s.key == key)
            .map(|i| ids[i])
    };
    for (s, id) in spec.stages.iter().zip(&ids) {
        if let Some(parent) = s.parent_key.as_deref().and_then(id_of) {
            stage::ActiveModel {
                id: Set(*id),
                parent_stage_id: Set(Some(parent)),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    Ok(model)
}

/// Creates a model of `ws` from a built-in template, under the template's name.
pub async fn create_from_template(
    db: &impl ConnectionTrait,
    ws: Uuid,
    t: JourneyTemplate,
    is_default: bool,
) -> CoreResult<journey_model::Model> {
    create(db, ws, &ModelSpec::from_template(t, None)?, is_default).await
}

/// Finds a model of `ws`, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> CoreResult<journey_model::Model> {
    journey_model::Entity::find_by_id(id)
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("journey model"))
}

/// Finds an active stage of `ws`, or NOT_FOUND: a removed stage cannot change.
pub async fn find_stage(db: &impl ConnectionTrait, ws: Uuid, id: Uuid) -> CoreResult<stage::Model> {
    stage::Entity::find_by_id(id)
        .filter(stage::Column::WorkspaceId.eq(ws))
        .filter(stage::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or(CoreError::not_found("stage"))
}

/// The models of `ws`, oldest first (ids are time-ordered).
pub async fn list(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<Vec<journey_model::Model>> {
    Ok(journey_model::Entity::find()
        .filter(journey_model::Column::WorkspaceId.eq(ws))
        .order_by_asc(journey_model::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(key: &str) -> NewStage {
        NewStage {
            key: key.to_owned(),
            name: key.to_uppercase(),
            owner_team: OwnerTeam::Sales,
            target_duration_secs: Some(86_400),
            continuous: false,
            parent_key: None,
            entry_kinds: vec![],
            entry_channels: vec![],
            playbook: vec![],
        }
    }

    fn custom(stages: Vec<NewStage>) -> NewModel {
        NewModel {
            name: None,
            template: JourneyTemplate::Custom,
            stages: Some(stages),
            circular: false,
            loop_to_stage_key: None,
        }
    }

    fn refusal(new: NewModel) -> String {
        let err = ModelSpec::resolve(new)
            .and_then(|spec| spec.check())
            .unwrap_err();
        assert!(matches!(err, CoreError::InvalidInput { field: None, .. }));
        err.to_string()
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let s = stage("a");
        assert!(check_stages(&[s.clone(), s], None).is_err());
    }

    #[test]
    fn a_circular_model_needs_a_loop_stage() {
        let new = NewModel {
            circular: true,
            ..custom(vec![stage("a")])
        };
        assert_eq!(refusal(new), "a circular model needs `loopToStageKey`");
        let new = NewModel {
            circular: true,
            loop_to_stage_key: Some("zz".into()),
            ..custom(vec![stage("a")])
        };
        assert_eq!(refusal(new), "unknown loop stage `zz`");
    }

    #[test]
    fn a_model_has_1_to_50_stages() {
        let stages = |n: usize| (0..n).map(|i| stage(&format!("s{i}"))).collect();
        let message = "a journey model has 1 to 50 stages";
        assert_eq!(refusal(custom(stages(0))), message);
        assert_eq!(refusal(custom(stages(51))), message);
        let fifty = ModelSpec::resolve(custom(stages(50))).unwrap();
        fifty.check().unwrap();
        assert_eq!(fifty.name, "Custom journey");
    }

    #[test]
    fn custom_keys_are_trimmed_before_they_are_checked() {
        let mut padded = stage(" a ");
        padded.entry_kinds = vec![" demo.requested".into()];
        let spec = ModelSpec::resolve(custom(vec![padded])).unwrap();
        spec.check().unwrap();
        assert_eq!(spec.stages[0].key, "a");
        assert_eq!(spec.stages[0].entry_kinds, ["demo.requested"]);
        assert_eq!(
            refusal(custom(vec![stage("Bad Key")])),
            "stage key `Bad Key` must be 1 to 64 of a-z, 0-9 and _"
        );
    }

    #[test]
    fn stages_belong_to_custom_models_only() {
        let aida = NewModel {
            template: JourneyTemplate::Aida,
            ..custom(vec![stage("a")])
        };
        assert_eq!(refusal(aida), "`stages` are only for CUSTOM models");
        let bare = NewModel {
            stages: None,
            ..custom(vec![])
        };
        assert_eq!(refusal(bare), "a CUSTOM model needs `stages`");
        let mut under_nothing = stage("a");
        under_nothing.parent_key = Some("zz".into());
        assert_eq!(
            refusal(custom(vec![under_nothing])),
            "unknown parent stage `zz`"
        );
    }
}
