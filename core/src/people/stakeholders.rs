//! Stakeholders: the people at accounts (or not yet at any), with their
//! identities and lifecycle.

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, DmuRole, IdentityKind, Lifecycle};
use entity::{consent, stakeholder};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::lifecycle::{self, Change, Subject};
use crate::page::{Keyset, Page, Position, SortKey};
use crate::patch::Patch;
use crate::people::accounts::{like, like_pattern};
use crate::people::identities::{self, normalise, normalise_email};
use crate::people::{accounts, memberships};
use crate::{CoreError, CoreResult, scoring, time};

/// Which stakeholders to list.
#[derive(Debug, Clone, Default)]
pub struct StakeholderFilter {
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// Case-insensitive text in the name or email.
    pub search: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Compared with the stored score, kept up to date with decay at least daily.
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// People who may be contacted on this channel now (`privacy::can_contact`).
    pub contactable_on: Option<Channel>,
}

/// What stakeholders are sorted by; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StakeholderSort {
    #[default]
    CreatedAt,
    UpdatedAt,
}

/// An ordering of stakeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StakeholderOrder {
    pub sort: StakeholderSort,
    pub descending: bool,
}

impl StakeholderOrder {
    pub fn keyset(self) -> Keyset<stakeholder::Column> {
        let key = match self.sort {
            StakeholderSort::CreatedAt => stakeholder::Column::CreatedAt,
            StakeholderSort::UpdatedAt => stakeholder::Column::UpdatedAt,
        };
        Keyset {
            key: Some(key),
            id: stakeholder::Column::Id,
            descending: self.descending,
        }
    }

    /// Where `s` stands in this ordering.
    pub fn position(self, s: &stakeholder::Model) -> Position {
        let key = match self.sort {
            StakeholderSort::CreatedAt => s.created_at,
            StakeholderSort::UpdatedAt => s.updated_at,
        };
        Position {
            key: SortKey::Time(key),
            id: s.id,
        }
    }
}

/// `privacy::can_contact` as a condition on the `stakeholders` rows of a query: the
/// newest consent on `channel`, one step of the consents' index per person.
fn contactable_on(channel: Channel) -> Expr {
    let newest = Query::select()
        .column(consent::Column::Granted)
        .from(consent::Entity)
        .and_where(
            Expr::col((consent::Entity, consent::Column::StakeholderId))
                .equals((stakeholder::Entity, stakeholder::Column::Id)),
        )
        .and_where(Expr::col((consent::Entity, consent::Column::Channel)).eq(channel))
        .order_by((consent::Entity, consent::Column::RecordedAt), Order::Desc)
        .order_by((consent::Entity, consent::Column::Id), Order::Desc)
        .limit(1)
        .to_owned();
    Expr::col((stakeholder::Entity, stakeholder::Column::ErasedAt))
        .is_null()
        .and(Expr::SubQuery(None, Box::new(newest.into())).eq(true))
}

fn filter_condition(workspace: Uuid, filter: &StakeholderFilter) -> CoreResult<Condition> {
    let mut cond = Condition::all().add(stakeholder::Column::WorkspaceId.eq(workspace));
    if let Some(lifecycles) = &filter.lifecycle {
        cond = cond.add(stakeholder::Column::Lifecycle.is_in(lifecycles.clone()));
    }
    if let Some(text) = filter.search.as_deref().filter(|t| !t.trim().is_empty()) {
        if text.len() > 200 {
            return Err(CoreError::invalid_field(
                "search",
                "`search` must be at most 200 characters",
            ));
        }
        let pattern = like_pattern(text);
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(stakeholder::Column::Name)))
                        .like(like(pattern.clone())),
                )
                .add(Expr::col(stakeholder::Column::Email).like(like(pattern))),
        );
    }
    if let Some(since) = filter.updated_since {
        cond = cond.add(stakeholder::Column::UpdatedAt.gte(time::to_micros(since)));
    }
    if let Some(min) = filter.min_score {
        cond = cond.add(stakeholder::Column::Score.gte(min));
    }
    if let Some(max) = filter.max_score {
        cond = cond.add(stakeholder::Column::Score.lte(max));
    }
    if let Some(channel) = filter.contactable_on {
        cond = cond.add(contactable_on(channel));
    }
    Ok(cond)
}

