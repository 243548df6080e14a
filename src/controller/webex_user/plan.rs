//! Pure decisions of the WebexUser reconciler (no client required): from the spec, the last
//! status and the person Webex holds, the writes to make and the status to report. `plan -f`
//! will use the same functions.

use std::collections::BTreeSet;

use crate::api::common::{
    CC_PREMIUM, CC_STANDARD, ContactCenterType, ExistingUserPolicy, LicenseRef, ManagementPolicy,
};
use crate::api::webex_user::{AdminRole, DeletionPolicy, EffectiveLicense, UserState, WebexUserSpec, WebexUserStatus};
use crate::controller::org_registry::{OrgFacts, OrgLicense};
use crate::webex::model::{
    LicenseOperation, LicenseProperties, LicenseRequest, PatchUserLicenses, Person, PersonWrite, PhoneNumber,
};

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
    /// Every round of writes asked for more writes; retrying with backoff.
    NotConverged,
    /// A cache the decision needs (LicenseTemplates) has not listed yet; retrying.
    CacheNotSynced,
    /// A LicenseTemplate of the namespace cannot be read by the controller: template licences
    /// are not decided until it is fixed (a template left out would look removed).
    TemplateUnreadable,
    /// Another org claimed this user (R-CLM-10); left alone.
    ClaimedByAnotherOrg,
    /// The pause annotation holds the object.
    Paused,
    /// Writes are in progress.
    Reconciling,
    /// The person was changed in Webex and `driftPolicy: ReportOnly` leaves it so.
    DriftDetected,
    /// The mass-deprovisioning guard holds a deletion, deactivation or licence removal until
    /// the object is approved.
    DeprovisioningHeld,
    /// A licence to assign has no free seat in its subscription; the user waits and resumes by
    /// itself when one frees up (R-ORG-6, R-USER-10).
    LicenseCapacityExhausted,
    /// The deletion policy could not run; the finalizer keeps the object.
    DeletionBlocked,
    // --- Enterprise content management (`content_management`, R-USER-9) ---
    /// The org uses general access and assigns another platform to every user (R-USER-9).
    ContentManagementGeneralAccess,
    /// The requested content-management platform is not enabled in the org (R-USER-9).
    ContentManagementNotOffered,
    // --- Licence details (`calling_settings`, `services`) ---
    /// `callingSettings` are set but the person has no Calling licence (R-USER-16).
    CallingLicenseRequired,
    /// The user's calling settings fail in Webex (R-USER-11), also after the remedy.
    CallingSettingsFailed,
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
    Blocked {
        reason: UserReason,
        message: String,
        terminal: bool,
    },
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
                    problems.push(format!(
                        "spec.{field}: a Webex Calling user's name must not contain {c:?} (R-USER-2)"
                    ));
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
    let supervisor = spec
        .contact_center
        .as_ref()
        .is_some_and(|cc| cc.kind == ContactCenterType::PremiumSupervisor);
    if supervisor && spec.admin_roles.as_ref().is_some_and(|r| !r.is_empty()) {
        problems.push(
            "spec.adminRoles: a Contact Center PremiumSupervisor cannot hold administrator roles (R-CC-3)".into(),
        );
    }
    problems
}

/// Whether `namespace` may manage `email` in the org (tenancy grant).
pub fn permitted(org: &OrgFacts, namespace: &str, email: &str) -> Result<(), String> {
    if org.tenants.is_empty() {
        return Ok(());
    }
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    match org.tenants.iter().find(|(ns, _)| ns == namespace) {
        None => Err(format!("namespace {namespace} is not granted use of this WebexOrg")),
        Some((_, domains)) if !domains.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) => Err(
            format!("namespace {namespace} may not manage the email domain {domain}"),
        ),
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
    pick_license_keeping(org, wanted, &[])
}

/// `pick_license`, but a matching licence the person holds wins: otherwise a change in free
/// units would move the user to another subscription (and reprovision Calling) on every resync.
fn pick_license_keeping<'a>(org: &'a OrgFacts, wanted: &LicenseRef, held: &[String]) -> Option<&'a OrgLicense> {
    org.licenses
        .iter()
        .filter(|l| l.offer_code == wanted.offer_code)
        .filter(|l| {
            wanted
                .subscription_id
                .as_ref()
                .is_none_or(|s| l.subscription_id.as_ref() == Some(s))
        })
        .filter(|l| wanted.site_url.as_ref().is_none_or(|s| l.site_url.as_ref() == Some(s)))
        .max_by_key(|l| {
            (
                held.contains(&l.id),
                l.total_units - l.consumed_units,
                std::cmp::Reverse(l.id.clone()),
            )
        })
}

/// The licences the spec asks for. `Ok(None)`: the spec manages no licences.
pub fn desired_licenses(spec: &WebexUserSpec, org: &OrgFacts) -> Result<Option<Vec<DesiredLicense>>, String> {
    desired_licenses_keeping(spec, org, &[])
}

