//! Pure decisions of the WebexUser reconciler (no client required): from the spec, the last
//! status and the person Webex holds, the writes to make and the status to report. `plan -f`
//! will use the same functions.

use std::collections::BTreeSet;

use crate::api::common::{CC_PREMIUM, CC_STANDARD, ContactCenterType, ExistingUserPolicy, LicenseRef, ManagementPolicy};
use crate::api::webex_user::{AdminRole, DeletionPolicy, EffectiveLicense, UserState, WebexUserSpec, WebexUserStatus};
use crate::controller::org_registry::{OrgFacts, OrgLicense};
use crate::webex::model::{LicenseOperation, LicenseProperties, LicenseRequest, PatchUserLicenses, Person, PersonWrite, PhoneNumber};

/// Condition reasons of WebexUser (closed set). Each rule that can block or delay a user has
/// its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::Display)]
pub enum UserReason {
    /// Signed in and matching the spec.
    Active,
    /// Created; waiting for the first sign-in (R-USER-10).
    InvitePending,
    /// Sign-in disabled in Webex.
    Inactive,
    /// The WebexOrg is missing or not ready.
    OrgNotReady,
    /// The email has a Webex account in another org; claim it with a UserClaim (R-USER-3).
    ExistsInOtherOrg,
    /// The email belongs to a trial org's account (R-USER-4).
    TrialOrgOwnsEmail,
    /// The org adds users only through directory sync (R-ORG-2).
    OrgUsesDirectorySync,
    /// The email belongs to a person of the org and the policy refuses to adopt it (R-USER-3).
    AlreadyExistsInOrg,
    /// A requested licence is not offered by the org.
    LicenseNotInOrg,
    /// A requested admin role does not exist in the org.
    RoleNotInOrg,
    /// The spec breaks a rule the API server could not check.
    InvalidSpec,
    /// The namespace may not manage this org or email domain.
    NotPermitted,
    /// Observe-only: the differences are reported, not written.
    ObserveOnly,
    /// Webex refused a write; the message holds its answer and tracking id.
    WebexRejected,
    /// Webex could not be reached or was overloaded; retrying.
    WebexUnavailable,
    /// Webex applied only part of a licence change (206); retrying the rest.
    PartiallyApplied,
    /// Another org claimed this user (R-CLM-10); left alone.
    ClaimedByAnotherOrg,
    /// The pause annotation holds the object.
    Paused,
    /// Writes are in progress.
    Reconciling,
}

/// One write to Webex.
#[derive(Debug, Clone, PartialEq)]
pub enum UserAction {
    /// Create the person (names only: licences and roles follow, R-USER-12).
    Create(PersonWrite),
    /// Take over an existing person of the org.
    Adopt { person_id: String },
    /// Apply all licence changes of the person in one call.
    PatchLicenses(PatchUserLicenses),
    /// Replace the person (names, roles, sign-in) by GET-modify-PUT.
    UpdatePerson { person_id: String, body: PersonWrite },
    /// Delete the person.
    DeletePerson { person_id: String },
}

/// Where the object stands after the plan's actions.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Everything matches and the user is active.
    Ready,
    /// Nothing is wrong; waiting for something outside the operator (e.g. the first sign-in).
    Waiting { reason: UserReason, message: String },
    /// Cannot proceed. `terminal`: needs a spec (or Webex-side) change; otherwise retried.
    Blocked { reason: UserReason, message: String, terminal: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserPlan {
    pub actions: Vec<UserAction>,
    pub verdict: Verdict,
    pub state: UserState,
    pub person_id: Option<String>,
    pub adopted: Option<bool>,
    pub effective_licenses: Vec<EffectiveLicense>,
    pub admin_roles: Vec<AdminRole>,
}

/// Role name in Webex of each administrator role. The Contact Center ones have no public id
/// (webex-api-notes §9.7); these are the simulator's names.
pub fn role_name(role: AdminRole) -> &'static str {
    match role {
        AdminRole::FullAdministrator => "id_full_admin",
        AdminRole::UserAdministrator => "id_user_admin",
        AdminRole::ReadOnlyAdministrator => "id_readonly_admin",
        AdminRole::DeviceAdministrator => "id_device_admin",
        AdminRole::ContactCenterServiceAdministrator => "id_cjp_admin",
    }
}

