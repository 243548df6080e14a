//! ExternalUser in `plan` and `import` (no client required): the controller's own decisions
//! ([`ext_plan::precheck`], [`ext_plan::plan`], [`ext_plan::plan_removal`]) on a picture of
//! the person built from listings.
//!
//! `plan` only sends GETs, and the public API shows external users only in listings of a
//! Meetings site licence's users (`type: EXTERNAL`, accepted host accounts, R-EXT-6) and,
//! for people of the org itself, in the people listing. The controller reads one person with a
//! change-free `PATCH /v1/licenses/users`, which `plan` never sends. What no GET shows is taken
//! from the object's last status (document or `--live`), as `plan` does for the licences a
//! WebexUser manages:
//! - pending invitations (R-EXT-4): still pending until the expiry the status noted (R-EXT-5);
//!   a decline before it is not visible;
//! - accepted attendee accounts (no licence, so no listing): still held;
//! - refusals that only a write reveals: no Webex account (R-EXT-2) and cross-org licensing off
//!   in the person's org (R-EXT-1, R-ORG-5), reported by the controller for this generation.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::plan::{PlannedAction, Reach};
use crate::api::conditions::{self, READY};
use crate::api::external_user::{
    ExternalDeletionPolicy, ExternalUserSpec, ExternalUserStatus, InvitationState, SiteAccountType,
};
use crate::controller::external_user::plan::{
    self as ext_plan, ExternalReason, Inputs, Observed, Removal, SiteKey, Verdict,
};
use crate::controller::org_registry::OrgFacts;
use crate::webex::model::{LicenseOperation, PatchUserLicenses};

/// Reconciles of one ExternalUser that `plan` follows: the reconciler sends at most one change
/// per reconcile; the next one must find nothing left to do.
const ROUNDS: usize = 3;

/// A person of another org holding host accounts on the org's sites.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    pub person_id: String,
    /// Site URLs (lower case) whose meeting licence the person holds (accepted, R-EXT-6).
    pub sites: BTreeSet<String>,
}

/// What the GETs show about one org's external users: its own people (by email, lower case)
/// and, per email, the host accounts people of other orgs accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalListing {
    pub members: BTreeMap<String, String>,
    pub holders: BTreeMap<String, Holder>,
}

/// The controller's `Observed` for one object, from the listing and the last status (see the
/// module doc for what comes from where).
pub fn observed_for(
    spec: &ExternalUserSpec,
    status: &ExternalUserStatus,
    org: &OrgFacts,
    listing: &ExternalListing,
    now: Timestamp,
) -> Observed {
    let email = spec.email.trim().to_ascii_lowercase();
    if let Some(id) = listing.members.get(&email) {
        return Observed {
            person_id: Some(id.clone()),
            person_org_id: Some(org.org_id.clone()),
            ..Observed::default()
        };
    }
    let holder = listing.holders.get(&email);
    let mut accepted: BTreeSet<SiteKey> = holder
        .map(|h| h.sites.iter().map(|s| (s.clone(), SiteAccountType::Host)).collect())
        .unwrap_or_default();
    let mut pending = BTreeSet::new();
    for site in &status.sites {
        let key = (site.site_url.to_ascii_lowercase(), site.account_type);
        match (site.invitation, site.account_type) {
            // No listing shows attendee accounts: an accepted one is taken as still held.
            (InvitationState::Accepted, SiteAccountType::Attendee) => {
                accepted.insert(key);
            }
            // Webex drops a pending invitation at its expiry (R-EXT-5).
            (InvitationState::Pending, _) if !accepted.contains(&key) => {
                let live = site
                    .expires_at
                    .as_deref()
                    .and_then(|t| t.parse::<Timestamp>().ok())
                    .is_some_and(|at| now < at);
                if live {
                    pending.insert(key);
                }
            }
            _ => {}
        }
    }
    Observed {
        person_id: holder.map(|h| h.person_id.clone()).or_else(|| status.person_id.clone()),
        person_org_id: status.person_org_id.clone().filter(|o| *o != org.org_id),
        accepted,
        pending,
    }
}

