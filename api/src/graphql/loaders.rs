//! Batched loading of nested lists, so a page of parents costs a fixed number of
//! statements whatever its size.
//!
//! Every loader is confined to the request's workspace. Nested connections load
//! "the first N children of each parent" with one windowed query per distinct
//! page (`ROW_NUMBER() OVER (PARTITION BY parent …)`), which both backends run.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{
    account, account_domain, consent, identity, journey_model, lifecycle_change, membership,
    score_contribution, scoring_rule, stage, stage_transition, stakeholder, sync_run, touchpoint,
};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, WindowStatement};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use super::pagination::{Keyset, Page};

/// The request's loader: one struct, a `Loader` impl per key type.
pub struct Batch {
    pub db: DatabaseConnection,
    pub workspace: Uuid,
}

pub type LoadError = Arc<DbErr>;

/// Loads the first `page.size + 1` rows of each group, in page fetch order.
async fn first_of_each<E>(
    db: &DatabaseConnection,
    base: Select<E>,
    group: E::Column,
    keyset: Keyset<E::Column>,
    page: &Page,
    group_of: impl Fn(&E::Model) -> Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let mut window = WindowStatement::partition_by(group);
    for (col, order) in keyset.fetch_order(page) {
        window.order_by(col, order);
    }
    let mut inner = base.filter(keyset.condition(page)).into_query();
    inner.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("rn"));
    let limit = i64::try_from(page.size + 1).unwrap_or(i64::MAX);
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("rn")).lte(limit))
        .order_by(Alias::new("rn"), sea_orm::Order::Asc)
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    let rows = E::find().from_raw_sql(stmt).all(db).await?;
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    for row in rows {
        if let Some(key) = group_of(&row) {
            grouped.entry(key).or_default().push(row);
        }
    }
    Ok(grouped)
}

/// Groups keys that share a page, so each distinct page is one query.
fn by_page<K: Clone, P: Eq + std::hash::Hash + Clone>(
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

async fn count_by<E: EntityTrait>(
    db: &DatabaseConnection,
    base: Select<E>,
    group: E::Column,
) -> Result<HashMap<Uuid, u64>, DbErr> {
    let rows: Vec<(Uuid, i64)> = base
        .select_only()
        .column(group)
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .group_by(group)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
        .collect())
}

macro_rules! by_id_loader {
    ($key:ident, $entity:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Batch {
            type Value = $entity::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                let rows = $entity::Entity::find()
                    .filter($entity::Column::WorkspaceId.eq(self.workspace))
                    .filter($entity::Column::Id.is_in(ids))
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id_loader!(AccountById, account);
by_id_loader!(StakeholderById, stakeholder);
by_id_loader!(TouchpointById, touchpoint);
by_id_loader!(JourneyModelById, journey_model);
by_id_loader!(StageById, stage);

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
        let model = journey_model::Entity::find()
            .filter(journey_model::Column::WorkspaceId.eq(self.workspace))
            .filter(journey_model::Column::IsDefault.eq(true))
            .order_by_asc(journey_model::Column::Id)
            .one(&self.db)
            .await?;
        Ok(model.map(|m| (DefaultModel, m)).into_iter().collect())
    }
}

/// A stakeholder's stored score contributions, with their rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContributionsOf(pub Uuid);

impl Loader<ContributionsOf> for Batch {
    type Value = Vec<(score_contribution::Model, scoring_rule::Model)>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ContributionsOf],
    ) -> Result<HashMap<ContributionsOf, Self::Value>, LoadError> {
        let rows = score_contribution::Entity::find()
            .filter(score_contribution::Column::WorkspaceId.eq(self.workspace))
            .filter(score_contribution::Column::StakeholderId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        let rules: HashMap<Uuid, scoring_rule::Model> = scoring_rule::Entity::find()
            .filter(scoring_rule::Column::WorkspaceId.eq(self.workspace))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut out: HashMap<ContributionsOf, Self::Value> = HashMap::new();
        for c in rows {
            if let Some(rule) = rules.get(&c.rule_id) {
                out.entry(ContributionsOf(c.stakeholder_id))
                    .or_default()
                    .push((c, rule.clone()));
            }
        }
        for parts in out.values_mut() {
            parts.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        }
        Ok(out)
    }
}

/// The stakeholders of an account (every membership, unpaged), for roll-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembersOf(pub Uuid);

impl Loader<MembersOf> for Batch {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[MembersOf]) -> Result<HashMap<MembersOf, Vec<Uuid>>, LoadError> {
        let rows: Vec<(Uuid, Uuid)> = membership::Entity::find()
            .select_only()
            .columns([
                membership::Column::AccountId,
                membership::Column::StakeholderId,
            ])
            .filter(membership::Column::WorkspaceId.eq(self.workspace))
            .filter(membership::Column::AccountId.is_in(keys.iter().map(|k| k.0)))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<MembersOf, Vec<Uuid>> = HashMap::new();
        for (account, person) in rows {
            out.entry(MembersOf(account)).or_default().push(person);
        }
        Ok(out)
    }
}

