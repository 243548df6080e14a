//! External users (R-EXT-1..9, R-ORG-5): Meetings host licences and attendee accounts that an
//! org gives to people of *other* orgs through `PATCH /v1/licenses/users`.
//!
//! Every grant is an invitation first: it stays pending (`pendingLicenses` /
//! `pendingSiteUrls`) until the person accepts (R-EXT-4), expires 15 days after it was sent on
//! the virtual clock (R-EXT-5), consumes a licence unit only once accepted (R-EXT-6), and cannot
//! be removed while pending (R-EXT-7). Accept / decline come through the control API.
//!
//! Simulator assumptions (Cisco documents none of these answers, webex-api-notes §5.6, §9):
//! - an org whose users may not receive accounts from other orgs (R-ORG-5) answers `403` with
//!   the code [`codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED`];
//! - removing a pending invitation answers `409` with [`codes::EXTERNAL_INVITATION_PENDING`];
//! - a non-Meetings licence for an external user answers `400` without an error code;
//! - a `PATCH` without any licence or site change changes nothing and reports the assignment
//!   (the operator reads an external user's state this way);
//! - assigning what is already pending or accepted changes nothing (no new email); assigning
//!   after a decline or expiry sends a new invitation (R-EXT-5);
//! - the response's `siteUrls` / `pendingSiteUrls` list host accounts too (as the SPEC's
//!   example shows `accountType: host`), and `orgId` is the person's own org.

use serde::{Deserialize, Serialize};

use crate::sim::error::ApiError;
use crate::sim::state::{Org, SimPerson, State, format_time};
use crate::webex::ids::{self, IdKind};
use crate::webex::model::{
    LicenseOperation, PatchUserLicenses, SiteResponse, SiteUrlRequest, UserLicensesResponse, codes,
};

/// Invitations expire after this many days (R-EXT-5).
pub const INVITATION_DAYS: i64 = 15;

/// 400216: attendee site not known to the org (Cisco's code).
const INVALID_ATTENDEE_SITE: i64 = 400216;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GrantState {
    Pending,
    Accepted,
    Declined,
}

/// One account an org gave (or offered) to a person of another org, on one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalGrant {
    /// The inviting org.
    pub org_uuid: String,
    pub person_uuid: String,
    pub site_url: String,
    /// `host` or `attendee`.
    pub account_type: String,
    /// The site's meeting licence (host accounts).
    pub license_id: Option<String>,
    pub state: GrantState,
    pub invited_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
    /// Invitation emails sent for this grant (1, plus one per re-invitation).
    pub invitations_sent: u32,
}

impl ExternalGrant {
    /// Pending and not expired yet.
    pub fn pending_at(&self, now: jiff::Timestamp) -> bool {
        self.state == GrantState::Pending && now < self.expires_at
    }

    /// Held or offered now: accepted, or a pending invitation not expired (R-EXT-5: declined
    /// and expired ones disappear from the external-users list).
    pub fn live_at(&self, now: jiff::Timestamp) -> bool {
        self.state == GrantState::Accepted || self.pending_at(now)
    }

    /// `Pending`, `Accepted`, `Declined` or `Expired` at `now`.
    pub fn state_at(&self, now: jiff::Timestamp) -> &'static str {
        match self.state {
            GrantState::Pending if now >= self.expires_at => "Expired",
            GrantState::Pending => "Pending",
            GrantState::Accepted => "Accepted",
            GrantState::Declined => "Declined",
        }
    }

    fn entry(&self) -> SiteResponse {
        SiteResponse {
            site_url: self.site_url.clone(),
            account_type: self.account_type.clone(),
        }
    }
}

/// One wanted change, resolved against the inviting org.
struct Wanted {
    site_url: String,
    account_type: &'static str,
    license_id: Option<String>,
    operation: LicenseOperation,
}

