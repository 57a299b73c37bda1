//! The binary's side of connectors: the `journeys sync` command and the
//! `/webhooks/{connectorId}` endpoint.

pub mod cli;
pub mod webhooks;
