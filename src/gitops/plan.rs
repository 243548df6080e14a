//! `plan`: what the controller would do for each object, without Kubernetes.
//!
//! Read the manifests (`input`), observe Webex read-only (`observe`), then decide with the
//! controller's own pure planner, [`user_plan::plan`] and [`user_plan::plan_deletion`] — no
//! second implementation of any decision. Like the reconciler, `plan` runs rounds: it applies
//! each round's writes to a local picture of the person (what Webex would hold afterwards) and
//! plans again, so a new user shows create, then licences, then roles (R-USER-12), and the status
//! it would reach (`Pending` / `InvitePending` until the first sign-in, R-USER-10).
//! ExternalUsers are planned the same way with the ExternalUser reconciler's decisions
//! ([`external`]), on one listing per org instead of one read per person.
//!
//! Without a cluster, `plan` does not know the objects' status (which person and which licences
//! the operator already manages). It takes the status from the document itself when it has one,
//! else from `--live` (the output of `kubectl get webexusers,externalusers,licensetemplates -A -o
//! yaml`), else it plans as a fresh controller would. Live objects absent from the manifests are
//! planned as deleted (pruned): that is where `deprovision` comes from.
//!
//! LicenseTemplates are merged into each WebexUser, round by round, with the functions the
//! WebexUser reconciler uses (`grants_for`, `effective_spec`, then `plan_with` with the
//! provenance; see [`plan_webex_user`]), and counted per template with the LicenseTemplate
//! controller's `selects` and `tally` ([`plan_templates`]). "Created after the template"
//! (R-TPL-1/2) compares creation times: the document's, else the live object's, else now (an
//! object not in the cluster yet is about to be created); a person found in Webex without a
//! status that records it is adopted, hence existing, as for the reconciler.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;

use super::GitopsError;
use super::external;
use super::input::{self, Inputs, Located};
use super::observe::{self, ObservedOrg};
use super::progress;
use crate::api::LicenseTemplate;
use crate::api::external_user::{ExternalUser, ExternalUserStatus};
use crate::api::webex_org::WebexOrg;
use crate::api::webex_user::{AdminRole, EffectiveLicense, WebexUser, WebexUserSpec, WebexUserStatus};
use crate::controller::license_template::plan as template_plan;
use crate::controller::org_registry::OrgFacts;
use crate::controller::webex_org::plan::{self as org_plan, OrgAction};
use crate::controller::webex_user::plan::{self as user_plan, LicenseContext, UserAction, UserInputs, Verdict};
use crate::webex::model::{LicenseOperation, Person, PhoneNumber};

/// How many persons are looked up at once.
const CONCURRENCY: usize = 4;
/// Above this many objects in one org, its people are listed by pages instead of looked up one
/// by one (each call draws on the org's API budget).
const LIST_THRESHOLD: usize = 10;
/// Rounds of writes the reconciler performs in one reconcile (`webex_user::apply`).
const ROUNDS: usize = 4;

/// Options of `plan`.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub files: Vec<PathBuf>,
    pub live: Vec<PathBuf>,
    pub token_env: String,
}

/// Where the status `plan` started from came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StatusFrom {
    /// The document carried a `status`.
    Manifest,
    /// `--live`.
    Live,
    /// Unknown: planned as a fresh controller would (nothing managed yet).
    None,
}

/// One change of a person's field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// One thing the controller would do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PlannedAction {
    /// Create the person (names only; licences and roles follow).
    Create {
        email: String,
        display_name: Option<String>,
    },
    /// Take over the existing person: recorded in status, nothing written to Webex.
    Adopt { person_id: String },
    /// Licence delta by offer code; `properties` changes the Calling number/extension of a
    /// licence the person keeps.
    Licenses {
        add: Vec<String>,
        remove: Vec<String>,
        properties: Vec<FieldChange>,
        /// Where each added offer code comes from (`Manual`, `Template/<name>`), and where each
        /// removed one came from (the provenance the status recorded), R-TPL-1..4.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        provenance: BTreeMap<String, String>,
    },
    /// Replace the person's fields (names, roles, sign-in).
    Update { fields: Vec<FieldChange> },
    /// The object is gone from the manifests: its deletion policy runs (the writes follow).
    Deprovision { deletion_policy: String },
    /// Delete the person.
    Delete { person_id: String },
    /// ExternalUser: invite a person of another org to accounts on the org's sites, `site
    /// (Host|Attendee)` (R-EXT-4); they stay pending until accepted (R-EXT-5, R-EXT-6).
    Invite { email: String, sites: Vec<String> },
    /// ExternalUser: the delta of site accounts in one licence change; added ones are
    /// invitations, `reinvite` those sent again after an expiry (R-EXT-5).
    SiteAccounts {
        add: Vec<String>,
        remove: Vec<String>,
        reinvite: Vec<String>,
    },
    /// ExternalUser: accounts the person already holds, taken over without a write (R-EXT-8).
    AdoptSites { sites: Vec<String> },
    /// An org setting (R-ORG-1).
    SetOrgSetting {
        setting: String,
        from: Option<bool>,
        to: bool,
    },
}

impl PlannedAction {
    /// Whether this writes to Webex.
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            Self::Adopt { .. } | Self::AdoptSites { .. } | Self::Deprovision { .. }
        )
    }
}

/// The status the object would reach after the actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reach {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub ready: bool,
    pub reason: String,
    pub message: String,
    /// Blocked: it cannot proceed (`terminal`: until the spec or Webex changes).
    pub blocked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal: Option<bool>,
}

/// The headline of an object's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Change {
    Create,
    Update,
    Deprovision,
    Blocked,
    Adopt,
    None,
}

impl Change {
    /// Counts for the exit code (2).
    pub fn is_change(self) -> bool {
        matches!(self, Self::Create | Self::Update | Self::Deprovision | Self::Blocked)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPlan {
    pub source: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_from: Option<StatusFrom>,
    pub change: Change,
    pub actions: Vec<PlannedAction>,
    pub would_reach: Reach,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub adopt: usize,
    pub update: usize,
    pub deprovision: usize,
    pub blocked: usize,
    pub unchanged: usize,
}

/// What a LicenseTemplate would do, counted as the LicenseTemplate controller counts
/// ([`template_plan::tally`]) over the WebexUsers as they would be after the plan. A template
/// writes nothing itself: its licences appear in the plans of the users it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplatePlan {
    pub source: String,
    pub name: String,
    pub namespace: String,
    pub org: String,
    /// Where its creation time (for "users created after the template", R-TPL-1) came from:
    /// `manifest`, `live`, or `none` (not in the cluster yet: created now).
    pub created_from: StatusFrom,
    /// In `--live` but gone from the manifests: it would be deleted and apply to nobody.
    pub pruned: bool,
    pub apply_to_existing_users: bool,
    /// WebexUsers it selects (namespace, org, labels), whatever their age.
    pub selected: i64,
    /// Users it applies to (`status.matchedUsers`).
    pub matched: i64,
    /// Of those, users that exist from before it: reached only through applyToExistingUsers
    /// (R-TPL-2).
    pub existing: i64,
    /// Users for whom templates disagreed on Contact Center and Premium won (R-CC-2).
    pub conflicts_resolved: i64,
    /// Users whose status records a licence from it (before the plan).
    pub holders: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    pub objects: Vec<ObjectPlan>,
    /// LicenseTemplates among the inputs (and those of `--live` gone from them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplatePlan>,
    pub summary: Summary,
    /// Inputs that were read but not planned, and other remarks.
    pub notes: Vec<String>,
    /// 0: no change, 2: something would change or is blocked.
    pub exit_code: u8,
}

impl PlanReport {
    pub fn new(objects: Vec<ObjectPlan>, notes: Vec<String>) -> Self {
        let mut summary = Summary::default();
        for o in &objects {
            match o.change {
                Change::Create => summary.create += 1,
                Change::Adopt => summary.adopt += 1,
                Change::Update => summary.update += 1,
                Change::Deprovision => summary.deprovision += 1,
                Change::Blocked => summary.blocked += 1,
                Change::None => summary.unchanged += 1,
            }
        }
        let exit_code = if objects.iter().any(|o| o.change.is_change()) {
            2
        } else {
            0
        };
        Self {
            objects,
            templates: Vec::new(),
            summary,
            notes,
            exit_code,
        }
    }
}

/// One LicenseTemplate as `plan` sees it: the object (namespace and creation time filled in),
/// where it was read, where its creation time came from, and whether it is pruned.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub location: String,
    pub template: Arc<LicenseTemplate>,
    pub created_from: StatusFrom,
    pub pruned: bool,
}

