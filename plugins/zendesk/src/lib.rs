//! zendesk connector for Journeys (being written).