fn resolve(org: &Org, req: &PatchUserLicenses) -> Result<Vec<Wanted>, ApiError> {
    let mut out = Vec::new();
    for l in &req.licenses {
        let license = org.license(&l.id).ok_or_else(|| {
            ApiError::license(
                codes::LICENSE_NOT_RECOGNIZED,
                format!("License not recognized {}", l.id),
            )
        })?;
        let Some(site) = &license.site_url else {
            return Err(ApiError::bad_request(format!(
                "Only Webex Meetings licenses can be assigned to users outside the organization: {}",
                l.id
            )));
        };
        out.push(Wanted {
            site_url: site.clone(),
            account_type: "host",
            license_id: Some(license.id.clone()),
            operation: l.operation,
        });
    }
    for site in &req.site_urls {
        check_attendee_site(org, site)?;
        out.push(Wanted {
            site_url: site.site_url.clone(),
            account_type: "attendee",
            license_id: None,
            operation: site.operation,
        });
    }
    Ok(out)
}

/// The SPEC's request `accountType` is `attendee` only; the site must be one of the org's.
pub fn check_attendee_site(org: &Org, site: &SiteUrlRequest) -> Result<(), ApiError> {
    if !site.account_type.eq_ignore_ascii_case("attendee")
        || !org
            .licenses
            .iter()
            .any(|l| l.site_url.as_deref() == Some(site.site_url.as_str()))
    {
        return Err(ApiError::license(
            INVALID_ATTENDEE_SITE,
            format!("Request contains invalid attendee siteUrls: {}", site.site_url),
        ));
    }
    Ok(())
}

fn same(g: &ExternalGrant, org: &Org, person: &SimPerson, site: &str, kind: &str) -> bool {
    g.org_uuid == org.uuid && g.person_uuid == person.uuid && g.site_url == site && g.account_type == kind
}

/// `PATCH /v1/licenses/users` for a person of another org. Validates everything before it
/// changes anything (all-or-nothing).
pub fn patch(
    s: &mut State,
    org: &Org,
    person: &SimPerson,
    req: &PatchUserLicenses,
) -> Result<UserLicensesResponse, ApiError> {
    let now = s.now();
    let wanted = resolve(org, req)?;
    let adds = wanted.iter().any(|w| w.operation == LicenseOperation::Add);
    // R-EXT-1 / R-ORG-5: the person's own org must allow cross-org licensing.
    if adds && !s.org(&person.org_uuid).is_some_and(|o| o.allow_cross_org_licensing) {
        return Err(ApiError::forbidden("License assignment failed").with_code(
            codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED,
            format!(
                "The organization of {} does not allow its users to receive accounts on sites of other organizations.",
                person.email()
            ),
        ));
    }
    // R-EXT-7: a pending invitation cannot be removed.
    for w in wanted.iter().filter(|w| w.operation == LicenseOperation::Remove) {
        if let Some(g) = s
            .external_grants
            .iter()
            .find(|g| same(g, org, person, &w.site_url, w.account_type) && g.pending_at(now))
        {
            return Err(ApiError::new(axum::http::StatusCode::CONFLICT, "License assignment failed").with_code(
                codes::EXTERNAL_INVITATION_PENDING,
                format!(
                    "The invitation of {} to {} ({}) is pending until {}; it can be removed once accepted, declined or expired.",
                    person.email(),
                    w.site_url,
                    w.account_type,
                    format_time(g.expires_at)
                ),
            ));
        }
    }
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_hours(24 * INVITATION_DAYS))
        .unwrap_or(now);
    for w in wanted {
        let existing = s
            .external_grants
            .iter()
            .position(|g| same(g, org, person, &w.site_url, w.account_type));
        match (w.operation, existing) {
            (LicenseOperation::Add, Some(i)) => {
                let g = &mut s.external_grants[i];
                if !g.live_at(now) {
                    // R-EXT-5: assigning again re-sends an expired (or declined) invitation.
                    g.state = GrantState::Pending;
                    g.invited_at = now;
                    g.expires_at = expires_at;
                    g.invitations_sent = g.invitations_sent.saturating_add(1);
                }
            }
            (LicenseOperation::Add, None) => s.external_grants.push(ExternalGrant {
                org_uuid: org.uuid.clone(),
                person_uuid: person.uuid.clone(),
                site_url: w.site_url,
                account_type: w.account_type.to_string(),
                license_id: w.license_id,
                state: GrantState::Pending,
                invited_at: now,
                expires_at,
                invitations_sent: 1,
            }),
            (LicenseOperation::Remove, Some(i)) => {
                s.external_grants.remove(i);
            }
            (LicenseOperation::Remove, None) => {}
        }
    }
    Ok(view(s, org, person))
}