/// The per-template lines: the controller's `selects` and `tally` over `users`, the WebexUsers
/// as they would be after the plan (creation time and `status.adopted` filled in). `before`:
/// their statuses before the plan (for `holders`).
pub fn plan_templates(
    templates: &[TemplateInput],
    users: &[WebexUser],
    before: &[&WebexUserStatus],
) -> Vec<TemplatePlan> {
    let applying: Vec<&LicenseTemplate> = templates
        .iter()
        .filter(|t| !t.pruned)
        .map(|t| t.template.as_ref())
        .collect();
    let user_refs: Vec<&WebexUser> = users.iter().collect();
    templates
        .iter()
        .map(|t| {
            let name = t.template.metadata.name.clone().unwrap_or_default();
            let namespace = t.template.metadata.namespace.clone().unwrap_or_default();
            let source = template_plan::template_source(&name);
            let holders = users
                .iter()
                .zip(before)
                .filter(|(u, _)| u.metadata.namespace.as_deref() == Some(namespace.as_str()))
                .filter(|(_, s)| s.effective_licenses.iter().any(|l| l.source == source))
                .count() as i64;
            let (selected, tally) = if t.pruned {
                (0, template_plan::TemplateTally::default())
            } else {
                let same_namespace: Vec<&LicenseTemplate> = applying
                    .iter()
                    .copied()
                    .filter(|o| o.metadata.namespace == t.template.metadata.namespace)
                    .collect();
                let selected = users.iter().filter(|u| template_plan::selects(&t.template, u)).count() as i64;
                (selected, template_plan::tally(&t.template, &same_namespace, &user_refs))
            };
            TemplatePlan {
                source: t.location.clone(),
                name,
                namespace,
                org: t.template.spec.org_ref.name.clone(),
                created_from: t.created_from,
                pruned: t.pruned,
                apply_to_existing_users: t.template.spec.apply_to_existing_users,
                selected,
                matched: tally.matched,
                existing: tally.existing,
                conflicts_resolved: tally.conflicts_resolved,
                holders,
            }
        })
        .collect()
}

// ---- the pure part (no client required) ------------------------------------------------------

/// Plans one WebexUser without LicenseTemplates (see [`plan_webex_user`]).
pub fn plan_user(
    spec: &WebexUserSpec,
    status: &WebexUserStatus,
    namespace: &str,
    org: &OrgFacts,
    person: Option<&Person>,
) -> (Vec<PlannedAction>, Reach) {
    let mut user = WebexUser::new("user", spec.clone());
    user.metadata.namespace = Some(namespace.to_string());
    let planned = plan_webex_user(&user, status, &[], org, person);
    (planned.actions, planned.reach)
}

/// What planning one WebexUser gives.
#[derive(Debug, Clone)]
pub struct PlannedUser {
    pub actions: Vec<PlannedAction>,
    pub reach: Reach,
    /// The status the reconciler would record after these rounds.
    pub status: WebexUserStatus,
}

/// Plans one WebexUser that is in the manifests: the reconciler's rounds on a local picture.
/// Each round merges the LicenseTemplates that apply to the user with its manual choices
/// exactly as the reconciler's `effective_for` does (`grants_for` with `is_adopted` on the
/// round's status and person, then `effective_spec`, R-TPL-1..4), and plans with that spec and
/// its provenance. `templates` may hold any namespace's: `selects` keeps the user's own.
/// Seats are not counted (no reservations without the controller's memory): a licence without
/// a free unit shows as an addition.
pub fn plan_webex_user(
    user: &WebexUser,
    status: &WebexUserStatus,
    templates: &[Arc<LicenseTemplate>],
    org: &OrgFacts,
    person: Option<&Person>,
) -> PlannedUser {
    let namespace = user.metadata.namespace.as_deref().unwrap_or("default");
    let mut status = status.clone();
    let mut person = person.cloned();
    let mut actions = Vec::new();
    for _ in 0..ROUNDS {
        let adopted = user_plan::is_adopted(&status, person.as_ref());
        let grants = template_plan::grants_for(templates, user, adopted);
        let (spec, sources, _) = template_plan::effective_spec(&user.spec, &grants, &status.effective_licenses);
        let licensing = LicenseContext {
            sources,
            full: BTreeSet::new(),
        };
        let decided = user_plan::plan_with(
            UserInputs {
                spec: &spec,
                status: &status,
                namespace,
                org,
                person: person.as_ref(),
            },
            &licensing,
        );
        status.person_id = decided.person_id.clone().or(status.person_id.clone());
        status.adopted = decided.adopted.or(status.adopted);
        if decided.actions.is_empty() {
            let state: &'static str = decided.state.into();
            if !matches!(decided.verdict, Verdict::Blocked { .. }) {
                status.effective_licenses = decided.effective_licenses.clone();
            }
            return PlannedUser {
                actions,
                reach: reach(Some(state), &decided.verdict, &spec.email),
                status,
            };
        }
        for action in &decided.actions {
            actions.push(describe(
                action,
                person.as_ref(),
                org,
                &licensing.sources,
                &status.effective_licenses,
            ));
            apply_locally(action, &mut person, &mut status, org);
        }
        status.effective_licenses = decided.effective_licenses.clone();
        status.admin_roles = decided.admin_roles.clone();
    }
    let verdict = Verdict::Blocked {
        reason: user_plan::UserReason::PartiallyApplied,
        message: format!("would not converge after {ROUNDS} rounds of writes"),
        terminal: false,
    };
    PlannedUser {
        actions,
        reach: reach(None, &verdict, &user.spec.email),
        status,
    }
}

/// Plans a WebexUser that is live but gone from the manifests (pruned): its deletion policy.
pub fn plan_removed(
    spec: &WebexUserSpec,
    status: &WebexUserStatus,
    org: &OrgFacts,
    person: Option<&Person>,
) -> Vec<PlannedAction> {
    let policy = format!("{:?}", spec.deletion_policy);
    let mut actions = vec![PlannedAction::Deprovision {
        deletion_policy: policy,
    }];
    let mut person = person.cloned();
    let mut status = status.clone();
    for action in user_plan::plan_deletion(spec, &status.clone(), person.clone().as_ref()) {
        let managed = status.effective_licenses.clone();
        actions.push(describe(&action, person.as_ref(), org, &BTreeMap::new(), &managed));
        apply_locally(&action, &mut person, &mut status, org);
    }
    actions
}

