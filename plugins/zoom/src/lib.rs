//! zoom connector for Journeys (being written).
