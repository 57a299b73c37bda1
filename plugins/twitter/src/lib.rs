//! twitter connector for Journeys (being written).