/// Plans a WebexOrg's settings with the org reconciler's own planner.
pub fn plan_org(org: &WebexOrg, observed: &ObservedOrg) -> (Vec<PlannedAction>, Reach) {
    let actions = org_plan::plan(&org.spec, &observed.observation)
        .into_iter()
        .map(|a| match a {
            OrgAction::SetActivationEmails(to) => PlannedAction::SetOrgSetting {
                setting: "automaticActivationEmails".into(),
                from: observed.observation.activation_emails,
                to,
            },
        })
        .collect();
    let sync = org_plan::directory_sync_label(observed.facts.directory_sync);
    let reach = Reach {
        state: None,
        ready: true,
        reason: "OrgReady".into(),
        message: format!(
            "token valid for org {}; {} licences; directory sync {sync}",
            observed.facts.org_id,
            observed.facts.licenses.len()
        ),
        blocked: false,
        terminal: None,
    };
    (actions, reach)
}

fn reach(state: Option<&str>, verdict: &Verdict, email: &str) -> Reach {
    match verdict {
        Verdict::Ready => Reach {
            state: state.map(str::to_string),
            ready: true,
            reason: "Active".into(),
            message: format!("{email} is active and matches the spec"),
            blocked: false,
            terminal: None,
        },
        Verdict::Waiting { reason, message } => Reach {
            state: state.map(str::to_string),
            ready: false,
            reason: reason.to_string(),
            message: message.clone(),
            blocked: false,
            terminal: None,
        },
        Verdict::Blocked {
            reason,
            message,
            terminal,
        } => Reach {
            state: state.map(str::to_string),
            ready: false,
            reason: reason.to_string(),
            message: message.clone(),
            blocked: true,
            terminal: Some(*terminal),
        },
    }
}

/// The headline of a list of actions and the status reached.
pub fn headline(actions: &[PlannedAction], reach: &Reach) -> Change {
    if reach.blocked {
        return Change::Blocked;
    }
    if actions.iter().any(|a| matches!(a, PlannedAction::Deprovision { .. })) {
        return Change::Deprovision;
    }
    if actions
        .iter()
        .any(|a| matches!(a, PlannedAction::Create { .. } | PlannedAction::Invite { .. }))
    {
        return Change::Create;
    }
    if actions.iter().any(PlannedAction::writes) {
        return Change::Update;
    }
    if actions
        .iter()
        .any(|a| matches!(a, PlannedAction::Adopt { .. } | PlannedAction::AdoptSites { .. }))
    {
        return Change::Adopt;
    }
    Change::None
}

fn license_label(org: &OrgFacts, id: &str) -> String {
    org.licenses
        .iter()
        .find(|l| l.id == id)
        .map_or_else(|| id.to_string(), |l| l.offer_code.clone())
}

const ADMIN_ROLES: [AdminRole; 5] = [
    AdminRole::FullAdministrator,
    AdminRole::UserAdministrator,
    AdminRole::ReadOnlyAdministrator,
    AdminRole::DeviceAdministrator,
    AdminRole::ContactCenterServiceAdministrator,
];

/// A role id as the spec names it (`UserAdministrator`), else its Webex role name.
fn role_label(org: &OrgFacts, id: &str) -> String {
    let name = org
        .roles
        .iter()
        .find(|(_, rid)| *rid == id)
        .map_or_else(|| id.to_string(), |(name, _)| name.clone());
    ADMIN_ROLES
        .iter()
        .find(|r| user_plan::role_name(**r) == name)
        .map_or(name, |r| <&str>::from(*r).to_string())
}

fn work_number(p: &Person) -> Option<String> {
    p.phone_numbers
        .iter()
        .find(|n| n.kind == "work")
        .map(|n| n.value.clone())
}

fn change(field: &str, from: Option<String>, to: Option<String>) -> Option<FieldChange> {
    (from != to).then(|| FieldChange {
        field: field.to_string(),
        from,
        to,
    })
}

fn joined(mut items: Vec<String>) -> Option<String> {
    items.sort();
    (!items.is_empty()).then(|| items.join(", "))
}

