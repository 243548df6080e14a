//! What the WebexOrg controller learned about each org, for the other controllers: the
//! Webex client (with the token) and the org's licences and roles. Written only by the WebexOrg
//! reconciler; read by the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::api::common::ExistingUserPolicy;
use crate::controller::guard::{GuardConfig, Held, Ledger};
use crate::webex::budget::{Budget, BudgetConfig};
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
    /// Drift is reported but not corrected.
    pub drift_report_only: bool,
    /// How often the org's people are listed and compared; `None`: the controller's default.
    pub drift_interval: Option<std::time::Duration>,
    /// Limits of the mass-deprovisioning guard.
    pub guard: GuardConfig,
}

#[derive(Debug, Clone)]
pub struct OrgHandle {
    pub client: WebexClient,
    pub facts: Arc<OrgFacts>,
    /// Generation of the WebexOrg these facts come from.
    pub generation: Option<i64>,
    /// `backend: Simulator`: the simulator-only endpoints (claims) may be used.
    pub simulator: bool,
}

#[derive(Debug, Default)]
pub struct OrgRegistry {
    orgs: RwLock<HashMap<String, OrgHandle>>,
    /// One budget per org, kept across re-reads of the WebexOrg (its state is the point).
    budgets: RwLock<HashMap<String, Arc<Budget>>>,
    /// Deprovisioning operations per org, for the guard.
    ledgers: Mutex<HashMap<String, Ledger>>,
    /// People per org at the last drift listing (the guard's share limit).
    people: Mutex<HashMap<String, usize>>,
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

    /// Names of the orgs that are ready.
    pub fn names(&self) -> Vec<String> {
        self.orgs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Admits one deprovisioning operation of `object` in org `name`, or holds it (guard).
    pub fn admit_deprovisioning(
        &self,
        name: &str,
        object: &str,
        config: GuardConfig,
        approved: bool,
    ) -> Result<(), Held> {
        let people = self
            .people
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
            .unwrap_or(0);
        let mut ledgers = self.ledgers.lock().unwrap_or_else(|p| p.into_inner());
        ledgers.entry(name.to_string()).or_default().admit(
            object,
            tokio::time::Instant::now(),
            config,
            people,
            approved,
        )
    }

    /// The objects of org `name` held by the guard now.
    pub fn held_deprovisioning(&self, name: &str) -> Vec<String> {
        self.ledgers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .map(Ledger::held)
            .unwrap_or_default()
    }

    /// Forgets a held object (it no longer wants to deprovision).
    pub fn release_deprovisioning(&self, name: &str, object: &str) {
        if let Some(ledger) = self.ledgers.lock().unwrap_or_else(|p| p.into_inner()).get_mut(name) {
            ledger.release(object);
        }
    }

    pub fn set_people_count(&self, name: &str, people: usize) {
        self.people
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), people);
    }

    /// The org's budget, created on first use and reconfigured when the spec changes.
    pub fn budget_for(&self, name: &str, config: BudgetConfig) -> Arc<Budget> {
        let mut budgets = self.budgets.write().unwrap_or_else(|p| p.into_inner());
        let budget = budgets
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Budget::new(config)));
        budget.reconfigure(config);
        budget.clone()
    }
}
