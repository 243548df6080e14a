//! The simulator's state: orgs, people, the virtual clock. Kept in memory behind one mutex and
//! written to the state file (JSON, temp file + rename) after every mutation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::sim::SimError;
use crate::sim::error::ApiError;
use crate::sim::roles;
use crate::sim::rules;
use crate::webex::ids::{self, IdKind};
use crate::webex::model::{License, Person, PhoneNumber};

/// Everything that survives a restart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub orgs: Vec<Org>,
    /// All people of all orgs, in creation order.
    pub people: Vec<SimPerson>,
    /// Next creation sequence number (paging cursor order).
    pub next_seq: u64,
    /// Virtual clock offset from the wall clock, in milliseconds.
    pub clock_offset_ms: i64,
    /// Accounts orgs gave (or offered) to people of other orgs (R-EXT-*, `sim::external`).
    #[serde(default)]
    pub external_grants: Vec<crate::sim::external::ExternalGrant>,
    /// Claims of people of other orgs (R-CLM-*, `sim::claims`).
    #[serde(default)]
    pub claims: Vec<crate::sim::claims::ClaimRec>,
    /// Calling person settings, the R-USER-11 fault and Contact Center sync (`sim::calling`).
    #[serde(default)]
    pub calling: crate::sim::calling::CallingStore,
    /// Meetings tracking codes (`sim::tracking_codes`).
    #[serde(default)]
    pub tracking: crate::sim::tracking_codes::TrackingStore,
    /// Enterprise content management per org and per-user choices (`sim::content_management`,
    /// R-USER-9).
    #[serde(default)]
    pub content_management: crate::sim::content_management::ContentManagementStore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub uuid: String,
    pub name: String,
    pub domains: Vec<String>,
    pub trial: bool,
    pub directory_sync: bool,
    pub sso: bool,
    pub allow_admin_invite_emails: bool,
    /// Whether the org's users may receive accounts on other orgs' sites (R-ORG-5).
    #[serde(default = "allowed")]
    pub allow_cross_org_licensing: bool,
    /// Domains the org has claimed (R-ORG-3): nobody else can claim users of these domains.
    #[serde(default)]
    pub claimed_domains: Vec<String>,
    /// "Allow users to bring their Webex conversations" (R-ORG-4): claims by this org may be
    /// delayed claims (content migration).
    #[serde(default)]
    pub allow_content_migration: bool,
    /// Whether this org's users can be delay-claimed by another org (R-CLM-3: orgs created
    /// after 2020-05-05 and consumer orgs cannot; their users lose content when claimed).
    #[serde(default = "allowed")]
    pub delayed_claim_supported: bool,
    pub locations: Vec<Location>,
    pub licenses: Vec<LicenseRec>,
    pub admin_token: String,
    pub admin_person_uuid: String,
}

fn allowed() -> bool {
    true
}

impl Org {
    pub fn public_id(&self) -> String {
        ids::encode(IdKind::Organization, &self.uuid)
    }

    pub fn license(&self, id: &str) -> Option<&LicenseRec> {
        self.licenses.iter().find(|l| l.id == id)
    }

    /// Whether `id` (public or raw) names a location of this org.
    pub fn has_location(&self, id: &str) -> bool {
        self.locations.iter().any(|l| l.public_id() == id || l.uuid == id)
    }