/// Describes one of the planner's actions against the person as it stands before it. `sources`:
/// the provenance of the effective licences by offer code; `managed`: what the status recorded
/// (the provenance of a removed licence).
fn describe(
    action: &UserAction,
    person: Option<&Person>,
    org: &OrgFacts,
    sources: &BTreeMap<String, String>,
    managed: &[EffectiveLicense],
) -> PlannedAction {
    match action {
        UserAction::Create(body) => PlannedAction::Create {
            email: body.emails.first().cloned().unwrap_or_default(),
            display_name: body.display_name.clone(),
        },
        UserAction::Adopt { person_id } => PlannedAction::Adopt {
            person_id: person_id.clone(),
        },
        UserAction::PatchLicenses(patch) => {
            let held: BTreeSet<&str> = person
                .map(|p| p.licenses.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let mut add = Vec::new();
            let mut remove = Vec::new();
            let mut properties = Vec::new();
            let mut provenance = BTreeMap::new();
            for r in &patch.licenses {
                let label = license_label(org, &r.id);
                match r.operation {
                    LicenseOperation::Remove => {
                        if let Some(m) = managed.iter().find(|m| m.id == r.id) {
                            provenance.insert(label.clone(), m.source.clone());
                        }
                        remove.push(label);
                    }
                    LicenseOperation::Add if !held.contains(r.id.as_str()) => {
                        if let Some(source) = sources.get(&label) {
                            provenance.insert(label.clone(), source.clone());
                        }
                        add.push(label.clone());
                        properties.extend(calling_changes(&label, person, r.properties.as_ref()));
                    }
                    LicenseOperation::Add => properties.extend(calling_changes(&label, person, r.properties.as_ref())),
                }
            }
            PlannedAction::Licenses {
                add,
                remove,
                properties,
                provenance,
            }
        }
        UserAction::UpdatePerson { body, .. } => {
            let before = person.cloned().unwrap_or_default();
            let roles = |ids: &[String]| joined(ids.iter().map(|id| role_label(org, id)).collect());
            let licences = |ids: &[String]| joined(ids.iter().map(|id| license_label(org, id)).collect());
            let body_number = body
                .phone_numbers
                .iter()
                .find(|n| n.kind == "work")
                .map(|n| n.value.clone());
            let fields = [
                change("firstName", before.first_name.clone(), body.first_name.clone()),
                change("lastName", before.last_name.clone(), body.last_name.clone()),
                change("displayName", before.display_name.clone(), body.display_name.clone()),
                change(
                    "adminRoles",
                    roles(&before.roles),
                    roles(body.roles.as_deref().unwrap_or(&before.roles)),
                ),
                change(
                    "licenses",
                    licences(&before.licenses),
                    licences(body.licenses.as_deref().unwrap_or(&before.licenses)),
                ),
                change("phoneNumber", work_number(&before), body_number),
                change("extension", before.extension.clone(), body.extension.clone()),
                change(
                    "loginEnabled",
                    Some(before.login_enabled.unwrap_or(true).to_string()),
                    Some(body.login_enabled.or(before.login_enabled).unwrap_or(true).to_string()),
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            PlannedAction::Update { fields }
        }
        UserAction::DeletePerson { person_id } => PlannedAction::Delete {
            person_id: person_id.clone(),
        },
    }
}

fn calling_changes(
    label: &str,
    person: Option<&Person>,
    props: Option<&crate::webex::model::LicenseProperties>,
) -> Vec<FieldChange> {
    let Some(props) = props else { return vec![] };
    let before_number = person.and_then(work_number);
    let before_ext = person.and_then(|p| p.extension.clone());
    let mut out = Vec::new();
    if props.phone_number.is_some() {
        out.extend(change(
            &format!("{label}.phoneNumber"),
            before_number,
            props.phone_number.clone(),
        ));
    }
    if props.extension.is_some() {
        out.extend(change(
            &format!("{label}.extension"),
            before_ext,
            props.extension.clone(),
        ));
    }
    out
}

/// What Webex would hold after `action` (the documented effects the simulator also applies),
/// and the status the reconciler would record. Decides nothing.
fn apply_locally(action: &UserAction, person: &mut Option<Person>, status: &mut WebexUserStatus, org: &OrgFacts) {
    match action {
        UserAction::Create(body) => {
            let id = "(new)".to_string();
            *person = Some(Person {
                id: id.clone(),
                emails: body.emails.clone(),
                first_name: body.first_name.clone(),
                last_name: body.last_name.clone(),
                display_name: body.display_name.clone(),
                org_id: Some(org.org_id.clone()),
                invite_pending: Some(true), // R-USER-10
                login_enabled: Some(true),
                ..Default::default()
            });
            status.person_id = Some(id);
            status.adopted = Some(false);
            status.create_requested_at = None;
        }
        UserAction::Adopt { person_id } => {
            status.person_id = Some(person_id.clone());
            status.adopted = Some(true);
        }
        UserAction::PatchLicenses(patch) => {
            let Some(p) = person.as_mut() else { return };
            let is_calling = |id: &str| {
                org.licenses
                    .iter()
                    .any(|l| l.id == id && l.offer_code.starts_with("BC"))
            };
            for r in &patch.licenses {
                match r.operation {
                    LicenseOperation::Remove => p.licenses.retain(|l| *l != r.id),
                    LicenseOperation::Add => {
                        if !p.licenses.contains(&r.id) {
                            p.licenses.push(r.id.clone());
                        }
                        if let (Some(props), true) = (&r.properties, is_calling(&r.id)) {
                            if let Some(number) = &props.phone_number {
                                p.phone_numbers.retain(|n| n.kind != "work");
                                p.phone_numbers.push(PhoneNumber {
                                    kind: "work".into(),
                                    value: number.clone(),
                                    primary: Some(true),
                                });
                            }
                            if props.extension.is_some() {
                                p.extension = props.extension.clone();
                            }
                            if props.location_id.is_some() {
                                p.location_id = props.location_id.clone();
                            }
                        }
                    }
                }
            }
            if !p.licenses.iter().any(|id| is_calling(id)) {
                p.extension = None;
                p.location_id = None;
                p.phone_numbers.retain(|n| n.kind != "work");
            }
        }
        UserAction::UpdatePerson { body, .. } => {
            let Some(p) = person.as_mut() else { return };
            p.first_name = body.first_name.clone();
            p.last_name = body.last_name.clone();
            p.display_name = body.display_name.clone();
            p.phone_numbers = body.phone_numbers.clone();
            p.extension = body.extension.clone();
            if let Some(roles) = &body.roles {
                p.roles = roles.clone();
            }
            if let Some(licenses) = &body.licenses {
                p.licenses = licenses.clone();
            }
            if body.login_enabled.is_some() {
                p.login_enabled = body.login_enabled;
            }
        }
        UserAction::DeletePerson { .. } => *person = None,
    }
}

// ---- the driver (client required) ------------------------------------------------------------

/// The person of a listed org as `observe_person` would find it: by the recorded id, else (not
/// for a pruned object, which only ever touches its recorded person) by email.
fn find_listed(people: &[Person], person_id: Option<&str>, email: &str, removed: bool) -> Option<Person> {
    if let Some(id) = person_id
        && let Some(p) = people.iter().find(|p| p.id == id)
    {
        return Some(p.clone());
    }
    if removed {
        return None;
    }
    people
        .iter()
        .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
        .cloned()
}

fn key(user: &WebexUser) -> (String, String) {
    (
        user.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        user.metadata.name.clone().unwrap_or_default(),
    )
}

fn has_status(status: Option<&WebexUserStatus>) -> bool {
    status.is_some_and(|s| s != &WebexUserStatus::default())
}

/// Runs `plan`: reads, observes, decides. Errors (bad input, an unreachable org) stop it before
/// anything is reported.
pub async fn run(options: &PlanOptions) -> Result<PlanReport, GitopsError> {
    let inputs = input::read_paths(&options.files)?;
    let live = if options.live.is_empty() {
        Inputs::default()
    } else {
        input::read_paths(&options.live)?
    };
    let live_users: BTreeMap<(String, String), &Located<WebexUser>> =
        live.users.iter().map(|u| (key(&u.object), u)).collect();
    // Objects not in the cluster yet (no creation time in the document nor in `--live`) are
    // taken as created now: the order of "created after the template" (R-TPL-1) then follows
    // from the times the cluster holds.
    let now = Time(jiff::Timestamp::now());
    let templates = template_inputs(&inputs, &live, &now);
    let applying: Vec<Arc<LicenseTemplate>> = templates
        .iter()
        .filter(|t| !t.pruned)
        .map(|t| t.template.clone())
        .collect();
    let manifest_keys: BTreeSet<(String, String)> = inputs.users.iter().map(|u| key(&u.object)).collect();
    let removed: Vec<&Located<WebexUser>> = live
        .users
        .iter()
        .filter(|u| !manifest_keys.contains(&key(&u.object)))
        .filter(|u| has_status(u.object.status.as_ref()))
        .collect();

    // Orgs: the manifests' first, then the live ones (for pruned users of an org no longer listed).
    let mut orgs: BTreeMap<String, &Located<WebexOrg>> = BTreeMap::new();
    for o in live.orgs.iter().chain(inputs.orgs.iter()) {
        orgs.insert(o.object.metadata.name.clone().unwrap_or_default(), o);
    }
    let live_externals: BTreeMap<(String, String), &Located<ExternalUser>> = live
        .external_users
        .iter()
        .map(|u| (external_key(&u.object), u))
        .collect();
    let manifest_external_keys: BTreeSet<(String, String)> =
        inputs.external_users.iter().map(|u| external_key(&u.object)).collect();
    let removed_externals: Vec<&Located<ExternalUser>> = live
        .external_users
        .iter()
        .filter(|u| !manifest_external_keys.contains(&external_key(&u.object)))
        .filter(|u| {
            u.object
                .status
                .as_ref()
                .is_some_and(|s| s != &ExternalUserStatus::default())
        })
        .collect();
    let org_refs = inputs
        .users
        .iter()
        .chain(removed.iter().copied())
        .map(|u| (&u.location, &u.object.spec.org_ref.name))
        .chain(
            inputs
                .external_users
                .iter()
                .chain(removed_externals.iter().copied())
                .map(|u| (&u.location, &u.object.spec.org_ref.name)),
        );
    for (location, org_name) in org_refs {
        if !orgs.contains_key(org_name) {
            return Err(GitopsError::Invalid {
                location: location.clone(),
                field: "spec.orgRef.name".into(),
                message: format!(
                    "WebexOrg {org_name} is not among the inputs; add its manifest with -f (plan reads apiBaseUrl and backend from it)"
                ),
            });
        }
    }
    let secrets: Vec<Located<k8s_openapi::api::core::v1::Secret>> =
        inputs.secrets.iter().chain(live.secrets.iter()).cloned().collect();
    let mut observed: BTreeMap<String, ObservedOrg> = BTreeMap::new();
    for (name, org) in &orgs {
        let token = observe::find_token(&org.object, &options.token_env, &secrets, |k| std::env::var(k).ok())?;
        observed.insert(name.clone(), observe::observe_org(&org.object, token).await?);
    }

    // Persons, looked up as the controller looks them up, a few at a time.
    let bar = progress::bar((inputs.users.len() + removed.len()) as u64, "observing Webex");
    let mut jobs = Vec::new();
    for (i, u) in inputs.users.iter().enumerate() {
        let status = if has_status(u.object.status.as_ref()) {
            (u.object.status.clone().unwrap_or_default(), StatusFrom::Manifest)
        } else if let Some(l) = live_users
            .get(&key(&u.object))
            .filter(|l| has_status(l.object.status.as_ref()))
        {
            (l.object.status.clone().unwrap_or_default(), StatusFrom::Live)
        } else {
            (WebexUserStatus::default(), StatusFrom::None)
        };
        jobs.push((i, u, status, false));
    }
    for (i, u) in removed.iter().enumerate() {
        let status = u.object.status.clone().unwrap_or_default();
        jobs.push((inputs.users.len() + i, *u, (status, StatusFrom::Live), true));
    }
    // Orgs with many objects are read by pages once; the others person by person.
    let mut per_org: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, u, _, _) in &jobs {
        *per_org.entry(u.object.spec.org_ref.name.as_str()).or_default() += 1;
    }
    let mut listed: BTreeMap<String, Vec<Person>> = BTreeMap::new();
    for (name, count) in per_org {
        if count > LIST_THRESHOLD
            && let Some(org) = observed.get(name)
        {
            listed.insert(name.to_string(), observe::list_people(org).await?);
        }
    }
    let listed_ref = &listed;
    let observed_ref = &observed;
    let bar_ref = &bar;
    let results: Vec<Result<(usize, Option<Person>), GitopsError>> = futures::stream::iter(jobs.iter())
        .map(|(i, u, (status, _), removed)| async move {
            let org = observed_ref.get(&u.object.spec.org_ref.name);
            if let Some(people) = listed_ref.get(&u.object.spec.org_ref.name) {
                bar_ref.inc(1);
                return Ok((
                    *i,
                    find_listed(people, status.person_id.as_deref(), &u.object.spec.email, *removed),
                ));
            }
            let person = match org {
                // A pruned object only ever touches the person whose id it recorded.
                Some(org) if *removed => match status.person_id.as_deref() {
                    Some(id) => org.client.get_person(id).await.map_err(|source| GitopsError::Webex {
                        org: org.name.clone(),
                        operation: "read a person",
                        source: Box::new(source),
                    })?,
                    None => None,
                },
                Some(org) => observe::observe_person(org, status.person_id.as_deref(), &u.object.spec.email).await?,
                None => None,
            };
            bar_ref.inc(1);
            Ok((*i, person))
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut persons: BTreeMap<usize, Option<Person>> = BTreeMap::new();
    for r in results {
        let (i, p) = r?;
        persons.insert(i, p);
    }

    let mut objects = Vec::new();
    for o in &inputs.orgs {
        let name = o.object.metadata.name.clone().unwrap_or_default();
        let Some(obs) = observed.get(&name) else { continue };
        let (actions, reach) = plan_org(&o.object, obs);
        objects.push(ObjectPlan {
            source: o.location.clone(),
            kind: "WebexOrg".into(),
            name,
            namespace: None,
            email: None,
            org: None,
            status_from: None,
            change: headline(&actions, &reach),
            actions,
            would_reach: reach,
        });
    }
    // The WebexUsers as they would be after the plan, for the templates' tallies.
    let mut planned_users: Vec<WebexUser> = Vec::new();
    let mut statuses_before: Vec<&WebexUserStatus> = Vec::new();
    let mut created_now = 0usize;
    for (i, u, (status, from), removed) in &jobs {
        let Some(org) = observed.get(&u.object.spec.org_ref.name) else {
            continue;
        };
        let person = persons.get(i).cloned().flatten();
        let (namespace, name) = key(&u.object);
        let (actions, reach) = if *removed {
            let actions = plan_removed(&u.object.spec, status, &org.facts, person.as_ref());
            let reach = Reach {
                state: None,
                ready: false,
                reason: "Deleted".into(),
                message: format!(
                    "the WebexUser is gone from the manifests; deletionPolicy {:?} runs",
                    u.object.spec.deletion_policy
                ),
                blocked: false,
                terminal: None,
            };
            (actions, reach)
        } else {
            let mut user = u.object.clone();
            user.metadata.namespace = Some(namespace.clone());
            let live_created = live_users
                .get(&key(&u.object))
                .and_then(|l| l.object.metadata.creation_timestamp.clone());
            if user.metadata.creation_timestamp.is_none() {
                if live_created.is_none() {
                    created_now += 1;
                }
                user.metadata.creation_timestamp = Some(live_created.unwrap_or_else(|| now.clone()));
            }
            let planned = plan_webex_user(&user, status, &applying, &org.facts, person.as_ref());
            user.status = Some(planned.status);
            planned_users.push(user);
            statuses_before.push(status);
            (planned.actions, planned.reach)
        };
        objects.push(ObjectPlan {
            source: u.location.clone(),
            kind: "WebexUser".into(),
            name,
            namespace: Some(namespace),
            email: Some(u.object.spec.email.clone()),
            org: Some(u.object.spec.org_ref.name.clone()),
            status_from: Some(*from),
            change: headline(&actions, &reach),
            actions,
            would_reach: reach,
        });
    }
    objects.extend(
        plan_externals(
            &inputs.external_users,
            &removed_externals,
            &live_externals,
            &observed,
            &listed,
        )
        .await?,
    );
    let mut notes: Vec<String> = inputs
        .not_planned
        .iter()
        .map(|(loc, kind)| {
            format!("{loc}: {kind} is not planned (plan covers WebexOrg, WebexUser, ExternalUser and LicenseTemplate)")
        })
        .collect();
    if !templates.is_empty() && created_now > 0 {
        notes.push(format!(
            "{created_now} WebexUser(s) have no creationTimestamp (neither in the document nor in --live): they are planned as created now, i.e. new for every template (R-TPL-1), unless their person already exists in Webex (adopted: existing, R-TPL-2); pass --live with the cluster's WebexUsers to plan users that already exist as existing"
        ));
    }
    if !inputs.ignored.is_empty() {
        notes.push(format!("{} object(s) of other kinds ignored", inputs.ignored.len()));
    }
    let unplanned_details = inputs
        .users
        .iter()
        .filter(|u| {
            let spec = &u.object.spec;
            spec.calling_settings.is_some() || spec.tracking_codes.is_some() || spec.content_management.is_some()
        })
        .count();
    if unplanned_details > 0 {
        notes.push(format!(
            "{unplanned_details} WebexUser(s) set callingSettings, trackingCodes or contentManagement, which plan does not compare with Webex: the controller may still change them (R-USER-16, R-USER-8, R-USER-9) where this plan shows no change"
        ));
    }
    if objects
        .iter()
        .any(|o| o.kind == "WebexUser" && o.status_from == Some(StatusFrom::None) && o.change != Change::Create)
    {
        notes.push(
            "some WebexUsers have no status (neither in the document nor in --live): they are planned as a fresh controller would, so licences the operator assigned earlier and that the manifest no longer lists are not shown as removals".into(),
        );
    }
    if objects.iter().any(|o| {
        o.kind == "ExternalUser"
            && o.status_from == Some(StatusFrom::None)
            && matches!(o.change, Change::Create | Change::Update)
    }) {
        notes.push(
            "some ExternalUsers have no status: pending invitations and accepted attendee accounts are invisible to GETs (only host accounts are listed), so plan shows them as invitations to send; for what is already pending or accepted the controller sends nothing (R-EXT-8)".into(),
        );
    }
    let mut report = PlanReport::new(objects, notes);
    report.templates = plan_templates(&templates, &planned_users, &statuses_before);
    Ok(report)
}

fn template_key(t: &LicenseTemplate) -> (String, String) {
    (
        t.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        t.metadata.name.clone().unwrap_or_default(),
    )
}

/// The LicenseTemplates `plan` applies: those of the manifests (which win over live objects of
/// the same name, as for WebexUsers), with the creation time of the document, else of the live
/// object, else `now`; and those of `--live` gone from the manifests, pruned (applying to
/// nobody, so the licences they gave are removed from the users that hold them).
fn template_inputs(inputs: &Inputs, live: &Inputs, now: &Time) -> Vec<TemplateInput> {
    let live_templates: BTreeMap<(String, String), &Located<LicenseTemplate>> =
        live.templates.iter().map(|t| (template_key(&t.object), t)).collect();
    let mut out = Vec::new();
    for t in &inputs.templates {
        let (namespace, name) = template_key(&t.object);
        let mut object = t.object.clone();
        object.metadata.namespace = Some(namespace.clone());
        let live_created = live_templates
            .get(&(namespace, name))
            .and_then(|l| l.object.metadata.creation_timestamp.clone());
        let created_from = match (&object.metadata.creation_timestamp, live_created) {
            (Some(_), _) => StatusFrom::Manifest,
            (None, Some(created)) => {
                object.metadata.creation_timestamp = Some(created);
                StatusFrom::Live
            }
            (None, None) => {
                object.metadata.creation_timestamp = Some(now.clone());
                StatusFrom::None
            }
        };
        out.push(TemplateInput {
            location: t.location.clone(),
            template: Arc::new(object),
            created_from,
            pruned: false,
        });
    }
    let manifest_keys: BTreeSet<(String, String)> = inputs.templates.iter().map(|t| template_key(&t.object)).collect();
    for t in &live.templates {
        let k = template_key(&t.object);
        if manifest_keys.contains(&k) {
            continue;
        }
        let mut object = t.object.clone();
        object.metadata.namespace = Some(k.0);
        out.push(TemplateInput {
            location: t.location.clone(),
            template: Arc::new(object),
            created_from: StatusFrom::Live,
            pruned: true,
        });
    }
    out
}

fn external_key(user: &ExternalUser) -> (String, String) {
    (
        user.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        user.metadata.name.clone().unwrap_or_default(),
    )
}

/// Plans the ExternalUsers (those of the manifests, and those of `--live` gone from them) with
/// the controller's decisions on one listing per org (see [`external`]).
async fn plan_externals(
    manifests: &[Located<ExternalUser>],
    removed: &[&Located<ExternalUser>],
    live: &BTreeMap<(String, String), &Located<ExternalUser>>,
    observed: &BTreeMap<String, ObservedOrg>,
    people: &BTreeMap<String, Vec<Person>>,
) -> Result<Vec<ObjectPlan>, GitopsError> {
    let orgs: BTreeSet<&str> = manifests
        .iter()
        .chain(removed.iter().copied())
        .map(|u| u.object.spec.org_ref.name.as_str())
        .collect();
    let mut listings = BTreeMap::new();
    for name in orgs {
        if let Some(org) = observed.get(name) {
            let listing = observe::list_external(org, people.get(name).map(Vec::as_slice)).await?;
            listings.insert(name.to_string(), listing);
        }
    }
    // Webex's own clock is only on write answers; GETs use this machine's (for the expiry of
    // pending invitations noted in status, R-EXT-5).
    let now = jiff::Timestamp::now();
    let mut objects = Vec::new();
    let jobs = manifests
        .iter()
        .map(|u| (u, false))
        .chain(removed.iter().map(|u| (*u, true)));
    for (u, is_removed) in jobs {
        let name = &u.object.spec.org_ref.name;
        let (Some(org), Some(listing)) = (observed.get(name), listings.get(name)) else {
            continue;
        };
        let (namespace, object_name) = external_key(&u.object);
        let (status, from) = if is_removed || has_external_status(u.object.status.as_ref()) {
            (
                u.object.status.clone().unwrap_or_default(),
                if is_removed {
                    StatusFrom::Live
                } else {
                    StatusFrom::Manifest
                },
            )
        } else if let Some(l) = live
            .get(&(namespace.clone(), object_name.clone()))
            .filter(|l| has_external_status(l.object.status.as_ref()))
        {
            (l.object.status.clone().unwrap_or_default(), StatusFrom::Live)
        } else {
            (ExternalUserStatus::default(), StatusFrom::None)
        };
        let (actions, reach) = if is_removed {
            external::plan_external_removed(&u.object.spec, &status, &org.facts, listing, now)
        } else {
            // The generation the controller would see: the document's own; for a status from
            // `--live`, the live one if the spec is unchanged, else the next one (applying a
            // changed spec is a new request: declines, expiries and refusals are forgotten,
            // R-EXT-5).
            let generation = u.object.metadata.generation.or(match from {
                StatusFrom::Live => live.get(&(namespace.clone(), object_name.clone())).and_then(|l| {
                    let g = l.object.metadata.generation?;
                    Some(if l.object.spec == u.object.spec { g } else { g + 1 })
                }),
                _ => None,
            });
            external::plan_external(
                &u.object.spec,
                &status,
                generation,
                &namespace,
                &org.facts,
                listing,
                now,
            )
        };
        objects.push(ObjectPlan {
            source: u.location.clone(),
            kind: "ExternalUser".into(),
            name: object_name,
            namespace: Some(namespace),
            email: Some(u.object.spec.email.clone()),
            org: Some(name.clone()),
            status_from: Some(from),
            change: headline(&actions, &reach),
            actions,
            would_reach: reach,
        });
    }
    Ok(objects)
}

fn has_external_status(status: Option<&ExternalUserStatus>) -> bool {
    status.is_some_and(|s| s != &ExternalUserStatus::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::{ContactCenterType, LicenseRef, OrgRef};
    use crate::api::license_template::LicenseTemplateSpec;
    use crate::api::webex_user::CallingSpec;
    use crate::controller::org_registry::OrgLicense;
    use crate::webex::ids;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn lic(code: &str) -> OrgLicense {
        OrgLicense {
            id: ids::license_id("org", code, "1", None),
            offer_code: code.into(),
            name: code.into(),
            subscription_id: None,
            site_url: None,
            total_units: 10,
            consumed_units: 0,
        }
    }

    fn org() -> OrgFacts {
        OrgFacts {
            org_id: "org".into(),
            licenses: ["MS", "EE", "BCPRO", "CJPSTD", "CJPPRM"].into_iter().map(lic).collect(),
            roles: [("id_user_admin".to_string(), ids::role_id("id_user_admin"))]
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    fn spec() -> WebexUserSpec {
        WebexUserSpec {
            org_ref: OrgRef { name: "acme".into() },
            email: "ada@acme.example".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            display_name: None,
            licenses: Some(vec![LicenseRef {
                offer_code: "MS".into(),
                subscription_id: None,
                site_url: None,
            }]),
            calling: None,
            contact_center: None,
            admin_roles: Some(vec![AdminRole::UserAdministrator]),
            calling_settings: None,
            tracking_codes: None,
            content_management: None,
            existing_user_policy: None,
            deletion_policy: Default::default(),
            management_policy: Default::default(),
        }
    }

    fn prov(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect()
    }

    fn person() -> Person {
        Person {
            id: "p1".into(),
            emails: vec!["ada@acme.example".into()],
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            display_name: Some("Ada Lovelace".into()),
            licenses: vec![lic("MS").id],
            roles: vec![ids::role_id("id_user_admin")],
            invite_pending: Some(false),
            login_enabled: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_user_is_created_then_licensed_then_given_roles_and_waits_for_sign_in() {
        let (actions, reach) = plan_user(&spec(), &WebexUserStatus::default(), "a", &org(), None);
        assert_eq!(
            actions,
            vec![
                PlannedAction::Create {
                    email: "ada@acme.example".into(),
                    display_name: Some("Ada Lovelace".into())
                },
                PlannedAction::Licenses {
                    add: vec!["MS".into()],
                    remove: vec![],
                    properties: vec![],
                    provenance: prov(&[("MS", "Manual")]),
                },
                PlannedAction::Update {
                    fields: vec![FieldChange {
                        field: "adminRoles".into(),
                        from: None,
                        to: Some("UserAdministrator".into())
                    }]
                },
            ]
        );
        assert_eq!(reach.reason, "InvitePending");
        assert_eq!(reach.state.as_deref(), Some("Pending"));
        assert_eq!(headline(&actions, &reach), Change::Create);
    }

    #[test]
    fn a_matching_person_is_adopted_without_change_then_unchanged_once_managed() {
        let (actions, reach) = plan_user(&spec(), &WebexUserStatus::default(), "a", &org(), Some(&person()));
        assert_eq!(actions, vec![PlannedAction::Adopt { person_id: "p1".into() }]);
        assert_eq!(headline(&actions, &reach), Change::Adopt);
        assert!(!headline(&actions, &reach).is_change());
        let managed = WebexUserStatus {
            person_id: Some("p1".into()),
            adopted: Some(true),
            effective_licenses: vec![EffectiveLicense {
                offer_code: "MS".into(),
                id: lic("MS").id,
                source: "Manual".into(),
            }],
            admin_roles: vec![AdminRole::UserAdministrator],
            ..Default::default()
        };
        let (actions, reach) = plan_user(&spec(), &managed, "a", &org(), Some(&person()));
        assert_eq!(actions, vec![]);
        assert!(reach.ready);
        // Dropping MS from the manifest removes it: the status says the operator assigned it.
        let s = WebexUserSpec {
            licenses: Some(vec![LicenseRef {
                offer_code: "EE".into(),
                subscription_id: None,
                site_url: None,
            }]),
            first_name: Some("Augusta".into()),
            ..spec()
        };
        let (actions, _) = plan_user(&s, &managed, "a", &org(), Some(&person()));
        assert_eq!(
            actions,
            vec![
                PlannedAction::Licenses {
                    add: vec!["EE".into()],
                    remove: vec!["MS".into()],
                    properties: vec![],
                    provenance: prov(&[("EE", "Manual"), ("MS", "Manual")]),
                },
                // The PUT after the PATCH keeps the licences as patched: only the name differs.
                PlannedAction::Update {
                    fields: vec![FieldChange {
                        field: "firstName".into(),
                        from: Some("Ada".into()),
                        to: Some("Augusta".into())
                    }]
                }
            ]
        );
    }

    #[test]
    fn calling_number_changes_are_shown_as_properties() {
        let s = WebexUserSpec {
            calling: Some(CallingSpec {
                offer_code: "BCPRO".into(),
                subscription_id: None,
                location_id: None,
                phone_number: Some("+14085550102".into()),
                extension: None,
            }),
            ..spec()
        };
        let p = Person {
            licenses: vec![lic("MS").id, lic("BCPRO").id],
            phone_numbers: vec![PhoneNumber {
                kind: "work".into(),
                value: "+14085550101".into(),
                primary: Some(true),
            }],
            ..person()
        };
        let status = WebexUserStatus {
            person_id: Some("p1".into()),
            ..Default::default()
        };
        let (actions, _) = plan_user(&s, &status, "a", &org(), Some(&p));
        assert_eq!(
            actions[0],
            PlannedAction::Licenses {
                add: vec![],
                remove: vec![],
                properties: vec![FieldChange {
                    field: "BCPRO.phoneNumber".into(),
                    from: Some("+14085550101".into()),
                    to: Some("+14085550102".into())
                }],
                provenance: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn a_licence_the_org_lacks_blocks_with_the_reason() {
        let s = WebexUserSpec {
            licenses: Some(vec![LicenseRef {
                offer_code: "XX".into(),
                subscription_id: None,
                site_url: None,
            }]),
            ..spec()
        };
        let (actions, reach) = plan_user(&s, &WebexUserStatus::default(), "a", &org(), None);
        assert!(actions.is_empty());
        assert!(reach.blocked);
        assert_eq!(reach.reason, "LicenseNotInOrg");
        assert_eq!(headline(&actions, &reach), Change::Blocked);
    }

    #[test]
    fn a_pruned_object_runs_its_deletion_policy_only_on_its_own_person() {
        let status = WebexUserStatus {
            person_id: Some("p1".into()),
            ..Default::default()
        };
        let actions = plan_removed(&spec(), &status, &org(), Some(&person()));
        assert_eq!(
            actions,
            vec![
                PlannedAction::Deprovision {
                    deletion_policy: "Delete".into()
                },
                PlannedAction::Delete { person_id: "p1".into() }
            ]
        );
        let stranger = plan_removed(&spec(), &WebexUserStatus::default(), &org(), Some(&person()));
        assert_eq!(stranger.len(), 1, "no write on a person whose id is not recorded");
    }

    // ---- LicenseTemplates: the controller's merge, applied as the reconciler applies it ----

    fn at(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).unwrap_or_default())
    }

    fn template(
        name: &str,
        codes: &[&str],
        cc: Option<ContactCenterType>,
        team: Option<&str>,
        created: i64,
    ) -> Arc<LicenseTemplate> {
        let mut t = LicenseTemplate::new(
            name,
            LicenseTemplateSpec {
                org_ref: OrgRef { name: "acme".into() },
                selector: team.map(|team| LabelSelector {
                    match_labels: Some([("team".to_string(), team.to_string())].into_iter().collect()),
                    match_expressions: None,
                }),
                licenses: codes
                    .iter()
                    .map(|c| LicenseRef {
                        offer_code: c.to_string(),
                        subscription_id: None,
                        site_url: None,
                    })
                    .collect(),
                contact_center: cc,
                subscription_id: None,
                apply_to_existing_users: false,
            },
        );
        t.metadata.namespace = Some("a".into());
        t.metadata.creation_timestamp = Some(at(created));
        Arc::new(t)
    }

    /// A WebexUser without a manual licence list or roles, labelled `team`.
    fn labelled_user(team: &str, created: i64) -> WebexUser {
        let mut u = WebexUser::new(
            "ada",
            WebexUserSpec {
                licenses: None,
                admin_roles: None,
                ..spec()
            },
        );
        u.metadata.namespace = Some("a".into());
        u.metadata.labels = Some([("team".to_string(), team.to_string())].into_iter().collect());
        u.metadata.creation_timestamp = Some(at(created));
        u
    }

    fn licence_action(actions: &[PlannedAction]) -> Option<&PlannedAction> {
        actions.iter().find(|a| matches!(a, PlannedAction::Licenses { .. }))
    }

    #[test]
    fn r_tpl_1_a_new_user_gets_the_selecting_templates_licences_with_provenance() {
        let templates = vec![
            template("base", &["EE"], Some(ContactCenterType::Standard), Some("support"), 100),
            template("sales", &["MS"], None, Some("sales"), 100),
        ];
        let user = labelled_user("support", 200);
        let planned = plan_webex_user(&user, &WebexUserStatus::default(), &templates, &org(), None);
        assert_eq!(
            licence_action(&planned.actions),
            Some(&PlannedAction::Licenses {
                add: vec!["EE".into(), "CJPSTD".into()],
                remove: vec![],
                properties: vec![],
                provenance: prov(&[("EE", "Template/base"), ("CJPSTD", "Template/base")]),
            })
        );
        // The status it would record carries the provenance, as the reconciler's.
        let sources: Vec<(&str, &str)> = planned
            .status
            .effective_licenses
            .iter()
            .map(|l| (l.offer_code.as_str(), l.source.as_str()))
            .collect();
        assert_eq!(sources, vec![("EE", "Template/base"), ("CJPSTD", "Template/base")]);
        assert_eq!(headline(&planned.actions, &planned.reach), Change::Create);
    }

    #[test]
    fn r_cc_2_premium_wins_over_standard_and_the_tally_counts_the_conflict() {
        let templates = vec![
            template("a-std", &[], Some(ContactCenterType::Standard), None, 100),
            template("b-prm", &[], Some(ContactCenterType::Premium), None, 100),
        ];
        let mut user = labelled_user("support", 200);
        let before = WebexUserStatus::default();
        let planned = plan_webex_user(&user, &before, &templates, &org(), None);
        assert_eq!(
            licence_action(&planned.actions),
            Some(&PlannedAction::Licenses {
                add: vec!["CJPPRM".into()],
                remove: vec![],
                properties: vec![],
                provenance: prov(&[("CJPPRM", "Template/b-prm")]),
            })
        );
        user.status = Some(planned.status);
        let inputs: Vec<TemplateInput> = templates
            .iter()
            .map(|t| TemplateInput {
                location: "t.yaml#1".into(),
                template: t.clone(),
                created_from: StatusFrom::Live,
                pruned: false,
            })
            .collect();
        let plans = plan_templates(&inputs, &[user], &[&before]);
        for p in &plans {
            assert_eq!(
                (p.selected, p.matched, p.existing, p.conflicts_resolved),
                (1, 1, 0, 1),
                "{p:?}"
            );
        }
    }

    #[test]
    fn r_tpl_4_a_manual_licence_list_overrides_the_templates() {
        let templates = vec![template("base", &["EE"], None, None, 100)];
        let mut user = labelled_user("support", 200);
        user.spec.licenses = Some(vec![LicenseRef {
            offer_code: "MS".into(),
            subscription_id: None,
            site_url: None,
        }]);
        let planned = plan_webex_user(&user, &WebexUserStatus::default(), &templates, &org(), None);
        assert_eq!(
            licence_action(&planned.actions),
            Some(&PlannedAction::Licenses {
                add: vec!["MS".into()],
                remove: vec![],
                properties: vec![],
                provenance: prov(&[("MS", "Manual")]),
            })
        );
    }

    #[test]
    fn r_tpl_2_existing_and_adopted_users_get_a_template_only_with_the_opt_in() {
        // A user the operator created before the template: existing.
        let managed = WebexUserStatus {
            person_id: Some("p1".into()),
            adopted: Some(false),
            ..Default::default()
        };
        let bare = Person {
            licenses: vec![],
            roles: vec![],
            ..person()
        };
        let old_user = labelled_user("support", 50);
        let off = vec![template("base", &["EE"], None, None, 100)];
        let planned = plan_webex_user(&old_user, &managed, &off, &org(), Some(&bare));
        assert_eq!(planned.actions, vec![], "created before the template: not new");
        let mut on = (*off[0]).clone();
        on.spec.apply_to_existing_users = true;
        let on = vec![Arc::new(on)];
        let planned = plan_webex_user(&old_user, &managed, &on, &org(), Some(&bare));
        assert_eq!(
            licence_action(&planned.actions),
            Some(&PlannedAction::Licenses {
                add: vec!["EE".into()],
                remove: vec![],
                properties: vec![],
                provenance: prov(&[("EE", "Template/base")]),
            })
        );
        let mut after = old_user.clone();
        after.status = Some(planned.status);
        let input = TemplateInput {
            location: "t".into(),
            template: on[0].clone(),
            created_from: StatusFrom::Live,
            pruned: false,
        };
        let p = &plan_templates(&[input], &[after], &[&managed])[0];
        assert_eq!((p.matched, p.existing), (1, 1), "the opt-in's effect is counted");
        // A person already in Webex and not yet managed is adopted: existing even if the
        // WebexUser is newer than the template.
        let new_user = labelled_user("support", 200);
        let planned = plan_webex_user(&new_user, &WebexUserStatus::default(), &off, &org(), Some(&bare));
        assert_eq!(planned.actions, vec![PlannedAction::Adopt { person_id: "p1".into() }]);
    }

    #[test]
    fn licences_of_a_template_that_no_longer_applies_are_removed_with_their_provenance() {
        let status = WebexUserStatus {
            person_id: Some("p1".into()),
            adopted: Some(false),
            effective_licenses: vec![EffectiveLicense {
                offer_code: "EE".into(),
                id: lic("EE").id,
                source: "Template/base".into(),
            }],
            ..Default::default()
        };
        let holding = Person {
            licenses: vec![lic("EE").id],
            roles: vec![],
            ..person()
        };
        let user = labelled_user("support", 200);
        // The template is pruned (or its selector no longer matches): nothing applies.
        let planned = plan_webex_user(&user, &status, &[], &org(), Some(&holding));
        assert_eq!(
            licence_action(&planned.actions),
            Some(&PlannedAction::Licenses {
                add: vec![],
                remove: vec!["EE".into()],
                properties: vec![],
                provenance: prov(&[("EE", "Template/base")]),
            })
        );
        let pruned = TemplateInput {
            location: "live#1".into(),
            template: template("base", &["EE"], None, None, 100),
            created_from: StatusFrom::Live,
            pruned: true,
        };
        let p = &plan_templates(&[pruned], &[user], &[&status])[0];
        assert_eq!((p.pruned, p.matched, p.holders), (true, 0, 1));
    }
}