/// Role name of the Contact Center supervisor (R-CC-1).
pub const SUPERVISOR_ROLE: &str = "id_cjp_supervisor";

const CALLING_NAME_MAX: usize = 30;
const CALLING_NAME_FORBIDDEN: &[char] = &['%', '#', '<', '>', '\\', '/', '"'];

/// Checks again what the CRD's CEL rules check, for objects that reached the controller some
/// other way (an older CRD, `plan -f`). Returns every problem, field first.
pub fn validate(spec: &WebexUserSpec) -> Vec<String> {
    let mut problems = Vec::new();
    if spec.calling.is_some() {
        // R-USER-2: names of Calling users.
        for (field, value) in [("firstName", &spec.first_name), ("lastName", &spec.last_name)] {
            if let Some(v) = value {
                if v.chars().count() > CALLING_NAME_MAX {
                    problems.push(format!("spec.{field}: a Webex Calling user's name must be at most {CALLING_NAME_MAX} characters (R-USER-2)"));
                }
                if let Some(c) = v.chars().find(|c| CALLING_NAME_FORBIDDEN.contains(c)) {
                    problems.push(format!("spec.{field}: a Webex Calling user's name must not contain {c:?} (R-USER-2)"));
                }
            }
        }
    }
    if let Some(calling) = &spec.calling {
        if calling.phone_number.is_none() && calling.extension.is_none() {
            problems.push("spec.calling: needs a phoneNumber or an extension (R-USER-7)".into());
        }
        if calling.phone_number.is_none() && calling.location_id.is_none() {
            problems.push("spec.calling: without a phoneNumber a locationId is required (R-USER-7)".into());
        }
    }
    let supervisor = spec.contact_center.as_ref().is_some_and(|cc| cc.kind == ContactCenterType::PremiumSupervisor);
    if supervisor && spec.admin_roles.as_ref().is_some_and(|r| !r.is_empty()) {
        problems.push("spec.adminRoles: a Contact Center PremiumSupervisor cannot hold administrator roles (R-CC-3)".into());
    }
    problems
}

/// Whether `namespace` may manage `email` in the org (tenancy grant).
pub fn permitted(org: &OrgFacts, namespace: &str, email: &str) -> Result<(), String> {
    if org.tenants.is_empty() {
        return Ok(());
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    match org.tenants.iter().find(|(ns, _)| ns == namespace) {
        None => Err(format!("namespace {namespace} is not granted use of this WebexOrg")),
        Some((_, domains)) if !domains.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) => {
            Err(format!("namespace {namespace} may not manage the email domain {domain}"))
        }
        Some(_) => Ok(()),
    }
}

/// A licence the spec asks for, resolved to the org's licence id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLicense {
    pub id: String,
    pub offer_code: String,
    pub properties: Option<LicenseProperties>,
}

/// Licence groups owned by one spec field: setting the field removes the group's other licences
/// (Calling Pro/Standard exclude each other, 400404; CC Standard/Premium, 400413).
fn in_calling_group(code: &str) -> bool {
    code.starts_with("BC")
}
fn in_contact_center_group(code: &str) -> bool {
    code == CC_STANDARD || code == CC_PREMIUM
}

/// Picks the org licence for a request: matching offer code, subscription and site; among
/// several, the one with the most free units.
pub fn pick_license<'a>(org: &'a OrgFacts, wanted: &LicenseRef) -> Option<&'a OrgLicense> {
    org.licenses
        .iter()
        .filter(|l| l.offer_code == wanted.offer_code)
        .filter(|l| wanted.subscription_id.as_ref().is_none_or(|s| l.subscription_id.as_ref() == Some(s)))
        .filter(|l| wanted.site_url.as_ref().is_none_or(|s| l.site_url.as_ref() == Some(s)))
        .max_by_key(|l| (l.total_units - l.consumed_units, std::cmp::Reverse(l.id.clone())))
}

