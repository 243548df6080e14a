//! Claiming people of other organisations (R-CLM-1..12, R-ORG-3, R-ORG-4).
//!
//! Webex has no public claim or revoke API (webex-api-notes §5.6): Control Hub does it. The
//! simulator offers both on simulator-only endpoints under `/_sim/orgs/{orgId}/claims`, which
//! the operator uses only with `backend: Simulator`.
//!
//! Model (simulator assumptions where Cisco documents no API):
//! - a claim creates a *new* person in the claiming org with the claimed email, showing *Not
//!   verified* (pending, R-CLM-8) until the user signs in; the old account stays in its org with
//!   the email `<email>.convert-user.local` (R-CLM-10) until the user's choice (R-CLM-9);
//! - a delayed claim (R-CLM-3) completes by itself 14 days after the claim on the virtual clock
//!   (the old account and its content move: it disappears from the old org);
//! - revoking (R-CLM-7) deletes the new person and gives the old account its email back, with its
//!   previous status (it was never changed);
//! - a full directory sync of the claiming org (R-CLM-11) marks claimed users absent from the
//!   directory inactive (sign-in disabled) and deletes them 30 days later;
//! - one claim request takes at most [`MAX_EMAILS_PER_REQUEST`] emails (the CSV path of
//!   R-CLM-5 has no documented limit; this bounds one request like SCIM Bulk's 100 operations).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::sim::control_types::{ClaimChoice, ClaimOutcome, ClaimRequest, ClaimView};
use crate::sim::error::ApiError;
use crate::sim::state::{SimPerson, State, format_time};
use crate::webex::ids::{self, IdKind};

/// A delayed claim completes, and a claim stops being revocable, this many days after it
/// (R-CLM-3, R-CLM-7).
pub const CLAIM_DAYS: i64 = 14;
/// Inactive claimed users are deleted this many days after a directory sync marked them
/// (R-CLM-11).
pub const INACTIVE_DAYS: i64 = 30;
/// Emails per claim request.
pub const MAX_EMAILS_PER_REQUEST: usize = 100;
/// The suffix another org's claim gives the old account's email (R-CLM-10).
pub const CONVERT_SUFFIX: &str = ".convert-user.local";

/// Error codes of the simulator-only claim endpoints (no Cisco codes exist for them).
pub mod codes {
    /// R-CLM-4: the acknowledgement is missing.
    pub const ACKNOWLEDGEMENT_REQUIRED: i64 = 400501;
    /// R-ORG-4: delayed claim without the org's content-migration setting.
    pub const CONTENT_MIGRATION_NOT_ALLOWED: i64 = 409501;
    /// R-CLM-7: only the claiming org can revoke.
    pub const NOT_CLAIMED_BY_THIS_ORG: i64 = 403501;
    /// R-CLM-7: the user signed in after the claim.
    pub const USER_SIGNED_IN: i64 = 409502;
    /// R-CLM-7: more than 14 days since the claim.
    pub const REVOKE_WINDOW_PASSED: i64 = 409503;
    /// R-CLM-7: the user's domain is claimed by the revoking org.
    pub const DOMAIN_CLAIMED_BY_ORG: i64 = 409504;
    /// R-CLM-11: a directory sync for an org that does not use one.
    pub const NO_DIRECTORY_SYNC: i64 = 409505;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimState {
    /// In the claiming org (immediate claim, or a delayed claim that completed).
    Claimed,
    /// Waiting up to 14 days for the user's choice (R-CLM-3).
    DelayedClaim,
    /// Revoked by the claiming org (R-CLM-7).
    Revoked,
    /// Deleted 30 days after a directory sync marked the user inactive (R-CLM-11).
    Deleted,
}

/// One claim of one person by one org.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRec {
    pub org_uuid: String,
    pub previous_org_uuid: String,
    /// The claimed email (lower case).
    pub email: String,
    /// The person in the claiming org.
    pub person_uuid: String,
    /// The old account, until the user's choice (or the delayed claim's completion) removes it.
    pub old_person_uuid: Option<String>,
    pub delayed: bool,
    pub state: ClaimState,
    pub claimed_at: jiff::Timestamp,
    pub signed_in_at: Option<jiff::Timestamp>,
    pub choice: Option<String>,
    pub content_lost: bool,
    pub inactive_since: Option<jiff::Timestamp>,
    pub revoked_at: Option<jiff::Timestamp>,
    /// The old account had signed in (its status in the previous org, R-CLM-8).
    #[serde(default)]
    pub previous_signed_in: bool,
}

