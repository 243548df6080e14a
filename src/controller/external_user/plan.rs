//! Pure decisions of the ExternalUser reconciler (no client required): from the spec, the last
//! status, the org's facts and what Webex answered about the person (one `PATCH
//! /v1/licenses/users` answer: `licenses` / `siteUrls` accepted, `pendingLicenses` /
//! `pendingSiteUrls` pending), the licence change to send and the status to report.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use crate::api::external_user::{
    ExternalSiteStatus, ExternalUserSpec, ExternalUserStatus, InvitationState, SiteAccountType,
};
use crate::controller::org_registry::OrgFacts;
use crate::webex::model::{LicenseOperation, LicenseRequest, PatchUserLicenses, SiteUrlRequest, UserLicensesResponse};

/// Invitations expire after 15 days (R-EXT-5).
pub const INVITATION_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(15 * 24);

/// Condition reasons of ExternalUser (closed set), one per rule that can block or delay it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::Display)]
pub enum ExternalReason {
    /// Every site accepted (R-EXT-6).
    Accepted,
    /// Invitation sent, not answered yet (R-EXT-4, R-EXT-5).
    InvitationPending,
    /// The person declined (R-EXT-5); a spec change sends a new invitation.
    InvitationDeclined,
    /// Not answered within 15 days (R-EXT-5); `reinviteOnExpiry` sends a new one.
    InvitationExpired,
    /// The email has no Webex account (R-EXT-2).
    NoWebexAccount,
    /// The person's org does not allow cross-org licensing (R-EXT-1, R-ORG-5).
    CrossOrgLicensingNotAllowed,
    /// The person belongs to this org: manage them with a WebexUser.
    MemberOfOrg,
    /// A site of the spec is not one of the org's Meetings sites.
    SiteNotInOrg,
    /// The namespace may not manage this org or email domain.
    NotPermitted,
    /// The WebexOrg is missing or not ready.
    OrgNotReady,
    /// Webex refused the change; the message holds its answer and tracking id.
    WebexRejected,
    /// Webex could not be reached or was overloaded; retrying.
    WebexUnavailable,
    /// The pause annotation holds the object.
    Paused,
    /// Deleting waits until the pending invitation is answered or expires (R-EXT-7).
    RemovalBlocked,
}

/// The site-and-type pairs an ExternalUser is about.
pub type SiteKey = (String, SiteAccountType);

/// What Webex holds for the person, as far as this org is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub person_id: Option<String>,
    /// The person's own org.
    pub person_org_id: Option<String>,
    pub accepted: BTreeSet<SiteKey>,
    pub pending: BTreeSet<SiteKey>,
}

/// Reads a `PATCH /v1/licenses/users` answer: host accounts are the org's site licences
/// (`licenses` / `pendingLicenses`, mapped to their site through the org's licence list), attendee
/// and host accounts may also be listed in `siteUrls` / `pendingSiteUrls` (either casing,
/// webex-api-notes §3.3).
pub fn observe(org: &OrgFacts, answer: &UserLicensesResponse) -> Observed {
    let site_of = |id: &String| {
        org.licenses
            .iter()
            .find(|l| l.id == *id)
            .and_then(|l| l.site_url.clone())
    };
    let kind = |t: &str| {
        if t.eq_ignore_ascii_case("host") {
            Some(SiteAccountType::Host)
        } else if t.eq_ignore_ascii_case("attendee") {
            Some(SiteAccountType::Attendee)
        } else {
            None
        }
    };
    let read = |licences: &[String], sites: &[crate::webex::model::SiteResponse]| {
        let mut out: BTreeSet<SiteKey> = licences
            .iter()
            .filter_map(site_of)
            .map(|s| (s.to_ascii_lowercase(), SiteAccountType::Host))
            .collect();
        out.extend(
            sites
                .iter()
                .filter_map(|s| Some((s.site_url.to_ascii_lowercase(), kind(&s.account_type)?))),
        );
        out
    };
    Observed {
        person_id: answer.person_id.clone(),
        person_org_id: answer.org_id.clone(),
        accepted: read(&answer.licenses, &answer.site_urls),
        pending: read(&answer.pending_licenses, &answer.pending_site_urls),
    }
}