/// The lifecycle changes of one account or stakeholder, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LifecycleOf(pub crate::lifecycle::Subject);

impl Loader<LifecycleOf> for Batch {
    type Value = Vec<lifecycle_change::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LifecycleOf],
    ) -> Result<HashMap<LifecycleOf, Self::Value>, LoadError> {
        use crate::lifecycle::Subject;
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
        let rows = crate::lifecycle::changes_of(&self.db, self.workspace, accounts, people).await?;
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

/// A stakeholder's consents, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsentsOf(pub Uuid);

impl Loader<ConsentsOf> for Batch {
    type Value = Vec<consent::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ConsentsOf],
    ) -> Result<HashMap<ConsentsOf, Self::Value>, LoadError> {
        let rows = consent::Entity::find()
            .filter(consent::Column::WorkspaceId.eq(self.workspace))
            .filter(consent::Column::StakeholderId.is_in(keys.iter().map(|k| k.0)))
            .order_by_desc(consent::Column::RecordedAt)
            .order_by_desc(consent::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<ConsentsOf, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(ConsentsOf(row.stakeholder_id))
                .or_default()
                .push(row);
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
        let paths: Vec<TransitionsOf> = keys
            .iter()
            .map(|k| TransitionsOf {
                account: k.account,
                model: k.model,
            })
            .collect();
        let paths = self.load(&paths).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let path = paths.get(&TransitionsOf {
                    account: k.account,
                    model: k.model,
                })?;
                // A move at the same instant counts: it is the touchpoint's own move.
                let last = path.iter().take_while(|t| t.occurred_at <= k.at).last()?;
                Some((*k, last.to_stage_id))
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
        let rows = stage_transition::Entity::find()
            .filter(stage_transition::Column::WorkspaceId.eq(self.workspace))
            .filter(stage_transition::Column::AccountId.is_in(keys.iter().map(|k| k.account)))
            .filter(stage_transition::Column::ModelId.is_in(keys.iter().map(|k| k.model)))
            .order_by_asc(stage_transition::Column::OccurredAt)
            .order_by_asc(stage_transition::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<TransitionsOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(list) = out.get_mut(&TransitionsOf {
                account: row.account_id,
                model: row.model_id,
            }) {
                list.push(row);
            }
        }
        Ok(out)
    }
}

/// An account's domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DomainsOf(pub Uuid);

impl Loader<DomainsOf> for Batch {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(&self, keys: &[DomainsOf]) -> Result<HashMap<DomainsOf, Vec<String>>, LoadError> {
        let rows = account_domain::Entity::find()
            .filter(account_domain::Column::WorkspaceId.eq(self.workspace))
            .filter(account_domain::Column::AccountId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(account_domain::Column::Domain)
            .all(&self.db)
            .await?;
        let mut out: HashMap<DomainsOf, Vec<String>> = HashMap::new();
        for row in rows {
            out.entry(DomainsOf(row.account_id))
                .or_default()
                .push(row.domain);
        }
        Ok(out)
    }
}

/// A stakeholder's identities, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentitiesOf(pub Uuid);

impl Loader<IdentitiesOf> for Batch {
    type Value = Vec<identity::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[IdentitiesOf],
    ) -> Result<HashMap<IdentitiesOf, Self::Value>, LoadError> {
        let rows = identity::Entity::find()
            .filter(identity::Column::WorkspaceId.eq(self.workspace))
            .filter(identity::Column::StakeholderId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(identity::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<IdentitiesOf, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(IdentitiesOf(row.stakeholder_id))
                .or_default()
                .push(row);
        }
        Ok(out)
    }
}

/// A journey model's stages, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StagesOf(pub Uuid);

impl Loader<StagesOf> for Batch {
    type Value = Vec<stage::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[StagesOf]) -> Result<HashMap<StagesOf, Self::Value>, LoadError> {
        let rows = stage::Entity::find()
            .filter(stage::Column::WorkspaceId.eq(self.workspace))
            .filter(stage::Column::ModelId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(stage::Column::Position)
            .order_by_asc(stage::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<StagesOf, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(StagesOf(row.model_id)).or_default().push(row);
        }
        Ok(out)
    }
}

/// Which side of a membership a list hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipSide {
    /// The stakeholders of an account.
    Account,
    /// The accounts of a stakeholder.
    Stakeholder,
}

