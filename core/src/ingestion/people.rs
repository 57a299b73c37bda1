//! Who a touchpoint is with and which account it belongs to.

use chrono::{DateTime, Utc};
use entity::vocab::{IdentityKind, Lifecycle};
use entity::{account_domain, account_ref, membership, stakeholder};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{AccountHint, NewPerson, bounded};
use crate::people::accounts;
use crate::people::identities::{self, email_domain};
use crate::people::stakeholders::{self, NewStakeholder};
use crate::{CoreError, CoreResult, lifecycle, time};

/// Finds the person a touchpoint is with, creating them when no identity matches,
/// and gives them the identities they lack.
pub(super) async fn resolve_person(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    identities: &[(IdentityKind, String)],
    person: &NewPerson,
    seen_at: DateTime<Utc>,
) -> CoreResult<stakeholder::Model> {
    let mut owners = Vec::with_capacity(identities.len());
    for (kind, value) in identities {
        owners.push(identities::owner(txn, ws, *kind, value).await?);
    }
    let found = owners.iter().flatten().next().copied();
    let email = identities
        .iter()
        .find(|(k, _)| *k == IdentityKind::Email)
        .map(|(_, v)| v.clone());
    let model = match found {
        Some(id) => enrich(txn, stakeholders::find(txn, ws, id).await?, person).await?,
        None => {
            let new = NewStakeholder {
                seen_at,
                name: bounded("person.name", person.name.clone(), 200)?,
                title: bounded("person.title", person.title.clone(), 200)?,
                lifecycle: if email.is_some() {
                    Lifecycle::Lead
                } else {
                    Lifecycle::Visitor
                },
                email: email.clone(),
                identities: Vec::new(),
            };
            // No identity had an owner: one now is a concurrent batch's.
            stakeholders::insert(txn, ws, new).await.map_err(raced)?
        }
    };
    for ((kind, value), owner) in identities.iter().zip(owners) {
        // An identity already held by someone else is left there: deciding that
        // two records are one person is a merge, not ingestion's call.
        if owner.is_none() {
            identities::attach(txn, ws, model.id, *kind, value)
                .await
                .map_err(raced)?;
        }
    }
    if let (None, Some(email)) = (&model.email, email) {
        // An anonymous visitor left their details: a lead from now on.
        let mut active: stakeholder::ActiveModel = model.clone().into();
        active.email = Set(Some(email));
        active.updated_at = Set(time::now());
        let updated = active.update(txn).await?;
        if updated.lifecycle == Lifecycle::Visitor {
            let change = lifecycle::Change {
                from: Some(Lifecycle::Visitor),
                to: Lifecycle::Lead,
                at: seen_at,
                cause: "left their details",
                actor: None,
                touchpoint: None,
            };
            let subject = lifecycle::Subject::Stakeholder(updated.id);
            lifecycle::set(txn, ws, subject, change).await?;
        }
        return stakeholders::find(txn, ws, updated.id).await;
    }
    Ok(model)
}

/// An identity nobody held a moment ago that someone holds now was attached by
/// a concurrent batch that committed in between: contention, so the batch
/// runs again and finds that person, not a refusal of this item.
fn raced(err: CoreError) -> CoreError {
    match err {
        CoreError::Conflict(message) => CoreError::Contended(sea_orm::DbErr::Custom(message)),
        other => other,
    }
}

/// Fills a known person's missing name and job title from what a touchpoint
/// says of them (a webinar registration, say); never overwrites.
async fn enrich(
    txn: &impl ConnectionTrait,
    model: stakeholder::Model,
    person: &NewPerson,
) -> CoreResult<stakeholder::Model> {
    let name = model.name.is_none().then(|| person.name.clone()).flatten();
    let title = model
        .title
        .is_none()
        .then(|| person.title.clone())
        .flatten();
    if name.is_none() && title.is_none() {
        return Ok(model);
    }
    let mut active: stakeholder::ActiveModel = model.clone().into();
    if let Some(name) = bounded("person.name", name, 200)? {
        active.name = Set(Some(name));
    }
    if let Some(title) = bounded("person.title", title, 200)? {
        active.title = Set(Some(title));
    }
    active.updated_at = Set(time::now());
    Ok(active.update(txn).await?)
}

/// The account a touchpoint belongs to when the caller named none: the one
/// owning the person's email domain, else the person's primary account.
async fn infer_account(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    person: &stakeholder::Model,
) -> CoreResult<Option<Uuid>> {
    if let Some(domain) = person.email.as_deref().and_then(email_domain) {
        let owner = account_domain::Entity::find()
            .filter(account_domain::Column::WorkspaceId.eq(ws))
            .filter(account_domain::Column::Domain.eq(domain))
            .one(txn)
            .await?;
        if let Some(owner) = owner {
            return Ok(Some(owner.account_id));
        }
    }
    let primary = membership::Entity::find()
        .filter(membership::Column::StakeholderId.eq(person.id))
        .order_by_desc(membership::Column::Primary)
        .order_by_asc(membership::Column::Id)
        .one(txn)
        .await?;
    Ok(primary.map(|m| m.account_id))
}

/// The account a touchpoint belongs to when the caller named none: the one
/// `connector`'s organisation id maps to, else the one [`infer_account`] finds,
/// else the account with the organisation's name, created when there is none.
/// An organisation id seen for the first time is mapped to the account found,
/// so later touchpoints from the same organisation land there too.
pub(super) async fn resolve_account(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    connector: Option<Uuid>,
    hint: Option<&AccountHint>,
    person: Option<&stakeholder::Model>,
) -> CoreResult<Option<Uuid>> {
    // Only a connector's organisation ids are its own to map.
    let external_id = connector.zip(hint.and_then(|h| h.external_id.as_deref()));
    if let Some((connector, external_id)) = external_id {
        let key = (connector, external_id.to_owned());
        if let Some(mapped) = account_ref::Entity::find_by_id(key).one(txn).await? {
            return Ok(Some(mapped.account_id));
        }
    }
    let mut account = match person {
        Some(person) => infer_account(txn, ws, person).await?,
        None => None,
    };
    let name = hint
        .and_then(|h| h.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let (None, Some(name)) = (account, name) {
        account = Some(accounts::find_or_create_named(txn, ws, name).await?);
    }
    if let (Some(account_id), Some((connector, external_id))) = (account, external_id) {
        account_ref::ActiveModel {
            workspace_id: Set(ws),
            connector_id: Set(connector),
            external_id: Set(external_id.to_owned()),
            account_id: Set(account_id),
        }
        .insert(txn)
        .await?;
    }
    Ok(account)
}
