//! People and organisations: accounts, stakeholders, the memberships between
//! them, and the identities that name a stakeholder in other systems.

pub mod accounts;
pub mod identities;
pub mod memberships;
pub mod stakeholders;