/// `desired_licenses`, keeping the matching licences the person holds (`pick_license_keeping`).
fn desired_licenses_keeping(
    spec: &WebexUserSpec,
    org: &OrgFacts,
    held: &[String],
) -> Result<Option<Vec<DesiredLicense>>, String> {
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
        let license = LicenseRef {
            offer_code: calling.offer_code.clone(),
            subscription_id: calling.subscription_id.clone(),
            site_url: None,
        };
        wanted.push((license, Some(props)));
    }
    if let Some(cc) = &spec.contact_center {
        let license = LicenseRef {
            offer_code: cc.kind.offer_code().to_string(),
            subscription_id: cc.subscription_id.clone(),
            site_url: None,
        };
        wanted.push((license, None));
    }
    if spec.licenses.is_none() && spec.calling.is_none() && spec.contact_center.is_none() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (wanted, properties) in wanted {
        let license = pick_license_keeping(org, &wanted, held).ok_or_else(|| {
            let narrowing = match (&wanted.subscription_id, &wanted.site_url) {
                (Some(s), _) => format!(" in subscription {s}"),
                (None, Some(site)) => format!(" on site {site}"),
                (None, None) => String::new(),
            };
            format!(
                "the org has no licence with offer code {}{narrowing}",
                wanted.offer_code
            )
        })?;
        if !out.iter().any(|d: &DesiredLicense| d.id == license.id) {
            out.push(DesiredLicense {
                id: license.id.clone(),
                offer_code: license.offer_code.clone(),
                properties,
            });
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
    let names: Vec<&str> = [&spec.first_name, &spec.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        spec.email.split('@').next().unwrap_or(&spec.email).to_string()
    } else {
        names.join(" ")
    }
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

/// Reasons after which the controller does not ask Webex again for the same generation until
/// `hold` has passed: Webex refused a write, and asking again at every watch event would only
/// repeat the refusal (terminal errors wait for a spec change; a slow re-check catches changes on
/// the Webex side, such as a trial org being deleted).
const HELD_REASONS: &[UserReason] = &[
    UserReason::ExistsInOtherOrg,
    UserReason::TrialOrgOwnsEmail,
    UserReason::OrgUsesDirectorySync,
    UserReason::WebexRejected,
];

/// How long to wait before touching Webex again, when the last reconcile of this same generation
/// ended in a refused write less than `hold` ago.
pub fn terminal_hold(
    status: &WebexUserStatus,
    generation: Option<i64>,
    now: jiff::Timestamp,
    hold: std::time::Duration,
) -> Option<std::time::Duration> {
    let ready = crate::api::conditions::find(&status.conditions, crate::api::conditions::READY)?;
    let held = HELD_REASONS.iter().any(|r| <&str>::from(*r) == ready.reason);
    if ready.status != "False" || !held || ready.observed_generation != generation {
        return None;
    }
    // Measured from the last attempt (every attempt writes `lastSynced`), else the transition.
    let last_attempt = status
        .last_synced
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .unwrap_or(ready.last_transition_time.0);
    let since = now.duration_since(last_attempt);
    let since = std::time::Duration::try_from(since).unwrap_or_default();
    hold.checked_sub(since).filter(|left| !left.is_zero())
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

fn blocked(
    reason: UserReason,
    message: impl Into<String>,
    terminal: bool,
    status: &WebexUserStatus,
    state: UserState,
) -> UserPlan {
    UserPlan {
        actions: vec![],
        verdict: Verdict::Blocked {
            reason,
            message: message.into(),
            terminal,
        },
        state,
        person_id: status.person_id.clone(),
        adopted: status.adopted,
        effective_licenses: status.effective_licenses.clone(),
        admin_roles: status.admin_roles.clone(),
    }
}

/// What can be decided before asking Webex anything: an invalid spec or a namespace outside the
/// org's grant blocks the object without a single call.
pub fn precheck(spec: &WebexUserSpec, namespace: &str, org: &OrgFacts) -> Option<Verdict> {
    let problems = validate(spec);
    if !problems.is_empty() {
        return Some(Verdict::Blocked {
            reason: UserReason::InvalidSpec,
            message: problems.join("; "),
            terminal: true,
        });
    }
    permitted(org, namespace, &spec.email)
        .err()
        .map(|message| Verdict::Blocked {
            reason: UserReason::NotPermitted,
            message,
            terminal: true,
        })
}

/// What the reconciler adds to the spec about licences: the provenance of each effective offer
/// code (`license_template::plan::effective_spec`; unlisted codes are `Manual`), and the licence
/// ids that have no free seat for this user (`OrgRegistry::free_seats`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LicenseContext {
    pub sources: std::collections::BTreeMap<String, String>,
    pub full: BTreeSet<String>,
}

/// Whether the person is (or is about to be) an adopted one: it existed in Webex before this
/// WebexUser, so licence templates treat it as an existing user (R-TPL-2).
pub fn is_adopted(status: &WebexUserStatus, person: Option<&Person>) -> bool {
    if status.adopted == Some(true) {
        return true;
    }
    person.is_some_and(|p| {
        let ours = status.person_id.as_deref() == Some(p.id.as_str())
            || (status.person_id.is_none() && status.create_requested_at.is_some());
        !ours
    })
}

/// Whether the status already records the effective licences with this provenance: when not,
/// a template change (not a change in Webex) asks for the writes.
pub fn provenance_recorded(licensing: &LicenseContext, status: &WebexUserStatus) -> bool {
    let recorded: BTreeSet<(&str, &str)> = status
        .effective_licenses
        .iter()
        .map(|l| (l.offer_code.as_str(), l.source.as_str()))
        .collect();
    let wanted: BTreeSet<(&str, &str)> = licensing
        .sources
        .iter()
        .map(|(code, source)| (code.as_str(), source.as_str()))
        .collect();
    recorded == wanted
}

/// The reconcile decision for a WebexUser that is not being deleted.
pub fn plan(input: UserInputs<'_>) -> UserPlan {
    plan_with(input, &LicenseContext::default())
}

/// `plan`, with licence provenance and seat availability (`LicenseContext`). A licence without
/// a free seat is not added (nor are the other licences of its group removed); once nothing else
/// is left to write the user waits with `LicenseCapacityExhausted`.
pub fn plan_with(input: UserInputs<'_>, licensing: &LicenseContext) -> UserPlan {
    let mut exhausted = Vec::new();
    let mut decided = plan_inner(input, licensing, &mut exhausted);
    if !exhausted.is_empty() {
        let message = format!(
            "no free seat for {} (units bought, less units consumed and seats reserved for users who have not signed in yet); waiting for one to free up",
            exhausted.join(", ")
        );
        let writes = decided.actions.iter().any(|a| !matches!(a, UserAction::Adopt { .. }));
        if !writes && !matches!(decided.verdict, Verdict::Blocked { .. }) {
            decided.verdict = Verdict::Blocked {
                reason: UserReason::LicenseCapacityExhausted,
                message,
                terminal: false,
            };
        }
    }
    decided
}

fn plan_inner(input: UserInputs<'_>, licensing: &LicenseContext, exhausted: &mut Vec<String>) -> UserPlan {
    let UserInputs {
        spec,
        status,
        namespace,
        org,
        person,
    } = input;
    let current_state = person.map(person_state).unwrap_or(UserState::NotCreated);
    let problems = validate(spec);
    if !problems.is_empty() {
        return blocked(
            UserReason::InvalidSpec,
            problems.join("; "),
            true,
            status,
            current_state,
        );
    }
    if let Err(message) = permitted(org, namespace, &spec.email) {
        return blocked(UserReason::NotPermitted, message, true, status, current_state);
    }
    let desired = match desired_licenses_keeping(spec, org, person.map_or(&[], |p| p.licenses.as_slice())) {
        Ok(d) => d,
        Err(message) => {
            return blocked(UserReason::LicenseNotInOrg, message, true, status, current_state);
        }
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
            return blocked(
                UserReason::ObserveOnly,
                format!("would create {} (observe-only)", spec.email),
                true,
                status,
                UserState::NotCreated,
            );
        }
        return UserPlan {
            actions: vec![UserAction::Create(create_body(spec))],
            verdict: Verdict::Waiting {
                reason: UserReason::Reconciling,
                message: format!("creating {}", spec.email),
            },
            state: UserState::NotCreated,
            person_id: None,
            adopted: None,
            effective_licenses: vec![],
            admin_roles: vec![],
        };
    };

    if person
        .emails
        .iter()
        .any(|e| e.to_ascii_lowercase().ends_with(".convert-user.local"))
    {
        // R-CLM-10: another org claimed this user; its status updates itself. Never touch it.
        return blocked(
            UserReason::ClaimedByAnotherOrg,
            "another organisation claimed this user: Webex shows its email with the suffix .convert-user.local until the user decides what happens to this account; it is neither corrected nor deleted (R-CLM-10)",
            true,
            status,
            current_state,
        );
    }

    let mut actions = Vec::new();
    // A create request counts only while no id is recorded (crash between create and status);
    // once one is, a different person with the email is someone else's.
    let ours = status.person_id.as_deref() == Some(person.id.as_str())
        || (status.person_id.is_none() && status.create_requested_at.is_some());
    let adopted = if ours {
        status.adopted.or(Some(false))
    } else {
        match spec.existing_user_policy.unwrap_or(org.default_existing_user_policy) {
            ExistingUserPolicy::Refuse => {
                return blocked(
                    UserReason::AlreadyExistsInOrg,
                    format!(
                        "{} already belongs to a person of the org and existingUserPolicy is Refuse (R-USER-3)",
                        spec.email
                    ),
                    true,
                    status,
                    current_state,
                );
            }
            ExistingUserPolicy::Adopt => {
                actions.push(UserAction::Adopt {
                    person_id: person.id.clone(),
                });
                Some(true)
            }
        }
    };

    // Licences: add what is missing; remove what the operator managed and no longer wants, and
    // the other licences of a group a spec field owns. Never touch anything else.
    let held: BTreeSet<&str> = person.licenses.iter().map(String::as_str).collect();
    let mut requests = Vec::new();
    // `exhausted`: offer codes wanted but without a free seat (R-USER-10: units are drawn at
    // first sign-in, so the operator reserves them itself).
    let mut effective = status.effective_licenses.clone();
    if let Some(desired) = &desired {
        let desired_ids: BTreeSet<&str> = desired.iter().map(|d| d.id.as_str()).collect();
        let managed: BTreeSet<&str> = status.effective_licenses.iter().map(|l| l.id.as_str()).collect();
        let calling_owned = spec.calling.is_some();
        let cc_owned = spec.contact_center.is_some();
        for d in desired {
            let needs_properties_update = d.properties.is_some()
                && held.contains(d.id.as_str())
                && !calling_matches(person, d.properties.as_ref());
            if !held.contains(d.id.as_str()) && licensing.full.contains(&d.id) {
                exhausted.push(d.offer_code.clone());
                continue;
            }
            if !held.contains(d.id.as_str()) || needs_properties_update {
                requests.push(LicenseRequest {
                    id: d.id.clone(),
                    operation: LicenseOperation::Add,
                    properties: d.properties.clone(),
                });
            }
        }
        for id in &held {
            if desired_ids.contains(id) {
                continue;
            }
            let code = org
                .licenses
                .iter()
                .find(|l| l.id == *id)
                .map(|l| l.offer_code.as_str())
                .unwrap_or("");
            let owned_group = (calling_owned && in_calling_group(code)) || (cc_owned && in_contact_center_group(code));
            // Keep the licence a full one of its group would replace, rather than leave a gap.
            let waits_for_seat = exhausted.iter().any(|e| {
                (in_calling_group(e) && in_calling_group(code))
                    || (in_contact_center_group(e) && in_contact_center_group(code))
            });
            if (managed.contains(id) || owned_group) && !waits_for_seat {
                requests.push(LicenseRequest {
                    id: (*id).to_string(),
                    operation: LicenseOperation::Remove,
                    properties: None,
                });
            }
        }
        // Removals first: Webex refuses two licences of one exclusive group (400404, 400413).
        requests.sort_by_key(|r| r.operation != LicenseOperation::Remove);
        effective = desired
            .iter()
            .filter(|d| !exhausted.contains(&d.offer_code))
            .map(|d| EffectiveLicense {
                offer_code: d.offer_code.clone(),
                id: d.id.clone(),
                source: licensing
                    .sources
                    .get(&d.offer_code)
                    .cloned()
                    .unwrap_or_else(|| "Manual".into()),
            })
            .collect();
        // What stays held while its replacement waits for a seat remains managed.
        for kept in status
            .effective_licenses
            .iter()
            .filter(|l| held.contains(l.id.as_str()) && !desired_ids.contains(l.id.as_str()))
            .filter(|l| !requests.iter().any(|r| r.id == l.id))
        {
            effective.push(kept.clone());
        }
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
    let removes_premium = requests.iter().any(|r| {
        r.operation == LicenseOperation::Remove
            && org.licenses.iter().any(|l| l.id == r.id && l.offer_code == CC_PREMIUM)
    });
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
                None => {
                    return blocked(
                        UserReason::RoleNotInOrg,
                        format!("the org has no role {}", role_name(*role)),
                        true,
                        status,
                        current_state,
                    );
                }
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
                return blocked(
                    UserReason::RoleNotInOrg,
                    format!("the org has no role {SUPERVISOR_ROLE}"),
                    true,
                    status,
                    current_state,
                );
            }
            None => {}
        }
    } else if removes_premium && let Some(id) = org.roles.get(SUPERVISOR_ROLE) {
        // The managed Premium licence goes with no Contact Center left (a template that gave
        // PremiumSupervisor no longer applies): the supervisor role goes first, or Webex refuses
        // (R-CC-1, R-CC-3).
        roles_after.remove(id);
    }
    finish(
        actions,
        person,
        spec,
        effective,
        &status.effective_licenses,
        managed_roles,
        adopted,
        licenses_after,
        roles_after,
        observe_only,
        current_state,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    mut actions: Vec<UserAction>,
    person: &Person,
    spec: &WebexUserSpec,
    mut effective: Vec<EffectiveLicense>,
    previous_effective: &[EffectiveLicense],
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
    let held_roles: BTreeSet<String> = person.roles.iter().cloned().collect();
    let removing_roles = held_roles.iter().any(|r| !roles_after.contains(r));
    let patching = actions.iter().any(|a| matches!(a, UserAction::PatchLicenses(_)));
    if removing_roles && patching {
        // Webex refuses to take Contact Center Premium from a supervisor (R-CC-3): roles go
        // first, with the licences as they are; the licence change follows in the next round.
        let roles_now: BTreeSet<String> = held_roles.intersection(&roles_after).cloned().collect();
        let body = put_body(person, spec, person.licenses.clone(), roles_now);
        actions.retain(|a| !matches!(a, UserAction::PatchLicenses(_)));
        actions.push(UserAction::UpdatePerson {
            person_id: person.id.clone(),
            body,
        });
        // Not changed yet: what the operator manages stays recorded for the next round.
        effective = previous_effective.to_vec();
    } else if roles_changed || names_changed {
        let mut body = put_body(person, spec, licenses_after, roles_after);
        // The PATCH before this PUT sets the Calling number and extension: PUT replaces, so send
        // those rather than the person's previous ones.
        let calling_props = actions.iter().filter_map(|a| match a {
            UserAction::PatchLicenses(p) => Some(p),
            _ => None,
        });
        for props in calling_props
            .flat_map(|p| &p.licenses)
            .filter(|r| r.operation == LicenseOperation::Add)
            .filter_map(|r| r.properties.as_ref())
        {
            if let Some(number) = &props.phone_number {
                body.phone_numbers.retain(|n| n.kind != "work");
                body.phone_numbers.push(PhoneNumber {
                    kind: "work".into(),
                    value: number.clone(),
                    primary: Some(true),
                });
            }
            if props.extension.is_some() {
                body.extension = props.extension.clone();
            }
        }
        actions.push(UserAction::UpdatePerson {
            person_id: person.id.clone(),
            body,
        });
    }
    let writes: Vec<UserAction> = actions
        .iter()
        .filter(|a| !matches!(a, UserAction::Adopt { .. }))
        .cloned()
        .collect();
    let verdict = if observe_only && !writes.is_empty() {
        Verdict::Blocked {
            reason: UserReason::ObserveOnly,
            message: format!("observe-only: would {}", describe_actions(&writes)),
            terminal: true,
        }
    } else if !writes.is_empty() {
        Verdict::Waiting {
            reason: UserReason::Reconciling,
            message: describe_actions(&writes),
        }
    } else {
        match state {
            UserState::Active => Verdict::Ready,
            UserState::Pending => Verdict::Waiting {
                reason: UserReason::InvitePending,
                message: format!("invitation sent; {} has not signed in yet (R-USER-10)", spec.email),
            },
            UserState::Inactive => Verdict::Waiting {
                reason: UserReason::Inactive,
                message: "sign-in is disabled for this person in Webex".into(),
            },
            UserState::NotCreated => Verdict::Waiting {
                reason: UserReason::Reconciling,
                message: "not created yet".into(),
            },
        }
    };
    if observe_only {
        actions.retain(|a| matches!(a, UserAction::Adopt { .. }));
    }
    UserPlan {
        actions,
        verdict,
        state,
        person_id: Some(person.id.clone()),
        adopted,
        effective_licenses: effective,
        admin_roles: managed_roles,
    }
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
        // `work_extension` (routing prefix + extension) is Webex's view of `extension` and cannot
        // be written back (webex-admin.json, Update a Person).
        phone_numbers: person
            .phone_numbers
            .iter()
            .filter(|n| n.kind != "work_extension")
            .cloned()
            .collect(),
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
    let number_ok = wanted
        .phone_number
        .as_ref()
        .is_none_or(|n| person.phone_numbers.iter().any(|p: &PhoneNumber| &p.value == n));
    let extension_ok = wanted
        .extension
        .as_ref()
        .is_none_or(|x| person.extension.as_ref() == Some(x));
    number_ok && extension_ok
}

/// Whether an action takes something away (the guard counts these): a deletion, a
/// deactivation, or a licence change that only removes.
pub fn is_deprovisioning(action: &UserAction, person: Option<&Person>) -> bool {
    match action {
        UserAction::DeletePerson { .. } => true,
        UserAction::PatchLicenses(p) => {
            !p.licenses.is_empty() && p.licenses.iter().all(|l| l.operation == LicenseOperation::Remove)
        }
        UserAction::UpdatePerson { body, .. } => {
            body.login_enabled == Some(false) && person.is_none_or(|p| p.login_enabled != Some(false))
        }
        UserAction::Create(_) | UserAction::Adopt { .. } => false,
    }
}