/// A page of the workspace's stakeholders (one row more than the page, to
/// tell whether more follow; see `page::finish`).
pub async fn list(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &StakeholderFilter,
    order: StakeholderOrder,
    page: &Page,
) -> CoreResult<Vec<stakeholder::Model>> {
    let base = stakeholder::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(order.keyset().fetch(db, base, page).await?)
}

/// How many stakeholders `filter` lets through.
pub async fn count(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    filter: &StakeholderFilter,
) -> CoreResult<u64> {
    let base = stakeholder::Entity::find().filter(filter_condition(workspace, filter)?);
    Ok(base.count(db).await?)
}

/// Finds a stakeholder of `workspace` by id, or NOT_FOUND.
pub async fn find(
    db: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
) -> CoreResult<stakeholder::Model> {
    stakeholder::Entity::find_by_id(id)
        .filter(stakeholder::Column::WorkspaceId.eq(workspace))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("stakeholder"))
}

fn check_text(field: &'static str, value: &str, max: usize) -> CoreResult<Option<String>> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(CoreError::invalid_field(
            field,
            format!("`{field}` must be at most {max} characters"),
        ));
    }
    Ok(Some(value.to_owned()).filter(|v| !v.is_empty()))
}

fn check_identities(raw: &[(IdentityKind, String)]) -> CoreResult<Vec<(IdentityKind, String)>> {
    if raw.len() > 50 {
        return Err(CoreError::invalid("at most 50 identities at once"));
    }
    raw.iter()
        .map(|(kind, value)| Ok((*kind, normalise(*kind, value)?)))
        .collect()
}

/// A new stakeholder's checked fields.
pub struct NewStakeholder {
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub lifecycle: Lifecycle,
    pub identities: Vec<(IdentityKind, String)>,
    /// When the person was first seen: the time their first lifecycle is recorded at.
    pub seen_at: DateTime<Utc>,
}

/// Inserts a stakeholder and its identities; CONFLICT when an identity is taken.
pub async fn insert(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    new: NewStakeholder,
) -> CoreResult<stakeholder::Model> {
    let seen_at = new.seen_at;
    let now = time::now();
    let model = stakeholder::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(workspace),
        name: Set(new.name),
        email: Set(new.email.clone()),
        title: Set(new.title),
        lifecycle: Set(new.lifecycle),
        score: Set(0.0),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
    .insert(txn)
    .await?;
    let email = new.email.map(|e| (IdentityKind::Email, e));
    for (kind, value) in email.into_iter().chain(new.identities) {
        identities::attach(txn, workspace, model.id, kind, &value).await?;
    }
    let cause = if model.email.is_some() {
        "left their details"
    } else {
        "first seen"
    };
    let change = Change {
        from: None,
        to: model.lifecycle,
        at: seen_at,
        cause,
        actor: None,
        touchpoint: None,
    };
    lifecycle::record(txn, workspace, Subject::Stakeholder(model.id), change).await?;
    Ok(model)
}

/// A stakeholder as a caller describes them, before any check.
#[derive(Debug, Clone, Default)]
pub struct StakeholderDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    /// LEAD with an email (they left their details), else VISITOR, when not given.
    pub lifecycle: Option<Lifecycle>,
    /// More identities, normalised here.
    pub identities: Vec<(IdentityKind, String)>,
    /// An account to join at once, with a role in its decision-making unit.
    pub account: Option<(Uuid, Option<DmuRole>)>,
}

