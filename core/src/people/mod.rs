//! People and organisations: accounts, stakeholders, the memberships between
//! them with the roles of each account's decision-making unit, and the
//! identities that name a stakeholder in other systems.

pub mod accounts;
pub mod dmu;
pub mod identities;
pub mod memberships;
pub mod stakeholders;