/// A refusal the controller reported for this generation that only a write reveals (R-EXT-1,
/// R-EXT-2): (reason, message).
fn reported_refusal(status: &ExternalUserStatus, generation: Option<i64>) -> Option<(ExternalReason, String)> {
    if generation.is_none() || status.observed_generation != generation {
        return None; // a new spec: the controller tries again
    }
    let ready = conditions::find(&status.conditions, READY)?;
    [
        ExternalReason::NoWebexAccount,
        ExternalReason::CrossOrgLicensingNotAllowed,
    ]
    .into_iter()
    .find(|r| ready.reason == <&str>::from(*r))
    .map(|r| (r, ready.message.clone()))
}

fn label((site, kind): &SiteKey) -> String {
    format!("{site} ({kind:?})")
}

/// The site accounts a licence change adds and removes, read from the body itself.
fn delta(org: &OrgFacts, body: &PatchUserLicenses) -> (Vec<SiteKey>, Vec<SiteKey>) {
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for l in &body.licenses {
        let site = org
            .licenses
            .iter()
            .find(|o| o.id == l.id)
            .and_then(|o| o.site_url.clone())
            .unwrap_or_else(|| l.id.clone());
        let key = (site.to_ascii_lowercase(), SiteAccountType::Host);
        match l.operation {
            LicenseOperation::Add => add.push(key),
            LicenseOperation::Remove => remove.push(key),
        }
    }
    for s in &body.site_urls {
        let key = (s.site_url.to_ascii_lowercase(), SiteAccountType::Attendee);
        match s.operation {
            LicenseOperation::Add => add.push(key),
            LicenseOperation::Remove => remove.push(key),
        }
    }
    add.sort();
    remove.sort();
    (add, remove)
}

fn blocked(reason: ExternalReason, message: String, terminal: bool) -> Reach {
    Reach {
        state: None,
        ready: false,
        reason: reason.to_string(),
        message,
        blocked: true,
        terminal: Some(terminal),
    }
}

fn reach(invitation: Option<InvitationState>, verdict: &Verdict, email: &str) -> Reach {
    let state = invitation.map(|i| format!("{i:?}"));
    match verdict {
        Verdict::Ready => Reach {
            state,
            ready: true,
            reason: ExternalReason::Accepted.to_string(),
            message: format!("{email} accepted every site of the spec"),
            blocked: false,
            terminal: None,
        },
        Verdict::Waiting { reason, message } => Reach {
            state,
            ready: false,
            reason: reason.to_string(),
            message: message.clone(),
            blocked: false,
            terminal: None,
        },
        Verdict::Blocked { reason, message } => Reach {
            state,
            ..blocked(*reason, message.clone(), true)
        },
    }
}

/// Plans one ExternalUser that is in the manifests: the reconciler's decisions, reconcile after
/// reconcile, on a local picture of what Webex would hold.
pub fn plan_external(
    spec: &ExternalUserSpec,
    status: &ExternalUserStatus,
    generation: Option<i64>,
    namespace: &str,
    org: &OrgFacts,
    listing: &ExternalListing,
    now: Timestamp,
) -> (Vec<PlannedAction>, Reach) {
    if let Some((reason, message)) = ext_plan::precheck(spec, namespace, org) {
        return (vec![], blocked(reason, message, true));
    }
    let mut observed = observed_for(spec, status, org, listing, now);
    let member = observed.person_org_id.as_deref() == Some(org.org_id.as_str());
    if !member
        && observed.accepted.is_empty()
        && let Some((reason, message)) = reported_refusal(status, generation)
    {
        let message = format!(
            "{message} (reported by the operator for this generation; no GET can check it, the controller retries once per --resync-seconds)"
        );
        return (vec![], blocked(reason, message, true));
    }
    let mut status = status.clone();
    let mut actions = Vec::new();
    for round in 0..ROUNDS {
        let decided = ext_plan::plan(Inputs {
            spec,
            status: &status,
            generation,
            org,
            observed: &observed,
            now,
        });
        if round == 0 && !decided.adopt.is_empty() {
            actions.push(PlannedAction::AdoptSites {
                sites: decided.adopt.iter().map(label).collect(),
            });
        }
        let Some(change) = &decided.change else {
            return (actions, reach(decided.invitation, &decided.verdict, &spec.email));
        };
        let (add, remove) = delta(org, change);
        let fresh = observed.accepted.is_empty() && observed.pending.is_empty() && status.sites.is_empty();
        if fresh && remove.is_empty() {
            actions.push(PlannedAction::Invite {
                email: spec.email.clone(),
                sites: add.iter().map(label).collect(),
            });
        } else {
            actions.push(PlannedAction::SiteAccounts {
                add: add.iter().map(label).collect(),
                remove: remove.iter().map(label).collect(),
                reinvite: decided.reinvite.iter().map(label).collect(),
            });
        }
        // What Webex would hold afterwards: added accounts are invitations (R-EXT-4), removed
        // ones are gone; and what the reconciler would record.
        for key in remove {
            observed.accepted.remove(&key);
        }
        observed.pending.extend(add);
        status.person_id = observed.person_id.clone().or(status.person_id);
        status.sites = decided.sites.clone();
        status.invitation = decided.invitation;
        status.expires_at = decided.expires_at.map(|t| t.to_string());
        status.observed_generation = generation;
    }
    let verdict = Verdict::Blocked {
        reason: ExternalReason::WebexRejected,
        message: format!("would not converge after {ROUNDS} reconciles"),
    };
    (actions, reach(None, &verdict, &spec.email))
}