/// What the org has given the person: accepted and pending accounts.
pub fn view(s: &State, org: &Org, person: &SimPerson) -> UserLicensesResponse {
    let now = s.now();
    let mine = || {
        s.external_grants
            .iter()
            .filter(|g| g.org_uuid == org.uuid && g.person_uuid == person.uuid)
    };
    let accepted = || mine().filter(|g| g.state == GrantState::Accepted);
    let pending = || mine().filter(|g| g.pending_at(now));
    UserLicensesResponse {
        org_id: Some(ids::encode(IdKind::Organization, &person.org_uuid)),
        person_id: Some(person.public_id()),
        email: Some(person.email().to_string()),
        licenses: accepted().filter_map(|g| g.license_id.clone()).collect(),
        site_urls: accepted().map(ExternalGrant::entry).collect(),
        pending_licenses: pending().filter_map(|g| g.license_id.clone()).collect(),
        pending_site_urls: pending().map(ExternalGrant::entry).collect(),
    }
}

/// External people holding (accepted) `license_id` of `org` (R-EXT-6).
pub fn holders<'a>(s: &'a State, org: &'a Org, license_id: &'a str) -> impl Iterator<Item = &'a SimPerson> + 'a {
    s.external_grants
        .iter()
        .filter(move |g| {
            g.org_uuid == org.uuid && g.state == GrantState::Accepted && g.license_id.as_deref() == Some(license_id)
        })
        .filter_map(|g| s.person(&g.person_uuid))
}

