//! The per-request `DataLoader`: one struct, a `Loader` impl per key type, each
//! a call to one of `journeys_core::batch`'s reads, so a page of parents costs
//! a fixed number of statements whatever its size.
//!
//! Every loader is confined to the request's workspace.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{
    account, consent, event, identity, journey_model, lifecycle_change, membership,
    score_contribution, scoring_rule, stage, stage_transition, stakeholder, sync_run, touchpoint,
};
use journeys_core::analytics::{Window, sales_engagement, stage_insights};
pub use journeys_core::batch::{Listed, MEMBERSHIP_KEYSET, MembershipSide, Total, TouchpointOwner};
use journeys_core::lifecycle::Subject;
use journeys_core::page::Page;
use journeys_core::people::dmu;
use journeys_core::{CoreError, batch, guidance, lifecycle, scoring};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// The request's loader: one struct, a `Loader` impl per key type.
pub struct Batch {
    pub db: DatabaseConnection,
    pub workspace: Uuid,
}

pub type LoadError = Arc<CoreError>;

/// Groups keys that share a page, so each distinct page is one query.
fn by_page<K, P: Eq + std::hash::Hash + Clone>(
    keys: &[K],
    split: impl Fn(&K) -> (Uuid, P),
) -> HashMap<P, Vec<Uuid>> {
    let mut groups: HashMap<P, Vec<Uuid>> = HashMap::new();
    for key in keys {
        let (id, page) = split(key);
        groups.entry(page).or_default().push(id);
    }
    groups
}

/// Re-keys a map of parent to value by the loader's key type.
fn keyed<P, K: std::hash::Hash + Eq, V>(
    rows: HashMap<P, V>,
    key: impl Fn(P) -> K,
) -> HashMap<K, V> {
    rows.into_iter().map(|(id, v)| (key(id), v)).collect()
}

macro_rules! by_id_loader {
    ($key:ident, $entity:ident, $read:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Batch {
            type Value = $entity::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                let rows = batch::$read(&self.db, self.workspace, &ids).await?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id_loader!(AccountById, account, accounts);
by_id_loader!(StakeholderById, stakeholder, stakeholders);
by_id_loader!(TouchpointById, touchpoint, touchpoints);
by_id_loader!(JourneyModelById, journey_model, journey_models);
by_id_loader!(StageById, stage, stages);
by_id_loader!(EventById, event, events);

/// Declares a loader key over one parent id whose value is `batch::$read`'s.
macro_rules! of_parent_loader {
    ($(#[$doc:meta])* $key:ident, $value:ty, $read:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Batch {
            type Value = $value;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                Ok(keyed(batch::$read(&self.db, self.workspace, &ids).await?, $key))
            }
        }
    };
}

of_parent_loader!(
    /// A stakeholder's stored score contributions (one per rule and account),
    /// with their rules.
    ContributionsOf,
    Vec<(score_contribution::Model, scoring_rule::Model)>,
    contributions_of
);
of_parent_loader!(
    /// The stakeholders of an account (every membership, unpaged), each with
    /// whether it is their primary account, for roll-ups.
    MembersOf,
    Vec<(Uuid, bool)>,
    members_of
);
of_parent_loader!(
    /// A stakeholder's consents, newest first.
    ConsentsOf,
    Vec<consent::Model>,
    consents_of
);
of_parent_loader!(
    /// An account's domains.
    DomainsOf,
    Vec<String>,
    domains_of
);
of_parent_loader!(
    /// A stakeholder's identities, oldest first.
    IdentitiesOf,
    Vec<identity::Model>,
    identities_of
);
of_parent_loader!(
    /// A journey model's stages, by position.
    StagesOf,
    Vec<stage::Model>,
    stages_of
);
of_parent_loader!(
    /// A connector's newest sync run.
    LastRunOf,
    sync_run::Model,
    last_runs
);

/// An account's decision-making unit over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DmuOf {
    pub account: Uuid,
    /// `None` for the default: the 90 days up to the moment of the load, the
    /// same for every account of the batch.
    pub window: Option<Window>,
}

impl Loader<DmuOf> for Batch {
    type Value = dmu::Unit;
    type Error = LoadError;

    async fn load(&self, keys: &[DmuOf]) -> Result<HashMap<DmuOf, dmu::Unit>, LoadError> {
        let mut out = HashMap::new();
        for (asked, accounts) in by_page(keys, |k| (k.account, k.window)) {
            let window = match asked {
                Some(window) => window,
                None => dmu::default_window(journeys_core::time::now())?,
            };
            let units = dmu::units(&self.db, self.workspace, &accounts, window).await?;
            out.extend(keyed(units, |account| DmuOf {
                account,
                window: asked,
            }));
        }
        Ok(out)
    }
}

/// An account's score some whole days before the moment of the load, the
/// same moment for every account of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScoreDaysAgo {
    pub account: Uuid,
    pub days: u16,
}

