//! The binary's side of connectors: the plugins it is built with, the
//! `journeys sync` command and the `/webhooks/{connectorId}` endpoint.

pub mod cli;
pub mod webhooks;

use journeys_core::connectors::Registry;

/// The plugins this build runs. A new connector crate is one line here.
pub fn builtin_plugins() -> Registry {
    Registry::new(vec![
        journeys_plugin_sdk::plugin::<journeys_plugin_twitter::Twitter>(),
        journeys_plugin_sdk::plugin::<journeys_plugin_zoom::Zoom>(),
        journeys_plugin_sdk::plugin::<journeys_plugin_zendesk::Zendesk>(),
    ])
}