/// Creates a stakeholder with identities, optionally joining an account.
pub async fn create(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    details: StakeholderDetails,
) -> CoreResult<stakeholder::Model> {
    let email = details.email.as_deref().map(normalise_email).transpose()?;
    let new = NewStakeholder {
        seen_at: time::now(),
        name: details
            .name
            .as_deref()
            .map(|n| check_text("name", n, 200))
            .transpose()?
            .flatten(),
        lifecycle: details.lifecycle.unwrap_or(if email.is_some() {
            Lifecycle::Lead
        } else {
            Lifecycle::Visitor
        }),
        email,
        title: details
            .title
            .as_deref()
            .map(|t| check_text("title", t, 200))
            .transpose()?
            .flatten(),
        identities: check_identities(&details.identities)?,
    };
    if let Some((account, _)) = details.account {
        accounts::find(txn, workspace, account).await?;
    }
    let model = insert(txn, workspace, new).await?;
    if let Some((account, role)) = details.account {
        memberships::upsert(txn, workspace, account, model.id, role, None).await?;
    }
    Ok(model)
}

/// Changes to a stakeholder; `None` and `Patch::Keep` leave a field alone.
#[derive(Debug, Clone, Default)]
pub struct StakeholderChanges {
    pub name: Patch<String>,
    /// A new primary email, also added as an EMAIL identity; a clear empties
    /// the field but keeps the identities.
    pub email: Patch<String>,
    pub title: Patch<String>,
    /// Recorded as a change made by hand by the actor.
    pub lifecycle: Option<Lifecycle>,
    /// Identities to add, normalised here.
    pub add_identities: Vec<(IdentityKind, String)>,
}

/// Changes a stakeholder's fields and adds identities. A VISITOR given an
/// email has left their details and becomes a LEAD, unless the same change
/// sets the lifecycle by hand.
pub async fn update(
    txn: &impl ConnectionTrait,
    workspace: Uuid,
    id: Uuid,
    changes: StakeholderChanges,
    actor: &str,
) -> CoreResult<stakeholder::Model> {
    let added = check_identities(&changes.add_identities)?;
    let current = find(txn, workspace, id).await?;
    let before = current.lifecycle;
    let mut model: stakeholder::ActiveModel = current.into();
    changes
        .name
        .apply(&mut model.name, |v| check_text("name", &v, 200))?;
    let mut new_email = None;
    changes.email.apply(&mut model.email, |v| {
        let email = normalise_email(&v)?;
        new_email = Some(email.clone());
        Ok(Some(email))
    })?;
    changes
        .title
        .apply(&mut model.title, |v| check_text("title", &v, 200))?;
    let left_details = new_email.is_some() && before == Lifecycle::Visitor;
    let change = match changes.lifecycle {
        Some(lifecycle) => Some((lifecycle, "set by hand", Some(actor))),
        None if left_details => Some((Lifecycle::Lead, "left their details", None)),
        None => None,
    };
    if let Some((lifecycle, cause, actor)) = change.filter(|(l, _, _)| *l != before) {
        model.lifecycle = Set(lifecycle);
        let change = Change {
            from: Some(before),
            to: lifecycle,
            at: time::now(),
            cause,
            actor,
            touchpoint: None,
        };
        lifecycle::record(txn, workspace, Subject::Stakeholder(id), change).await?;
    }
    model.updated_at = Set(time::now());
    let updated = model.update(txn).await?;
    let email = new_email.map(|e| (IdentityKind::Email, e));
    for (kind, value) in email.into_iter().chain(added) {
        identities::attach(txn, workspace, id, kind, &value).await?;
    }
    Ok(updated)
}

/// Deletes a stakeholder with identities and memberships; their touchpoints
/// stay with the account. The stored scores of their accounts follow.
pub async fn delete(txn: &impl ConnectionTrait, workspace: Uuid, id: Uuid) -> CoreResult<()> {
    find(txn, workspace, id).await?;
    let accounts: Vec<Uuid> = entity::membership::Entity::find()
        .select_only()
        .column(entity::membership::Column::AccountId)
        .filter(entity::membership::Column::StakeholderId.eq(id))
        .into_tuple()
        .all(txn)
        .await?;
    stakeholder::Entity::delete_by_id(id).exec(txn).await?;
    scoring::memberships_changed(txn, workspace, None, &accounts).await
}