impl ClaimRec {
    /// Not revoked nor deleted.
    pub fn live(&self) -> bool {
        matches!(self.state, ClaimState::Claimed | ClaimState::DelayedClaim)
    }

    fn window_end(&self) -> jiff::Timestamp {
        days_after(self.claimed_at, CLAIM_DAYS)
    }

    pub fn view(&self) -> ClaimView {
        ClaimView {
            email: self.email.clone(),
            person_id: ids::encode(IdKind::People, &self.person_uuid),
            previous_org_id: ids::encode(IdKind::Organization, &self.previous_org_uuid),
            delayed: self.delayed,
            state: format!("{:?}", self.state),
            claimed_at: format_time(self.claimed_at),
            completes_at: (self.delayed && self.state == ClaimState::DelayedClaim)
                .then(|| format_time(self.window_end())),
            signed_in_at: self.signed_in_at.map(format_time),
            choice: self.choice.clone(),
            content_lost: self.content_lost,
            inactive_since: self.inactive_since.filter(|_| self.live()).map(format_time),
            deletes_at: self
                .inactive_since
                .filter(|_| self.live())
                .map(|t| format_time(days_after(t, INACTIVE_DAYS))),
            revoked_at: self.revoked_at.map(format_time),
            previous_status: if self.previous_signed_in {
                "Active"
            } else {
                "NotVerified"
            }
            .into(),
        }
    }
}

fn days_after(t: jiff::Timestamp, days: i64) -> jiff::Timestamp {
    t.checked_add(jiff::SignedDuration::from_hours(24 * days)).unwrap_or(t)
}

fn domain_of(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
}

fn ineligible(email: &str, reason: &str) -> ClaimOutcome {
    ClaimOutcome {
        email: email.to_string(),
        outcome: "Ineligible".into(),
        reason: Some(reason.into()),
    }
}

/// Applies what time did: delayed claims whose 14 days passed complete (R-CLM-3), inactive
/// claimed users whose 30 days passed are deleted (R-CLM-11). Called before every claim
/// operation and when the virtual clock moves.
pub fn settle(s: &mut State) {
    let now = s.now();
    let mut remove: Vec<String> = Vec::new();
    let mut carried: Vec<(String, bool)> = Vec::new();
    for rec in s.claims.iter_mut() {
        if rec.state == ClaimState::DelayedClaim && now >= rec.window_end() {
            rec.state = ClaimState::Claimed;
            rec.choice = Some("Expired".into());
            // Account and content move to the claiming org: the old account goes, and its
            // status comes along (R-CLM-8).
            remove.extend(rec.old_person_uuid.take());
            carried.push((rec.person_uuid.clone(), rec.previous_signed_in));
        }
        if rec.live()
            && let Some(since) = rec.inactive_since
            && now >= days_after(since, INACTIVE_DAYS)
        {
            rec.state = ClaimState::Deleted;
            remove.push(rec.person_uuid.clone());
        }
    }
    for (uuid, signed_in) in carried {
        if let Some(p) = s.person_mut(&uuid) {
            p.signed_in_once = signed_in;
        }
    }
    if !remove.is_empty() {
        s.people.retain(|p| !remove.contains(&p.uuid));
    }
}