    /// Whether `org_id` (public base64 id or raw uuid) names this org.
    pub fn is_named_by(&self, org_id: &str) -> bool {
        org_id == self.uuid || matches!(ids::decode(org_id), Some((IdKind::Organization, raw)) if raw == self.uuid)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub uuid: String,
    pub name: String,
}

impl Location {
    pub fn public_id(&self) -> String {
        ids::encode(IdKind::Location, &self.uuid)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseRec {
    /// Public licence id (`ids::license_id`).
    pub id: String,
    pub offer_code: String,
    pub name: String,
    pub total_units: i64,
    pub subscription_id: Option<String>,
    pub site_url: Option<String>,
}

impl LicenseRec {
    pub fn is_calling(&self) -> bool {
        rules::is_calling_offer(&self.offer_code)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimPerson {
    pub seq: u64,
    pub uuid: String,
    pub org_uuid: String,
    pub emails: Vec<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nick_name: Option<String>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub extension: Option<String>,
    /// Public location id.
    pub location_id: Option<String>,
    /// Role names (`id_full_admin`).
    pub roles: Vec<String>,
    /// Public licence ids.
    pub licenses: Vec<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub site_urls: Vec<String>,
    pub created: jiff::Timestamp,
    pub last_modified: jiff::Timestamp,
    pub login_enabled: bool,
    /// Signed in at least once: not pending, licence units consumed (R-USER-10).
    pub signed_in_once: bool,
    /// The password set at first sign-in.
    pub password: Option<String>,
}

impl SimPerson {
    pub fn public_id(&self) -> String {
        ids::encode(IdKind::People, &self.uuid)
    }

    pub fn email(&self) -> &str {
        self.emails.first().map_or("", String::as_str)
    }

    /// The wire view. `presence` false leaves out `status` (lists filtered by `id`).
    pub fn to_wire(&self, presence: bool) -> Person {
        let mut phone_numbers: Vec<PhoneNumber> = self
            .phone_numbers
            .iter()
            .filter(|n| n.kind != WORK_EXTENSION)
            .cloned()
            .collect();
        // A Calling user also shows their extension with the location's routing prefix
        // (webex-admin.json: "For the Webex Calling person, the value will have a routing prefix
        // along with the extension"); it is derived, never set through it.
        if let (Some(extension), Some(location)) = (&self.extension, &self.location_id) {
            phone_numbers.push(PhoneNumber {
                kind: WORK_EXTENSION.to_string(),
                value: format!("{}{extension}", routing_prefix(location)),
                primary: Some(false),
            });
        }
        Person {
            id: self.public_id(),
            emails: self.emails.clone(),
            phone_numbers,
            extension: self.extension.clone(),
            location_id: self.location_id.clone(),
            display_name: self.display_name.clone(),
            nick_name: self.nick_name.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            org_id: Some(ids::encode(IdKind::Organization, &self.org_uuid)),
            roles: self.roles.iter().map(|r| ids::role_id(r)).collect(),
            licenses: self.licenses.clone(),
            department: self.department.clone(),
            title: self.title.clone(),
            created: Some(format_time(self.created)),
            last_modified: Some(format_time(self.last_modified)),
            last_activity: None,
            site_urls: self.site_urls.clone(),
            status: presence.then(|| if self.signed_in_once { "active" } else { "unknown" }.to_string()),
            invite_pending: Some(!self.signed_in_once),
            login_enabled: Some(self.login_enabled),
            kind: Some("person".to_string()),
        }
    }
}

/// The phone number type that shows a Calling user's extension with its routing prefix.
pub const WORK_EXTENSION: &str = "work_extension";

/// The routing prefix of a location (assumed: `8` and three digits fixed per location).
pub fn routing_prefix(location_id: &str) -> String {
    let sum: u32 = location_id.bytes().map(u32::from).sum();
    format!("8{:03}", sum % 1000)
}

/// RFC 3339 with milliseconds and `Z`, as Webex writes timestamps.
pub fn format_time(t: jiff::Timestamp) -> String {
    format!("{t:.3}")
}

/// A person's uuid from a public people id (or a raw uuid).
pub fn person_uuid(id: &str) -> Option<String> {
    match ids::decode(id) {
        Some((IdKind::People, raw)) => Some(raw),
        Some(_) => None,
        None => uuid::Uuid::parse_str(id).ok().map(|u| u.to_string()),
    }
}

impl State {
    pub fn now(&self) -> jiff::Timestamp {
        let now = jiff::Timestamp::now();
        now.checked_add(jiff::SignedDuration::from_millis(self.clock_offset_ms))
            .unwrap_or(now)
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn org(&self, uuid: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.uuid == uuid)
    }

    /// The org named by a public id or raw uuid.
    pub fn org_by_id(&self, org_id: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.is_named_by(org_id))
    }

    pub fn org_by_token(&self, token: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.admin_token == token)
    }

    pub fn person(&self, uuid: &str) -> Option<&SimPerson> {
        self.people.iter().find(|p| p.uuid == uuid)
    }

    pub fn person_mut(&mut self, uuid: &str) -> Option<&mut SimPerson> {
        self.people.iter_mut().find(|p| p.uuid == uuid)
    }

    /// The person owning `email` anywhere in the simulator (case-insensitive).
    pub fn person_by_email(&self, email: &str) -> Option<&SimPerson> {
        self.people
            .iter()
            .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
    }

    /// Refuses an email that already has an account (R-USER-3, R-USER-4). `except` is the person
    /// being edited.
    pub fn check_email_free(&self, org_uuid: &str, email: &str, except: Option<&str>) -> Result<(), ApiError> {
        use crate::webex::model::codes;
        let Some(owner) = self.person_by_email(email).filter(|p| Some(p.uuid.as_str()) != except) else {
            return Ok(());
        };
        if owner.org_uuid == org_uuid {
            return Err(ApiError::conflict(
                codes::PEOPLE_EXISTS_IN_ORG,
                format!("A user with email {email} already exists in this organization."),
            ));
        }
        if self.org(&owner.org_uuid).is_some_and(|o| o.trial) {
            return Err(ApiError::conflict(
                codes::PEOPLE_TRIAL_ORG_OWNS_EMAIL,
                format!(
                    "The email {email} belongs to a user of a trial organization; that trial organization must be deleted before the user can be added."
                ),
            ));
        }
        Err(ApiError::conflict(
            codes::PEOPLE_EXISTS_IN_OTHER_ORG,
            format!(
                "The email {email} already has a Webex account in another organization; the user must be claimed instead of added."
            ),
        ))
    }

    /// The wire licence with consumption: a unit is consumed by each holder who has signed in at
    /// least once (R-USER-10).
    pub fn license_to_wire(&self, org: &Org, license: &LicenseRec) -> License {
        let internal = self
            .people
            .iter()
            .filter(|p| p.org_uuid == org.uuid && p.signed_in_once && p.licenses.contains(&license.id))
            .count();
        // External users consume a unit once they accept (R-EXT-6).
        let consumed = (internal + crate::sim::external::holders(self, org, &license.id).count()) as i64;
        License {
            id: license.id.clone(),
            name: license.name.clone(),
            total_units: Some(license.total_units),
            consumed_units: Some(consumed),
            consumed_by_users: Some(consumed),
            consumed_by_workspaces: Some(0),
            subscription_id: license.subscription_id.clone(),
            site_url: license.site_url.clone(),
            site_type: license
                .site_url
                .as_ref()
                .map(|_| "Control Hub managed site".to_string()),
        }
    }

    /// Role names of the person plus offer codes of the licences it holds.
    pub fn offer_codes_of(&self, org: &Org, licenses: &[String]) -> Vec<String> {
        licenses
            .iter()
            .filter_map(|id| org.license(id))
            .map(|l| l.offer_code.clone())
            .collect()
    }
}

/// Known role check shared by PUT and seeding.
pub fn resolve_roles(input: &[String]) -> Result<Vec<String>, ApiError> {
    input
        .iter()
        .map(|r| {
            roles::role_name(r)
                .map(str::to_string)
                .ok_or_else(|| ApiError::bad_request(format!("Unknown role: {r}")))
        })
        .collect()
}

/// The state plus where it is persisted.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    path: Option<PathBuf>,
}

impl Store {
    /// Loads the state file when it exists, else starts empty.
    pub fn open(path: Option<PathBuf>) -> Result<Self, SimError> {
        let state = match &path {
            Some(p) if p.exists() => load(p)?,
            _ => State::default(),
        };
        Ok(Self {
            state: Mutex::new(state),
            path,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a handler panicked mid-read; the data is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }

    /// Changes the state and persists it. `f` must validate before it modifies anything: an
    /// error answer leaves the state as it was (all-or-nothing).
    pub fn mutate<T>(&self, f: impl FnOnce(&mut State) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut state = self.lock();
        let out = f(&mut state)?;
        if let Some(path) = &self.path {
            save(path, &state).map_err(|e| ApiError::internal(format!("cannot write the state file: {e}")))?;
        }
        Ok(out)
    }
}

fn load(path: &Path) -> Result<State, SimError> {
    let text = std::fs::read(path).map_err(|source| SimError::LoadState {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| SimError::LoadState {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

fn save(path: &Path, state: &State) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, state).map_err(std::io::Error::other)?;
    tmp.flush()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calling_users_show_their_extension_with_the_routing_prefix() {
        let mut person = SimPerson {
            uuid: "u".into(),
            org_uuid: "o".into(),
            phone_numbers: vec![PhoneNumber {
                kind: "work".into(),
                value: "+14085550101".into(),
                primary: Some(true),
            }],
            ..Default::default()
        };
        // Not a Calling user: no work_extension.
        assert_eq!(person.to_wire(true).phone_numbers.len(), 1);
        person.extension = Some("5101".into());
        person.location_id = Some("LOC".into());
        let shown = person.to_wire(true).phone_numbers;
        let prefix = routing_prefix("LOC");
        assert_eq!(prefix.len(), 4);
        assert!(
            shown
                .iter()
                .any(|n| n.kind == WORK_EXTENSION && n.value == format!("{prefix}5101")),
            "{shown:?}"
        );
        assert_eq!(shown.iter().filter(|n| n.kind == "work").count(), 1);
    }

    #[test]
    fn state_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone())).unwrap();
        store
            .mutate(|s| {
                s.clock_offset_ms = 5_000;
                s.next_seq = 7;
                Ok(())
            })
            .unwrap();
        let again = Store::open(Some(path)).unwrap();
        assert_eq!(again.read(|s| (s.clock_offset_ms, s.next_seq)), (5_000, 7));
    }

    #[test]
    fn a_refused_mutation_is_not_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone())).unwrap();
        let r: Result<(), _> = store.mutate(|_| Err(ApiError::bad_request("no")));
        assert!(r.is_err());
        assert!(!path.exists());
    }

    #[test]
    fn times_have_milliseconds_and_z() {
        let t: jiff::Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(format_time(t), "2026-01-02T03:04:05.000Z");
    }

    #[test]
    fn person_ids_decode_from_public_or_raw() {
        let raw = "f5b36187-c8dd-4727-8b2f-f9c447f29046";
        assert_eq!(person_uuid(&ids::encode(IdKind::People, raw)).as_deref(), Some(raw));
        assert_eq!(person_uuid(raw).as_deref(), Some(raw));
        assert_eq!(person_uuid(&ids::role_id("id_full_admin")), None);
        assert_eq!(person_uuid("garbage"), None);
    }
}