impl MembershipSide {
    fn column(self) -> membership::Column {
        match self {
            Self::Account => membership::Column::AccountId,
            Self::Stakeholder => membership::Column::StakeholderId,
        }
    }

    fn parent(self, m: &membership::Model) -> Uuid {
        match self {
            Self::Account => m.account_id,
            Self::Stakeholder => m.stakeholder_id,
        }
    }
}

/// A page of memberships of one account or one stakeholder, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MembershipsOf {
    pub side: MembershipSide,
    pub parent: Uuid,
    pub page: Page,
}

pub const MEMBERSHIP_ORDER: &str = "membership";
pub const MEMBERSHIP_KEYSET: Keyset<membership::Column> = Keyset {
    key: None,
    id: membership::Column::Id,
    descending: false,
};

impl Loader<MembershipsOf> for Batch {
    type Value = Vec<membership::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembershipsOf],
    ) -> Result<HashMap<MembershipsOf, Self::Value>, LoadError> {
        let mut out = HashMap::new();
        for ((side, page), parents) in by_page(keys, |k| (k.parent, (k.side, k.page.clone()))) {
            let base = membership::Entity::find()
                .filter(membership::Column::WorkspaceId.eq(self.workspace))
                .filter(side.column().is_in(parents.clone()));
            let mut rows = first_of_each(
                &self.db,
                base,
                side.column(),
                MEMBERSHIP_KEYSET,
                &page,
                |m| Some(side.parent(m)),
            )
            .await?;
            for parent in parents {
                let key = MembershipsOf {
                    side,
                    parent,
                    page: page.clone(),
                };
                out.insert(key, rows.remove(&parent).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

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
            let base = membership::Entity::find()
                .filter(membership::Column::WorkspaceId.eq(self.workspace))
                .filter(side.column().is_in(ids.clone()));
            let counts = count_by(&self.db, base, side.column()).await?;
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

/// Whose touchpoints a nested list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TouchpointOwner {
    Account,
    Stakeholder,
}

impl TouchpointOwner {
    pub fn column(self) -> touchpoint::Column {
        match self {
            Self::Account => touchpoint::Column::AccountId,
            Self::Stakeholder => touchpoint::Column::StakeholderId,
        }
    }

    fn parent(self, t: &touchpoint::Model) -> Option<Uuid> {
        match self {
            Self::Account => t.account_id,
            Self::Stakeholder => t.stakeholder_id,
        }
    }
}

/// A page of one account's or stakeholder's touchpoints, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TouchpointsOf {
    pub owner: TouchpointOwner,
    pub parent: Uuid,
    pub page: Page,
}

impl Loader<TouchpointsOf> for Batch {
    type Value = Vec<touchpoint::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TouchpointsOf],
    ) -> Result<HashMap<TouchpointsOf, Self::Value>, LoadError> {
        let mut out = HashMap::new();
        for ((owner, page), parents) in by_page(keys, |k| (k.parent, (k.owner, k.page.clone()))) {
            let base = touchpoint::Entity::find()
                .filter(touchpoint::Column::WorkspaceId.eq(self.workspace))
                .filter(owner.column().is_in(parents.clone()));
            let keyset = crate::touchpoints::NEWEST_FIRST;
            let mut rows = first_of_each(&self.db, base, owner.column(), keyset, &page, |t| {
                owner.parent(t)
            })
            .await?;
            for parent in parents {
                let key = TouchpointsOf {
                    owner,
                    parent,
                    page: page.clone(),
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
            let base = touchpoint::Entity::find()
                .filter(touchpoint::Column::WorkspaceId.eq(self.workspace))
                .filter(owner.column().is_in(ids.clone()));
            let counts = count_by(&self.db, base, owner.column()).await?;
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

/// A connector's newest sync run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastRunOf(pub Uuid);

impl Loader<LastRunOf> for Batch {
    type Value = sync_run::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[LastRunOf]) -> Result<HashMap<LastRunOf, Self::Value>, LoadError> {
        let base = sync_run::Entity::find()
            .filter(sync_run::Column::WorkspaceId.eq(self.workspace))
            .filter(sync_run::Column::ConnectorId.is_in(keys.iter().map(|k| k.0)));
        let newest = Keyset {
            key: None,
            id: sync_run::Column::Id,
            descending: true,
        };
        let one = Page {
            size: 0,
            backward: false,
            after: None,
            before: None,
        };
        let column = sync_run::Column::ConnectorId;
        let runs = first_of_each(&self.db, base, column, newest, &one, |r| {
            Some(r.connector_id)
        })
        .await?;
        Ok(runs
            .into_iter()
            .filter_map(|(connector, rows)| Some((LastRunOf(connector), rows.into_iter().next()?)))
            .collect())
    }
}