impl Loader<ScoreDaysAgo> for Batch {
    type Value = f64;
    type Error = LoadError;

    async fn load(&self, keys: &[ScoreDaysAgo]) -> Result<HashMap<ScoreDaysAgo, f64>, LoadError> {
        let now = journeys_core::time::now();
        let mut out = HashMap::new();
        for (days, accounts) in by_page(keys, |k| (k.account, k.days)) {
            let at = now - chrono::Duration::days(i64::from(days));
            let scores =
                scoring::trend::account_scores_at(&self.db, self.workspace, &accounts, at).await?;
            out.extend(keyed(scores, |account| ScoreDaysAgo { account, days }));
        }
        Ok(out)
    }
}

/// What sales did with an account over its whole sales period up to now;
/// absent for an account that never qualified or had no sales touchpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SalesOf(pub Uuid);

impl Loader<SalesOf> for Batch {
    type Value = sales_engagement::AccountEngagement;
    type Error = LoadError;

    async fn load(&self, keys: &[SalesOf]) -> Result<HashMap<SalesOf, Self::Value>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let now = journeys_core::time::now();
        let engaged =
            sales_engagement::account_engagements(&self.db, self.workspace, &ids, now).await?;
        Ok(keyed(engaged, SalesOf))
    }
}

/// The stages of a model (the default model when `None`) an account has
/// been in, with what happened there up to the moment of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaysOf {
    pub account: Uuid,
    pub model: Option<Uuid>,
}

impl Loader<StaysOf> for Batch {
    type Value = Vec<stage_insights::AccountStage>;
    type Error = LoadError;

    async fn load(&self, keys: &[StaysOf]) -> Result<HashMap<StaysOf, Self::Value>, LoadError> {
        let now = journeys_core::time::now();
        let mut out = HashMap::new();
        for (asked, accounts) in by_page(keys, |k| (k.account, k.model)) {
            let model = match asked {
                Some(model) => Some(model),
                None => batch::default_model(&self.db, self.workspace)
                    .await?
                    .map(|m| m.id),
            };
            let Some(model) = model else { continue };
            let stages =
                stage_insights::account_stages(&self.db, self.workspace, model, &accounts, now)
                    .await?;
            out.extend(keyed(stages, |account| StaysOf {
                account,
                model: asked,
            }));
        }
        Ok(out)
    }
}

/// What guidance knows about an account now: its facts and next steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GuidanceOf(pub Uuid);

impl Loader<GuidanceOf> for Batch {
    type Value = Arc<guidance::Guidance>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[GuidanceOf],
    ) -> Result<HashMap<GuidanceOf, Self::Value>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let guided =
            guidance::guide(&self.db, self.workspace, &ids, journeys_core::time::now()).await?;
        Ok(guided
            .into_iter()
            .map(|(id, g)| (GuidanceOf(id), Arc::new(g)))
            .collect())
    }
}

/// The workspace's default journey model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DefaultModel;

impl Loader<DefaultModel> for Batch {
    type Value = journey_model::Model;
    type Error = LoadError;

    async fn load(
        &self,
        _: &[DefaultModel],
    ) -> Result<HashMap<DefaultModel, Self::Value>, LoadError> {
        let model = batch::default_model(&self.db, self.workspace).await?;
        Ok(model.map(|m| (DefaultModel, m)).into_iter().collect())
    }
}

/// The lifecycle changes of one account or stakeholder, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LifecycleOf(pub Subject);

impl Loader<LifecycleOf> for Batch {
    type Value = Vec<lifecycle_change::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LifecycleOf],
    ) -> Result<HashMap<LifecycleOf, Self::Value>, LoadError> {
        let accounts = keys
            .iter()
            .filter_map(|k| match k.0 {
                Subject::Account(id) => Some(id),
                _ => None,
            })
            .collect();
        let people = keys
            .iter()
            .filter_map(|k| match k.0 {
                Subject::Stakeholder(id) => Some(id),
                _ => None,
            })
            .collect();
        let rows = lifecycle::changes_of(&self.db, self.workspace, accounts, people).await?;
        let mut out: HashMap<LifecycleOf, Self::Value> = HashMap::new();
        for row in rows {
            let subject = match (row.account_id, row.stakeholder_id) {
                (Some(a), _) => Subject::Account(a),
                (None, Some(s)) => Subject::Stakeholder(s),
                (None, None) => continue,
            };
            out.entry(LifecycleOf(subject)).or_default().push(row);
        }
        Ok(out)
    }
}

/// The stage an account was in, in one model, at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StageAt {
    pub account: Uuid,
    pub model: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Loader<StageAt> for Batch {
    type Value = Uuid;
    type Error = LoadError;

    async fn load(&self, keys: &[StageAt]) -> Result<HashMap<StageAt, Uuid>, LoadError> {
        let paths: Vec<(Uuid, Uuid)> = keys.iter().map(|k| (k.account, k.model)).collect();
        let paths = batch::transitions_of(&self.db, self.workspace, &paths).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let path = paths.get(&(k.account, k.model))?;
                Some((*k, batch::stage_at(path, k.at)?))
            })
            .collect())
    }
}