pub fn describe_actions(actions: &[UserAction]) -> String {
    actions
        .iter()
        .map(|a| match a {
            UserAction::Create(_) => "create the person".to_string(),
            UserAction::Adopt { .. } => "adopt the existing person".to_string(),
            UserAction::PatchLicenses(p) => {
                let add = p
                    .licenses
                    .iter()
                    .filter(|l| l.operation == LicenseOperation::Add)
                    .count();
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
    if person
        .emails
        .iter()
        .any(|e| e.to_ascii_lowercase().ends_with(".convert-user.local"))
    {
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
            .map(|l| LicenseRequest {
                id: l.id.clone(),
                operation: LicenseOperation::Remove,
                properties: None,
            })
            .collect();
        (!requests.is_empty()).then(|| {
            UserAction::PatchLicenses(PatchUserLicenses {
                person_id: Some(person.id.clone()),
                licenses: requests,
                ..Default::default()
            })
        })
    };
    match spec.deletion_policy {
        DeletionPolicy::Orphan => vec![],
        DeletionPolicy::Delete => vec![UserAction::DeletePerson {
            person_id: person.id.clone(),
        }],
        DeletionPolicy::RemoveLicenses => remove_managed().into_iter().collect(),
        DeletionPolicy::Deactivate => {
            let mut actions: Vec<UserAction> = remove_managed().into_iter().collect();
            let remaining: Vec<String> = person
                .licenses
                .iter()
                .filter(|id| !status.effective_licenses.iter().any(|l| &l.id == *id))
                .cloned()
                .collect();
            let mut body = put_body(person, spec, remaining, person.roles.iter().cloned().collect());
            body.login_enabled = Some(false);
            actions.push(UserAction::UpdatePerson {
                person_id: person.id.clone(),
                body,
            });
            actions
        }
    }
}

#[cfg(test)]
mod tests {
    //! Decision tests of the WebexUser planner: each feeds a spec, a status, an org and a person
    //! into the pure functions and asserts the exact actions and verdict. Test names cite the
    //! domain rule (R-USER-n, R-CC-n, ...) they cover.

    use std::collections::HashMap;

    use super::*;
    use crate::api::common::OrgRef;
    use crate::api::webex_user::{CallingSpec, ContactCenterSpec};
    use crate::webex::ids;

    const NS: &str = "team-a";
    const EMAIL: &str = "ada@example.com";
    const PID: &str = "person-ada";
    const NUMBER: &str = "+14085550101";
    const OTHER_NUMBER: &str = "+14085550199";
    const LOCATION: &str = "location-1";
    const CLAIMED_EMAIL: &str = "ada@example.com.convert-user.local";

    // ---- builders --------------------------------------------------------------------------

    /// Licence id of `code` in subscription `sub`.
    fn lid(code: &str, sub: &str) -> String {
        ids::license_id("org-1", code, &format!("{}-{sub}", code.to_ascii_lowercase()), None)
    }

    fn org_license(code: &str, sub: &str, total: i64, consumed: i64) -> OrgLicense {
        OrgLicense {
            id: lid(code, sub),
            offer_code: code.to_string(),
            name: format!("{code} ({sub})"),
            subscription_id: Some(sub.to_string()),
            site_url: None,
            total_units: total,
            consumed_units: consumed,
        }
    }

    fn role(name: &str) -> String {
        ids::role_id(name)
    }

    /// The org: BCPRO, BCSTD, MS (two subscriptions: sub-1 with 10 free units, sub-2 with 50),
    /// EE, CJPSTD, CJPPRM; the roles full admin, user admin, CC admin and CC supervisor.
    fn org() -> OrgFacts {
        OrgFacts {
            org_id: "org-1".into(),
            licenses: vec![
                org_license("BCPRO", "sub-1", 100, 10),
                org_license("BCSTD", "sub-1", 100, 10),
                org_license("MS", "sub-1", 100, 90),
                org_license("MS", "sub-2", 100, 50),
                org_license("EE", "sub-1", 50, 0),
                org_license("CJPSTD", "sub-1", 20, 0),
                org_license("CJPPRM", "sub-1", 20, 0),
            ],
            roles: ["id_full_admin", "id_user_admin", "id_cjp_admin", "id_cjp_supervisor"]
                .into_iter()
                .map(|name| (name.to_string(), role(name)))
                .collect::<HashMap<_, _>>(),
            directory_sync: Some(false),
            default_existing_user_policy: ExistingUserPolicy::Adopt,
            tenants: vec![],
            drift_report_only: false,
            drift_interval: None,
            guard: Default::default(),
        }
    }

    fn bcpro() -> String {
        lid("BCPRO", "sub-1")
    }
    fn bcstd() -> String {
        lid("BCSTD", "sub-1")
    }
    /// MS of sub-1 (fewer free units).
    fn ms1() -> String {
        lid("MS", "sub-1")
    }
    /// MS of sub-2 (most free units).
    fn ms2() -> String {
        lid("MS", "sub-2")
    }
    fn ee() -> String {
        lid("EE", "sub-1")
    }
    fn cjpstd() -> String {
        lid("CJPSTD", "sub-1")
    }
    fn cjpprm() -> String {
        lid("CJPPRM", "sub-1")
    }

    fn spec() -> WebexUserSpec {
        WebexUserSpec {
            org_ref: OrgRef { name: "acme".into() },
            email: EMAIL.into(),
            first_name: None,
            last_name: None,
            display_name: None,
            licenses: None,
            calling: None,
            contact_center: None,
            admin_roles: None,
            calling_settings: None,
            tracking_codes: None,
            content_management: None,
            existing_user_policy: None,
            deletion_policy: DeletionPolicy::Delete,
            management_policy: ManagementPolicy::Manage,
        }
    }

    fn lref(code: &str) -> LicenseRef {
        LicenseRef {
            offer_code: code.into(),
            subscription_id: None,
            site_url: None,
        }
    }

    fn lref_in(code: &str, sub: &str) -> LicenseRef {
        LicenseRef {
            offer_code: code.into(),
            subscription_id: Some(sub.into()),
            site_url: None,
        }
    }

    fn with_licenses(codes: &[&str]) -> WebexUserSpec {
        WebexUserSpec {
            licenses: Some(codes.iter().map(|c| lref(c)).collect()),
            ..spec()
        }
    }

    fn calling_spec(number: Option<&str>, extension: Option<&str>, location: Option<&str>) -> CallingSpec {
        CallingSpec {
            offer_code: "BCPRO".into(),
            subscription_id: None,
            location_id: location.map(Into::into),
            phone_number: number.map(Into::into),
            extension: extension.map(Into::into),
        }
    }

    /// A Calling user with a number and a location.
    fn calling_user() -> WebexUserSpec {
        WebexUserSpec {
            calling: Some(calling_spec(Some(NUMBER), None, Some(LOCATION))),
            ..spec()
        }
    }

    fn number_props(number: &str) -> LicenseProperties {
        LicenseProperties {
            location_id: Some(LOCATION.into()),
            phone_number: Some(number.into()),
            extension: None,
        }
    }

    fn cc_user(kind: ContactCenterType) -> WebexUserSpec {
        WebexUserSpec {
            contact_center: Some(ContactCenterSpec {
                kind,
                subscription_id: None,
            }),
            ..spec()
        }
    }

    fn with_roles(roles: &[AdminRole]) -> WebexUserSpec {
        WebexUserSpec {
            admin_roles: Some(roles.to_vec()),
            ..spec()
        }
    }

    /// An active person of the org with the email of `spec()` and names.
    fn person() -> Person {
        Person {
            id: PID.into(),
            emails: vec![EMAIL.into()],
            display_name: Some("Ada Lovelace".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            org_id: Some("org-1".into()),
            invite_pending: Some(false),
            login_enabled: Some(true),
            ..Default::default()
        }
    }

    fn holding(licenses: &[String]) -> Person {
        Person {
            licenses: licenses.to_vec(),
            ..person()
        }
    }

    #[test]
    fn a_put_never_sends_the_derived_work_extension() {
        let person = Person {
            id: "P".into(),
            emails: vec![EMAIL.into()],
            phone_numbers: vec![
                work_number(NUMBER),
                PhoneNumber {
                    kind: "work_extension".into(),
                    value: "81235101".into(),
                    primary: Some(false),
                },
            ],
            extension: Some("5101".into()),
            ..Default::default()
        };
        let body = put_body(&person, &spec(), vec![], BTreeSet::new());
        assert_eq!(body.phone_numbers, vec![work_number(NUMBER)]);
        assert_eq!(body.extension.as_deref(), Some("5101"));
    }

    fn work_number(number: &str) -> PhoneNumber {
        PhoneNumber {
            kind: "work".into(),
            value: number.into(),
            primary: Some(true),
        }
    }

    /// A person holding BCPRO with `number`.
    fn calling_person(number: &str) -> Person {
        Person {
            licenses: vec![bcpro()],
            phone_numbers: vec![work_number(number)],
            location_id: Some(LOCATION.into()),
            ..person()
        }
    }

    /// Status of a WebexUser that created `PID`.
    fn ours() -> WebexUserStatus {
        WebexUserStatus {
            person_id: Some(PID.into()),
            adopted: Some(false),
            ..Default::default()
        }
    }

    fn manual(code: &str, id: String) -> EffectiveLicense {
        EffectiveLicense {
            offer_code: code.into(),
            id,
            source: "Manual".into(),
        }
    }

    /// Status of a WebexUser that created `PID` and manages `licenses` (offer code, id).
    fn managing(licenses: &[(&str, String)]) -> WebexUserStatus {
        WebexUserStatus {
            effective_licenses: licenses.iter().map(|(code, id)| manual(code, id.clone())).collect(),
            ..ours()
        }
    }

    fn run(spec: &WebexUserSpec, status: &WebexUserStatus, org: &OrgFacts, person: Option<&Person>) -> UserPlan {
        plan(UserInputs {
            spec,
            status,
            namespace: NS,
            org,
            person,
        })
    }

    fn add(id: String) -> LicenseRequest {
        LicenseRequest {
            id,
            operation: LicenseOperation::Add,
            properties: None,
        }
    }

    fn add_with(id: String, properties: LicenseProperties) -> LicenseRequest {
        LicenseRequest {
            id,
            operation: LicenseOperation::Add,
            properties: Some(properties),
        }
    }

    fn remove(id: String) -> LicenseRequest {
        LicenseRequest {
            id,
            operation: LicenseOperation::Remove,
            properties: None,
        }
    }

    fn patch(licenses: Vec<LicenseRequest>) -> UserAction {
        UserAction::PatchLicenses(PatchUserLicenses {
            person_id: Some(PID.into()),
            email: None,
            org_id: None,
            licenses,
            site_urls: vec![],
        })
    }

    fn sorted(mut items: Vec<String>) -> Vec<String> {
        items.sort();
        items
    }

    /// The PUT body for `person()` with these licences and roles (GET-modify-PUT).
    fn put(licenses: Vec<String>, roles: Vec<String>) -> PersonWrite {
        PersonWrite {
            emails: vec![EMAIL.into()],
            display_name: Some("Ada Lovelace".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            org_id: Some("org-1".into()),
            roles: Some(sorted(roles)),
            licenses: Some(sorted(licenses)),
            login_enabled: Some(true),
            ..Default::default()
        }
    }

    fn update(body: PersonWrite) -> UserAction {
        UserAction::UpdatePerson {
            person_id: PID.into(),
            body,
        }
    }

    fn reconciling(actions: &[UserAction]) -> Verdict {
        Verdict::Waiting {
            reason: UserReason::Reconciling,
            message: describe_actions(actions),
        }
    }

    fn blocked_by(reason: UserReason, message: &str) -> Verdict {
        Verdict::Blocked {
            reason,
            message: message.into(),
            terminal: true,
        }
    }

    fn reason_of(verdict: &Verdict) -> UserReason {
        match verdict {
            Verdict::Ready => UserReason::Active,
            Verdict::Waiting { reason, .. } | Verdict::Blocked { reason, .. } => *reason,
        }
    }

    // ---- a small Webex to apply plans to (idempotence) -------------------------------------

    /// Applies `actions` the way Webex (and the simulator) does.
    fn apply_to(mut person: Option<Person>, actions: &[UserAction]) -> Option<Person> {
        for action in actions {
            match action {
                UserAction::Create(body) => {
                    person = Some(Person {
                        id: PID.into(),
                        emails: body.emails.clone(),
                        display_name: body.display_name.clone(),
                        first_name: body.first_name.clone(),
                        last_name: body.last_name.clone(),
                        org_id: Some("org-1".into()),
                        invite_pending: Some(true),
                        login_enabled: Some(true),
                        ..Default::default()
                    });
                }
                UserAction::Adopt { .. } => {}
                UserAction::PatchLicenses(body) => {
                    let Some(p) = person.as_mut() else {
                        panic!("{action:?} before the person exists")
                    };
                    for request in &body.licenses {
                        match request.operation {
                            LicenseOperation::Add => {
                                if !p.licenses.contains(&request.id) {
                                    p.licenses.push(request.id.clone());
                                }
                                if let Some(props) = &request.properties {
                                    if let Some(number) = &props.phone_number {
                                        p.phone_numbers.retain(|n| n.kind != "work");
                                        p.phone_numbers.push(work_number(number));
                                    }
                                    p.extension = props.extension.clone().or(p.extension.take());
                                    if props.location_id.is_some() {
                                        p.location_id = props.location_id.clone();
                                    }
                                }
                            }
                            LicenseOperation::Remove => p.licenses.retain(|l| *l != request.id),
                        }
                    }
                }
                UserAction::UpdatePerson { body, .. } => {
                    // PUT replaces; like the simulator, empty phone numbers / extension keep
                    // the current ones.
                    let Some(p) = person.as_mut() else {
                        panic!("{action:?} before the person exists")
                    };
                    p.emails = body.emails.clone();
                    p.display_name = body.display_name.clone();
                    p.first_name = body.first_name.clone();
                    p.last_name = body.last_name.clone();
                    if !body.phone_numbers.is_empty() {
                        p.phone_numbers = body.phone_numbers.clone();
                    }
                    if body.extension.is_some() {
                        p.extension = body.extension.clone();
                    }
                    if let Some(roles) = &body.roles {
                        p.roles = roles.clone();
                    }
                    if let Some(licenses) = &body.licenses {
                        p.licenses = licenses.clone();
                    }
                    if let Some(enabled) = body.login_enabled {
                        p.login_enabled = Some(enabled);
                    }
                }
                UserAction::DeletePerson { .. } => person = None,
            }
        }
        person
    }

    /// What the reconciler records after performing a plan.
    fn record(mut status: WebexUserStatus, decided: &UserPlan) -> WebexUserStatus {
        if decided.actions.iter().any(|a| matches!(a, UserAction::Create(_))) {
            status.create_requested_at = Some("2025-01-01T00:00:00Z".into());
            status.person_id = Some(PID.into());
            status.adopted = Some(false);
        }
        status.person_id = decided.person_id.clone().or(status.person_id);
        status.adopted = decided.adopted.or(status.adopted);
        status.effective_licenses = decided.effective_licenses.clone();
        status.admin_roles = decided.admin_roles.clone();
        status
    }

    /// Plans, applies and records until the plan has no actions; returns the last plan and the
    /// person. Panics if that takes more than `rounds` rounds of writes.
    fn converge(
        spec: &WebexUserSpec,
        mut status: WebexUserStatus,
        org: &OrgFacts,
        mut person: Option<Person>,
        rounds: usize,
    ) -> (UserPlan, Option<Person>) {
        for _ in 0..rounds {
            let decided = run(spec, &status, org, person.as_ref());
            assert!(
                !decided.actions.is_empty(),
                "converged earlier than expected: {decided:?}"
            );
            person = apply_to(person, &decided.actions);
            status = record(status, &decided);
        }
        let last = run(spec, &status, org, person.as_ref());
        assert_eq!(
            last.actions,
            vec![],
            "planning again after applying must be a no-op: {last:?}"
        );
        (last, person)
    }

    // ---- validation (R-USER-2, R-USER-7, R-CC-3) ---------------------------------------------

    #[test]
    fn r_user_2_calling_names_at_most_30_characters() {
        let thirty = "a".repeat(30);
        let ok = WebexUserSpec {
            first_name: Some(thirty.clone()),
            last_name: Some("é".repeat(30)),
            ..calling_user()
        };
        assert_eq!(
            validate(&ok),
            Vec::<String>::new(),
            "30 characters (not bytes) are allowed"
        );

        let long = WebexUserSpec {
            first_name: Some(format!("{thirty}b")),
            last_name: Some(format!("{thirty}c")),
            ..calling_user()
        };
        assert_eq!(
            validate(&long),
            vec![
                "spec.firstName: a Webex Calling user's name must be at most 30 characters (R-USER-2)".to_string(),
                "spec.lastName: a Webex Calling user's name must be at most 30 characters (R-USER-2)".to_string(),
            ]
        );
    }

    #[test]
    fn r_user_2_each_forbidden_character_in_first_and_last_name() {
        for (c, shown) in [
            ('%', "'%'"),
            ('#', "'#'"),
            ('<', "'<'"),
            ('>', "'>'"),
            ('\\', r"'\\'"),
            ('/', "'/'"),
            ('"', "'\"'"),
        ] {
            let first = WebexUserSpec {
                first_name: Some(format!("A{c}a")),
                ..calling_user()
            };
            assert_eq!(
                validate(&first),
                vec![format!(
                    "spec.firstName: a Webex Calling user's name must not contain {shown} (R-USER-2)"
                )],
                "{c}"
            );
            let last = WebexUserSpec {
                last_name: Some(format!("Love{c}lace")),
                ..calling_user()
            };
            assert_eq!(
                validate(&last),
                vec![format!(
                    "spec.lastName: a Webex Calling user's name must not contain {shown} (R-USER-2)"
                )],
                "{c}"
            );
        }
    }

    #[test]
    fn r_user_2_long_name_with_forbidden_character_reports_both() {
        let s = WebexUserSpec {
            first_name: Some(format!("{}#", "a".repeat(30))),
            ..calling_user()
        };
        assert_eq!(
            validate(&s),
            vec![
                "spec.firstName: a Webex Calling user's name must be at most 30 characters (R-USER-2)".to_string(),
                "spec.firstName: a Webex Calling user's name must not contain '#' (R-USER-2)".to_string(),
            ]
        );
    }

    #[test]
    fn r_user_2_does_not_apply_to_users_without_calling() {
        let s = WebexUserSpec {
            first_name: Some(format!("{}%#<>\\/\"", "a".repeat(40))),
            last_name: Some("O/Brien #2".into()),
            ..spec()
        };
        assert_eq!(validate(&s), Vec::<String>::new());
        let decided = run(&s, &WebexUserStatus::default(), &org(), None);
        assert!(
            matches!(decided.actions.as_slice(), [UserAction::Create(_)]),
            "{decided:?}"
        );
    }

    #[test]
    fn r_user_7_calling_needs_a_number_or_an_extension() {
        let s = WebexUserSpec {
            calling: Some(calling_spec(None, None, Some(LOCATION))),
            ..spec()
        };
        assert_eq!(
            validate(&s),
            vec!["spec.calling: needs a phoneNumber or an extension (R-USER-7)".to_string()]
        );
    }

    #[test]
    fn r_user_7_calling_without_number_needs_a_location() {
        let extension_only = WebexUserSpec {
            calling: Some(calling_spec(None, Some("1234"), None)),
            ..spec()
        };
        assert_eq!(
            validate(&extension_only),
            vec!["spec.calling: without a phoneNumber a locationId is required (R-USER-7)".to_string()]
        );
        let nothing = WebexUserSpec {
            calling: Some(calling_spec(None, None, None)),
            ..spec()
        };
        assert_eq!(
            validate(&nothing),
            vec![
                "spec.calling: needs a phoneNumber or an extension (R-USER-7)".to_string(),
                "spec.calling: without a phoneNumber a locationId is required (R-USER-7)".to_string(),
            ]
        );
    }

    #[test]
    fn r_user_7_valid_calling_shapes() {
        for calling in [
            calling_spec(Some(NUMBER), None, None),
            calling_spec(Some(NUMBER), Some("1234"), Some(LOCATION)),
            calling_spec(None, Some("1234"), Some(LOCATION)),
        ] {
            let s = WebexUserSpec {
                calling: Some(calling.clone()),
                ..spec()
            };
            assert_eq!(validate(&s), Vec::<String>::new(), "{calling:?}");
        }
    }

    #[test]
    fn r_cc_3_premium_supervisor_cannot_hold_admin_roles() {
        let s = WebexUserSpec {
            admin_roles: Some(vec![AdminRole::ContactCenterServiceAdministrator]),
            ..cc_user(ContactCenterType::PremiumSupervisor)
        };
        assert_eq!(
            validate(&s),
            vec![
                "spec.adminRoles: a Contact Center PremiumSupervisor cannot hold administrator roles (R-CC-3)"
                    .to_string()
            ]
        );
        // An empty list is no role; Premium agents may be administrators.
        let empty = WebexUserSpec {
            admin_roles: Some(vec![]),
            ..cc_user(ContactCenterType::PremiumSupervisor)
        };
        assert_eq!(validate(&empty), Vec::<String>::new());
        let premium_admin = WebexUserSpec {
            admin_roles: Some(vec![AdminRole::FullAdministrator]),
            ..cc_user(ContactCenterType::Premium)
        };
        assert_eq!(validate(&premium_admin), Vec::<String>::new());
    }

    #[test]
    fn invalid_spec_blocks_terminally_without_actions_and_keeps_status() {
        let s = WebexUserSpec {
            first_name: Some("A#".into()),
            calling: Some(calling_spec(None, None, None)),
            ..spec()
        };
        let status = WebexUserStatus {
            effective_licenses: vec![manual("MS", ms2())],
            admin_roles: vec![AdminRole::UserAdministrator],
            adopted: Some(true),
            ..ours()
        };
        let decided = run(&s, &status, &org(), Some(&person()));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: blocked_by(
                    UserReason::InvalidSpec,
                    "spec.firstName: a Webex Calling user's name must not contain '#' (R-USER-2); spec.calling: needs a phoneNumber or an extension (R-USER-7); spec.calling: without a phoneNumber a locationId is required (R-USER-7)"
                ),
                state: UserState::Active,
                person_id: Some(PID.into()),
                adopted: Some(true),
                effective_licenses: vec![manual("MS", ms2())],
                admin_roles: vec![AdminRole::UserAdministrator],
            }
        );
    }

    // ---- tenancy -----------------------------------------------------------------------------

    #[test]
    fn tenancy_empty_grants_allow_everyone() {
        assert_eq!(permitted(&org(), "any-namespace", "x@anything.org"), Ok(()));
    }

    #[test]
    fn tenancy_namespace_not_granted() {
        let o = OrgFacts {
            tenants: vec![("team-b".into(), vec![])],
            ..org()
        };
        assert_eq!(
            permitted(&o, NS, EMAIL),
            Err("namespace team-a is not granted use of this WebexOrg".to_string())
        );
        let decided = run(&spec(), &WebexUserStatus::default(), &o, None);
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(
                UserReason::NotPermitted,
                "namespace team-a is not granted use of this WebexOrg"
            )
        );
        assert_eq!(decided.state, UserState::NotCreated);
    }

    #[test]
    fn tenancy_domain_not_granted() {
        let o = OrgFacts {
            tenants: vec![(NS.into(), vec!["example.org".into()])],
            ..org()
        };
        assert_eq!(
            permitted(&o, NS, "ada@Example.COM"),
            Err("namespace team-a may not manage the email domain example.com".to_string())
        );
        let decided = run(&spec(), &ours(), &o, Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(
                UserReason::NotPermitted,
                "namespace team-a may not manage the email domain example.com"
            )
        );
    }

    #[test]
    fn tenancy_domain_match_is_case_insensitive() {
        let o = OrgFacts {
            tenants: vec![
                ("team-b".into(), vec![]),
                (NS.into(), vec!["other.org".into(), "EXAMPLE.com".into()]),
            ],
            ..org()
        };
        assert_eq!(permitted(&o, NS, "ada@example.COM"), Ok(()));
        assert_eq!(permitted(&o, NS, "ada@other.org"), Ok(()));
        let decided = run(
            &WebexUserSpec {
                email: "Ada@Example.Com".into(),
                ..spec()
            },
            &WebexUserStatus::default(),
            &o,
            None,
        );
        assert!(
            matches!(decided.actions.as_slice(), [UserAction::Create(_)]),
            "{decided:?}"
        );
    }

    #[test]
    fn tenancy_granted_namespace_without_domains_may_use_any_domain() {
        let o = OrgFacts {
            tenants: vec![(NS.into(), vec![])],
            ..org()
        };
        assert_eq!(permitted(&o, NS, "x@anything.org"), Ok(()));
    }

    // ---- licence resolution (R-ORG-6, R-TPL-4) -----------------------------------------------

    #[test]
    fn r_org_6_missing_offer_code_is_license_not_in_org() {
        let decided = run(&with_licenses(&["MS", "XX"]), &ours(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::LicenseNotInOrg, "the org has no licence with offer code XX")
        );

        let in_sub = WebexUserSpec {
            licenses: Some(vec![lref_in("EE", "sub-9")]),
            ..spec()
        };
        assert_eq!(
            desired_licenses(&in_sub, &org()),
            Err("the org has no licence with offer code EE in subscription sub-9".to_string())
        );
        let on_site = WebexUserSpec {
            licenses: Some(vec![LicenseRef {
                site_url: Some("acme.webex.com".into()),
                ..lref("EE")
            }]),
            ..spec()
        };
        assert_eq!(
            desired_licenses(&on_site, &org()),
            Err("the org has no licence with offer code EE on site acme.webex.com".to_string())
        );
    }

    #[test]
    fn r_org_6_calling_and_contact_center_codes_missing_in_org() {
        let mut o = org();
        o.licenses
            .retain(|l| l.offer_code != "BCPRO" && l.offer_code != "CJPPRM");
        let decided = run(&calling_user(), &WebexUserStatus::default(), &o, None);
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(
                UserReason::LicenseNotInOrg,
                "the org has no licence with offer code BCPRO"
            )
        );
        let decided = run(
            &cc_user(ContactCenterType::PremiumSupervisor),
            &WebexUserStatus::default(),
            &o,
            None,
        );
        assert_eq!(
            decided.verdict,
            blocked_by(
                UserReason::LicenseNotInOrg,
                "the org has no licence with offer code CJPPRM"
            )
        );
        let cc_sub = WebexUserSpec {
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::Standard,
                subscription_id: Some("sub-2".into()),
            }),
            ..spec()
        };
        assert_eq!(
            desired_licenses(&cc_sub, &org()),
            Err("the org has no licence with offer code CJPSTD in subscription sub-2".to_string())
        );
    }

    #[test]
    fn r_org_6_most_free_units_wins_without_a_subscription() {
        assert_eq!(pick_license(&org(), &lref("MS")).map(|l| l.id.clone()), Some(ms2()));
    }

    #[test]
    fn r_org_6_subscription_narrows_the_choice() {
        assert_eq!(
            pick_license(&org(), &lref_in("MS", "sub-1")).map(|l| l.id.clone()),
            Some(ms1())
        );
        assert_eq!(pick_license(&org(), &lref_in("MS", "sub-3")), None);
        let s = WebexUserSpec {
            licenses: Some(vec![lref_in("MS", "sub-1")]),
            ..spec()
        };
        let decided = run(&s, &ours(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![patch(vec![add(ms1())])]);
        assert_eq!(decided.effective_licenses, vec![manual("MS", ms1())]);
    }

    #[test]
    fn r_org_6_site_narrows_the_choice() {
        let mut o = org();
        o.licenses.push(OrgLicense {
            site_url: Some("b.webex.com".into()),
            ..org_license("MC", "sub-1", 10, 0)
        });
        o.licenses.push(OrgLicense {
            id: lid("MC", "sub-1b"),
            site_url: Some("a.webex.com".into()),
            ..org_license("MC", "sub-1", 10, 9)
        });
        let on_a = LicenseRef {
            site_url: Some("a.webex.com".into()),
            ..lref("MC")
        };
        assert_eq!(pick_license(&o, &on_a).map(|l| l.id.clone()), Some(lid("MC", "sub-1b")));
        assert_eq!(
            pick_license(&o, &lref("MC")).map(|l| l.id.clone()),
            Some(lid("MC", "sub-1"))
        );
    }

    #[test]
    fn r_org_6_equal_free_units_pick_deterministically() {
        let mut o = org();
        o.licenses.retain(|l| l.offer_code != "MS");
        o.licenses.push(org_license("MS", "sub-b", 10, 5));
        o.licenses.push(org_license("MS", "sub-a", 20, 15));
        let expected = std::cmp::min(lid("MS", "sub-a"), lid("MS", "sub-b"));
        assert_eq!(
            pick_license(&o, &lref("MS")).map(|l| l.id.clone()),
            Some(expected.clone())
        );
        o.licenses.reverse();
        assert_eq!(
            pick_license(&o, &lref("MS")).map(|l| l.id.clone()),
            Some(expected),
            "independent of the order"
        );
    }

    #[test]
    fn desired_licenses_none_when_no_licence_field_is_set() {
        assert_eq!(desired_licenses(&spec(), &org()), Ok(None));
        assert_eq!(
            desired_licenses(&with_roles(&[AdminRole::FullAdministrator]), &org()),
            Ok(None)
        );
        assert_eq!(
            desired_licenses(&with_licenses(&[]), &org()),
            Ok(Some(vec![])),
            "an explicit empty list manages licences"
        );
    }

    #[test]
    fn desired_licenses_in_field_order_with_calling_properties_and_without_duplicates() {
        let s = WebexUserSpec {
            licenses: Some(vec![lref("EE"), lref("MS"), lref("EE")]),
            calling: Some(calling_spec(Some(NUMBER), Some("1234"), Some(LOCATION))),
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::PremiumSupervisor,
                subscription_id: None,
            }),
            ..spec()
        };
        assert_eq!(
            desired_licenses(&s, &org()),
            Ok(Some(vec![
                DesiredLicense {
                    id: ee(),
                    offer_code: "EE".into(),
                    properties: None
                },
                DesiredLicense {
                    id: ms2(),
                    offer_code: "MS".into(),
                    properties: None
                },
                DesiredLicense {
                    id: bcpro(),
                    offer_code: "BCPRO".into(),
                    properties: Some(LicenseProperties {
                        location_id: Some(LOCATION.into()),
                        phone_number: Some(NUMBER.into()),
                        extension: Some("1234".into())
                    }),
                },
                DesiredLicense {
                    id: cjpprm(),
                    offer_code: "CJPPRM".into(),
                    properties: None
                },
            ]))
        );
        let standard = cc_user(ContactCenterType::Standard);
        assert_eq!(
            desired_licenses(&standard, &org()),
            Ok(Some(vec![DesiredLicense {
                id: cjpstd(),
                offer_code: "CJPSTD".into(),
                properties: None
            }]))
        );
        let bcstd_user = WebexUserSpec {
            calling: Some(CallingSpec {
                offer_code: "BCSTD".into(),
                ..calling_spec(Some(NUMBER), None, None)
            }),
            ..spec()
        };
        assert_eq!(desired_licenses(&bcstd_user, &org()).unwrap().unwrap()[0].id, bcstd());
    }

    #[test]
    fn licences_not_managed_without_licence_fields_never_patch_nor_remove() {
        let status = managing(&[("MS", ms2()), ("EE", ee())]);
        let p = holding(&[ms2(), ee(), bcstd(), cjpstd()]);
        let decided = run(&spec(), &status, &org(), Some(&p));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
        assert_eq!(
            decided.effective_licenses, status.effective_licenses,
            "the managed set is kept, not forgotten"
        );
    }

    // ---- no person yet (R-USER-1, R-USER-12, R-ORG-2) ----------------------------------------

    #[test]
    fn r_user_1_create_with_lower_cased_email_and_names() {
        let s = WebexUserSpec {
            email: "Ada.Lovelace@Example.COM".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            calling: Some(calling_spec(Some(NUMBER), None, Some(LOCATION))),
            admin_roles: Some(vec![AdminRole::FullAdministrator]),
            ..spec()
        };
        let decided = run(&s, &WebexUserStatus::default(), &org(), None);
        let expected_create = UserAction::Create(PersonWrite {
            emails: vec!["ada.lovelace@example.com".into()],
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            display_name: Some("Ada Lovelace".into()),
            ..Default::default()
        });
        // R-USER-12: names only; licences and roles follow once the person exists.
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![expected_create],
                verdict: Verdict::Waiting {
                    reason: UserReason::Reconciling,
                    message: "creating Ada.Lovelace@Example.COM".into()
                },
                state: UserState::NotCreated,
                person_id: None,
                adopted: None,
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
    }

    fn created_display_name(s: &WebexUserSpec) -> Option<String> {
        match run(s, &WebexUserStatus::default(), &org(), None).actions.as_slice() {
            [UserAction::Create(body)] => body.display_name.clone(),
            other => panic!("expected one Create, got {other:?}"),
        }
    }

    #[test]
    fn r_user_1_display_name_falls_back_to_names_then_email_local_part() {
        assert_eq!(
            created_display_name(&WebexUserSpec {
                display_name: Some("The Countess".into()),
                first_name: Some("Ada".into()),
                ..spec()
            })
            .as_deref(),
            Some("The Countess")
        );
        assert_eq!(
            created_display_name(&WebexUserSpec {
                first_name: Some("Ada".into()),
                ..spec()
            })
            .as_deref(),
            Some("Ada")
        );
        assert_eq!(
            created_display_name(&WebexUserSpec {
                last_name: Some("Lovelace".into()),
                ..spec()
            })
            .as_deref(),
            Some("Lovelace")
        );
        assert_eq!(
            created_display_name(&WebexUserSpec {
                email: "Grace.Hopper@Navy.MIL".into(),
                ..spec()
            })
            .as_deref(),
            Some("Grace.Hopper")
        );
    }

    #[test]
    fn r_org_2_directory_sync_org_cannot_add_users() {
        let o = OrgFacts {
            directory_sync: Some(true),
            ..org()
        };
        let decided = run(&spec(), &WebexUserStatus::default(), &o, None);
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: blocked_by(
                    UserReason::OrgUsesDirectorySync,
                    "the org synchronises users from a directory, so users cannot be added by hand (R-ORG-2); add the user in the directory"
                ),
                state: UserState::NotCreated,
                person_id: None,
                adopted: None,
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
        // Unknown sync state does not block the create.
        let unknown = OrgFacts {
            directory_sync: None,
            ..org()
        };
        assert!(matches!(
            run(&spec(), &WebexUserStatus::default(), &unknown, None)
                .actions
                .as_slice(),
            [UserAction::Create(_)]
        ));
    }

    #[test]
    fn r_org_2_directory_sync_still_manages_synced_persons() {
        let o = OrgFacts {
            directory_sync: Some(true),
            ..org()
        };
        let decided = run(&with_licenses(&["EE"]), &ours(), &o, Some(&person()));
        assert_eq!(decided.actions, vec![patch(vec![add(ee())])]);
    }

    #[test]
    fn observe_only_without_person_creates_nothing() {
        let s = WebexUserSpec {
            management_policy: ManagementPolicy::ObserveOnly,
            ..spec()
        };
        let decided = run(&s, &WebexUserStatus::default(), &org(), None);
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::ObserveOnly, "would create ada@example.com (observe-only)")
        );
        assert_eq!(decided.state, UserState::NotCreated);
    }

    // ---- a person of the org exists (R-USER-3) ----------------------------------------------

    #[test]
    fn r_user_3_adopt_policy_adopts_the_existing_person() {
        let s = WebexUserSpec {
            existing_user_policy: Some(ExistingUserPolicy::Adopt),
            ..spec()
        };
        let o = OrgFacts {
            default_existing_user_policy: ExistingUserPolicy::Refuse,
            ..org()
        };
        let decided = run(&s, &WebexUserStatus::default(), &o, Some(&person()));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![UserAction::Adopt { person_id: PID.into() }],
                verdict: Verdict::Ready,
                state: UserState::Active,
                person_id: Some(PID.into()),
                adopted: Some(true),
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
    }

    #[test]
    fn r_user_3_org_default_adopt_applies_when_spec_is_silent() {
        let decided = run(
            &with_licenses(&["EE"]),
            &WebexUserStatus::default(),
            &org(),
            Some(&person()),
        );
        assert_eq!(
            decided.actions,
            vec![UserAction::Adopt { person_id: PID.into() }, patch(vec![add(ee())])]
        );
        assert_eq!(decided.adopted, Some(true));
        assert_eq!(decided.verdict, reconciling(&[patch(vec![add(ee())])]));
    }

    #[test]
    fn r_user_3_adopt_a_person_whose_id_is_not_the_recorded_one() {
        let status = WebexUserStatus {
            person_id: Some("someone-else".into()),
            ..Default::default()
        };
        let decided = run(&spec(), &status, &org(), Some(&person()));
        assert_eq!(decided.actions, vec![UserAction::Adopt { person_id: PID.into() }]);
        assert_eq!(decided.person_id, Some(PID.into()));
    }

    #[test]
    fn r_user_3_refuse_on_spec_blocks() {
        let s = WebexUserSpec {
            existing_user_policy: Some(ExistingUserPolicy::Refuse),
            ..with_licenses(&["EE"])
        };
        let decided = run(&s, &WebexUserStatus::default(), &org(), Some(&person()));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: blocked_by(
                    UserReason::AlreadyExistsInOrg,
                    "ada@example.com already belongs to a person of the org and existingUserPolicy is Refuse (R-USER-3)"
                ),
                state: UserState::Active,
                person_id: None,
                adopted: None,
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
    }

    #[test]
    fn r_user_3_refuse_from_org_default_blocks() {
        let o = OrgFacts {
            default_existing_user_policy: ExistingUserPolicy::Refuse,
            ..org()
        };
        let decided = run(&spec(), &WebexUserStatus::default(), &o, Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(reason_of(&decided.verdict), UserReason::AlreadyExistsInOrg);
    }

    #[test]
    fn r_user_3_our_person_by_status_id_is_never_adopted_nor_refused() {
        let s = WebexUserSpec {
            existing_user_policy: Some(ExistingUserPolicy::Refuse),
            ..spec()
        };
        let decided = run(&s, &ours(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
        assert_eq!(decided.adopted, Some(false));
        // An adopted person stays adopted; a status without the flag reads as created.
        let adopted = WebexUserStatus {
            adopted: Some(true),
            ..ours()
        };
        assert_eq!(run(&s, &adopted, &org(), Some(&person())).adopted, Some(true));
        let unflagged = WebexUserStatus {
            adopted: None,
            ..ours()
        };
        assert_eq!(run(&s, &unflagged, &org(), Some(&person())).adopted, Some(false));
    }

    #[test]
    fn r_user_3_crash_after_create_request_recognises_the_person_as_ours() {
        // The status recorded the intent to create, but not the id (crash in between).
        let status = WebexUserStatus {
            create_requested_at: Some("2025-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let s = WebexUserSpec {
            existing_user_policy: Some(ExistingUserPolicy::Refuse),
            ..spec()
        };
        let decided = run(&s, &status, &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
        assert_eq!(decided.person_id, Some(PID.into()));
        assert_eq!(decided.adopted, Some(false));
    }

    #[test]
    fn r_user_3_create_request_does_not_claim_a_different_person_than_the_recorded_one() {
        // Our person (recorded id) vanished; someone else now holds the email. The old create
        // request must not make that person ours behind the Refuse policy.
        let status = WebexUserStatus {
            person_id: Some("gone".into()),
            create_requested_at: Some("2025-01-01T00:00:00Z".into()),
            adopted: Some(false),
            ..Default::default()
        };
        let s = WebexUserSpec {
            existing_user_policy: Some(ExistingUserPolicy::Refuse),
            ..spec()
        };
        let decided = run(&s, &status, &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(reason_of(&decided.verdict), UserReason::AlreadyExistsInOrg);
        // With Adopt it is adopted (and reported as such), not taken for the one we created.
        let decided = run(&spec(), &status, &org(), Some(&person()));
        assert_eq!(decided.actions, vec![UserAction::Adopt { person_id: PID.into() }]);
        assert_eq!(decided.adopted, Some(true));
    }

    #[test]
    fn r_clm_10_person_claimed_by_another_org_is_left_alone() {
        for email in [CLAIMED_EMAIL, "Ada@Example.com.CONVERT-USER.LOCAL"] {
            let p = Person {
                emails: vec![email.into()],
                licenses: vec![ms1()],
                ..person()
            };
            let s = WebexUserSpec {
                first_name: Some("Augusta".into()),
                admin_roles: Some(vec![AdminRole::FullAdministrator]),
                ..with_licenses(&["EE"])
            };
            let status = managing(&[("MS", ms1())]);
            let decided = run(&s, &status, &org(), Some(&p));
            assert_eq!(
                decided,
                UserPlan {
                    actions: vec![],
                    verdict: blocked_by(
                        UserReason::ClaimedByAnotherOrg,
                        "another organisation claimed this user: Webex shows its email with the suffix .convert-user.local until the user decides what happens to this account; it is neither corrected nor deleted (R-CLM-10)"
                    ),
                    state: UserState::Active,
                    person_id: Some(PID.into()),
                    adopted: Some(false),
                    effective_licenses: vec![manual("MS", ms1())],
                    admin_roles: vec![],
                }
            );
            // Not adopted either.
            assert_eq!(run(&s, &WebexUserStatus::default(), &org(), Some(&p)).actions, vec![]);
        }
    }

    // ---- licences (R-USER-6, R-USER-7, R-CC-1..2, R-TPL-4) -----------------------------------

    #[test]
    fn r_user_6_missing_licences_are_added() {
        let decided = run(&with_licenses(&["MS", "EE"]), &ours(), &org(), Some(&holding(&[ee()])));
        let expected = patch(vec![add(ms2())]);
        assert_eq!(decided.actions, vec![expected.clone()]);
        assert_eq!(decided.verdict, reconciling(&[expected]));
        assert_eq!(
            decided.verdict,
            Verdict::Waiting {
                reason: UserReason::Reconciling,
                message: "change licences (+1 -0)".into()
            }
        );
        assert_eq!(
            decided.effective_licenses,
            vec![manual("MS", ms2()), manual("EE", ee())]
        );
    }

    #[test]
    fn r_user_6_managed_licences_no_longer_wanted_are_removed() {
        let status = managing(&[("MS", ms2()), ("EE", ee())]);
        let decided = run(&with_licenses(&["EE"]), &status, &org(), Some(&holding(&[ms2(), ee()])));
        assert_eq!(decided.actions, vec![patch(vec![remove(ms2())])]);
        assert_eq!(decided.effective_licenses, vec![manual("EE", ee())]);
        // Managed but no longer held: nothing to remove.
        let decided = run(&with_licenses(&["EE"]), &status, &org(), Some(&holding(&[ee()])));
        assert_eq!(decided.actions, vec![]);
        // An explicit empty list removes every managed licence, and only those.
        let decided = run(
            &with_licenses(&[]),
            &status,
            &org(),
            Some(&holding(&[ms2(), ee(), ms1()])),
        );
        assert_eq!(
            decided.actions,
            vec![patch(sorted_requests(vec![remove(ms2()), remove(ee())]))]
        );
        assert_eq!(decided.effective_licenses, vec![]);
    }

    /// Removals come in licence-id order (the order of the held set).
    fn sorted_requests(mut requests: Vec<LicenseRequest>) -> Vec<LicenseRequest> {
        requests.sort_by(|a, b| a.id.cmp(&b.id));
        requests
    }

    #[test]
    fn r_user_6_unmanaged_licences_are_never_removed() {
        // The person holds MS (sub-1), BCSTD and CJPSTD that the operator did not assign.
        let p = holding(&[ms1(), bcstd(), cjpstd()]);
        let decided = run(&with_licenses(&["EE"]), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![patch(vec![add(ee())])]);
    }

    #[test]
    fn r_tpl_4_manual_list_overrides_template_licences() {
        // A licence recorded as coming from a template is managed; the manual list replaces it.
        let status = WebexUserStatus {
            effective_licenses: vec![EffectiveLicense {
                offer_code: "EE".into(),
                id: ee(),
                source: "Template/default".into(),
            }],
            ..ours()
        };
        let decided = run(&with_licenses(&["MS"]), &status, &org(), Some(&holding(&[ee()])));
        assert_eq!(decided.actions, vec![patch(vec![remove(ee()), add(ms2())])]);
        assert_eq!(
            decided.effective_licenses,
            vec![manual("MS", ms2())],
            "the manual choice is recorded as Manual"
        );
    }

    #[test]
    fn r_user_7_calling_properties_are_sent_with_the_add() {
        let s = WebexUserSpec {
            calling: Some(calling_spec(Some(NUMBER), Some("1234"), Some(LOCATION))),
            ..spec()
        };
        let decided = run(&s, &ours(), &org(), Some(&person()));
        let props = LicenseProperties {
            location_id: Some(LOCATION.into()),
            phone_number: Some(NUMBER.into()),
            extension: Some("1234".into()),
        };
        assert_eq!(decided.actions, vec![patch(vec![add_with(bcpro(), props)])]);
        assert_eq!(decided.effective_licenses, vec![manual("BCPRO", bcpro())]);
    }

    #[test]
    fn r_user_7_calling_subscription_narrows_the_licence() {
        let mut o = org();
        o.licenses.push(org_license("BCPRO", "sub-2", 1000, 0));
        let s = WebexUserSpec {
            calling: Some(CallingSpec {
                subscription_id: Some("sub-1".into()),
                ..calling_spec(Some(NUMBER), None, None)
            }),
            ..spec()
        };
        let decided = run(&s, &ours(), &o, Some(&person()));
        let props = LicenseProperties {
            location_id: None,
            phone_number: Some(NUMBER.into()),
            extension: None,
        };
        assert_eq!(decided.actions, vec![patch(vec![add_with(bcpro(), props)])]);
    }

    #[test]
    fn r_user_7_calling_field_owns_the_calling_group() {
        // The person holds BCSTD (not assigned by the operator); the spec wants BCPRO: Webex
        // refuses both at once (400404), so BCSTD goes first.
        let p = Person {
            licenses: vec![bcstd(), ee()],
            ..person()
        };
        let decided = run(&calling_user(), &ours(), &org(), Some(&p));
        assert_eq!(
            decided.actions,
            vec![patch(vec![remove(bcstd()), add_with(bcpro(), number_props(NUMBER))])]
        );
        assert_eq!(
            decided.verdict,
            Verdict::Waiting {
                reason: UserReason::Reconciling,
                message: "change licences (+1 -1)".into()
            }
        );
        // Without the calling field, the group is not owned and BCSTD stays.
        let decided = run(&with_licenses(&["EE"]), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![]);
    }

    #[test]
    fn r_cc_1_contact_center_field_owns_the_cc_group() {
        let p = holding(&[cjpstd()]);
        let decided = run(&cc_user(ContactCenterType::Premium), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![patch(vec![remove(cjpstd()), add(cjpprm())])]);
        assert_eq!(decided.effective_licenses, vec![manual("CJPPRM", cjpprm())]);
        let p = holding(&[cjpprm()]);
        let decided = run(&cc_user(ContactCenterType::Standard), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![patch(vec![remove(cjpprm()), add(cjpstd())])]);
        // Without the contactCenter field an unmanaged CC licence stays.
        assert_eq!(run(&with_licenses(&[]), &ours(), &org(), Some(&p)).actions, vec![]);
    }

    fn licensing(full: &[String], sources: &[(&str, &str)]) -> LicenseContext {
        LicenseContext {
            sources: sources.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect(),
            full: full.iter().cloned().collect(),
        }
    }

    fn run_with(spec: &WebexUserSpec, status: &WebexUserStatus, person: &Person, l: &LicenseContext) -> UserPlan {
        plan_with(
            UserInputs {
                spec,
                status,
                namespace: NS,
                org: &org(),
                person: Some(person),
            },
            l,
        )
    }

    #[test]
    fn r_tpl_1_effective_licences_carry_the_template_provenance() {
        let l = licensing(&[], &[("EE", "Template/default")]);
        let decided = run_with(&with_licenses(&["EE"]), &ours(), &person(), &l);
        assert_eq!(decided.actions, vec![patch(vec![add(ee())])]);
        assert_eq!(
            decided.effective_licenses,
            vec![EffectiveLicense {
                offer_code: "EE".into(),
                id: ee(),
                source: "Template/default".into()
            }]
        );
    }

    #[test]
    fn r_user_10_full_licence_is_not_added_and_the_user_waits_for_a_seat() {
        let l = licensing(&[ee()], &[]);
        let decided = run_with(&with_licenses(&["MS", "EE"]), &ours(), &person(), &l);
        // MS is added; EE waits.
        assert_eq!(decided.actions, vec![patch(vec![add(ms2())])]);
        assert_eq!(decided.effective_licenses, vec![manual("MS", ms2())]);
        // Once MS is held, nothing is left to write: LicenseCapacityExhausted, retried.
        let after = record(managing(&[("MS", ms2())]), &decided);
        let decided = run_with(&with_licenses(&["MS", "EE"]), &after, &holding(&[ms2()]), &l);
        assert_eq!(decided.actions, vec![]);
        assert!(
            matches!(
                &decided.verdict,
                Verdict::Blocked { reason: UserReason::LicenseCapacityExhausted, terminal: false, message } if message.contains("EE")
            ),
            "{:?}",
            decided.verdict
        );
        // A seat frees up: the licence is added.
        let decided = run_with(
            &with_licenses(&["MS", "EE"]),
            &after,
            &holding(&[ms2()]),
            &licensing(&[], &[]),
        );
        assert_eq!(decided.actions, vec![patch(vec![add(ee())])]);
    }

    #[test]
    fn r_user_10_a_held_licence_needs_no_free_seat() {
        let l = licensing(&[ee()], &[]);
        let decided = run_with(
            &with_licenses(&["EE"]),
            &managing(&[("EE", ee())]),
            &holding(&[ee()]),
            &l,
        );
        assert_eq!(decided.actions, vec![]);
        assert_eq!(reason_of(&decided.verdict), UserReason::Active);
    }

    #[test]
    fn r_cc_2_upgrade_to_a_full_premium_keeps_standard_until_a_seat_frees() {
        let s = cc_user(ContactCenterType::Premium);
        let status = managing(&[("CJPSTD", cjpstd())]);
        let decided = run_with(&s, &status, &holding(&[cjpstd()]), &licensing(&[cjpprm()], &[]));
        assert_eq!(decided.actions, vec![], "Standard is not taken away for nothing");
        assert_eq!(reason_of(&decided.verdict), UserReason::LicenseCapacityExhausted);
        assert_eq!(
            decided.effective_licenses,
            vec![manual("CJPSTD", cjpstd())],
            "still managed"
        );
    }

    #[test]
    fn r_tpl_2_adopted_or_about_to_be_adopted_persons_are_existing_users() {
        assert!(!is_adopted(&ours(), Some(&person())));
        assert!(!is_adopted(&WebexUserStatus::default(), None));
        assert!(
            is_adopted(&WebexUserStatus::default(), Some(&person())),
            "found by email, not ours"
        );
        let requested = WebexUserStatus {
            create_requested_at: Some("2026-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        assert!(
            !is_adopted(&requested, Some(&person())),
            "our own create, before its id was recorded"
        );
        let adopted = WebexUserStatus {
            adopted: Some(true),
            ..ours()
        };
        assert!(is_adopted(&adopted, Some(&person())));
    }

    #[test]
    fn provenance_recorded_compares_offer_codes_and_sources() {
        let status = managing(&[("EE", ee())]);
        assert!(provenance_recorded(&licensing(&[], &[("EE", "Manual")]), &status));
        assert!(!provenance_recorded(&licensing(&[], &[("EE", "Template/t")]), &status));
        assert!(!provenance_recorded(&licensing(&[], &[]), &status));
    }

    #[test]
    fn r_cc_2_premium_wins_over_standard_held_together() {
        let p = holding(&[cjpstd(), cjpprm()]);
        let decided = run(&cc_user(ContactCenterType::Premium), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![patch(vec![remove(cjpstd())])]);
    }

    #[test]
    fn removals_are_ordered_before_adds() {
        let status = managing(&[("MS", ms2())]);
        let p = holding(&[ms2(), bcstd(), cjpstd()]);
        let s = WebexUserSpec {
            licenses: Some(vec![lref("EE")]),
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::Premium,
                subscription_id: None,
            }),
            ..calling_user()
        };
        let decided = run(&s, &status, &org(), Some(&p));
        let mut removals = sorted_requests(vec![remove(ms2()), remove(bcstd()), remove(cjpstd())]);
        removals.extend([add(ee()), add_with(bcpro(), number_props(NUMBER)), add(cjpprm())]);
        assert_eq!(decided.actions, vec![patch(removals)]);
        assert_eq!(
            decided.effective_licenses,
            vec![manual("EE", ee()), manual("BCPRO", bcpro()), manual("CJPPRM", cjpprm())]
        );
    }

    #[test]
    fn r_user_7_held_calling_licence_with_the_same_number_needs_nothing() {
        let status = managing(&[("BCPRO", bcpro())]);
        let decided = run(&calling_user(), &status, &org(), Some(&calling_person(NUMBER)));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
    }

    #[test]
    fn r_user_7_held_calling_licence_with_another_number_is_added_again_with_properties() {
        let status = managing(&[("BCPRO", bcpro())]);
        let decided = run(&calling_user(), &status, &org(), Some(&calling_person(OTHER_NUMBER)));
        assert_eq!(
            decided.actions,
            vec![patch(vec![add_with(bcpro(), number_props(NUMBER))])]
        );
    }

    #[test]
    fn r_user_7_held_calling_licence_extension_is_compared_too() {
        let status = managing(&[("BCPRO", bcpro())]);
        let s = WebexUserSpec {
            calling: Some(calling_spec(None, Some("1234"), Some(LOCATION))),
            ..spec()
        };
        let props = LicenseProperties {
            location_id: Some(LOCATION.into()),
            phone_number: None,
            extension: Some("1234".into()),
        };
        let wrong = Person {
            extension: Some("9999".into()),
            ..calling_person(NUMBER)
        };
        assert_eq!(
            run(&s, &status, &org(), Some(&wrong)).actions,
            vec![patch(vec![add_with(bcpro(), props)])]
        );
        // A number the spec does not ask for is not compared.
        let right = Person {
            extension: Some("1234".into()),
            ..calling_person(NUMBER)
        };
        assert_eq!(run(&s, &status, &org(), Some(&right)).actions, vec![]);
    }

    #[test]
    fn r_user_7_put_after_a_number_change_carries_the_new_number() {
        // Same plan: PATCH re-adds BCPRO with the new number and extension, PUT grants a role.
        // The PUT replaces the person, so it sends the new work number (keeping the mobile one).
        let mobile = PhoneNumber {
            kind: "mobile".into(),
            value: "+14085550000".into(),
            primary: None,
        };
        let p = Person {
            phone_numbers: vec![work_number(OTHER_NUMBER), mobile.clone()],
            extension: Some("1111".into()),
            ..calling_person(OTHER_NUMBER)
        };
        let s = WebexUserSpec {
            calling: Some(calling_spec(Some(NUMBER), Some("2222"), Some(LOCATION))),
            admin_roles: Some(vec![AdminRole::UserAdministrator]),
            ..spec()
        };
        let decided = run(&s, &managing(&[("BCPRO", bcpro())]), &org(), Some(&p));
        let props = LicenseProperties {
            location_id: Some(LOCATION.into()),
            phone_number: Some(NUMBER.into()),
            extension: Some("2222".into()),
        };
        let body = PersonWrite {
            phone_numbers: vec![mobile, work_number(NUMBER)],
            extension: Some("2222".into()),
            location_id: Some(LOCATION.into()),
            ..put(vec![bcpro()], vec![role("id_user_admin")])
        };
        assert_eq!(
            decided.actions,
            vec![patch(vec![add_with(bcpro(), props)]), update(body)]
        );
    }

    #[test]
    fn r_org_6_a_held_licence_is_kept_when_no_subscription_is_asked_for() {
        // The person holds MS of sub-1 (the operator's earlier choice); sub-2 now has more free
        // units. Moving the licence between subscriptions on every change in free units would
        // flap (and for Calling, would reprovision the number): keep the held one.
        let status = managing(&[("MS", ms1())]);
        let decided = run(&with_licenses(&["MS"]), &status, &org(), Some(&holding(&[ms1()])));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.effective_licenses, vec![manual("MS", ms1())]);
        // An explicit subscription still moves it.
        let s = WebexUserSpec {
            licenses: Some(vec![lref_in("MS", "sub-2")]),
            ..spec()
        };
        let decided = run(&s, &status, &org(), Some(&holding(&[ms1()])));
        assert_eq!(decided.actions, vec![patch(vec![remove(ms1()), add(ms2())])]);
        // Without a held one, the most free units win (pick_license is unchanged).
        assert_eq!(
            run(&with_licenses(&["MS"]), &ours(), &org(), Some(&person())).actions,
            vec![patch(vec![add(ms2())])]
        );
    }

    #[test]
    fn r_org_6_held_calling_licence_of_another_subscription_is_kept() {
        let mut o = org();
        o.licenses.push(org_license("BCPRO", "sub-2", 1000, 0));
        let status = managing(&[("BCPRO", bcpro())]);
        let decided = run(&calling_user(), &status, &o, Some(&calling_person(NUMBER)));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.effective_licenses, vec![manual("BCPRO", bcpro())]);
    }

    // ---- admin roles (R-USER-12, R-CC-1, R-CC-4) ---------------------------------------------

    #[test]
    fn r_user_12_admin_roles_are_granted_by_a_full_put_after_the_licence_patch() {
        let s = WebexUserSpec {
            admin_roles: Some(vec![
                AdminRole::UserAdministrator,
                AdminRole::FullAdministrator,
                AdminRole::FullAdministrator,
            ]),
            ..with_licenses(&["EE"])
        };
        let p = Person {
            roles: vec![role("id_cjp_admin")],
            ..holding(&[ms1()])
        };
        let decided = run(&s, &ours(), &org(), Some(&p));
        let licence_patch = patch(vec![add(ee())]);
        // The PUT keeps the unmanaged MS, carries the added EE, the emails and names.
        let body = put(
            vec![ms1(), ee()],
            vec![role("id_cjp_admin"), role("id_full_admin"), role("id_user_admin")],
        );
        assert_eq!(
            body,
            PersonWrite {
                emails: vec![EMAIL.into()],
                display_name: Some("Ada Lovelace".into()),
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                org_id: Some("org-1".into()),
                roles: Some(sorted(vec![
                    role("id_cjp_admin"),
                    role("id_full_admin"),
                    role("id_user_admin")
                ])),
                licenses: Some(sorted(vec![ms1(), ee()])),
                login_enabled: Some(true),
                phone_numbers: vec![],
                extension: None,
                location_id: None,
                department: None,
                title: None,
                site_urls: None,
            }
        );
        assert_eq!(decided.actions, vec![licence_patch.clone(), update(body.clone())]);
        assert_eq!(
            decided.verdict,
            Verdict::Waiting {
                reason: UserReason::Reconciling,
                message: "change licences (+1 -0), update names/roles".into()
            }
        );
        assert_eq!(
            decided.admin_roles,
            vec![AdminRole::FullAdministrator, AdminRole::UserAdministrator],
            "sorted, without duplicates"
        );
    }

    #[test]
    fn r_user_12_put_keeps_the_other_fields_of_the_person() {
        let p = Person {
            department: Some("Analytics".into()),
            title: Some("Countess".into()),
            nick_name: Some("Ada".into()),
            site_urls: vec!["acme.webex.com".into()],
            ..calling_person(NUMBER)
        };
        let decided = run(&with_roles(&[AdminRole::UserAdministrator]), &ours(), &org(), Some(&p));
        let expected = PersonWrite {
            phone_numbers: vec![work_number(NUMBER)],
            location_id: Some(LOCATION.into()),
            department: Some("Analytics".into()),
            title: Some("Countess".into()),
            ..put(vec![bcpro()], vec![role("id_user_admin")])
        };
        assert_eq!(decided.actions, vec![update(expected)]);
    }

    #[test]
    fn r_user_12_only_previously_managed_roles_are_removed() {
        let status = WebexUserStatus {
            admin_roles: vec![AdminRole::FullAdministrator],
            ..ours()
        };
        let p = Person {
            roles: vec![role("id_full_admin"), role("id_cjp_admin")],
            ..person()
        };
        let decided = run(&with_roles(&[AdminRole::UserAdministrator]), &status, &org(), Some(&p));
        assert_eq!(
            decided.actions,
            vec![update(put(vec![], vec![role("id_cjp_admin"), role("id_user_admin")]))]
        );
        assert_eq!(decided.admin_roles, vec![AdminRole::UserAdministrator]);
        // An empty list removes the managed ones only.
        let decided = run(&with_roles(&[]), &status, &org(), Some(&p));
        assert_eq!(decided.actions, vec![update(put(vec![], vec![role("id_cjp_admin")]))]);
        assert_eq!(decided.admin_roles, vec![]);
        // Unmanaged roles are left alone even when not in the list.
        let decided = run(&with_roles(&[]), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![]);
    }

    #[test]
    fn r_user_12_roles_not_managed_when_unset() {
        let status = WebexUserStatus {
            admin_roles: vec![AdminRole::FullAdministrator],
            ..ours()
        };
        let p = Person {
            roles: vec![role("id_user_admin")],
            ..person()
        };
        let decided = run(&spec(), &status, &org(), Some(&p));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.admin_roles,
            vec![AdminRole::FullAdministrator],
            "kept as they were"
        );
    }

    #[test]
    fn r_user_12_admin_role_missing_in_org_is_role_not_in_org() {
        let decided = run(
            &with_roles(&[AdminRole::ReadOnlyAdministrator]),
            &ours(),
            &org(),
            Some(&person()),
        );
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::RoleNotInOrg, "the org has no role id_readonly_admin")
        );
        // Even together with licence work, nothing is written.
        let s = WebexUserSpec {
            admin_roles: Some(vec![AdminRole::DeviceAdministrator]),
            ..with_licenses(&["EE"])
        };
        let decided = run(&s, &WebexUserStatus::default(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::RoleNotInOrg, "the org has no role id_device_admin")
        );
    }

    #[test]
    fn r_cc_1_premium_supervisor_gets_the_supervisor_role() {
        let p = holding(&[cjpprm()]);
        let decided = run(
            &cc_user(ContactCenterType::PremiumSupervisor),
            &ours(),
            &org(),
            Some(&p),
        );
        assert_eq!(
            decided.actions,
            vec![update(put(vec![cjpprm()], vec![role("id_cjp_supervisor")]))]
        );
        assert_eq!(decided.admin_roles, vec![], "the supervisor role is not an admin role");
        // With the licence still to add, the PUT follows the PATCH and carries it.
        let decided = run(
            &cc_user(ContactCenterType::PremiumSupervisor),
            &ours(),
            &org(),
            Some(&person()),
        );
        assert_eq!(
            decided.actions,
            vec![
                patch(vec![add(cjpprm())]),
                update(put(vec![cjpprm()], vec![role("id_cjp_supervisor")]))
            ]
        );
    }

    #[test]
    fn r_cc_1_standard_and_premium_agents_lose_the_supervisor_role() {
        for (kind, licence) in [
            (ContactCenterType::Standard, cjpstd()),
            (ContactCenterType::Premium, cjpprm()),
        ] {
            let p = Person {
                roles: vec![role("id_cjp_supervisor"), role("id_user_admin")],
                ..holding(std::slice::from_ref(&licence))
            };
            let decided = run(&cc_user(kind), &ours(), &org(), Some(&p));
            assert_eq!(
                decided.actions,
                vec![update(put(vec![licence], vec![role("id_user_admin")]))],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn r_cc_3_supervisor_to_standard_drops_the_role_before_the_licence() {
        // Webex refuses to take CJPPRM from a supervisor: round 1 is the PUT alone, with the
        // licences untouched; round 2 swaps the licences.
        let p = Person {
            roles: vec![role("id_cjp_supervisor")],
            ..holding(&[cjpprm()])
        };
        let status = WebexUserStatus {
            ..managing(&[("CJPPRM", cjpprm())])
        };
        let first = run(&cc_user(ContactCenterType::Standard), &status, &org(), Some(&p));
        assert_eq!(first.actions, vec![update(put(vec![cjpprm()], vec![]))]);
        let (last, p) = converge(&cc_user(ContactCenterType::Standard), status, &org(), Some(p), 2);
        assert_eq!(p.unwrap().licenses, vec![cjpstd()]);
        assert_eq!(last.actions, vec![]);
    }

    #[test]
    fn r_tpl_4_supervisor_from_a_template_that_no_longer_applies_loses_role_then_licence() {
        // A template gave PremiumSupervisor; now no Contact Center is wanted (licences managed,
        // an empty list): the role goes first, then the licence.
        let p = Person {
            roles: vec![role("id_cjp_supervisor")],
            ..holding(&[cjpprm()])
        };
        let status = WebexUserStatus {
            effective_licenses: vec![EffectiveLicense {
                offer_code: "CJPPRM".into(),
                id: cjpprm(),
                source: "Template/agents".into(),
            }],
            ..ours()
        };
        let s = with_licenses(&[]);
        let first = run(&s, &status, &org(), Some(&p));
        assert_eq!(first.actions, vec![update(put(vec![cjpprm()], vec![]))]);
        let (last, p) = converge(&s, status, &org(), Some(p), 2);
        let p = p.expect("person");
        assert_eq!((p.licenses, p.roles), (vec![], vec![]));
        assert_eq!(last.effective_licenses, vec![]);
    }

    #[test]
    fn r_cc_1_supervisor_role_missing_in_org() {
        let mut o = org();
        o.roles.remove("id_cjp_supervisor");
        let decided = run(
            &cc_user(ContactCenterType::PremiumSupervisor),
            &ours(),
            &o,
            Some(&holding(&[cjpprm()])),
        );
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::RoleNotInOrg, "the org has no role id_cjp_supervisor")
        );
        // Agents do not need the role to exist.
        let decided = run(
            &cc_user(ContactCenterType::Premium),
            &ours(),
            &o,
            Some(&holding(&[cjpprm()])),
        );
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
    }

    // ---- names (R-USER-1) ---------------------------------------------------------------------

    #[test]
    fn r_user_1_changed_names_update_the_person() {
        let cases = [
            (
                WebexUserSpec {
                    first_name: Some("Augusta".into()),
                    ..spec()
                },
                PersonWrite {
                    first_name: Some("Augusta".into()),
                    ..put(vec![], vec![])
                },
            ),
            (
                WebexUserSpec {
                    last_name: Some("King".into()),
                    ..spec()
                },
                PersonWrite {
                    last_name: Some("King".into()),
                    ..put(vec![], vec![])
                },
            ),
            (
                WebexUserSpec {
                    display_name: Some("Countess".into()),
                    ..spec()
                },
                PersonWrite {
                    display_name: Some("Countess".into()),
                    ..put(vec![], vec![])
                },
            ),
        ];
        for (s, body) in cases {
            let decided = run(&s, &ours(), &org(), Some(&person()));
            assert_eq!(decided.actions, vec![update(body)]);
            assert_eq!(
                decided.verdict,
                Verdict::Waiting {
                    reason: UserReason::Reconciling,
                    message: "update names/roles".into()
                }
            );
        }
    }

    #[test]
    fn r_user_1_unset_or_equal_names_never_update() {
        assert_eq!(run(&spec(), &ours(), &org(), Some(&person())).actions, vec![]);
        let same = WebexUserSpec {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            display_name: Some("Ada Lovelace".into()),
            ..spec()
        };
        assert_eq!(run(&same, &ours(), &org(), Some(&person())).actions, vec![]);
        let nameless = Person {
            first_name: None,
            last_name: None,
            display_name: None,
            ..person()
        };
        assert_eq!(run(&spec(), &ours(), &org(), Some(&nameless)).actions, vec![]);
    }

    #[test]
    fn r_user_1_put_fills_a_missing_display_name() {
        // Webex requires displayName on PUT: derived from the spec when the person has none.
        let nameless = Person {
            first_name: None,
            last_name: None,
            display_name: None,
            ..person()
        };
        let s = WebexUserSpec {
            first_name: Some("Ada".into()),
            ..spec()
        };
        let body = PersonWrite {
            first_name: Some("Ada".into()),
            last_name: None,
            display_name: Some("Ada".into()),
            ..put(vec![], vec![])
        };
        assert_eq!(run(&s, &ours(), &org(), Some(&nameless)).actions, vec![update(body)]);
    }

    // ---- verdicts (R-USER-10) ----------------------------------------------------------------

    #[test]
    fn person_state_follows_login_then_invite() {
        assert_eq!(person_state(&person()), UserState::Active);
        assert_eq!(
            person_state(&Person {
                invite_pending: None,
                login_enabled: None,
                ..person()
            }),
            UserState::Active
        );
        assert_eq!(
            person_state(&Person {
                invite_pending: Some(true),
                ..person()
            }),
            UserState::Pending
        );
        assert_eq!(
            person_state(&Person {
                login_enabled: Some(false),
                ..person()
            }),
            UserState::Inactive
        );
        assert_eq!(
            person_state(&Person {
                invite_pending: Some(true),
                login_enabled: Some(false),
                ..person()
            }),
            UserState::Inactive
        );
    }

    #[test]
    fn r_user_10_pending_person_with_nothing_to_do_waits_for_sign_in() {
        let p = Person {
            invite_pending: Some(true),
            ..person()
        };
        let decided = run(&spec(), &ours(), &org(), Some(&p));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: Verdict::Waiting {
                    reason: UserReason::InvitePending,
                    message: "invitation sent; ada@example.com has not signed in yet (R-USER-10)".into()
                },
                state: UserState::Pending,
                person_id: Some(PID.into()),
                adopted: Some(false),
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
        // With work to do, the work is reported (state stays Pending).
        let decided = run(&with_licenses(&["EE"]), &ours(), &org(), Some(&p));
        assert_eq!(decided.verdict, reconciling(&[patch(vec![add(ee())])]));
        assert_eq!(decided.state, UserState::Pending);
    }

    #[test]
    fn active_person_matching_the_spec_is_ready() {
        let decided = run(&spec(), &ours(), &org(), Some(&person()));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: Verdict::Ready,
                state: UserState::Active,
                person_id: Some(PID.into()),
                adopted: Some(false),
                effective_licenses: vec![],
                admin_roles: vec![],
            }
        );
    }

    #[test]
    fn login_disabled_person_is_inactive() {
        let p = Person {
            login_enabled: Some(false),
            ..person()
        };
        let decided = run(&spec(), &ours(), &org(), Some(&p));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(
            decided.verdict,
            Verdict::Waiting {
                reason: UserReason::Inactive,
                message: "sign-in is disabled for this person in Webex".into()
            }
        );
        assert_eq!(decided.state, UserState::Inactive);
    }

    #[test]
    fn observe_only_reports_differences_without_writing() {
        let s = WebexUserSpec {
            management_policy: ManagementPolicy::ObserveOnly,
            first_name: Some("Augusta".into()),
            ..with_licenses(&["EE"])
        };
        let decided = run(&s, &ours(), &org(), Some(&person()));
        assert_eq!(
            decided,
            UserPlan {
                actions: vec![],
                verdict: blocked_by(
                    UserReason::ObserveOnly,
                    "observe-only: would change licences (+1 -0), update names/roles"
                ),
                state: UserState::Active,
                person_id: Some(PID.into()),
                adopted: Some(false),
                effective_licenses: vec![manual("EE", ee())],
                admin_roles: vec![],
            }
        );
    }

    #[test]
    fn observe_only_keeps_the_adoption_but_no_write() {
        let s = WebexUserSpec {
            management_policy: ManagementPolicy::ObserveOnly,
            ..with_licenses(&["EE"])
        };
        let decided = run(&s, &WebexUserStatus::default(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![UserAction::Adopt { person_id: PID.into() }]);
        assert_eq!(
            decided.verdict,
            blocked_by(UserReason::ObserveOnly, "observe-only: would change licences (+1 -0)")
        );
        // Matching: Ready, no action.
        let s = WebexUserSpec {
            management_policy: ManagementPolicy::ObserveOnly,
            ..spec()
        };
        let decided = run(&s, &ours(), &org(), Some(&person()));
        assert_eq!(decided.actions, vec![]);
        assert_eq!(decided.verdict, Verdict::Ready);
    }

    #[test]
    fn describe_actions_names_every_write() {
        let actions = [
            UserAction::Create(PersonWrite::default()),
            UserAction::Adopt { person_id: PID.into() },
            patch(vec![remove(ms1()), remove(ee()), add(ms2())]),
            update(PersonWrite::default()),
            UserAction::DeletePerson { person_id: PID.into() },
        ];
        assert_eq!(
            describe_actions(&actions),
            "create the person, adopt the existing person, change licences (+1 -2), update names/roles, delete the person"
        );
        assert_eq!(describe_actions(&[]), "");
    }

    // ---- deletion (finalizer) ------------------------------------------------------------------

    fn deleting(policy: DeletionPolicy) -> WebexUserSpec {
        WebexUserSpec {
            deletion_policy: policy,
            ..with_licenses(&["MS", "EE"])
        }
    }

    const ALL_POLICIES: [DeletionPolicy; 4] = [
        DeletionPolicy::Delete,
        DeletionPolicy::Deactivate,
        DeletionPolicy::RemoveLicenses,
        DeletionPolicy::Orphan,
    ];

    #[test]
    fn deletion_delete_deletes_the_person() {
        let status = managing(&[("MS", ms2())]);
        assert_eq!(
            plan_deletion(&deleting(DeletionPolicy::Delete), &status, Some(&holding(&[ms2()]))),
            vec![UserAction::DeletePerson { person_id: PID.into() }]
        );
    }

    #[test]
    fn deletion_deactivate_removes_managed_licences_and_disables_sign_in() {
        // Manages MS and EE; holds MS (managed) and BCSTD (not managed), plus a role.
        let status = managing(&[("MS", ms2()), ("EE", ee())]);
        let p = Person {
            roles: vec![role("id_user_admin")],
            ..holding(&[ms2(), bcstd()])
        };
        let actions = plan_deletion(&deleting(DeletionPolicy::Deactivate), &status, Some(&p));
        let body = PersonWrite {
            login_enabled: Some(false),
            ..put(vec![bcstd()], vec![role("id_user_admin")])
        };
        assert_eq!(actions, vec![patch(vec![remove(ms2())]), update(body)]);
    }

    #[test]
    fn deletion_deactivate_without_managed_licences_only_disables_sign_in() {
        let actions = plan_deletion(&deleting(DeletionPolicy::Deactivate), &ours(), Some(&holding(&[ms1()])));
        assert_eq!(
            actions,
            vec![update(PersonWrite {
                login_enabled: Some(false),
                ..put(vec![ms1()], vec![])
            })]
        );
    }

    #[test]
    fn deletion_remove_licenses_removes_only_managed_held_licences() {
        let status = managing(&[("MS", ms2()), ("EE", ee()), ("BCPRO", bcpro())]);
        let p = holding(&[ee(), ms2(), ms1()]);
        let actions = plan_deletion(&deleting(DeletionPolicy::RemoveLicenses), &status, Some(&p));
        // In the order of the status, skipping the managed licence the person no longer holds.
        assert_eq!(actions, vec![patch(vec![remove(ms2()), remove(ee())])]);
        // Nothing managed is held: nothing to do.
        assert_eq!(
            plan_deletion(
                &deleting(DeletionPolicy::RemoveLicenses),
                &status,
                Some(&holding(&[ms1()]))
            ),
            vec![]
        );
    }

    #[test]
    fn deletion_orphan_leaves_the_person() {
        let status = managing(&[("MS", ms2())]);
        assert_eq!(
            plan_deletion(&deleting(DeletionPolicy::Orphan), &status, Some(&holding(&[ms2()]))),
            vec![]
        );
    }

    #[test]
    fn deletion_never_touches_a_person_whose_id_is_not_in_status() {
        let p = holding(&[ms2()]);
        let strangers = [
            WebexUserStatus {
                effective_licenses: vec![manual("MS", ms2())],
                ..Default::default()
            },
            WebexUserStatus {
                person_id: Some("another-person".into()),
                effective_licenses: vec![manual("MS", ms2())],
                ..Default::default()
            },
            // A create was requested but the id never recorded.
            WebexUserStatus {
                create_requested_at: Some("2025-01-01T00:00:00Z".into()),
                effective_licenses: vec![manual("MS", ms2())],
                ..Default::default()
            },
        ];
        for policy in ALL_POLICIES {
            for status in &strangers {
                assert_eq!(
                    plan_deletion(&deleting(policy), status, Some(&p)),
                    vec![],
                    "{policy:?} {status:?}"
                );
            }
            assert_eq!(
                plan_deletion(&deleting(policy), &managing(&[("MS", ms2())]), None),
                vec![],
                "{policy:?} without a person"
            );
        }
    }

    #[test]
    fn r_clm_10_deletion_never_touches_a_claimed_person() {
        let status = managing(&[("MS", ms2())]);
        for email in [CLAIMED_EMAIL, "ADA@EXAMPLE.COM.Convert-User.Local"] {
            let p = Person {
                emails: vec![email.into()],
                ..holding(&[ms2()])
            };
            for policy in ALL_POLICIES {
                assert_eq!(
                    plan_deletion(&deleting(policy), &status, Some(&p)),
                    vec![],
                    "{policy:?}"
                );
            }
        }
    }

    #[test]
    fn deletion_does_nothing_in_observe_only() {
        let status = managing(&[("MS", ms2())]);
        for policy in ALL_POLICIES {
            let s = WebexUserSpec {
                management_policy: ManagementPolicy::ObserveOnly,
                ..deleting(policy)
            };
            assert_eq!(
                plan_deletion(&s, &status, Some(&holding(&[ms2()]))),
                vec![],
                "{policy:?}"
            );
        }
    }

    // ---- idempotence: applying a plan and planning again is a no-op ----------------------------

    #[test]
    fn idempotent_from_nothing_to_a_full_user() {
        let s = WebexUserSpec {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            licenses: Some(vec![lref("MS"), lref("EE")]),
            calling: Some(calling_spec(Some(NUMBER), Some("1234"), Some(LOCATION))),
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::Premium,
                subscription_id: None,
            }),
            admin_roles: Some(vec![AdminRole::ContactCenterServiceAdministrator]),
            ..spec()
        };
        // Round 1 creates, round 2 licenses (PATCH) and grants roles (PUT).
        let (last, p) = converge(&s, WebexUserStatus::default(), &org(), None, 2);
        let p = p.unwrap();
        assert_eq!(sorted(p.licenses.clone()), sorted(vec![ms2(), ee(), bcpro(), cjpprm()]));
        assert_eq!(p.roles, vec![role("id_cjp_admin")]);
        assert_eq!(p.phone_numbers, vec![work_number(NUMBER)]);
        assert_eq!(p.extension.as_deref(), Some("1234"));
        assert_eq!(
            last.verdict,
            Verdict::Waiting {
                reason: UserReason::InvitePending,
                message: "invitation sent; ada@example.com has not signed in yet (R-USER-10)".into()
            }
        );
        assert_eq!(
            last.effective_licenses,
            vec![
                manual("MS", ms2()),
                manual("EE", ee()),
                manual("BCPRO", bcpro()),
                manual("CJPPRM", cjpprm())
            ]
        );
        assert_eq!(last.admin_roles, vec![AdminRole::ContactCenterServiceAdministrator]);
        // First sign-in: Ready.
        let signed_in = Person {
            invite_pending: Some(false),
            ..p
        };
        let status = WebexUserStatus {
            effective_licenses: last.effective_licenses.clone(),
            admin_roles: last.admin_roles.clone(),
            ..ours()
        };
        assert_eq!(run(&s, &status, &org(), Some(&signed_in)).verdict, Verdict::Ready);
    }

    #[test]
    fn idempotent_adopting_a_person_with_other_licences_and_roles() {
        let s = WebexUserSpec {
            display_name: Some("Countess of Lovelace".into()),
            calling: Some(calling_spec(Some(NUMBER), None, Some(LOCATION))),
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::PremiumSupervisor,
                subscription_id: None,
            }),
            ..with_licenses(&["EE"])
        };
        let p = Person {
            roles: vec![role("id_user_admin")],
            ..holding(&[ms1(), bcstd(), cjpstd()])
        };
        let (last, p) = converge(&s, WebexUserStatus::default(), &org(), Some(p), 1);
        let p = p.unwrap();
        assert_eq!(
            sorted(p.licenses.clone()),
            sorted(vec![ms1(), ee(), bcpro(), cjpprm()]),
            "unmanaged MS kept, the owned groups switched"
        );
        assert_eq!(
            sorted(p.roles.clone()),
            sorted(vec![role("id_user_admin"), role("id_cjp_supervisor")])
        );
        assert_eq!(p.display_name.as_deref(), Some("Countess of Lovelace"));
        assert_eq!(last.verdict, Verdict::Ready);
        assert_eq!(last.adopted, Some(true));
    }

    #[test]
    fn idempotent_changing_number_names_and_roles_together() {
        // Removing a role goes first (its own round), then the licence PATCH moves the number;
        // the PUT after it must not put the old number back.
        let status = WebexUserStatus {
            admin_roles: vec![AdminRole::FullAdministrator],
            ..managing(&[("BCPRO", bcpro()), ("MS", ms2())])
        };
        let p = Person {
            roles: vec![role("id_full_admin")],
            extension: Some("1111".into()),
            ..calling_person(OTHER_NUMBER)
        };
        let p = Person {
            licenses: vec![bcpro(), ms2()],
            ..p
        };
        let s = WebexUserSpec {
            last_name: Some("King".into()),
            calling: Some(calling_spec(Some(NUMBER), Some("2222"), Some(LOCATION))),
            admin_roles: Some(vec![AdminRole::UserAdministrator]),
            licenses: Some(vec![]),
            ..spec()
        };
        let (last, p) = converge(&s, status, &org(), Some(p), 2);
        let p = p.unwrap();
        assert_eq!(p.licenses, vec![bcpro()]);
        assert_eq!(p.phone_numbers, vec![work_number(NUMBER)]);
        assert_eq!(p.extension.as_deref(), Some("2222"));
        assert_eq!(p.roles, vec![role("id_user_admin")]);
        assert_eq!(p.last_name.as_deref(), Some("King"));
        assert_eq!(last.verdict, Verdict::Ready);
    }

    #[test]
    fn idempotent_removing_everything_managed() {
        let status = WebexUserStatus {
            admin_roles: vec![AdminRole::FullAdministrator],
            ..managing(&[("MS", ms2()), ("EE", ee())])
        };
        let p = Person {
            roles: vec![role("id_full_admin"), role("id_cjp_admin")],
            ..holding(&[ms2(), ee(), bcstd()])
        };
        let s = WebexUserSpec {
            licenses: Some(vec![]),
            admin_roles: Some(vec![]),
            ..spec()
        };
        let (last, p) = converge(&s, status, &org(), Some(p), 2);
        let p = p.unwrap();
        assert_eq!(p.licenses, vec![bcstd()]);
        assert_eq!(p.roles, vec![role("id_cjp_admin")]);
        assert_eq!(last.effective_licenses, vec![]);
        assert_eq!(last.admin_roles, vec![]);
    }
}

