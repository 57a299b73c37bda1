//! A plugin's touchpoints, as the store records them: the same validation as
//! `recordTouchpoints`, with the connector's kind as their `source`.

use async_graphql::Json;
use chrono::{DateTime, Utc};
use journeys_plugin_sdk as sdk;

use crate::graphql::error::ApiResult;
use crate::touchpoints::{self, CheckedTouchpoint, PersonInput, PropertiesUpdate, TouchpointInput};
use crate::vocab::Channel;

pub fn check(
    kind: &str,
    touchpoint: sdk::Touchpoint,
    now: DateTime<Utc>,
) -> ApiResult<CheckedTouchpoint> {
    let hint = touchpoint.person;
    let has_identity = hint.email.is_some()
        || hint.twitter_user_id.is_some()
        || hint.twitter_handle.is_some()
        || hint.zoom_registrant_id.is_some()
        || hint.zendesk_user_id.is_some()
        || hint.vendor_user_id.is_some();
    let person = has_identity.then(|| PersonInput {
        email: hint.email,
        twitter_user_id: hint.twitter_user_id,
        twitter_handle: hint.twitter_handle,
        zoom_registrant_id: hint.zoom_registrant_id,
        zendesk_user_id: hint.zendesk_user_id,
        vendor_user_id: hint.vendor_user_id.map(|id| format!("{kind}:{id}")),
        name: hint.name,
        title: hint.title,
        ..PersonInput::default()
    });
    let input = TouchpointInput {
        source: kind.to_owned(),
        external_id: touchpoint.external_id,
        channel: channel(touchpoint.channel),
        kind: touchpoint.kind,
        occurred_at: touchpoint.occurred_at,
        title: touchpoint.title,
        body: touchpoint.body,
        url: touchpoint.url,
        owner_team: None,
        actor: None,
        emotion: None,
        sentiment: None,
        score: touchpoint.score.map(f64::from),
        properties: (!touchpoint.properties.is_empty())
            .then_some(Json(serde_json::Value::Object(touchpoint.properties))),
        account_id: None,
        stakeholder_id: None,
        person,
    };
    let mut checked = touchpoints::check(input, now)?;
    checked.account_hint = touchpoint.account;
    checked.properties_update = PropertiesUpdate::Merge;
    Ok(checked)
}

fn channel(channel: sdk::Channel) -> Channel {
    match channel {
        sdk::Channel::Social => Channel::Social,
        sdk::Channel::Webinar => Channel::Webinar,
        sdk::Channel::Support => Channel::Support,
        sdk::Channel::Email => Channel::Email,
        sdk::Channel::Phone => Channel::Phone,
        sdk::Channel::Meeting => Channel::Meeting,
        sdk::Channel::Web => Channel::Web,
        sdk::Channel::Event => Channel::Event,
        sdk::Channel::Ad => Channel::Ad,
        sdk::Channel::Other => Channel::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::vocab::IdentityKind;

    #[test]
    fn a_vendors_own_user_id_is_kept_under_the_connectors_kind() {
        // A connector for a vendor Journeys has no identity kind for.
        let touchpoint = sdk::Touchpoint {
            external_id: "deal:7".into(),
            kind: "deal.won".into(),
            channel: sdk::Channel::Other,
            occurred_at: Utc::now(),
            title: None,
            body: None,
            url: None,
            score: None,
            properties: serde_json::Map::new(),
            person: sdk::PersonHint {
                vendor_user_id: Some("5120".into()),
                ..sdk::PersonHint::default()
            },
            account: None,
        };
        let checked = check("hubspot", touchpoint, Utc::now()).unwrap();
        assert_eq!(
            checked.identities(),
            [(IdentityKind::VendorUserId, "hubspot:5120".to_owned())]
        );
    }
}