/// The sites of the spec, normalised (site URLs are host names: case-insensitive).
pub fn desired(spec: &ExternalUserSpec) -> BTreeSet<SiteKey> {
    spec.sites
        .iter()
        .map(|s| (s.site_url.trim().to_ascii_lowercase(), s.account_type))
        .collect()
}

/// The org's meeting licence for a host account on `site`.
fn site_license<'a>(org: &'a OrgFacts, site: &str) -> Option<&'a str> {
    org.licenses
        .iter()
        .find(|l| l.site_url.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(site)))
        .map(|l| l.id.as_str())
}

/// Checks that need no Webex call: tenancy and that every site is one of the org's.
pub fn precheck(spec: &ExternalUserSpec, namespace: &str, org: &OrgFacts) -> Option<(ExternalReason, String)> {
    if let Err(message) = crate::controller::webex_user::plan::permitted(org, namespace, &spec.email) {
        return Some((ExternalReason::NotPermitted, message));
    }
    let unknown: Vec<String> = desired(spec)
        .into_iter()
        .filter(|(site, _)| site_license(org, site).is_none())
        .map(|(site, _)| site)
        .collect();
    if !unknown.is_empty() {
        let known: BTreeSet<String> = org.licenses.iter().filter_map(|l| l.site_url.clone()).collect();
        return Some((
            ExternalReason::SiteNotInOrg,
            format!(
                "{} {} not a Meetings site of the org (its sites: {})",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.into_iter().collect::<Vec<_>>().join(", ")
                }
            ),
        ));
    }
    None
}

/// The body that sends `add` / `remove` for these sites (R-EXT-4): a host account is the site's
/// meeting licence, an attendee account a `siteUrls` entry with `accountType: attendee`
/// (webex-api-notes §3.3). Nothing else is ever assigned: templates do not apply (R-EXT-3).
pub fn licence_change(
    org: &OrgFacts,
    email: &str,
    add: &BTreeSet<SiteKey>,
    remove: &BTreeSet<SiteKey>,
) -> PatchUserLicenses {
    let mut body = PatchUserLicenses {
        email: Some(email.to_string()),
        ..PatchUserLicenses::default()
    };
    for (keys, operation) in [(remove, LicenseOperation::Remove), (add, LicenseOperation::Add)] {
        for (site, kind) in keys {
            match kind {
                SiteAccountType::Host => {
                    if let Some(id) = site_license(org, site) {
                        body.licenses.push(LicenseRequest {
                            id: id.to_string(),
                            operation,
                            properties: None,
                        });
                    }
                }
                SiteAccountType::Attendee => body.site_urls.push(SiteUrlRequest {
                    site_url: site.clone(),
                    account_type: "attendee".into(),
                    operation,
                }),
            }
        }
    }
    body
}

/// The outcome of planning one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalPlan {
    /// The one licence change to send, if any.
    pub change: Option<PatchUserLicenses>,
    /// Sites being invited again after expiry (R-EXT-5), for the Event.
    pub reinvite: BTreeSet<SiteKey>,
    /// Sites the person already had when first seen (R-EXT-8).
    pub adopt: BTreeSet<SiteKey>,
    pub verdict: Verdict,
    /// Status fields to report (conditions aside).
    pub sites: Vec<ExternalSiteStatus>,
    pub invitation: Option<InvitationState>,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every site accepted.
    Ready,
    /// Waiting for the person (pending invitation) or for expiry.
    Waiting { reason: ExternalReason, message: String },
    /// Cannot proceed without a change (spec, the other org's setting, ...).
    Blocked { reason: ExternalReason, message: String },
}