#[cfg(test)]
mod hold_tests {
    use super::*;
    use crate::api::conditions::{ConditionUpdate, READY, merge};
    use std::time::Duration;

    fn status_with(reason: UserReason, ready: bool, generation: i64, at: i64) -> WebexUserStatus {
        let conditions = merge(
            &[],
            &[ConditionUpdate::new(READY, ready, reason.into(), "m")],
            Some(generation),
            jiff::Timestamp::from_second(at).unwrap(),
        );
        WebexUserStatus {
            conditions,
            ..Default::default()
        }
    }

    #[test]
    fn a_refused_create_is_not_retried_for_the_same_generation_until_the_hold_passes() {
        let hold = Duration::from_secs(600);
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let s = status_with(UserReason::TrialOrgOwnsEmail, false, 3, 900);
        assert_eq!(terminal_hold(&s, Some(3), now, hold), Some(Duration::from_secs(500)));
        assert_eq!(
            terminal_hold(&s, Some(4), now, hold),
            None,
            "a spec change retries at once"
        );
        let later = jiff::Timestamp::from_second(1_600).unwrap();
        assert_eq!(terminal_hold(&s, Some(3), later, hold), None, "the hold ends");
    }

    #[test]
    fn only_refusals_hold() {
        let hold = Duration::from_secs(600);
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        for reason in [
            UserReason::InvitePending,
            UserReason::WebexUnavailable,
            UserReason::LicenseNotInOrg,
        ] {
            assert_eq!(
                terminal_hold(&status_with(reason, false, 1, 999), Some(1), now, hold),
                None,
                "{reason}"
            );
        }
        assert_eq!(
            terminal_hold(&status_with(UserReason::Active, true, 1, 999), Some(1), now, hold),
            None
        );
        assert_eq!(terminal_hold(&WebexUserStatus::default(), Some(1), now, hold), None);
    }
}