/// The person's answer to their pending invitations (from `org_uuid`, or from every org):
/// accepting makes them accounts (and consumes units, R-EXT-6), declining drops them. Returns
/// how many invitations were answered.
pub fn respond(s: &mut State, email: &str, org_uuid: Option<&str>, accept: bool) -> Result<usize, ApiError> {
    let now = s.now();
    let person = s
        .person_by_email(email)
        .map(|p| p.uuid.clone())
        .ok_or_else(|| ApiError::not_found(format!("No account for {email}.")))?;
    let mut answered = 0;
    for g in s
        .external_grants
        .iter_mut()
        .filter(|g| g.person_uuid == person && g.pending_at(now) && org_uuid.is_none_or(|o| g.org_uuid == o))
    {
        g.state = if accept {
            GrantState::Accepted
        } else {
            GrantState::Declined
        };
        answered += 1;
    }
    if answered == 0 {
        return Err(ApiError::not_found(format!("{email} has no pending invitation.")));
    }
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::state::LicenseRec;
    use crate::webex::model::LicenseRequest;

    fn org(uuid: &str, site: &str, cross_org: bool) -> Org {
        Org {
            uuid: uuid.into(),
            name: uuid.into(),
            domains: vec![],
            trial: false,
            directory_sync: false,
            sso: false,
            allow_admin_invite_emails: true,
            allow_cross_org_licensing: cross_org,
            claimed_domains: vec![],
            allow_content_migration: false,
            delayed_claim_supported: true,
            locations: vec![],
            licenses: vec![
                LicenseRec {
                    id: ids::license_id(uuid, "EE", "1", Some(site)),
                    offer_code: "EE".into(),
                    name: "Meetings".into(),
                    total_units: 5,
                    subscription_id: None,
                    site_url: Some(site.into()),
                },
                LicenseRec {
                    id: ids::license_id(uuid, "MS", "2", None),
                    offer_code: "MS".into(),
                    name: "Messaging".into(),
                    total_units: 5,
                    subscription_id: None,
                    site_url: None,
                },
            ],
            admin_token: uuid.into(),
            admin_person_uuid: "a".into(),
        }
    }

    fn setup(cross_org: bool) -> (State, Org, SimPerson) {
        let acme = org("acme", "acme.webex.com", true);
        let other = org("other", "other.webex.com", cross_org);
        let person = SimPerson {
            uuid: "p".into(),
            org_uuid: "other".into(),
            emails: vec!["pat@other.test".into()],
            ..SimPerson::default()
        };
        let state = State {
            orgs: vec![acme.clone(), other],
            people: vec![person.clone()],
            ..State::default()
        };
        (state, acme, person)
    }

    fn host(org: &Org, op: LicenseOperation) -> PatchUserLicenses {
        PatchUserLicenses {
            email: Some("pat@other.test".into()),
            licenses: vec![LicenseRequest {
                id: org.licenses[0].id.clone(),
                operation: op,
                properties: None,
            }],
            ..PatchUserLicenses::default()
        }
    }

    fn code(e: &ApiError) -> Option<i64> {
        e.errors.first().and_then(|d| d.error_code)
    }

    #[test]
    fn an_invitation_is_pending_for_15_days_then_expires_and_can_be_resent() {
        let (mut s, acme, pat) = setup(true);
        let out = patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap();
        assert_eq!(out.pending_licenses, vec![acme.licenses[0].id.clone()]);
        assert!(out.licenses.is_empty());
        assert_eq!(
            out.org_id.as_deref(),
            Some(ids::encode(IdKind::Organization, "other").as_str())
        );
        let g = s.external_grants[0].clone();
        assert_eq!(g.expires_at.duration_since(g.invited_at).as_hours(), 24 * 15);
        // Assigning again while pending sends nothing new.
        patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap();
        assert_eq!(s.external_grants[0].invitations_sent, 1);
        // 15 days later it is gone from the answer (R-EXT-5) ...
        s.clock_offset_ms += 15 * 24 * 3600 * 1000;
        let later = view(&s, &acme, &pat);
        assert!(later.pending_licenses.is_empty() && later.licenses.is_empty());
        assert_eq!(s.external_grants[0].state_at(s.now()), "Expired");
        // ... and assigning again re-sends it.
        patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap();
        assert_eq!(s.external_grants[0].invitations_sent, 2);
        assert_eq!(s.external_grants[0].state_at(s.now()), "Pending");
    }

    #[test]
    fn pending_cannot_be_removed_accepted_can() {
        let (mut s, acme, pat) = setup(true);
        patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap();
        let e = patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Remove)).unwrap_err();
        assert_eq!(code(&e), Some(codes::EXTERNAL_INVITATION_PENDING));
        assert_eq!(respond(&mut s, "PAT@other.test", None, true).unwrap(), 1);
        assert_eq!(holders(&s, &acme, &acme.licenses[0].id).count(), 1);
        let out = patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Remove)).unwrap();
        assert!(out.licenses.is_empty() && out.pending_licenses.is_empty());
        assert!(s.external_grants.is_empty());
    }

    #[test]
    fn cross_org_setting_and_licence_kinds_are_checked() {
        let (mut s, acme, pat) = setup(false);
        let e = patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap_err();
        assert_eq!(code(&e), Some(codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED));
        let (mut s, acme, pat) = setup(true);
        let mut messaging = host(&acme, LicenseOperation::Add);
        messaging.licenses[0].id = acme.licenses[1].id.clone();
        assert_eq!(
            patch(&mut s, &acme, &pat, &messaging).unwrap_err().status,
            axum::http::StatusCode::BAD_REQUEST
        );
        let attendee = PatchUserLicenses {
            site_urls: vec![SiteUrlRequest {
                site_url: "acme.webex.com".into(),
                account_type: "ATTENDEE".into(),
                operation: LicenseOperation::Add,
            }],
            ..PatchUserLicenses::default()
        };
        let out = patch(&mut s, &acme, &pat, &attendee).unwrap();
        assert_eq!(out.pending_site_urls[0].account_type, "attendee");
        assert!(s.external_grants.len() == 1, "nothing else was assigned");
    }

    #[test]
    fn declining_drops_the_invitation() {
        let (mut s, acme, pat) = setup(true);
        patch(&mut s, &acme, &pat, &host(&acme, LicenseOperation::Add)).unwrap();
        respond(&mut s, "pat@other.test", Some("acme"), false).unwrap();
        assert_eq!(s.external_grants[0].state_at(s.now()), "Declined");
        assert!(view(&s, &acme, &pat).pending_licenses.is_empty());
        assert!(
            respond(&mut s, "pat@other.test", None, true).is_err(),
            "nothing pending"
        );
    }
}