/// What the reconciler knows when it decides.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub spec: &'a ExternalUserSpec,
    pub status: &'a ExternalUserStatus,
    pub generation: Option<i64>,
    pub org: &'a OrgFacts,
    pub observed: &'a Observed,
    /// Webex's clock (the `Date` of its answer), for expiry (R-EXT-5).
    pub now: Timestamp,
}

/// When an invitation sent at `now` expires (R-EXT-5).
pub fn expiry_from(now: Timestamp) -> Timestamp {
    now.checked_add(INVITATION_LIFETIME).unwrap_or(now)
}

fn parse_time(t: Option<&String>) -> Option<Timestamp> {
    t.and_then(|t| t.parse().ok())
}

/// The reconcile decision for an ExternalUser that is not being deleted.
pub fn plan(input: Inputs<'_>) -> ExternalPlan {
    let Inputs {
        spec,
        status,
        generation,
        org,
        observed,
        now,
    } = input;
    let want = desired(spec);
    if observed.person_org_id.as_deref().is_some_and(|o| o == org.org_id) {
        return blocked(
            ExternalReason::MemberOfOrg,
            format!(
                "{} belongs to this organisation; manage it with a WebexUser, not an ExternalUser",
                spec.email
            ),
        );
    }
    // What the last status said per site; a spec change forgets declines and expiries (a new
    // generation is a new request, R-EXT-5).
    let same_generation = status.observed_generation == generation;
    let before: BTreeMap<SiteKey, &ExternalSiteStatus> = status
        .sites
        .iter()
        .map(|s| ((s.site_url.to_ascii_lowercase(), s.account_type), s))
        .collect();
    let first_look = status.person_id.is_none() && status.sites.is_empty();
    let mut add = BTreeSet::new();
    let mut reinvite = BTreeSet::new();
    let mut adopt = BTreeSet::new();
    let mut sites = Vec::new();
    for key in &want {
        let previous = before.get(key).copied();
        let previous_expiry = previous.and_then(|p| parse_time(p.expires_at.as_ref()));
        let (state, expires_at) = if observed.accepted.contains(key) {
            if first_look {
                adopt.insert(key.clone()); // R-EXT-8: already licensed on the site
            }
            (InvitationState::Accepted, None)
        } else if observed.pending.contains(key) {
            // Webex does not say when it sent the invitation: keep the date we noted when we
            // sent it; one we did not send (or a lost status write) expires at the latest 15
            // days from now.
            let expiry = previous_expiry
                .filter(|_| previous.is_some_and(|p| p.invitation == InvitationState::Pending))
                .unwrap_or_else(|| expiry_from(now));
            (InvitationState::Pending, Some(expiry))
        } else {
            match previous.map(|p| p.invitation) {
                // It was pending and is gone: declined before the expiry, else expired (R-EXT-5).
                Some(InvitationState::Pending) => {
                    let expired = previous_expiry.is_none_or(|e| now >= e);
                    if expired && spec.reinvite_on_expiry {
                        reinvite.insert(key.clone());
                        add.insert(key.clone());
                        (InvitationState::Pending, Some(expiry_from(now)))
                    } else if expired {
                        (InvitationState::Expired, None)
                    } else {
                        (InvitationState::Declined, None)
                    }
                }
                Some(InvitationState::Expired) if spec.reinvite_on_expiry || !same_generation => {
                    if spec.reinvite_on_expiry {
                        reinvite.insert(key.clone());
                    }
                    add.insert(key.clone());
                    (InvitationState::Pending, Some(expiry_from(now)))
                }
                Some(state @ (InvitationState::Expired | InvitationState::Declined)) if same_generation => {
                    (state, None)
                }
                // Never sent, declined under an older spec, or an accepted account that went
                // away: send (again).
                _ => {
                    add.insert(key.clone());
                    (InvitationState::Pending, Some(expiry_from(now)))
                }
            }
        };
        sites.push(ExternalSiteStatus {
            site_url: key.0.clone(),
            account_type: key.1,
            invitation: state,
            expires_at: expires_at.map(|t| t.to_string()),
        });
    }
    // Accounts of this org the spec no longer names: accepted ones are removed; pending ones
    // cannot be until answered or expired (R-EXT-7).
    let remove: BTreeSet<SiteKey> = observed.accepted.difference(&want).cloned().collect();
    let stuck: Vec<String> = observed
        .pending
        .difference(&want)
        .map(|(s, k)| format!("{s} ({k:?})"))
        .collect();
    let change = (!add.is_empty() || !remove.is_empty()).then(|| licence_change(org, &spec.email, &add, &remove));

    let states: Vec<InvitationState> = sites.iter().map(|s| s.invitation).collect();
    let expires_at = sites
        .iter()
        .filter(|s| s.invitation == InvitationState::Pending)
        .filter_map(|s| parse_time(s.expires_at.as_ref()))
        .min();
    let invitation = if states.contains(&InvitationState::Pending) {
        InvitationState::Pending
    } else if states.contains(&InvitationState::Declined) {
        InvitationState::Declined
    } else if states.contains(&InvitationState::Expired) {
        InvitationState::Expired
    } else {
        InvitationState::Accepted
    };
    let verdict = match invitation {
        InvitationState::Accepted if stuck.is_empty() => Verdict::Ready,
        InvitationState::Accepted => Verdict::Waiting {
            reason: ExternalReason::InvitationPending,
            message: format!(
                "every site accepted; the invitation to {} is pending and can be withdrawn only once answered or expired (R-EXT-7)",
                stuck.join(", ")
            ),
        },
        InvitationState::Pending => Verdict::Waiting {
            reason: ExternalReason::InvitationPending,
            message: format!(
                "invitation sent to {}; waiting for the person to accept (expires {}, R-EXT-5)",
                spec.email,
                expires_at.map_or_else(|| "in 15 days".to_string(), |t| t.to_string())
            ),
        },
        InvitationState::Declined => Verdict::Blocked {
            reason: ExternalReason::InvitationDeclined,
            message: format!(
                "{} declined the invitation; change the spec to send a new one (R-EXT-5)",
                spec.email
            ),
        },
        InvitationState::Expired => Verdict::Blocked {
            reason: ExternalReason::InvitationExpired,
            message: format!(
                "the invitation of {} expired unanswered after 15 days; set reinviteOnExpiry or change the spec to send a new one (R-EXT-5)",
                spec.email
            ),
        },
    };
    ExternalPlan {
        change,
        reinvite,
        adopt,
        verdict,
        sites,
        invitation: Some(invitation),
        expires_at,
    }
}