/// The licences the spec asks for. `Ok(None)`: the spec manages no licences.
pub fn desired_licenses(spec: &WebexUserSpec, org: &OrgFacts) -> Result<Option<Vec<DesiredLicense>>, String> {
    let mut wanted: Vec<(LicenseRef, Option<LicenseProperties>)> = Vec::new();
    if let Some(list) = &spec.licenses {
        wanted.extend(list.iter().cloned().map(|l| (l, None)));
    }
    if let Some(calling) = &spec.calling {
        let props = LicenseProperties {
            location_id: calling.location_id.clone(),
            phone_number: calling.phone_number.clone(),
            extension: calling.extension.clone(),
        };
        let license = LicenseRef { offer_code: calling.offer_code.clone(), subscription_id: calling.subscription_id.clone(), site_url: None };
        wanted.push((license, Some(props)));
    }
    if let Some(cc) = &spec.contact_center {
        let license = LicenseRef { offer_code: cc.kind.offer_code().to_string(), subscription_id: cc.subscription_id.clone(), site_url: None };
        wanted.push((license, None));
    }
    if spec.licenses.is_none() && spec.calling.is_none() && spec.contact_center.is_none() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (wanted, properties) in wanted {
        let license = pick_license(org, &wanted).ok_or_else(|| {
            let narrowing = match (&wanted.subscription_id, &wanted.site_url) {
                (Some(s), _) => format!(" in subscription {s}"),
                (None, Some(site)) => format!(" on site {site}"),
                (None, None) => String::new(),
            };
            format!("the org has no licence with offer code {}{narrowing}", wanted.offer_code)
        })?;
        if !out.iter().any(|d: &DesiredLicense| d.id == license.id) {
            out.push(DesiredLicense { id: license.id.clone(), offer_code: license.offer_code.clone(), properties });
        }
    }
    Ok(Some(out))
}

/// Lifecycle of a person as Webex shows it.
pub fn person_state(person: &Person) -> UserState {
    if person.login_enabled == Some(false) {
        UserState::Inactive
    } else if person.invite_pending == Some(true) {
        UserState::Pending
    } else {
        UserState::Active
    }
}

/// Display name for a new person: the spec's, or the names, or the email's local part
/// (Webex needs one of displayName / firstName / lastName).
fn display_name(spec: &WebexUserSpec) -> String {
    if let Some(d) = &spec.display_name {
        return d.clone();
    }
    let names: Vec<&str> = [&spec.first_name, &spec.last_name].into_iter().flatten().map(String::as_str).collect();
    if names.is_empty() { spec.email.split('@').next().unwrap_or(&spec.email).to_string() } else { names.join(" ") }
}

fn create_body(spec: &WebexUserSpec) -> PersonWrite {
    PersonWrite {
        emails: vec![spec.email.to_ascii_lowercase()],
        first_name: spec.first_name.clone(),
        last_name: spec.last_name.clone(),
        display_name: Some(display_name(spec)),
        ..Default::default()
    }
}

/// Everything the reconciler knows when it decides.
#[derive(Debug, Clone, Copy)]
pub struct UserInputs<'a> {
    pub spec: &'a WebexUserSpec,
    pub status: &'a WebexUserStatus,
    pub namespace: &'a str,
    pub org: &'a OrgFacts,
    /// The person Webex holds for this object (by id, else by email), if any.
    pub person: Option<&'a Person>,
}

fn blocked(reason: UserReason, message: impl Into<String>, terminal: bool, status: &WebexUserStatus, state: UserState) -> UserPlan {
    UserPlan {
        actions: vec![],
        verdict: Verdict::Blocked { reason, message: message.into(), terminal },
        state,
        person_id: status.person_id.clone(),
        adopted: status.adopted,
        effective_licenses: status.effective_licenses.clone(),
        admin_roles: status.admin_roles.clone(),
    }
}

