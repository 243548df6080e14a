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
    /// When the licence units in `facts` were read (seat accounting).
    pub read_at: std::time::Instant,
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
    /// Seats reserved per org (see `Seats`).
    seats: Mutex<HashMap<String, Seats>>,
    /// Per org, when the last Contact Center "synchronise users" began (see
    /// [`OrgRegistry::contact_center_sync_gate`]).
    contact_center_syncs: Mutex<HashMap<String, ContactCenterSyncGate>>,
}

/// One org's Contact Center synchronisation: held while a sync is prepared and sent, and
/// remembering when the last successful one began. Synchronising covers every user of the org
/// (R-CC-6: Control Hub's "Synchronize Users"), so a sync that began after a user's licence
/// change covers that user.
pub type ContactCenterSyncGate = Arc<tokio::sync::Mutex<Option<std::time::Instant>>>;

/// Seat reservations of one org. Webex draws a licence unit only at the holder's first sign-in
/// (R-USER-10), so `consumedUnits` does not count licences assigned to pending users: the
/// controller reserves a seat for each licence it assigns, per licence id and object, and counts
/// the reservation until the org's licence listing includes the unit (the holder was seen signed
/// in before the listing was read). In memory: after a restart the reservations of pending
/// holders are rebuilt as their WebexUsers are reconciled.
#[derive(Debug, Default)]
pub struct Seats {
    /// Licence id -> object key -> when the holder was first seen signed in.
    by_license: HashMap<String, HashMap<String, Option<std::time::Instant>>>,
}

impl Seats {
    /// Reservations of `license` that the listing read at `read_at` does not count yet, other
    /// than `except`'s.
    fn outstanding(&self, license: &str, read_at: std::time::Instant, except: &str) -> i64 {
        self.by_license.get(license).map_or(0, |holders| {
            holders
                .iter()
                .filter(|(key, _)| key.as_str() != except)
                .filter(|(_, seen)| seen.is_none_or(|t| t >= read_at))
                .count() as i64
        })
    }
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

    /// Free seats of `license` for `object`: units bought, less units consumed, less the seats
    /// reserved for other objects that the listing does not count yet.
    pub fn free_seats(&self, name: &str, license: &OrgLicense, read_at: std::time::Instant, object: &str) -> i64 {
        let seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let reserved = seats
            .get(name)
            .map_or(0, |s| s.outstanding(&license.id, read_at, object));
        license.total_units - license.consumed_units - reserved
    }

    /// Reserves a seat of `license` for `object` if one is free (or it holds one already).
    pub fn reserve_seat(&self, name: &str, license: &OrgLicense, read_at: std::time::Instant, object: &str) -> bool {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let org = seats.entry(name.to_string()).or_default();
        let holders = org.by_license.entry(license.id.clone()).or_default();
        if holders.contains_key(object) {
            return true;
        }
        let reserved = holders
            .iter()
            .filter(|(_, seen)| seen.is_none_or(|t| t >= read_at))
            .count() as i64;
        if license.total_units - license.consumed_units - reserved < 1 {
            return false;
        }
        holders.insert(object.to_string(), None);
        true
    }

    /// Records what `object` holds after a reconcile: reservations of licences it no longer
    /// holds go; licences a pending holder holds keep (or regain, after a restart) a
    /// reservation, marked as consumed once the holder has signed in.
    pub fn note_holdings(&self, name: &str, object: &str, held: &[String], signed_in: bool) {
        let now = std::time::Instant::now();
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let org = seats.entry(name.to_string()).or_default();
        for (license, holders) in org.by_license.iter_mut() {
            if !held.contains(license) {
                holders.remove(object);
            }
        }
        for license in held {
            let holders = org.by_license.entry(license.clone()).or_default();
            match holders.get_mut(object) {
                Some(seen) if signed_in && seen.is_none() => *seen = Some(now),
                Some(_) => {}
                // A signed-in holder's unit is consumed: the listing counts it, no reservation.
                None if signed_in => {}
                None => {
                    holders.insert(object.to_string(), None);
                }
            }
        }
    }

