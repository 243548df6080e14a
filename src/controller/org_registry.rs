//! What the WebexOrg controller learned about each org, for the other controllers: the
//! Webex client (with the token) and the org's licences and roles. Written only by the WebexOrg
//! reconciler; read by the rest.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::api::common::ExistingUserPolicy;
use crate::webex::client::WebexClient;

/// A licence of the org, keyed by its offer code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLicense {
    pub id: String,
    pub offer_code: String,
    pub name: String,
    pub subscription_id: Option<String>,
    pub site_url: Option<String>,
    pub total_units: i64,
    pub consumed_units: i64,
}

/// The decision-relevant facts of one org (no I/O handles), used by the pure planners.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgFacts {
    pub org_id: String,
    pub licenses: Vec<OrgLicense>,
    /// Role name (`id_full_admin`, ...) to Webex role id.
    pub roles: HashMap<String, String>,
    pub directory_sync: Option<bool>,
    pub default_existing_user_policy: ExistingUserPolicy,
    /// Namespaces allowed to use the org, with their email domains; empty: everyone.
    pub tenants: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone)]
pub struct OrgHandle {
    pub client: WebexClient,
    pub facts: Arc<OrgFacts>,
    /// Generation of the WebexOrg these facts come from.
    pub generation: Option<i64>,
}

#[derive(Debug, Default)]
pub struct OrgRegistry {
    orgs: RwLock<HashMap<String, OrgHandle>>,
}

impl OrgRegistry {
    pub fn get(&self, name: &str) -> Option<OrgHandle> {
        self.orgs.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub fn insert(&self, name: &str, handle: OrgHandle) {
        self.orgs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), handle);
    }

    pub fn remove(&self, name: &str) {
        self.orgs.write().unwrap_or_else(|p| p.into_inner()).remove(name);
    }
}