/// Plans an ExternalUser that is live but gone from the manifests (pruned): deleting it removes
/// every account the org gave the person, once nothing is pending (R-EXT-7).
pub fn plan_external_removed(
    spec: &ExternalUserSpec,
    status: &ExternalUserStatus,
    org: &OrgFacts,
    listing: &ExternalListing,
    now: Timestamp,
) -> (Vec<PlannedAction>, Reach) {
    let observed = observed_for(spec, status, org, listing, now);
    let mut actions = vec![PlannedAction::Deprovision {
        deletion_policy: format!("{:?}", spec.deletion_policy),
    }];
    let deleted = |message: String| Reach {
        state: None,
        ready: false,
        reason: "Deleted".into(),
        message,
        blocked: false,
        terminal: None,
    };
    if spec.deletion_policy == ExternalDeletionPolicy::Orphan {
        return (
            actions,
            deleted(format!(
                "the ExternalUser is gone from the manifests; deletionPolicy Orphan leaves the accounts of {} as they are",
                spec.email
            )),
        );
    }
    match ext_plan::plan_removal(spec, status, org, &observed, now) {
        Removal::Done => (
            actions,
            deleted(format!(
                "the ExternalUser is gone from the manifests; {} holds nothing of this org's to remove",
                spec.email
            )),
        ),
        Removal::Remove(body) => {
            let (_, remove) = delta(org, &body);
            actions.push(PlannedAction::SiteAccounts {
                add: vec![],
                remove: remove.iter().map(label).collect(),
                reinvite: vec![],
            });
            (
                actions,
                deleted(format!(
                    "the ExternalUser is gone from the manifests; every account of {} on this org's sites is removed (R-EXT-7)",
                    spec.email
                )),
            )
        }
        Removal::Blocked { until } => (
            actions,
            blocked(
                ExternalReason::RemovalBlocked,
                format!(
                    "{} has a pending invitation, which Webex cannot withdraw; the removal proceeds once it is accepted, declined or expired, at the latest {until} (R-EXT-7)",
                    spec.email
                ),
                false,
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::OrgRef;
    use crate::api::external_user::{ExternalSite, ExternalSiteStatus};
    use crate::controller::org_registry::OrgLicense;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    const ACME: &str = "acme.webex.com";
    const EVENTS: &str = "events.webex.com";

    fn org() -> OrgFacts {
        let lic = |id: &str, code: &str, site: Option<&str>| OrgLicense {
            id: id.into(),
            offer_code: code.into(),
            name: code.into(),
            subscription_id: None,
            site_url: site.map(str::to_string),
            total_units: 10,
            consumed_units: 0,
        };
        OrgFacts {
            org_id: "org-acme".into(),
            licenses: vec![
                lic("lic-ms", "MS", None),
                lic("lic-ee", "EE", Some(ACME)),
                lic("lic-ev", "EE", Some(EVENTS)),
            ],
            ..OrgFacts::default()
        }
    }

    fn spec(sites: &[(&str, SiteAccountType)]) -> ExternalUserSpec {
        ExternalUserSpec {
            org_ref: OrgRef { name: "acme".into() },
            email: "Pat@Other.example".into(),
            sites: sites
                .iter()
                .map(|(s, k)| ExternalSite {
                    site_url: s.to_string(),
                    account_type: *k,
                })
                .collect(),
            reinvite_on_expiry: false,
            deletion_policy: Default::default(),
        }
    }

    fn now() -> Timestamp {
        "2026-01-10T00:00:00Z".parse().unwrap()
    }

    fn holding(sites: &[&str]) -> ExternalListing {
        ExternalListing {
            members: BTreeMap::new(),
            holders: [(
                "pat@other.example".to_string(),
                Holder {
                    person_id: "p1".into(),
                    sites: sites.iter().map(|s| s.to_string()).collect(),
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    fn site(
        url: &str,
        kind: SiteAccountType,
        invitation: InvitationState,
        expires: Option<&str>,
    ) -> ExternalSiteStatus {
        ExternalSiteStatus {
            site_url: url.into(),
            account_type: kind,
            invitation,
            expires_at: expires.map(str::to_string),
        }
    }

    use SiteAccountType::{Attendee, Host};

    #[test]
    fn a_new_person_is_invited_and_waits_pending() {
        let s = spec(&[(ACME, Host), (EVENTS, Attendee)]);
        let (actions, reach) = plan_external(
            &s,
            &ExternalUserStatus::default(),
            Some(1),
            "a",
            &org(),
            &ExternalListing::default(),
            now(),
        );
        assert_eq!(
            actions,
            vec![PlannedAction::Invite {
                email: "Pat@Other.example".into(),
                sites: vec!["acme.webex.com (Host)".into(), "events.webex.com (Attendee)".into()]
            }]
        );
        assert_eq!(reach.state.as_deref(), Some("Pending"));
        assert_eq!(reach.reason, "InvitationPending");
        assert!(!reach.blocked);
    }

    #[test]
    fn held_host_accounts_are_adopted_without_writes_r_ext_8() {
        let (actions, reach) = plan_external(
            &spec(&[(ACME, Host)]),
            &ExternalUserStatus::default(),
            None,
            "a",
            &org(),
            &holding(&[ACME]),
            now(),
        );
        assert_eq!(
            actions,
            vec![PlannedAction::AdoptSites {
                sites: vec!["acme.webex.com (Host)".into()]
            }]
        );
        assert!(reach.ready);
        assert_eq!(reach.state.as_deref(), Some("Accepted"));
    }

    #[test]
    fn a_changed_site_list_is_a_delta_and_pending_comes_from_the_status() {
        let status = ExternalUserStatus {
            person_id: Some("p1".into()),
            sites: vec![
                site(ACME, Host, InvitationState::Accepted, None),
                site(EVENTS, Attendee, InvitationState::Pending, Some("2026-01-20T00:00:00Z")),
            ],
            ..ExternalUserStatus::default()
        };
        // Unchanged spec: the host is listed, the attendee invitation still pending.
        let (actions, reach) = plan_external(
            &spec(&[(ACME, Host), (EVENTS, Attendee)]),
            &status,
            None,
            "a",
            &org(),
            &holding(&[ACME]),
            now(),
        );
        assert_eq!(actions, vec![]);
        assert_eq!(reach.reason, "InvitationPending");
        assert!(reach.message.contains("2026-01-20"), "{}", reach.message);
        // Host moved from acme to events: remove the accepted one, invite the other.
        let (actions, _) = plan_external(
            &spec(&[(EVENTS, Host), (EVENTS, Attendee)]),
            &status,
            None,
            "a",
            &org(),
            &holding(&[ACME]),
            now(),
        );
        assert_eq!(
            actions,
            vec![PlannedAction::SiteAccounts {
                add: vec!["events.webex.com (Host)".into()],
                remove: vec!["acme.webex.com (Host)".into()],
                reinvite: vec![]
            }]
        );
        // Past its expiry the attendee invitation is gone (R-EXT-5): reported Expired.
        let later: Timestamp = "2026-01-21T00:00:00Z".parse().unwrap();
        let (actions, reach) = plan_external(
            &spec(&[(ACME, Host), (EVENTS, Attendee)]),
            &status,
            None,
            "a",
            &org(),
            &holding(&[ACME]),
            later,
        );
        assert_eq!(actions, vec![]);
        assert_eq!(reach.reason, "InvitationExpired");
        assert!(reach.blocked);
    }

    #[test]
    fn blocked_with_the_rule_member_site_and_reported_refusals() {
        let mut member = ExternalListing::default();
        member.members.insert("pat@other.example".into(), "p9".into());
        let (actions, reach) = plan_external(
            &spec(&[(ACME, Host)]),
            &ExternalUserStatus::default(),
            None,
            "a",
            &org(),
            &member,
            now(),
        );
        assert!(actions.is_empty());
        assert_eq!(reach.reason, "MemberOfOrg");
        let (_, reach) = plan_external(
            &spec(&[("nowhere.webex.com", Host)]),
            &ExternalUserStatus::default(),
            None,
            "a",
            &org(),
            &ExternalListing::default(),
            now(),
        );
        assert_eq!(reach.reason, "SiteNotInOrg");
        let refused = |reason: &str| ExternalUserStatus {
            observed_generation: Some(2),
            conditions: vec![Condition {
                type_: READY.into(),
                status: "False".into(),
                reason: reason.into(),
                message: "refused (R-EXT-1)".into(),
                last_transition_time: Time(now()),
                observed_generation: Some(2),
            }],
            ..ExternalUserStatus::default()
        };
        for reason in ["CrossOrgLicensingNotAllowed", "NoWebexAccount"] {
            let (actions, reach) = plan_external(
                &spec(&[(ACME, Host)]),
                &refused(reason),
                Some(2),
                "a",
                &org(),
                &ExternalListing::default(),
                now(),
            );
            assert!(actions.is_empty());
            assert!(reach.blocked);
            assert_eq!(reach.reason, reason);
            // A new generation is a new attempt.
            let (actions, _) = plan_external(
                &spec(&[(ACME, Host)]),
                &refused(reason),
                Some(3),
                "a",
                &org(),
                &ExternalListing::default(),
                now(),
            );
            assert!(matches!(actions[..], [PlannedAction::Invite { .. }]), "{actions:?}");
        }
    }

    #[test]
    fn a_pruned_object_removes_accepted_accounts_but_waits_for_pending_r_ext_7() {
        let accepted = ExternalUserStatus {
            person_id: Some("p1".into()),
            sites: vec![site(ACME, Host, InvitationState::Accepted, None)],
            ..ExternalUserStatus::default()
        };
        let (actions, reach) =
            plan_external_removed(&spec(&[(ACME, Host)]), &accepted, &org(), &holding(&[ACME]), now());
        assert_eq!(
            actions[1],
            PlannedAction::SiteAccounts {
                add: vec![],
                remove: vec!["acme.webex.com (Host)".into()],
                reinvite: vec![]
            }
        );
        assert!(!reach.blocked);
        let pending = ExternalUserStatus {
            sites: vec![site(ACME, Host, InvitationState::Pending, Some("2026-01-20T00:00:00Z"))],
            ..accepted
        };
        let (actions, reach) = plan_external_removed(
            &spec(&[(ACME, Host)]),
            &pending,
            &org(),
            &ExternalListing::default(),
            now(),
        );
        assert_eq!(actions.len(), 1);
        assert_eq!(reach.reason, "RemovalBlocked");
        assert!(reach.message.contains("2026-01-20"), "{}", reach.message);
    }

    #[test]
    fn a_pruned_orphan_object_touches_no_account() {
        let accepted = ExternalUserStatus {
            person_id: Some("p1".into()),
            sites: vec![site(ACME, Host, InvitationState::Accepted, None)],
            ..ExternalUserStatus::default()
        };
        let mut orphan = spec(&[(ACME, Host)]);
        orphan.deletion_policy = ExternalDeletionPolicy::Orphan;
        let (actions, reach) = plan_external_removed(&orphan, &accepted, &org(), &holding(&[ACME]), now());
        assert_eq!(
            actions,
            vec![PlannedAction::Deprovision {
                deletion_policy: "Orphan".into()
            }]
        );
        assert!(reach.message.contains("Orphan"), "{}", reach.message);
    }
}