/// The reconcile decision for a WebexUser that is not being deleted.
pub fn plan(input: UserInputs<'_>) -> UserPlan {
    let UserInputs { spec, status, namespace, org, person } = input;
    let current_state = person.map(person_state).unwrap_or(UserState::NotCreated);
    let problems = validate(spec);
    if !problems.is_empty() {
        return blocked(UserReason::InvalidSpec, problems.join("; "), true, status, current_state);
    }
    if let Err(message) = permitted(org, namespace, &spec.email) {
        return blocked(UserReason::NotPermitted, message, true, status, current_state);
    }
    let desired = match desired_licenses(spec, org) {
        Ok(d) => d,
        Err(message) => return blocked(UserReason::LicenseNotInOrg, message, true, status, current_state),
    };
    let observe_only = spec.management_policy == ManagementPolicy::ObserveOnly;

    let Some(person) = person else {
        if org.directory_sync == Some(true) {
            return blocked(
                UserReason::OrgUsesDirectorySync,
                "the org synchronises users from a directory, so users cannot be added by hand (R-ORG-2); add the user in the directory",
                true,
                status,
                UserState::NotCreated,
            );
        }
        if observe_only {
            return blocked(UserReason::ObserveOnly, format!("would create {} (observe-only)", spec.email), true, status, UserState::NotCreated);
        }
        return UserPlan {
            actions: vec![UserAction::Create(create_body(spec))],
            verdict: Verdict::Waiting { reason: UserReason::Reconciling, message: format!("creating {}", spec.email) },
            state: UserState::NotCreated,
            person_id: None,
            adopted: None,
            effective_licenses: vec![],
            admin_roles: vec![],
        };
    };

    if person.emails.iter().any(|e| e.to_ascii_lowercase().ends_with(".convert-user.local")) {
        // R-CLM-10: another org claimed this user; its status updates itself. Never touch it.
        return blocked(UserReason::ClaimedByAnotherOrg, "another organisation claimed this user (R-CLM-10); it is left alone", true, status, current_state);
    }

    let mut actions = Vec::new();
    let ours = status.person_id.as_deref() == Some(person.id.as_str()) || status.create_requested_at.is_some();
    let adopted = if ours {
        status.adopted.or(Some(false))
    } else {
        match spec.existing_user_policy.unwrap_or(org.default_existing_user_policy) {
            ExistingUserPolicy::Refuse => {
                return blocked(
                    UserReason::AlreadyExistsInOrg,
                    format!("{} already belongs to a person of the org and existingUserPolicy is Refuse (R-USER-3)", spec.email),
                    true,
                    status,
                    current_state,
                );
            }
            ExistingUserPolicy::Adopt => {
                actions.push(UserAction::Adopt { person_id: person.id.clone() });
                Some(true)
            }
        }
    };

    // Licences: add what is missing; remove what the operator managed and no longer wants, and
    // the other licences of a group a spec field owns. Never touch anything else.
    let held: BTreeSet<&str> = person.licenses.iter().map(String::as_str).collect();
    let mut requests = Vec::new();
    let mut effective = status.effective_licenses.clone();
    if let Some(desired) = &desired {
        let desired_ids: BTreeSet<&str> = desired.iter().map(|d| d.id.as_str()).collect();
        let managed: BTreeSet<&str> = status.effective_licenses.iter().map(|l| l.id.as_str()).collect();
        let calling_owned = spec.calling.is_some();
        let cc_owned = spec.contact_center.is_some();
        for d in desired {
            let needs_properties_update = d.properties.is_some() && held.contains(d.id.as_str()) && !calling_matches(person, d.properties.as_ref());
            if !held.contains(d.id.as_str()) || needs_properties_update {
                requests.push(LicenseRequest { id: d.id.clone(), operation: LicenseOperation::Add, properties: d.properties.clone() });
            }
        }
        for id in &held {
            if desired_ids.contains(id) {
                continue;
            }
            let code = org.licenses.iter().find(|l| l.id == *id).map(|l| l.offer_code.as_str()).unwrap_or("");
            let owned_group = (calling_owned && in_calling_group(code)) || (cc_owned && in_contact_center_group(code));
            if managed.contains(id) || owned_group {
                requests.push(LicenseRequest { id: (*id).to_string(), operation: LicenseOperation::Remove, properties: None });
            }
        }
        // Removals first: Webex refuses two licences of one exclusive group (400404, 400413).
        requests.sort_by_key(|r| r.operation != LicenseOperation::Remove);
        effective = desired.iter().map(|d| EffectiveLicense { offer_code: d.offer_code.clone(), id: d.id.clone(), source: "Manual".into() }).collect();
    }
    let licenses_after: Vec<String> = {
        let mut set: BTreeSet<String> = person.licenses.iter().cloned().collect();
        for r in &requests {
            match r.operation {
                LicenseOperation::Add => set.insert(r.id.clone()),
                LicenseOperation::Remove => set.remove(&r.id),
            };
        }
        set.into_iter().collect()
    };
    if !requests.is_empty() {
        actions.push(UserAction::PatchLicenses(PatchUserLicenses {
            person_id: Some(person.id.clone()),
            email: None,
            org_id: None,
            licenses: requests,
            site_urls: vec![],
        }));
    }

    // Roles (R-USER-12: granted by editing, after the create).
    let mut managed_roles = status.admin_roles.clone();
    let mut roles_after: BTreeSet<String> = person.roles.iter().cloned().collect();
    if let Some(wanted) = &spec.admin_roles {
        let mut wanted_sorted = wanted.clone();
        wanted_sorted.sort();
        wanted_sorted.dedup();
        for role in &status.admin_roles {
            if !wanted_sorted.contains(role)
                && let Some(id) = org.roles.get(role_name(*role))
            {
                roles_after.remove(id);
            }
        }
        for role in &wanted_sorted {
            match org.roles.get(role_name(*role)) {
                Some(id) => {
                    roles_after.insert(id.clone());
                }
                None => return blocked(UserReason::RoleNotInOrg, format!("the org has no role {}", role_name(*role)), true, status, current_state),
            }
        }
        managed_roles = wanted_sorted;
    }
    if let Some(cc) = &spec.contact_center {
        let supervisor_wanted = cc.kind == ContactCenterType::PremiumSupervisor;
        match org.roles.get(SUPERVISOR_ROLE) {
            Some(id) if supervisor_wanted => {
                roles_after.insert(id.clone());
            }
            Some(id) => {
                roles_after.remove(id);
            }
            None if supervisor_wanted => {
                return blocked(UserReason::RoleNotInOrg, format!("the org has no role {SUPERVISOR_ROLE}"), true, status, current_state);
            }
            None => {}
        }
    }
    finish(actions, person, spec, effective, managed_roles, adopted, licenses_after, roles_after, observe_only, current_state)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    mut actions: Vec<UserAction>,
    person: &Person,
    spec: &WebexUserSpec,
    effective: Vec<EffectiveLicense>,
    managed_roles: Vec<AdminRole>,
    adopted: Option<bool>,
    licenses_after: Vec<String>,
    roles_after: BTreeSet<String>,
    observe_only: bool,
    state: UserState,
) -> UserPlan {
    let roles_changed = roles_after != person.roles.iter().cloned().collect::<BTreeSet<_>>();
    let names_changed = [
        (&spec.first_name, &person.first_name),
        (&spec.last_name, &person.last_name),
        (&spec.display_name, &person.display_name),
    ]
    .iter()
    .any(|(wanted, held)| wanted.is_some() && wanted != held);
    if roles_changed || names_changed {
        actions.push(UserAction::UpdatePerson { person_id: person.id.clone(), body: put_body(person, spec, licenses_after, roles_after) });
    }
    let writes: Vec<UserAction> = actions.iter().filter(|a| !matches!(a, UserAction::Adopt { .. })).cloned().collect();
    let verdict = if observe_only && !writes.is_empty() {
        Verdict::Blocked { reason: UserReason::ObserveOnly, message: format!("observe-only: would {}", describe_actions(&writes)), terminal: true }
    } else if !writes.is_empty() {
        Verdict::Waiting { reason: UserReason::Reconciling, message: describe_actions(&writes) }
    } else {
        match state {
            UserState::Active => Verdict::Ready,
            UserState::Pending => Verdict::Waiting { reason: UserReason::InvitePending, message: format!("invitation sent; {} has not signed in yet (R-USER-10)", spec.email) },
            UserState::Inactive => Verdict::Waiting { reason: UserReason::Inactive, message: "sign-in is disabled for this person in Webex".into() },
            UserState::NotCreated => Verdict::Waiting { reason: UserReason::Reconciling, message: "not created yet".into() },
        }
    };
    if observe_only {
        actions.retain(|a| matches!(a, UserAction::Adopt { .. }));
    }
    UserPlan { actions, verdict, state, person_id: Some(person.id.clone()), adopted, effective_licenses: effective, admin_roles: managed_roles }
}

