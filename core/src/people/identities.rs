//! Identity values: normalisation and validation, one rule per kind.
//!
//! Pure functions, no database: the store relies on them to keep
//! `(workspace, kind, value)` unique for every spelling of the same identity.

use entity::identity;
use entity::vocab::IdentityKind;

use crate::{CoreError, CoreResult};

/// Normalises `value` for `kind`, or says why it is not a valid value.
pub fn normalise(kind: IdentityKind, value: &str) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CoreError::invalid(format!("empty {kind:?} identity")));
    }
    if value.len() > 320 {
        return Err(CoreError::invalid(format!("{kind:?} identity is too long")));
    }
    match kind {
        IdentityKind::Email => normalise_email(value),
        IdentityKind::TwitterHandle => {
            let handle = value.trim_start_matches('@').to_ascii_lowercase();
            let valid = !handle.is_empty()
                && handle.len() <= 15
                && handle
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Ok(handle)
            } else {
                Err(CoreError::invalid(format!(
                    "`{value}` is not a Twitter handle"
                )))
            }
        }
        IdentityKind::TwitterUserId | IdentityKind::ZendeskUserId => {
            if value.chars().all(|c| c.is_ascii_digit()) {
                Ok(value.to_owned())
            } else {
                Err(CoreError::invalid(format!(
                    "`{value}` is not a numeric user id"
                )))
            }
        }
        IdentityKind::Phone => {
            let digits: String = value.chars().filter(|c| c.is_ascii_digit()).collect();
            let plus = if value.starts_with('+') { "+" } else { "" };
            if (6..=15).contains(&digits.len()) {
                Ok(format!("{plus}{digits}"))
            } else {
                Err(CoreError::invalid(format!(
                    "`{value}` is not a phone number"
                )))
            }
        }
        IdentityKind::ZoomRegistrantId | IdentityKind::AnonymousId => Ok(value.to_owned()),
        IdentityKind::VendorUserId => {
            // The system's name is case-blind; the id within it is kept as is.
            let (system, id) = value.split_once(':').unwrap_or_default();
            let system = system.trim().to_ascii_lowercase();
            let valid = !system.is_empty()
                && system
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !id.trim().is_empty();
            if valid {
                Ok(format!("{system}:{}", id.trim()))
            } else {
                Err(CoreError::invalid(format!(
                    "`{value}` is not a vendor user id: write it as `system:id`"
                )))
            }
        }
    }
}

/// Lower-cases and checks an email address; `BAD_USER_INPUT` when it is not one.
pub fn normalise_email(value: &str) -> CoreResult<String> {
    let email = value.trim().to_lowercase();
    let invalid = || CoreError::invalid(format!("`{}` is not a valid email address", value.trim()));
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && !local.contains(['@', '<', '>', '(', ')', ',', ';', ':', '\\', '"', '[', ']']);
    if domain_ok && local_ok && email.len() <= 254 {
        Ok(email)
    } else {
        Err(invalid())
    }
}

/// The domain of a normalised email.
pub fn email_domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, d)| d)
}

/// Normalises a web domain: lower case, no scheme, path or `www.`.
pub fn normalise_domain(value: &str) -> CoreResult<String> {
    let lower = value.trim().to_lowercase();
    let no_scheme = lower
        .split_once("://")
        .map_or(lower.as_str(), |(_, rest)| rest);
    let host = no_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let valid = host.contains('.')
        && host.len() <= 253
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(host.to_owned())
    } else {
        Err(CoreError::invalid(format!(
            "`{}` is not a domain",
            value.trim()
        )))
    }
}

/// The stakeholder an identity points to, if any.
pub async fn owner(
    db: &impl sea_orm::ConnectionTrait,
    workspace: uuid::Uuid,
    kind: IdentityKind,
    value: &str,
) -> CoreResult<Option<uuid::Uuid>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let found = identity::Entity::find()
        .filter(identity::Column::WorkspaceId.eq(workspace))
        .filter(identity::Column::Kind.eq(kind))
        .filter(identity::Column::Value.eq(value))
        .one(db)
        .await?;
    Ok(found.map(|i| i.stakeholder_id))
}

/// Gives `stakeholder` the (normalised) identity unless it already has it;
/// CONFLICT when another stakeholder holds it.
pub async fn attach(
    db: &impl sea_orm::ConnectionTrait,
    workspace: uuid::Uuid,
    stakeholder: uuid::Uuid,
    kind: IdentityKind,
    value: &str,
) -> CoreResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    match owner(db, workspace, kind, value).await? {
        Some(holder) if holder == stakeholder => Ok(()),
        Some(_) => Err(CoreError::Conflict(format!(
            "the {kind:?} identity `{value}` belongs to another stakeholder"
        ))),
        None => {
            identity::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(workspace),
                stakeholder_id: Set(stakeholder),
                kind: Set(kind),
                value: Set(value.to_owned()),
                created_at: Set(crate::time::now()),
            }
            .insert(db)
            .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_trimmed() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(email_domain("ada@example.com"), Some("example.com"));
    }

    #[test]
    fn invalid_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa..mple.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn handles_drop_the_at_sign() {
        assert_eq!(
            normalise(IdentityKind::TwitterHandle, "@Ada_L").unwrap(),
            "ada_l"
        );
        assert!(normalise(IdentityKind::TwitterHandle, "not a handle").is_err());
    }

    #[test]
    fn vendor_user_ids_name_their_system() {
        assert_eq!(
            normalise(IdentityKind::VendorUserId, " HubSpot:5120 ").unwrap(),
            "hubspot:5120"
        );
        for bad in ["5120", ":5120", "hubspot:", "hub spot:1"] {
            assert!(
                normalise(IdentityKind::VendorUserId, bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn domains_lose_scheme_path_and_www() {
        assert_eq!(
            normalise_domain("https://www.Acme.io/about").unwrap(),
            "acme.io"
        );
        assert!(normalise_domain("localhost").is_err());
    }
}
