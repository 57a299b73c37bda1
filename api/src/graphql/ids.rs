//! Opaque global ids: `base64url("Type:uuid")`, so that `node(id)` knows the type
//! and clients never build ids by hand.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Account,
    Stakeholder,
    Touchpoint,
    Identity,
    JourneyModel,
    Stage,
    ScoringRule,
    LifecycleRule,
    Merge,
    Connector,
    SyncRun,
    WebhookEndpoint,
    WebhookDelivery,
}

impl NodeType {
    const ALL: [NodeType; 13] = [
        Self::Account,
        Self::Stakeholder,
        Self::Touchpoint,
        Self::Identity,
        Self::JourneyModel,
        Self::Stage,
        Self::ScoringRule,
        Self::LifecycleRule,
        Self::Merge,
        Self::Connector,
        Self::SyncRun,
        Self::WebhookEndpoint,
        Self::WebhookDelivery,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::Stakeholder => "Stakeholder",
            Self::Touchpoint => "Touchpoint",
            Self::Identity => "Identity",
            Self::JourneyModel => "JourneyModel",
            Self::Stage => "Stage",
            Self::ScoringRule => "ScoringRule",
            Self::LifecycleRule => "LifecycleRule",
            Self::Merge => "Merge",
            Self::Connector => "Connector",
            Self::SyncRun => "SyncRun",
            Self::WebhookEndpoint => "WebhookEndpoint",
            Self::WebhookDelivery => "WebhookDelivery",
        }
    }
}

pub fn encode(ty: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", ty.name(), id.as_hyphenated())))
}

/// Splits a global id into its type and key; `BAD_USER_INPUT` when malformed.
pub fn decode_any(id: &ID) -> Result<(NodeType, Uuid), ApiError> {
    let malformed = || ApiError::bad_input(format!("`{}` is not a valid id", truncate(id)));
    let raw = URL_SAFE_NO_PAD
        .decode(id.as_bytes())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(raw).map_err(|_| malformed())?;
    let (ty, key) = text.split_once(':').ok_or_else(malformed)?;
    let ty = NodeType::ALL
        .into_iter()
        .find(|t| t.name() == ty)
        .ok_or_else(malformed)?;
    let key = Uuid::parse_str(key).map_err(|_| malformed())?;
    Ok((ty, key))
}

/// Decodes an id that must be of type `ty`.
pub fn decode(id: &ID, ty: NodeType) -> Result<Uuid, ApiError> {
    match decode_any(id)? {
        (found, key) if found == ty => Ok(key),
        (found, _) => Err(ApiError::bad_input(format!(
            "expected a {} id, got a {} id",
            ty.name(),
            found.name()
        ))),
    }
}

fn truncate(id: &ID) -> String {
    id.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_the_type() {
        let key = Uuid::now_v7();
        let id = encode(NodeType::Account, key);
        assert_eq!(decode(&id, NodeType::Account).unwrap(), key);
        assert_eq!(
            decode(&id, NodeType::Stakeholder).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
    }

    #[test]
    fn malformed_ids_are_bad_input() {
        for bad in ["", "!!!", "QWNjb3VudA", "QWNjb3VudDpub3QtYS11dWlk"] {
            assert_eq!(
                decode_any(&ID(bad.into())).unwrap_err().code(),
                "BAD_USER_INPUT"
            );
        }
    }
}