fn blocked(reason: ExternalReason, message: String) -> ExternalPlan {
    ExternalPlan {
        change: None,
        reinvite: BTreeSet::new(),
        adopt: BTreeSet::new(),
        verdict: Verdict::Blocked { reason, message },
        sites: Vec::new(),
        invitation: None,
        expires_at: None,
    }
}

/// What deleting an ExternalUser does (R-EXT-7).
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    /// Nothing of this org's is left (never accepted, declined, expired, or a member of the
    /// org itself): release the finalizer.
    Done,
    /// Remove every account this org gave the person, then release.
    Remove(PatchUserLicenses),
    /// An invitation is pending: it cannot be removed until answered or expired.
    Blocked { until: Timestamp },
}

/// The deletion decision: all licences of this org go once nothing is pending (R-EXT-7).
pub fn plan_removal(
    spec: &ExternalUserSpec,
    status: &ExternalUserStatus,
    org: &OrgFacts,
    observed: &Observed,
    now: Timestamp,
) -> Removal {
    if observed.person_org_id.as_deref().is_some_and(|o| o == org.org_id) {
        return Removal::Done;
    }
    if !observed.pending.is_empty() {
        // The latest expiry of what is pending: noted when sent, else 15 days from now.
        let noted: BTreeMap<SiteKey, Timestamp> = status
            .sites
            .iter()
            .filter_map(|s| {
                Some((
                    (s.site_url.to_ascii_lowercase(), s.account_type),
                    parse_time(s.expires_at.as_ref())?,
                ))
            })
            .collect();
        let until = observed
            .pending
            .iter()
            .map(|k| noted.get(k).copied().unwrap_or_else(|| expiry_from(now)))
            .max()
            .unwrap_or(now);
        return Removal::Blocked { until };
    }
    if observed.accepted.is_empty() {
        return Removal::Done;
    }
    Removal::Remove(licence_change(org, &spec.email, &BTreeSet::new(), &observed.accepted))
}