/// `POST /_sim/orgs/{orgId}/claims`: validates the whole request first, then claims every
/// eligible email; ineligible ones are answered with their reason and left alone.
pub fn claim(s: &mut State, org_uuid: &str, req: &ClaimRequest) -> Result<Vec<ClaimOutcome>, ApiError> {
    settle(s);
    let org = s
        .org(org_uuid)
        .cloned()
        .ok_or_else(|| ApiError::not_found("No such organization in the simulator."))?;
    if !req.acknowledge_permanent {
        return Err(ApiError::bad_request("Claim refused").with_code(
            codes::ACKNOWLEDGEMENT_REQUIRED,
            "Confirm \"I understand claiming these users is permanent\" to claim users.",
        ));
    }
    if req.emails.len() > MAX_EMAILS_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_EMAILS_PER_REQUEST} emails per claim request."
        )));
    }
    if req.delayed && !org.allow_content_migration {
        return Err(ApiError::new(StatusCode::CONFLICT, "Claim refused").with_code(
            codes::CONTENT_MIGRATION_NOT_ALLOWED,
            "Delayed claim needs the organization setting \"Allow users to bring their Webex conversations\".",
        ));
    }
    let now = s.now();
    let mut out = Vec::with_capacity(req.emails.len());
    for raw in &req.emails {
        let email = raw.trim().to_ascii_lowercase();
        let Some(domain) = domain_of(&email).map(str::to_string) else {
            out.push(ineligible(&email, "InvalidEmail"));
            continue;
        };
        // Asked again for a user already claimed: the claim stands (idempotent).
        if let Some(rec) = s
            .claims
            .iter()
            .rev()
            .find(|c| c.org_uuid == org.uuid && c.email == email && c.live())
        {
            out.push(ClaimOutcome {
                email: email.clone(),
                outcome: format!("{:?}", rec.state),
                reason: None,
            });
            continue;
        }
        // Another org's claim on the user stands (until revoked): it is not claimable again.
        if s.claims
            .iter()
            .any(|c| c.org_uuid != org.uuid && c.email == email && c.live())
        {
            out.push(ineligible(&email, "ClaimedByOtherOrg"));
            continue;
        }
        let Some(person) = s.person_by_email(&email).cloned() else {
            out.push(ineligible(&email, "NoWebexAccount"));
            continue;
        };
        if person.org_uuid == org.uuid {
            out.push(ineligible(&email, "AlreadyInOrg"));
            continue;
        }
        // R-CLM-1: the claiming org verified the domain.
        if !org.domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
            out.push(ineligible(&email, "DomainNotVerified"));
            continue;
        }
        // R-ORG-3, R-CLM-6: a domain claimed by another org, even if verified here too.
        if s.orgs
            .iter()
            .any(|o| o.uuid != org.uuid && o.claimed_domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
        {
            out.push(ineligible(&email, "DomainClaimedByOtherOrg"));
            continue;
        }
        let Some(previous) = s.org(&person.org_uuid).cloned() else {
            out.push(ineligible(&email, "NoWebexAccount"));
            continue;
        };
        // R-CLM-6.
        if previous.sso {
            out.push(ineligible(&email, "SsoOrg"));
            continue;
        }
        if previous.directory_sync {
            out.push(ineligible(&email, "DirectorySyncOrg"));
            continue;
        }
        // R-CLM-3: some orgs offer no delayed claim; their users are claimed at once and
        // lose their content.
        let delayed = req.delayed && previous.delayed_claim_supported;
        let content_lost = !previous.delayed_claim_supported;
        let seq = s.next_seq();
        let claimed = SimPerson {
            seq,
            uuid: uuid::Uuid::new_v4().to_string(),
            org_uuid: org.uuid.clone(),
            emails: vec![email.clone()],
            display_name: person.display_name.clone(),
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            nick_name: person.nick_name.clone(),
            created: now,
            last_modified: now,
            login_enabled: true,
            // R-CLM-8: Not verified until the user signs in.
            signed_in_once: false,
            ..SimPerson::default()
        };
        if let Some(old) = s.person_mut(&person.uuid) {
            // R-CLM-10: the old org sees the account with the convert suffix.
            old.emails = vec![format!("{email}{CONVERT_SUFFIX}")];
            old.last_modified = now;
        }
        s.claims.push(ClaimRec {
            org_uuid: org.uuid.clone(),
            previous_org_uuid: previous.uuid.clone(),
            email: email.clone(),
            person_uuid: claimed.uuid.clone(),
            old_person_uuid: Some(person.uuid.clone()),
            delayed,
            state: if delayed {
                ClaimState::DelayedClaim
            } else {
                ClaimState::Claimed
            },
            claimed_at: now,
            signed_in_at: None,
            choice: None,
            content_lost,
            inactive_since: None,
            revoked_at: None,
            previous_signed_in: person.signed_in_once,
        });
        s.people.push(claimed);
        out.push(ClaimOutcome {
            email,
            outcome: if delayed { "DelayedClaim" } else { "Claimed" }.into(),
            reason: None,
        });
    }
    Ok(out)
}