/// GET-modify-PUT body: the person as Webex holds it, with the spec's names and the new roles
/// and licences (PUT replaces; implicit licences must be kept, webex-api-notes §2.5).
fn put_body(person: &Person, spec: &WebexUserSpec, licenses: Vec<String>, roles: BTreeSet<String>) -> PersonWrite {
    let first_name = spec.first_name.clone().or_else(|| person.first_name.clone());
    let last_name = spec.last_name.clone().or_else(|| person.last_name.clone());
    let display_name = spec
        .display_name
        .clone()
        .or_else(|| person.display_name.clone())
        .or_else(|| Some(display_name(spec)));
    PersonWrite {
        emails: person.emails.clone(),
        phone_numbers: person.phone_numbers.clone(),
        extension: person.extension.clone(),
        location_id: person.location_id.clone(),
        display_name,
        first_name,
        last_name,
        org_id: person.org_id.clone(),
        roles: Some(roles.into_iter().collect()),
        licenses: Some(licenses),
        department: person.department.clone(),
        title: person.title.clone(),
        site_urls: None,
        login_enabled: person.login_enabled,
    }
}

/// Whether the person's Calling number and extension match the wanted properties.
fn calling_matches(person: &Person, wanted: Option<&LicenseProperties>) -> bool {
    let Some(wanted) = wanted else { return true };
    let number_ok = wanted.phone_number.as_ref().is_none_or(|n| person.phone_numbers.iter().any(|p: &PhoneNumber| &p.value == n));
    let extension_ok = wanted.extension.as_ref().is_none_or(|x| person.extension.as_ref() == Some(x));
    number_ok && extension_ok
}