/// The longest wait between two looks at an object: `--pending-poll-seconds` while an attendee
/// invitation is pending (an attendee account has no licence, so the per-org licence listing
/// of `watch` cannot see its acceptance or decline; only the object's own read can), else
/// `resync` (host acceptances are noticed by `watch`).
pub fn poll_ceiling(sites: &[ExternalSiteStatus], pending_poll: Duration, resync: Duration) -> Duration {
    let attendee_pending = sites
        .iter()
        .any(|s| s.account_type == SiteAccountType::Attendee && s.invitation == InvitationState::Pending);
    if attendee_pending {
        pending_poll.min(resync)
    } else {
        resync
    }
}

/// How long to wait before looking again: at the earliest expiry (plus a second, so that Webex
/// has moved on), at most `resync` (the [`poll_ceiling`]).
pub fn next_check(expires_at: Option<Timestamp>, now: Timestamp, resync: Duration) -> Duration {
    match expires_at {
        Some(at) => {
            let left = Duration::try_from(at.duration_since(now)).unwrap_or_default();
            (left + Duration::from_secs(1)).min(resync)
        }
        None => resync,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::OrgRef;
    use crate::api::external_user::ExternalSite;
    use crate::controller::org_registry::OrgLicense;
    use crate::webex::model::SiteResponse;

    const ORG: &str = "org-acme";
    const EE: &str = "lic-ee-acme";
    const EE2: &str = "lic-ee-events";

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
            org_id: ORG.into(),
            licenses: vec![
                lic("lic-ms", "MS", None),
                lic(EE, "EE", Some("acme.webex.com")),
                lic(EE2, "EE", Some("events.webex.com")),
            ],
            ..OrgFacts::default()
        }
    }

    fn spec(sites: &[(&str, SiteAccountType)]) -> ExternalUserSpec {
        ExternalUserSpec {
            org_ref: OrgRef { name: "acme".into() },
            email: "pat@other.example".into(),
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

    fn key(site: &str, kind: SiteAccountType) -> SiteKey {
        (site.to_string(), kind)
    }

    fn stranger() -> Observed {
        Observed {
            person_id: Some("p1".into()),
            person_org_id: Some("org-other".into()),
            ..Observed::default()
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const NOW: &str = "2026-03-01T10:00:00Z";

    fn run(
        spec: &ExternalUserSpec,
        status: &ExternalUserStatus,
        generation: i64,
        seen: &Observed,
        now: &str,
    ) -> ExternalPlan {
        plan(Inputs {
            spec,
            status,
            generation: Some(generation),
            org: &org(),
            observed: seen,
            now: at(now),
        })
    }

    fn pending_status(generation: i64, expires: &str) -> ExternalUserStatus {
        ExternalUserStatus {
            observed_generation: Some(generation),
            person_id: Some("p1".into()),
            sites: vec![ExternalSiteStatus {
                site_url: "acme.webex.com".into(),
                account_type: SiteAccountType::Host,
                invitation: InvitationState::Pending,
                expires_at: Some(expires.into()),
            }],
            invitation: Some(InvitationState::Pending),
            ..ExternalUserStatus::default()
        }
    }

    #[test]
    fn reads_licences_and_sites_in_either_casing() {
        let answer = UserLicensesResponse {
            org_id: Some("org-other".into()),
            licenses: vec![EE.into(), "not-ours".into()],
            site_urls: vec![SiteResponse {
                site_url: "Events.webex.com".into(),
                account_type: "ATTENDEE".into(),
            }],
            pending_licenses: vec![EE2.into()],
            pending_site_urls: vec![SiteResponse {
                site_url: "acme.webex.com".into(),
                account_type: "host".into(),
            }],
            ..UserLicensesResponse::default()
        };
        let seen = observe(&org(), &answer);
        assert_eq!(
            seen.accepted,
            BTreeSet::from([
                key("acme.webex.com", SiteAccountType::Host),
                key("events.webex.com", SiteAccountType::Attendee)
            ])
        );
        assert_eq!(
            seen.pending,
            BTreeSet::from([
                key("events.webex.com", SiteAccountType::Host),
                key("acme.webex.com", SiteAccountType::Host)
            ])
        );
    }

    #[test]
    fn a_new_external_user_is_invited_with_exactly_its_sites() {
        // R-EXT-4 (host = the site licence, attendee = siteUrls), R-EXT-3 (nothing else).
        let s = spec(&[
            ("acme.webex.com", SiteAccountType::Host),
            ("Events.webex.com", SiteAccountType::Attendee),
        ]);
        let p = run(&s, &ExternalUserStatus::default(), 1, &stranger(), NOW);
        let change = p.change.unwrap();
        assert_eq!(change.email.as_deref(), Some("pat@other.example"));
        assert_eq!(
            change.licenses,
            vec![LicenseRequest {
                id: EE.into(),
                operation: LicenseOperation::Add,
                properties: None
            }]
        );
        assert_eq!(
            change.site_urls,
            vec![SiteUrlRequest {
                site_url: "events.webex.com".into(),
                account_type: "attendee".into(),
                operation: LicenseOperation::Add
            }]
        );
        assert_eq!(p.invitation, Some(InvitationState::Pending));
        // R-EXT-5: expires 15 days after sending.
        assert_eq!(p.expires_at, Some(at("2026-03-16T10:00:00Z")));
        assert!(matches!(
            p.verdict,
            Verdict::Waiting {
                reason: ExternalReason::InvitationPending,
                ..
            }
        ));
        assert!(p.adopt.is_empty());
    }

    #[test]
    fn pending_keeps_the_noted_expiry_and_sends_nothing() {
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.pending.insert(key("acme.webex.com", SiteAccountType::Host));
        let p = run(&s, &pending_status(1, "2026-03-05T00:00:00Z"), 1, &seen, NOW);
        assert_eq!(p.change, None);
        assert_eq!(p.expires_at, Some(at("2026-03-05T00:00:00Z")));
        assert_eq!(p.invitation, Some(InvitationState::Pending));
    }

    #[test]
    fn accepted_is_ready() {
        // R-EXT-6.
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.accepted.insert(key("acme.webex.com", SiteAccountType::Host));
        let p = run(&s, &pending_status(1, "2026-03-05T00:00:00Z"), 1, &seen, NOW);
        assert_eq!(p.change, None);
        assert_eq!(p.verdict, Verdict::Ready);
        assert_eq!(p.invitation, Some(InvitationState::Accepted));
        assert!(p.adopt.is_empty(), "accepted after our invitation, not adopted");
    }

    #[test]
    fn already_licensed_users_are_adopted_not_reinvited() {
        // R-EXT-8.
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.accepted.insert(key("acme.webex.com", SiteAccountType::Host));
        let p = run(&s, &ExternalUserStatus::default(), 1, &seen, NOW);
        assert_eq!(p.change, None);
        assert_eq!(p.adopt, BTreeSet::from([key("acme.webex.com", SiteAccountType::Host)]));
        assert_eq!(p.verdict, Verdict::Ready);
    }

    #[test]
    fn gone_before_expiry_is_declined_and_waits_for_a_spec_change() {
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let p = run(&s, &pending_status(1, "2026-03-05T00:00:00Z"), 1, &stranger(), NOW);
        assert_eq!(p.change, None);
        assert_eq!(p.invitation, Some(InvitationState::Declined));
        assert!(matches!(
            p.verdict,
            Verdict::Blocked {
                reason: ExternalReason::InvitationDeclined,
                ..
            }
        ));
        // The next reconcile (status now says Declined) still sends nothing ...
        let mut declined = pending_status(1, "2026-03-05T00:00:00Z");
        declined.sites[0].invitation = InvitationState::Declined;
        assert_eq!(run(&s, &declined, 1, &stranger(), NOW).change, None);
        // ... until the spec changes (a new generation).
        assert!(run(&s, &declined, 2, &stranger(), NOW).change.is_some());
    }

    #[test]
    fn gone_after_expiry_is_expired_and_reinvited_only_when_asked() {
        // R-EXT-5.
        let mut s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let later = "2026-03-06T00:00:00Z";
        let p = run(&s, &pending_status(1, "2026-03-05T00:00:00Z"), 1, &stranger(), later);
        assert_eq!(p.change, None);
        assert_eq!(p.invitation, Some(InvitationState::Expired));
        assert!(matches!(
            p.verdict,
            Verdict::Blocked {
                reason: ExternalReason::InvitationExpired,
                ..
            }
        ));
        s.reinvite_on_expiry = true;
        let p = run(&s, &pending_status(1, "2026-03-05T00:00:00Z"), 1, &stranger(), later);
        assert!(p.change.is_some());
        assert_eq!(
            p.reinvite,
            BTreeSet::from([key("acme.webex.com", SiteAccountType::Host)])
        );
        assert_eq!(p.expires_at, Some(at("2026-03-21T00:00:00Z")));
        // Also from a status that already says Expired (the policy was switched on later).
        let mut expired = pending_status(1, "2026-03-05T00:00:00Z");
        expired.sites[0].invitation = InvitationState::Expired;
        assert!(run(&s, &expired, 1, &stranger(), later).change.is_some());
    }

    #[test]
    fn members_of_the_org_are_refused() {
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.person_org_id = Some(ORG.into());
        let p = run(&s, &ExternalUserStatus::default(), 1, &seen, NOW);
        assert_eq!(p.change, None);
        assert!(
            matches!(&p.verdict, Verdict::Blocked { reason: ExternalReason::MemberOfOrg, message } if message.contains("WebexUser"))
        );
    }

    #[test]
    fn sites_left_out_of_the_spec_are_removed_when_accepted_and_wait_when_pending() {
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.accepted.insert(key("acme.webex.com", SiteAccountType::Host));
        seen.accepted.insert(key("events.webex.com", SiteAccountType::Attendee));
        seen.pending.insert(key("events.webex.com", SiteAccountType::Host));
        let p = run(&s, &ExternalUserStatus::default(), 1, &seen, NOW);
        let change = p.change.unwrap();
        assert!(
            change.licenses.is_empty(),
            "the pending host invitation is not touched (R-EXT-7)"
        );
        assert_eq!(change.site_urls[0].operation, LicenseOperation::Remove);
        assert!(matches!(p.verdict, Verdict::Waiting { .. }));
    }

    #[test]
    fn switching_attendee_to_host_adds_the_licence_and_drops_the_attendee_account() {
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let mut seen = stranger();
        seen.accepted.insert(key("acme.webex.com", SiteAccountType::Attendee));
        let change = run(&s, &ExternalUserStatus::default(), 1, &seen, NOW).change.unwrap();
        assert_eq!(change.licenses[0].operation, LicenseOperation::Add);
        assert_eq!(change.site_urls[0].operation, LicenseOperation::Remove);
    }

    #[test]
    fn prechecks_sites_and_tenancy() {
        let s = spec(&[("elsewhere.webex.com", SiteAccountType::Attendee)]);
        let (reason, message) = precheck(&s, "team-a", &org()).unwrap();
        assert_eq!(reason, ExternalReason::SiteNotInOrg);
        assert!(message.contains("acme.webex.com"), "{message}");
        let ok = spec(&[("ACME.webex.com", SiteAccountType::Host)]);
        assert_eq!(precheck(&ok, "team-a", &org()), None);
        let mut granted = org();
        granted.tenants = vec![("team-b".into(), vec![])];
        assert_eq!(
            precheck(&ok, "team-a", &granted).map(|r| r.0),
            Some(ExternalReason::NotPermitted)
        );
    }

    #[test]
    fn removal_waits_for_pending_then_removes_everything_of_this_org() {
        // R-EXT-7.
        let s = spec(&[("acme.webex.com", SiteAccountType::Host)]);
        let status = pending_status(1, "2026-03-05T00:00:00Z");
        let mut seen = stranger();
        seen.pending.insert(key("acme.webex.com", SiteAccountType::Host));
        assert_eq!(
            plan_removal(&s, &status, &org(), &seen, at(NOW)),
            Removal::Blocked {
                until: at("2026-03-05T00:00:00Z")
            }
        );
        let unknown = stranger();
        assert_eq!(plan_removal(&s, &status, &org(), &unknown, at(NOW)), Removal::Done);
        let mut accepted = stranger();
        accepted.accepted.insert(key("acme.webex.com", SiteAccountType::Host));
        accepted
            .accepted
            .insert(key("events.webex.com", SiteAccountType::Attendee));
        let Removal::Remove(body) = plan_removal(&s, &status, &org(), &accepted, at(NOW)) else {
            panic!("expected a removal");
        };
        assert_eq!(body.licenses.len(), 1);
        assert_eq!(body.site_urls.len(), 1);
        assert!(
            body.licenses.iter().all(|l| l.operation == LicenseOperation::Remove)
                && body.site_urls.iter().all(|l| l.operation == LicenseOperation::Remove)
        );
        let mut member = stranger();
        member.person_org_id = Some(ORG.into());
        member.accepted = accepted.accepted.clone();
        assert_eq!(plan_removal(&s, &status, &org(), &member, at(NOW)), Removal::Done);
    }

    #[test]
    fn pending_attendee_invitations_are_polled_sooner() {
        let site = |account_type, invitation| ExternalSiteStatus {
            site_url: "s.webex.com".into(),
            account_type,
            invitation,
            expires_at: None,
        };
        let (poll, resync) = (Duration::from_secs(60), Duration::from_secs(3600));
        let host_pending = site(SiteAccountType::Host, InvitationState::Pending);
        let attendee_pending = site(SiteAccountType::Attendee, InvitationState::Pending);
        let attendee_accepted = site(SiteAccountType::Attendee, InvitationState::Accepted);
        assert_eq!(poll_ceiling(std::slice::from_ref(&host_pending), poll, resync), resync);
        assert_eq!(
            poll_ceiling(std::slice::from_ref(&attendee_accepted), poll, resync),
            resync
        );
        assert_eq!(
            poll_ceiling(&[host_pending, attendee_pending.clone()], poll, resync),
            poll
        );
        assert_eq!(poll_ceiling(&[attendee_accepted], poll, resync), resync);
        // A resync shorter than the poll wins.
        assert_eq!(
            poll_ceiling(&[attendee_pending], poll, Duration::from_secs(10)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn the_next_check_is_at_the_expiry_at_most_resync() {
        let resync = Duration::from_secs(3600);
        assert_eq!(
            next_check(Some(at("2026-03-01T10:10:00Z")), at(NOW), resync),
            Duration::from_secs(601)
        );
        assert_eq!(next_check(Some(at("2026-03-16T10:00:00Z")), at(NOW), resync), resync);
        assert_eq!(next_check(None, at(NOW), resync), resync);
        assert_eq!(
            next_check(Some(at("2026-02-01T00:00:00Z")), at(NOW), resync),
            Duration::from_secs(1)
        );
    }
}