/// `GET /_sim/orgs/{orgId}/claims`.
pub fn list(s: &State, org_uuid: &str) -> Vec<ClaimView> {
    s.claims
        .iter()
        .filter(|c| c.org_uuid == org_uuid)
        .map(ClaimRec::view)
        .collect()
}

/// `POST /_sim/orgs/{orgId}/claims/revoke` (R-CLM-7).
pub fn revoke(s: &mut State, org_uuid: &str, email: &str) -> Result<ClaimView, ApiError> {
    settle(s);
    let email = email.trim().to_ascii_lowercase();
    let now = s.now();
    let Some(index) = s.claims.iter().rposition(|c| c.email == email && c.live()) else {
        return Err(ApiError::not_found(format!("No claim of {email} to revoke.")));
    };
    let rec = s.claims[index].clone();
    if rec.org_uuid != org_uuid {
        return Err(ApiError::forbidden("Revoke refused").with_code(
            codes::NOT_CLAIMED_BY_THIS_ORG,
            format!("Only the organization that claimed {email} can revoke the claim."),
        ));
    }
    if let Some(at) = rec.signed_in_at {
        return Err(ApiError::new(StatusCode::CONFLICT, "Revoke refused").with_code(
            codes::USER_SIGNED_IN,
            format!(
                "{email} signed in on {}; the claim can no longer be revoked.",
                format_time(at)
            ),
        ));
    }
    if now >= rec.window_end() {
        return Err(ApiError::new(StatusCode::CONFLICT, "Revoke refused").with_code(
            codes::REVOKE_WINDOW_PASSED,
            format!(
                "A claim can be revoked within {CLAIM_DAYS} days; the claim of {email} could be revoked until {}.",
                format_time(rec.window_end())
            ),
        ));
    }
    let domain = domain_of(&email).unwrap_or_default().to_string();
    if s.org(org_uuid)
        .is_some_and(|o| o.claimed_domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
    {
        return Err(ApiError::new(StatusCode::CONFLICT, "Revoke refused").with_code(
            codes::DOMAIN_CLAIMED_BY_ORG,
            format!(
                "{domain} is claimed by this organization: release the domain, revoke, then claim the domain again."
            ),
        ));
    }
    s.people.retain(|p| p.uuid != rec.person_uuid);
    if let Some(old) = rec.old_person_uuid.as_deref().and_then(|u| s.person_mut(u)) {
        // Back with its previous status (it was never changed).
        old.emails = vec![email.clone()];
        old.last_modified = now;
    }
    let rec = &mut s.claims[index];
    rec.state = ClaimState::Revoked;
    rec.revoked_at = Some(now);
    rec.old_person_uuid = None;
    Ok(rec.view())
}

/// `POST /_sim/claims/choose`: the user signs in and chooses (R-CLM-9).
pub fn choose(s: &mut State, email: &str, choice: ClaimChoice, new_email: Option<&str>) -> Result<ClaimView, ApiError> {
    settle(s);
    let email = email.trim().to_ascii_lowercase();
    let now = s.now();
    let Some(index) = s
        .claims
        .iter()
        .rposition(|c| c.email == email && c.live() && c.choice.is_none())
    else {
        return Err(ApiError::not_found(format!(
            "{email} has no claim waiting for a choice."
        )));
    };
    let rec = s.claims[index].clone();
    if choice == ClaimChoice::TransferContent && !rec.delayed {
        return Err(ApiError::bad_request(
            "Transferring content is offered for delayed claims only (R-CLM-9).",
        ));
    }
    match (choice, rec.old_person_uuid.as_deref()) {
        (ClaimChoice::KeepOldAccount, Some(old)) => {
            let new_email = new_email
                .map(str::trim)
                .filter(|e| e.contains('@'))
                .ok_or_else(|| ApiError::bad_request("newEmail is required to keep the old account."))?;
            if s.person_by_email(new_email).is_some() {
                return Err(ApiError::bad_request(format!("{new_email} already has an account.")));
            }
            if let Some(p) = s.person_mut(old) {
                p.emails = vec![new_email.to_string()];
                p.last_modified = now;
            }
        }
        (ClaimChoice::DeleteOldAccount | ClaimChoice::TransferContent, Some(old)) => {
            let old = old.to_string();
            s.people.retain(|p| p.uuid != old);
        }
        (_, None) => {}
    }
    if let Some(p) = s.person_mut(&rec.person_uuid) {
        p.signed_in_once = true;
        p.last_modified = now;
    }
    let rec = &mut s.claims[index];
    rec.choice = Some(format!("{choice:?}"));
    rec.signed_in_at.get_or_insert(now);
    rec.old_person_uuid = None;
    rec.state = ClaimState::Claimed;
    Ok(rec.view())
}

/// A plain sign-in of a claimed person also ends the revocable period (R-CLM-7).
pub fn on_sign_in(s: &mut State, person_uuid: &str, now: jiff::Timestamp) {
    for rec in s.claims.iter_mut().filter(|c| c.person_uuid == person_uuid && c.live()) {
        rec.signed_in_at.get_or_insert(now);
    }
}

/// `POST /_sim/orgs/{orgId}/directory-sync`: a full sync (R-CLM-11). Claimed users of the org
/// absent from `present` become inactive (sign-in disabled); present ones are active again.
pub fn directory_sync(s: &mut State, org_uuid: &str, present: &[String]) -> Result<Vec<String>, ApiError> {
    settle(s);
    if !s.org(org_uuid).is_some_and(|o| o.directory_sync) {
        return Err(ApiError::new(StatusCode::CONFLICT, "Sync refused").with_code(
            codes::NO_DIRECTORY_SYNC,
            "The organization does not synchronise users from a directory.",
        ));
    }
    let now = s.now();
    let present: std::collections::HashSet<String> = present.iter().map(|e| e.trim().to_ascii_lowercase()).collect();
    let mut deactivated = Vec::new();
    let mut login: Vec<(String, bool)> = Vec::new();
    for rec in s.claims.iter_mut().filter(|c| c.org_uuid == org_uuid && c.live()) {
        if present.contains(&rec.email) {
            if rec.inactive_since.take().is_some() {
                login.push((rec.person_uuid.clone(), true));
            }
        } else if rec.inactive_since.is_none() {
            rec.inactive_since = Some(now);
            deactivated.push(rec.email.clone());
            login.push((rec.person_uuid.clone(), false));
        }
    }
    for (uuid, enabled) in login {
        if let Some(p) = s.person_mut(&uuid) {
            p.login_enabled = enabled;
            p.last_modified = now;
        }
    }
    Ok(deactivated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::state::Org;

    fn org(name: &str, domain: &str) -> Org {
        Org {
            uuid: format!("uuid-{name}"),
            name: name.into(),
            domains: vec![domain.into()],
            trial: false,
            directory_sync: false,
            sso: false,
            allow_admin_invite_emails: true,
            allow_cross_org_licensing: true,
            claimed_domains: vec![],
            allow_content_migration: true,
            delayed_claim_supported: true,
            locations: vec![],
            licenses: vec![],
            admin_token: format!("token-{name}"),
            admin_person_uuid: String::new(),
        }
    }

    fn person(s: &mut State, org: &str, email: &str, signed_in: bool) -> String {
        let uuid = uuid::Uuid::new_v4().to_string();
        let seq = s.next_seq();
        s.people.push(SimPerson {
            seq,
            uuid: uuid.clone(),
            org_uuid: format!("uuid-{org}"),
            emails: vec![email.into()],
            signed_in_once: signed_in,
            login_enabled: true,
            ..SimPerson::default()
        });
        uuid
    }

    /// "us" claims from "them"; both know acme.example.
    fn world() -> State {
        let mut s = State::default();
        s.orgs.push(org("us", "acme.example"));
        s.orgs.push(org("them", "acme.example"));
        person(&mut s, "them", "ada@acme.example", true);
        s
    }

    fn req(emails: &[&str], delayed: bool) -> ClaimRequest {
        ClaimRequest {
            emails: emails.iter().map(|e| e.to_string()).collect(),
            delayed,
            acknowledge_permanent: true,
        }
    }

    fn advance(s: &mut State, days: i64) {
        s.clock_offset_ms += days * 24 * 3600 * 1000;
    }

    #[test]
    fn immediate_claim_moves_the_email_and_leaves_the_convert_suffix() {
        let mut s = world();
        let out = claim(&mut s, "uuid-us", &req(&["Ada@acme.example"], false)).unwrap();
        assert_eq!(out[0].outcome, "Claimed");
        let new = s.person_by_email("ada@acme.example").unwrap();
        assert_eq!(new.org_uuid, "uuid-us");
        assert!(!new.signed_in_once, "R-CLM-8: Not verified");
        let old = s.person_by_email("ada@acme.example.convert-user.local").unwrap();
        assert_eq!(old.org_uuid, "uuid-them");
        // Idempotent.
        let again = claim(&mut s, "uuid-us", &req(&["ada@acme.example"], false)).unwrap();
        assert_eq!(again[0].outcome, "Claimed");
        assert_eq!(s.claims.len(), 1);
    }

    #[test]
    fn acknowledgement_and_content_migration_are_required() {
        let mut s = world();
        let no_ack = ClaimRequest {
            acknowledge_permanent: false,
            ..req(&["ada@acme.example"], false)
        };
        assert!(claim(&mut s, "uuid-us", &no_ack).is_err());
        s.orgs[0].allow_content_migration = false;
        assert!(claim(&mut s, "uuid-us", &req(&["ada@acme.example"], true)).is_err());
        assert!(s.claims.is_empty());
    }

    #[test]
    fn ineligible_users_carry_their_reason() {
        let mut s = world();
        s.orgs.push(Org {
            sso: true,
            ..org("sso", "acme.example")
        });
        s.orgs.push(Org {
            directory_sync: true,
            ..org("dirsync", "acme.example")
        });
        person(&mut s, "sso", "sso@acme.example", true);
        person(&mut s, "dirsync", "dir@acme.example", true);
        person(&mut s, "them", "bob@elsewhere.example", true);
        person(&mut s, "us", "own@acme.example", true);
        let out = claim(
            &mut s,
            "uuid-us",
            &req(
                &[
                    "sso@acme.example",
                    "dir@acme.example",
                    "bob@elsewhere.example",
                    "own@acme.example",
                    "nobody@acme.example",
                    "garbage",
                ],
                false,
            ),
        )
        .unwrap();
        let reasons: Vec<_> = out.iter().map(|o| o.reason.clone().unwrap_or_default()).collect();
        assert_eq!(
            reasons,
            [
                "SsoOrg",
                "DirectorySyncOrg",
                "DomainNotVerified",
                "AlreadyInOrg",
                "NoWebexAccount",
                "InvalidEmail"
            ]
        );
        s.orgs[1].claimed_domains = vec!["acme.example".into()];
        let out = claim(&mut s, "uuid-us", &req(&["ada@acme.example"], false)).unwrap();
        assert_eq!(out[0].reason.as_deref(), Some("DomainClaimedByOtherOrg"));
        // A user another org claimed is not claimable while that claim stands.
        s.orgs[1].claimed_domains.clear();
        s.orgs.push(org("rival", "acme.example"));
        claim(&mut s, "uuid-rival", &req(&["ada@acme.example"], false)).unwrap();
        let out = claim(&mut s, "uuid-us", &req(&["ada@acme.example"], false)).unwrap();
        assert_eq!(out[0].reason.as_deref(), Some("ClaimedByOtherOrg"));
    }

    #[test]
    fn delayed_claim_completes_after_14_days() {
        let mut s = world();
        claim(&mut s, "uuid-us", &req(&["ada@acme.example"], true)).unwrap();
        assert_eq!(s.claims[0].state, ClaimState::DelayedClaim);
        advance(&mut s, 13);
        settle(&mut s);
        assert_eq!(s.claims[0].state, ClaimState::DelayedClaim);
        advance(&mut s, 2);
        settle(&mut s);
        assert_eq!(s.claims[0].state, ClaimState::Claimed);
        assert_eq!(s.claims[0].choice.as_deref(), Some("Expired"));
        assert!(s.person_by_email("ada@acme.example.convert-user.local").is_none());
        // R-CLM-8: the status of the previous org is carried over (ada had signed in there).
        assert!(s.person_by_email("ada@acme.example").unwrap().signed_in_once);
        assert_eq!(s.claims[0].view().previous_status, "Active");
    }

    #[test]
    fn delayed_claim_from_an_org_without_it_is_immediate_and_loses_content() {
        let mut s = world();
        s.orgs[1].delayed_claim_supported = false;
        let out = claim(&mut s, "uuid-us", &req(&["ada@acme.example"], true)).unwrap();
        assert_eq!(out[0].outcome, "Claimed");
        assert!(s.claims[0].content_lost);
    }

    #[test]
    fn revoke_rules() {
        let mut s = world();
        claim(&mut s, "uuid-us", &req(&["ada@acme.example"], false)).unwrap();
        // Only the claiming org.
        assert_eq!(
            revoke(&mut s, "uuid-them", "ada@acme.example").unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        // Within 14 days: day 13 works, and the old account is back.
        advance(&mut s, 13);
        let view = revoke(&mut s, "uuid-us", "ada@acme.example").unwrap();
        assert_eq!(view.state, "Revoked");
        assert_eq!(s.person_by_email("ada@acme.example").unwrap().org_uuid, "uuid-them");
        // Day 15: refused.
        person(&mut s, "them", "bob@acme.example", false);
        claim(&mut s, "uuid-us", &req(&["bob@acme.example"], false)).unwrap();
        advance(&mut s, 15);
        assert!(revoke(&mut s, "uuid-us", "bob@acme.example").is_err());
        // Signed in: refused.
        person(&mut s, "them", "cy@acme.example", false);
        claim(&mut s, "uuid-us", &req(&["cy@acme.example"], false)).unwrap();
        choose(&mut s, "cy@acme.example", ClaimChoice::DeleteOldAccount, None).unwrap();
        assert!(revoke(&mut s, "uuid-us", "cy@acme.example").is_err());
        // Domain claimed by the revoking org: refused.
        person(&mut s, "them", "di@acme.example", false);
        claim(&mut s, "uuid-us", &req(&["di@acme.example"], false)).unwrap();
        s.orgs[0].claimed_domains = vec!["acme.example".into()];
        assert!(revoke(&mut s, "uuid-us", "di@acme.example").is_err());
    }

    #[test]
    fn choices_at_sign_in() {
        let mut s = world();
        claim(&mut s, "uuid-us", &req(&["ada@acme.example"], false)).unwrap();
        assert!(choose(&mut s, "ada@acme.example", ClaimChoice::TransferContent, None).is_err());
        let view = choose(
            &mut s,
            "ada@acme.example",
            ClaimChoice::KeepOldAccount,
            Some("ada@home.example"),
        )
        .unwrap();
        assert_eq!(view.choice.as_deref(), Some("KeepOldAccount"));
        assert_eq!(s.person_by_email("ada@home.example").unwrap().org_uuid, "uuid-them");
        assert!(s.person_by_email("ada@acme.example").unwrap().signed_in_once);
    }

    #[test]
    fn directory_sync_deactivates_absent_claimed_users_and_deletes_them_after_30_days() {
        let mut s = world();
        person(&mut s, "them", "bob@acme.example", false);
        claim(
            &mut s,
            "uuid-us",
            &req(&["ada@acme.example", "bob@acme.example"], false),
        )
        .unwrap();
        assert!(directory_sync(&mut s, "uuid-us", &[]).is_err());
        s.orgs[0].directory_sync = true;
        let off = directory_sync(&mut s, "uuid-us", &["bob@acme.example".to_string()]).unwrap();
        assert_eq!(off, ["ada@acme.example"]);
        assert!(!s.person_by_email("ada@acme.example").unwrap().login_enabled);
        advance(&mut s, 31);
        settle(&mut s);
        assert_eq!(s.claims[0].state, ClaimState::Deleted);
        assert!(s.person_by_email("ada@acme.example").is_none());
        assert_eq!(s.claims[1].state, ClaimState::Claimed);
    }
}