pub fn describe_actions(actions: &[UserAction]) -> String {
    actions
        .iter()
        .map(|a| match a {
            UserAction::Create(_) => "create the person".to_string(),
            UserAction::Adopt { .. } => "adopt the existing person".to_string(),
            UserAction::PatchLicenses(p) => {
                let add = p.licenses.iter().filter(|l| l.operation == LicenseOperation::Add).count();
                let remove = p.licenses.len() - add;
                format!("change licences (+{add} -{remove})")
            }
            UserAction::UpdatePerson { .. } => "update names/roles".to_string(),
            UserAction::DeletePerson { .. } => "delete the person".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What deleting the WebexUser does (finalizer). Only a person the operator created or adopted
/// (its id is in status) is ever touched.
pub fn plan_deletion(spec: &WebexUserSpec, status: &WebexUserStatus, person: Option<&Person>) -> Vec<UserAction> {
    let Some(person) = person else { return vec![] };
    if status.person_id.as_deref() != Some(person.id.as_str()) {
        return vec![];
    }
    if person.emails.iter().any(|e| e.to_ascii_lowercase().ends_with(".convert-user.local")) {
        return vec![]; // R-CLM-10
    }
    if spec.management_policy == ManagementPolicy::ObserveOnly {
        return vec![];
    }
    let remove_managed = || {
        let requests: Vec<LicenseRequest> = status
            .effective_licenses
            .iter()
            .filter(|l| person.licenses.contains(&l.id))
            .map(|l| LicenseRequest { id: l.id.clone(), operation: LicenseOperation::Remove, properties: None })
            .collect();
        (!requests.is_empty()).then(|| UserAction::PatchLicenses(PatchUserLicenses { person_id: Some(person.id.clone()), licenses: requests, ..Default::default() }))
    };
    match spec.deletion_policy {
        DeletionPolicy::Orphan => vec![],
        DeletionPolicy::Delete => vec![UserAction::DeletePerson { person_id: person.id.clone() }],
        DeletionPolicy::RemoveLicenses => remove_managed().into_iter().collect(),
        DeletionPolicy::Deactivate => {
            let mut actions: Vec<UserAction> = remove_managed().into_iter().collect();
            let remaining: Vec<String> = person.licenses.iter().filter(|id| !status.effective_licenses.iter().any(|l| &l.id == *id)).cloned().collect();
            let mut body = put_body(person, spec, remaining, person.roles.iter().cloned().collect());
            body.login_enabled = Some(false);
            actions.push(UserAction::UpdatePerson { person_id: person.id.clone(), body });
            actions
        }
    }
}