    /// Forgets every reservation of `object` (deleted, or its licences removed).
    pub fn release_seats(&self, name: &str, object: &str) {
        if let Some(org) = self.seats.lock().unwrap_or_else(|p| p.into_inner()).get_mut(name) {
            for holders in org.by_license.values_mut() {
                holders.remove(object);
            }
        }
    }

    /// Seats reserved per licence id that the listing read at `read_at` does not count yet;
    /// reservations the listing counts are dropped.
    pub fn reserved_seats(&self, name: &str, read_at: std::time::Instant) -> HashMap<String, i64> {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let Some(org) = seats.get_mut(name) else {
            return HashMap::new();
        };
        let mut out = HashMap::new();
        for (license, holders) in org.by_license.iter_mut() {
            holders.retain(|_, seen| seen.is_none_or(|t| t >= read_at));
            out.insert(license.clone(), holders.len() as i64);
        }
        out
    }

    /// The org's budget, created on first use and reconfigured when the spec changes.
    /// The Contact Center sync gate of org `name` (created on first use).
    pub fn contact_center_sync_gate(&self, name: &str) -> ContactCenterSyncGate {
        let mut gates = self.contact_center_syncs.lock().unwrap_or_else(|p| p.into_inner());
        gates.entry(name.to_string()).or_default().clone()
    }

    pub fn budget_for(&self, name: &str, config: BudgetConfig) -> Arc<Budget> {
        let mut budgets = self.budgets.write().unwrap_or_else(|p| p.into_inner());
        let budget = budgets
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Budget::new(config)));
        budget.reconfigure(config);
        budget.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn license(total: i64, consumed: i64) -> OrgLicense {
        OrgLicense {
            id: "lic-ee".into(),
            offer_code: "EE".into(),
            name: "EE".into(),
            subscription_id: None,
            site_url: None,
            total_units: total,
            consumed_units: consumed,
        }
    }

    #[test]
    fn r_user_10_reservations_count_until_the_listing_counts_the_unit() {
        let registry = OrgRegistry::default();
        let read = Instant::now();
        let l = license(2, 1);
        assert_eq!(registry.free_seats("acme", &l, read, "a"), 1);
        assert!(registry.reserve_seat("acme", &l, read, "a"));
        assert!(
            registry.reserve_seat("acme", &l, read, "a"),
            "idempotent for the holder"
        );
        assert_eq!(
            registry.free_seats("acme", &l, read, "b"),
            0,
            "a's pending seat is taken"
        );
        assert_eq!(
            registry.free_seats("acme", &l, read, "a"),
            1,
            "a's own reservation is not counted against it"
        );
        assert!(!registry.reserve_seat("acme", &l, read, "b"), "full");
        assert_eq!(registry.reserved_seats("acme", read).get("lic-ee"), Some(&1));
        // a signs in: counted until a listing read after that includes the unit.
        registry.note_holdings("acme", "a", &["lic-ee".to_string()], true);
        assert_eq!(registry.free_seats("acme", &l, read, "b"), 0);
        let later = Instant::now() + Duration::from_millis(1);
        let relisted = license(2, 2);
        assert_eq!(registry.free_seats("acme", &relisted, later, "b"), 0, "now consumed");
        assert_eq!(registry.reserved_seats("acme", later).get("lic-ee"), Some(&0));
        // The holder signed in: no reservation comes back.
        registry.note_holdings("acme", "a", &["lic-ee".to_string()], true);
        assert_eq!(registry.reserved_seats("acme", later).get("lic-ee"), Some(&0));
    }

    #[test]
    fn seats_free_up_when_the_holder_drops_the_licence_or_goes() {
        let registry = OrgRegistry::default();
        let read = Instant::now();
        let l = license(1, 0);
        assert!(registry.reserve_seat("acme", &l, read, "a"));
        assert!(!registry.reserve_seat("acme", &l, read, "b"));
        registry.note_holdings("acme", "a", &[], false);
        assert!(registry.reserve_seat("acme", &l, read, "b"));
        registry.release_seats("acme", "b");
        assert_eq!(registry.free_seats("acme", &l, read, "c"), 1);
        // Pending holders are rebuilt after a restart.
        let fresh = OrgRegistry::default();
        fresh.note_holdings("acme", "a", &["lic-ee".to_string()], false);
        assert_eq!(fresh.free_seats("acme", &l, read, "b"), 0);
    }
}