/// An account's moves through one model, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransitionsOf {
    pub account: Uuid,
    pub model: Uuid,
}

impl Loader<TransitionsOf> for Batch {
    type Value = Vec<stage_transition::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TransitionsOf],
    ) -> Result<HashMap<TransitionsOf, Self::Value>, LoadError> {
        let paths: Vec<(Uuid, Uuid)> = keys.iter().map(|k| (k.account, k.model)).collect();
        let rows = batch::transitions_of(&self.db, self.workspace, &paths).await?;
        Ok(keyed(rows, |(account, model)| TransitionsOf {
            account,
            model,
        }))
    }
}

/// Declares the loader of a page of memberships seen from one side, each
/// with its other side, and the parent's count when asked.
macro_rules! memberships_loader {
    ($(#[$doc:meta])* $key:ident, $other:ident, $read:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $key {
            pub parent: Uuid,
            pub page: Page,
            pub total: Total,
        }

        impl Loader<$key> for Batch {
            type Value = Listed<(membership::Model, $other::Model)>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, LoadError> {
                let mut out = HashMap::new();
                for ((page, total), parents) in by_page(keys, |k| (k.parent, (k.page.clone(), k.total))) {
                    let mut rows =
                        batch::$read(&self.db, self.workspace, &parents, &page, total).await?;
                    for parent in parents {
                        let key = $key { parent, page: page.clone(), total };
                        out.insert(key, rows.remove(&parent).unwrap_or_default());
                    }
                }
                Ok(out)
            }
        }
    };
}

memberships_loader!(
    /// A page of an account's memberships, oldest first, with their stakeholders.
    StakeholdersOf,
    stakeholder,
    stakeholders_of
);
memberships_loader!(
    /// A page of a stakeholder's memberships, oldest first, with their accounts.
    AccountsOf,
    account,
    accounts_of
);

pub const MEMBERSHIP_ORDER: &str = "membership";

/// How many memberships one account or stakeholder has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembershipCount(pub MembershipSide, pub Uuid);

impl Loader<MembershipCount> for Batch {
    type Value = u64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembershipCount],
    ) -> Result<HashMap<MembershipCount, u64>, LoadError> {
        let mut out = HashMap::new();
        for side in [MembershipSide::Account, MembershipSide::Stakeholder] {
            let ids: Vec<Uuid> = keys.iter().filter(|k| k.0 == side).map(|k| k.1).collect();
            if ids.is_empty() {
                continue;
            }
            let counts = batch::membership_counts(&self.db, self.workspace, side, &ids).await?;
            for id in ids {
                out.insert(
                    MembershipCount(side, id),
                    counts.get(&id).copied().unwrap_or(0),
                );
            }
        }
        Ok(out)
    }
}

/// A page of one account's or stakeholder's touchpoints, newest first, and
/// their count when asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TouchpointsOf {
    pub owner: TouchpointOwner,
    pub parent: Uuid,
    pub page: Page,
    pub total: Total,
}

impl Loader<TouchpointsOf> for Batch {
    type Value = Listed<touchpoint::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TouchpointsOf],
    ) -> Result<HashMap<TouchpointsOf, Self::Value>, LoadError> {
        let mut out = HashMap::new();
        let groups = by_page(keys, |k| (k.parent, (k.owner, k.page.clone(), k.total)));
        for ((owner, page, total), parents) in groups {
            let keyset = crate::touchpoints::NEWEST_FIRST;
            let mut rows = batch::touchpoints_of(
                &self.db,
                self.workspace,
                owner,
                &parents,
                keyset,
                &page,
                total,
            )
            .await?;
            for parent in parents {
                let key = TouchpointsOf {
                    owner,
                    parent,
                    page: page.clone(),
                    total,
                };
                out.insert(key, rows.remove(&parent).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

/// How many touchpoints one account or stakeholder has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TouchpointCount(pub TouchpointOwner, pub Uuid);

impl Loader<TouchpointCount> for Batch {
    type Value = u64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TouchpointCount],
    ) -> Result<HashMap<TouchpointCount, u64>, LoadError> {
        let mut out = HashMap::new();
        for owner in [TouchpointOwner::Account, TouchpointOwner::Stakeholder] {
            let ids: Vec<Uuid> = keys.iter().filter(|k| k.0 == owner).map(|k| k.1).collect();
            if ids.is_empty() {
                continue;
            }
            let counts = batch::touchpoint_counts(&self.db, self.workspace, owner, &ids).await?;
            for id in ids {
                out.insert(
                    TouchpointCount(owner, id),
                    counts.get(&id).copied().unwrap_or(0),
                );
            }
        }
        Ok(out)
    }
}
