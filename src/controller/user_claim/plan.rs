//! Pure decisions of the UserClaim reconciler (no client required): from the spec, the last
//! status, the org's facts, what the claiming org's settings are (verified and claimed domains,
//! content migration, directory sync) and the claims Webex holds, decide what to claim (in
//! batches), whether to revoke, and the per-user status with its counts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::api::user_claim::{
    ClaimCounts, ClaimMode, ClaimUserState, ClaimedUserStatus, UserClaimSpec, UserClaimStatus,
};
use crate::controller::org_registry::OrgFacts;
use crate::webex::claims::ClaimView;
use crate::webex::client::ClaimOrgInfo;

/// A claim is revocable, and a delayed claim waits for the user's choice, this long
/// (R-CLM-3, R-CLM-7).
pub const CLAIM_WINDOW: SignedDuration = SignedDuration::from_hours(14 * 24);
/// Emails per claim request (the backend's limit; the user never splits lists, R-CLM-5).
pub const BATCH: usize = 100;

/// Condition reasons of UserClaim (closed set), one per rule that can block or delay it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::Display)]
pub enum ClaimReason {
    /// Every user is claimed, ineligible or revoked; no delayed claim is open.
    Complete,
    /// Some users are still to be claimed.
    Claiming,
    /// Some users are in a delayed claim: they have up to 14 days to choose (R-CLM-3).
    DelayedClaim,
    /// `acknowledgePermanent` is not true (R-CLM-4).
    AcknowledgementRequired,
    /// The namespace may not manage this org or an email domain of the spec.
    NotPermitted,
    /// The WebexOrg is missing or not ready.
    OrgNotReady,
    /// A domain of the emails is not verified by the org (R-CLM-1).
    DomainNotVerified,
    /// Delayed claim without the org setting "allow users to bring their Webex conversations"
    /// (R-ORG-4).
    ContentMigrationNotAllowed,
    /// The backend (real Webex) has no public claim API: the admin claims in Control Hub.
    ClaimNotInPublicApi,
    /// Webex refused; the message holds its answer and tracking id.
    WebexRejected,
    /// Webex could not be reached or was overloaded; retrying.
    WebexUnavailable,
    /// The pause annotation holds the object.
    Paused,
    /// Prerequisites met (the `Prerequisites` condition).
    PrerequisitesMet,
    /// The org synchronises users from a directory (the `DirectorySync` warning, R-CLM-11).
    OrgUsesDirectorySync,
    /// Claimed users were marked inactive by a directory sync (R-CLM-11).
    ClaimedUsersInactive,
    /// `spec.revoke`: revoked (R-CLM-7).
    Revoked,
    /// `spec.revoke`: not allowed (R-CLM-7); the message says why.
    RevokeNotAllowed,
    /// `spec.revoke`: no public API; the message says what to do in Control Hub and by when.
    RevokeInControlHub,
}

/// The spec's emails: trimmed, lower case, without duplicates, sorted.
pub fn normalise(emails: &[String]) -> BTreeSet<String> {
    emails
        .iter()
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect()
}

/// The latest claim per email (the list is oldest first).
pub fn latest(claims: &[ClaimView]) -> BTreeMap<String, &ClaimView> {
    let mut out = BTreeMap::new();
    for c in claims {
        out.insert(c.email.to_ascii_lowercase(), c);
    }
    out
}

fn domain_of(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
}

fn parse(t: Option<&String>) -> Option<Timestamp> {
    t.and_then(|t| t.parse().ok())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn listed(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = items.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// What must hold before anything irreversible is sent (R-CLM-1, R-CLM-4, R-ORG-4, tenancy).
/// Only emails not claimed yet are checked: what is done is done.
pub fn precheck(
    spec: &UserClaimSpec,
    namespace: &str,
    org: &OrgFacts,
    info: &ClaimOrgInfo,
    emails: &BTreeSet<String>,
    claims: &BTreeMap<String, &ClaimView>,
) -> Option<(ClaimReason, String)> {
    if !spec.acknowledge_permanent {
        return Some((
            ClaimReason::AcknowledgementRequired,
            "claiming users is permanent (R-CLM-4): set acknowledgePermanent: true to proceed".into(),
        ));
    }
    let open: Vec<&String> = emails.iter().filter(|e| !claims.contains_key(*e)).collect();
    let refused: Vec<String> = open
        .iter()
        .filter_map(|e| crate::controller::webex_user::plan::permitted(org, namespace, e).err())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !refused.is_empty() {
        return Some((ClaimReason::NotPermitted, refused.join("; ")));
    }
    if !open.is_empty() && spec.mode == ClaimMode::Delayed && !info.allow_content_migration {
        return Some((
            ClaimReason::ContentMigrationNotAllowed,
            "a delayed claim needs the org setting \"allow users to bring their Webex conversations\" (R-ORG-4, R-CLM-3); turn it on in Control Hub or use mode: Immediate".into(),
        ));
    }
    let unverified: BTreeSet<String> = open
        .iter()
        .filter_map(|e| domain_of(e))
        .filter(|d| !info.verified_domains.iter().any(|v| v.eq_ignore_ascii_case(d)))
        .map(str::to_string)
        .collect();
    if !unverified.is_empty() {
        return Some((
            ClaimReason::DomainNotVerified,
            format!(
                "verify {} in Control Hub before claiming (R-CLM-1); nothing was claimed",
                plural(unverified.len(), "domain", "domains") + ": " + &listed(unverified)
            ),
        ));
    }
    None
}

/// The emails to claim now, in batches of [`BATCH`]: those without a claim (a revoked or
/// deleted user is never claimed again) and not found ineligible for this generation of the
/// spec (a spec change checks them again).
pub fn to_claim(
    emails: &BTreeSet<String>,
    claims: &BTreeMap<String, &ClaimView>,
    previous: &UserClaimStatus,
    same_generation: bool,
) -> Vec<Vec<String>> {
    let ineligible: BTreeSet<&str> = previous
        .users
        .iter()
        .filter(|u| same_generation && u.state == ClaimUserState::Ineligible)
        .map(|u| u.email.as_str())
        .collect();
    let open: Vec<String> = emails
        .iter()
        .filter(|e| !claims.contains_key(*e) && !ineligible.contains(e.as_str()))
        .cloned()
        .collect();
    open.chunks(BATCH).map(<[String]>::to_vec).collect()
}

/// Ineligibility reasons known from the last status (same generation), for emails not asked
/// again in this reconcile.
pub fn known_ineligible(previous: &UserClaimStatus, same_generation: bool) -> BTreeMap<String, String> {
    previous
        .users
        .iter()
        .filter(|u| same_generation && u.state == ClaimUserState::Ineligible)
        .map(|u| (u.email.clone(), u.reason.clone().unwrap_or_default()))
        .collect()
}

/// Whether a claim can be revoked now (R-CLM-7): until when, or why not.
pub fn revocability(claim: &ClaimView, info: &ClaimOrgInfo, now: Timestamp) -> Result<Timestamp, &'static str> {
    if !matches!(claim.state.as_str(), "Claimed" | "DelayedClaim") {
        return Err("NotClaimed");
    }
    if claim.signed_in_at.is_some() {
        return Err("UserSignedIn");
    }
    let claimed_at = parse(Some(&claim.claimed_at)).unwrap_or(now);
    let until = claimed_at.checked_add(CLAIM_WINDOW).unwrap_or(claimed_at);
    if now >= until {
        return Err("WindowPassed");
    }
    if domain_of(&claim.email.to_ascii_lowercase())
        .is_some_and(|d| info.claimed_domains.iter().any(|c| c.eq_ignore_ascii_case(d)))
    {
        return Err("DomainClaimedByOrg");
    }
    Ok(until)
}

fn refusal_text(why: &str, email: &str, claim: Option<&ClaimView>) -> String {
    let until = claim
        .and_then(|c| parse(Some(&c.claimed_at)))
        .and_then(|t| t.checked_add(CLAIM_WINDOW).ok());
    match why {
        "UserSignedIn" => format!(
            "{email} signed in after the claim{}; a claim cannot be revoked after that (R-CLM-7)",
            claim
                .and_then(|c| c.signed_in_at.as_deref())
                .map_or_else(String::new, |t| format!(" ({t})"))
        ),
        "WindowPassed" => format!(
            "the claim of {email} could be revoked within 14 days, until {} (R-CLM-7)",
            until.map_or_else(|| "14 days after the claim".to_string(), |t| t.to_string())
        ),
        "DomainClaimedByOrg" => format!(
            "the org has claimed the domain of {email}: release the domain, revoke, then claim the domain again (R-CLM-7)"
        ),
        _ => format!("{email} was not claimed by this org (only the claiming organisation can revoke, R-CLM-7)"),
    }
}

/// What to do about `spec.revoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokePlan {
    /// Nothing asked.
    None,
    /// Revoke this email's claim now.
    Send(String),
    /// Already revoked.
    Done(String),
    /// Not allowed (R-CLM-7), or not one of this claim's emails: the reason code and the
    /// message.
    Refused {
        email: String,
        why: &'static str,
        message: String,
    },
}

/// The decision on `spec.revoke` (one email at a time, R-CLM-7).
pub fn revoke_plan(
    spec: &UserClaimSpec,
    emails: &BTreeSet<String>,
    claims: &BTreeMap<String, &ClaimView>,
    info: &ClaimOrgInfo,
    now: Timestamp,
) -> RevokePlan {
    let Some(email) = spec.revoke.first().map(|e| e.trim().to_ascii_lowercase()) else {
        return RevokePlan::None;
    };
    if !emails.contains(&email) {
        // A claim revokes only its own users: another object's (or namespace's) stay theirs.
        return RevokePlan::Refused {
            message: format!("{email} is not one of this claim's emails; revoke it from the UserClaim that names it"),
            email,
            why: "NotInClaim",
        };
    }
    let claim = claims.get(&email).copied();
    match claim {
        Some(c) if c.state == "Revoked" => RevokePlan::Done(email),
        Some(c) => match revocability(c, info, now) {
            Ok(_) => RevokePlan::Send(email),
            Err(why) => RevokePlan::Refused {
                message: refusal_text(why, &email, Some(c)),
                email,
                why,
            },
        },
        None => RevokePlan::Refused {
            message: refusal_text("NotClaimed", &email, None),
            email,
            why: "NotClaimed",
        },
    }
}

/// Whole days from `now` until `until`, rounded up (what Control Hub shows, R-CLM-8).
pub fn days_left(now: Timestamp, until: Timestamp) -> i64 {
    let secs = until.as_second() - now.as_second();
    if secs <= 0 { 0 } else { (secs + 86_399) / 86_400 }
}

/// R-CLM-8: `Active` once the user signed in after the claim; a delayed claim that completed by
/// itself carries the previous org's status over; otherwise (immediate claim) `NotVerified`.
fn account_status(c: &ClaimView) -> String {
    if c.signed_in_at.is_some() {
        "Active".into()
    } else if c.state == "Claimed" && c.choice.as_deref() == Some("Expired") && !c.previous_status.is_empty() {
        c.previous_status.clone()
    } else {
        "NotVerified".into()
    }
}

/// The per-user status and counts: every distinct email of the spec exactly once, sorted.
pub fn report(
    emails: &BTreeSet<String>,
    claims: &BTreeMap<String, &ClaimView>,
    ineligible: &BTreeMap<String, String>,
    info: &ClaimOrgInfo,
    now: Timestamp,
) -> (Vec<ClaimedUserStatus>, ClaimCounts) {
    let mut counts = ClaimCounts::default();
    let mut users = Vec::with_capacity(emails.len());
    for email in emails {
        let mut user = ClaimedUserStatus {
            email: email.clone(),
            state: ClaimUserState::Pending,
            reason: None,
            account_status: None,
            claimed_at: None,
            completes_at: None,
            days_left: None,
            choice: None,
            revocable_until: None,
            not_revocable: None,
            deletes_at: None,
        };
        if let Some(c) = claims.get(email) {
            user.claimed_at = Some(c.claimed_at.clone());
            user.choice = c.choice.clone();
            user.state = match c.state.as_str() {
                "Revoked" => ClaimUserState::Revoked,
                "Deleted" => ClaimUserState::Deleted,
                "DelayedClaim" => ClaimUserState::DelayedClaim,
                _ if c.inactive_since.is_some() => ClaimUserState::Inactive,
                _ => ClaimUserState::Claimed,
            };
            if matches!(
                user.state,
                ClaimUserState::Claimed | ClaimUserState::DelayedClaim | ClaimUserState::Inactive
            ) {
                user.account_status = Some(account_status(c));
                match revocability(c, info, now) {
                    Ok(until) => user.revocable_until = Some(until.to_string()),
                    Err(why) => user.not_revocable = Some(why.into()),
                }
            }
            if user.state == ClaimUserState::DelayedClaim {
                user.completes_at = c.completes_at.clone();
                user.days_left = parse(c.completes_at.as_ref()).map(|t| days_left(now, t));
            }
            if user.state == ClaimUserState::Inactive {
                user.deletes_at = c.deletes_at.clone();
            }
            if c.content_lost && user.state != ClaimUserState::Revoked {
                user.reason = Some("ContentNotMigrated".into());
            }
        } else if let Some(reason) = ineligible.get(email) {
            user.state = ClaimUserState::Ineligible;
            user.reason = Some(reason.clone()).filter(|r| !r.is_empty());
        }
        match user.state {
            ClaimUserState::Pending => counts.pending += 1,
            ClaimUserState::Ineligible => counts.ineligible += 1,
            ClaimUserState::Claimed => counts.claimed += 1,
            ClaimUserState::DelayedClaim => counts.delayed += 1,
            ClaimUserState::Inactive => counts.inactive += 1,
            ClaimUserState::Deleted => counts.deleted += 1,
            ClaimUserState::Revoked => counts.revoked += 1,
        }
        users.push(user);
    }
    counts.total = i64::try_from(users.len()).unwrap_or(i64::MAX);
    (users, counts)
}

/// The Ready condition: (ready, reason, message).
pub fn verdict(users: &[ClaimedUserStatus], counts: &ClaimCounts) -> (bool, ClaimReason, String) {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for u in users.iter().filter(|u| u.state == ClaimUserState::Ineligible) {
        *reasons.entry(u.reason.as_deref().unwrap_or("Unknown")).or_default() += 1;
    }
    let ineligible = if reasons.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            reasons
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let summary = format!(
        "{} users: {} claimed, {} delayed, {} ineligible{ineligible}, {} revoked, {} inactive, {} deleted, {} pending",
        counts.total,
        counts.claimed,
        counts.delayed,
        counts.ineligible,
        counts.revoked,
        counts.inactive,
        counts.deleted,
        counts.pending
    );
    if counts.pending > 0 {
        return (false, ClaimReason::Claiming, summary);
    }
    if counts.delayed > 0 {
        let first = users
            .iter()
            .filter_map(|u| u.completes_at.as_deref())
            .min()
            .unwrap_or_default()
            .to_string();
        return (
            false,
            ClaimReason::DelayedClaim,
            format!(
                "{summary}; delayed-claim users choose what happens to their old account within 14 days, else it moves by itself (first at {first}, R-CLM-3); the org's retention policy applies to the content they bring (R-CLM-12)"
            ),
        );
    }
    (true, ClaimReason::Complete, summary)
}

/// The R-CLM-11 warning when the org synchronises users from a directory, naming the claimed
/// users a sync has marked inactive.
pub fn directory_sync_warning(info: &ClaimOrgInfo, users: &[ClaimedUserStatus]) -> Option<(ClaimReason, String)> {
    if !info.directory_sync {
        return None;
    }
    let inactive: Vec<String> = users
        .iter()
        .filter(|u| u.state == ClaimUserState::Inactive)
        .map(|u| format!("{} (deleted at {})", u.email, u.deletes_at.as_deref().unwrap_or("?")))
        .collect();
    let base = "the org synchronises users from a directory: a full sync marks claimed users absent from the directory Inactive, and Webex deletes them after 30 days; add them to the directory (run a dry-run sync first) (R-CLM-1, R-CLM-11)";
    Some(if inactive.is_empty() {
        (ClaimReason::OrgUsesDirectorySync, base.to_string())
    } else {
        (
            ClaimReason::ClaimedUsersInactive,
            format!(
                "{} inactive after a directory sync: {}; {base}",
                plural(inactive.len(), "claimed user is", "claimed users are"),
                listed(inactive)
            ),
        )
    })
}

/// The WebexUsers to create and to retire in this reconcile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebexUserChanges {
    /// Emails of users that just became manageable (claimed and in the org, not in a delayed
    /// claim, R-CLM-3): their WebexUser is created once; one the admin deletes later stays
    /// deleted (until the spec changes).
    pub create: Vec<String>,
    /// Emails of users that just left the org (revoked, R-CLM-7, or deleted, R-CLM-11): the
    /// WebexUser the claim made for them goes (it is `Orphan`: nothing happens in Webex).
    pub retire: Vec<String>,
}

/// Which WebexUsers to create or retire, from the transitions since the last status (a spec
/// change looks at every user again).
pub fn webex_user_changes(
    spec: &UserClaimSpec,
    previous: &UserClaimStatus,
    same_generation: bool,
    users: &[ClaimedUserStatus],
) -> WebexUserChanges {
    if spec.manage_claimed_users == Some(false) {
        return WebexUserChanges::default();
    }
    let before: BTreeMap<&str, ClaimUserState> = previous
        .users
        .iter()
        .filter(|_| same_generation)
        .map(|u| (u.email.as_str(), u.state))
        .collect();
    let changed = |u: &&ClaimedUserStatus| before.get(u.email.as_str()) != Some(&u.state);
    WebexUserChanges {
        create: users
            .iter()
            .filter(|u| u.state == ClaimUserState::Claimed)
            .filter(changed)
            .map(|u| u.email.clone())
            .collect(),
        retire: users
            .iter()
            .filter(|u| matches!(u.state, ClaimUserState::Revoked | ClaimUserState::Deleted))
            .filter(changed)
            .map(|u| u.email.clone())
            .collect(),
    }
}

/// When to look again: the next deadline of a user (delayed claim completion, end of the revoke
/// window, deletion of an inactive user), at most `resync` away.
pub fn next_check(users: &[ClaimedUserStatus], now: Timestamp, resync: Duration) -> Duration {
    users
        .iter()
        .flat_map(|u| [&u.completes_at, &u.revocable_until, &u.deletes_at])
        .filter_map(|t| parse(t.as_ref()))
        .filter(|t| *t > now)
        .map(|t| Duration::from_secs(u64::try_from(t.as_second() - now.as_second()).unwrap_or(0) + 1))
        .chain([resync])
        .min()
        .unwrap_or(resync)
}

/// The message for the real backend, which has no claim API: what to do in Control Hub.
pub fn control_hub_instructions(spec: &UserClaimSpec, emails: &BTreeSet<String>) -> String {
    let mode = match spec.mode {
        ClaimMode::Immediate => "",
        ClaimMode::Delayed => " with \"allow users to bring their Webex conversations\" on (delayed claim, R-ORG-4)",
    };
    format!(
        "Webex has no public API to claim users: in Control Hub, Users > Manage users > Claim users (or CSV \"users outside my organisation\"), claim {}{mode} and tick \"I understand claiming these users is permanent\" (R-CLM-4, R-CLM-5)",
        plural(emails.len(), "user", "users") + " (" + &listed(emails.iter().cloned()) + ")"
    )
}

/// The revoke message for the real backend: what to do in Control Hub and by when (R-CLM-7).
pub fn revoke_in_control_hub(email: &str, previous: &UserClaimStatus) -> String {
    let by = previous
        .users
        .iter()
        .find(|u| u.email == email)
        .and_then(|u| u.revocable_until.clone())
        .map_or_else(|| "within 14 days of the claim".to_string(), |t| format!("by {t}"));
    format!(
        "Webex has no public API to revoke a claim: in Control Hub, Users, sort by status, select {email} and choose Revoke, {by} and before the user signs in (R-CLM-7)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::OrgRef;

    const NOW: &str = "2026-11-25T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn at(days: i64) -> String {
        now()
            .checked_add(SignedDuration::from_hours(24 * days))
            .unwrap()
            .to_string()
    }

    fn spec(emails: &[&str]) -> UserClaimSpec {
        UserClaimSpec {
            org_ref: OrgRef { name: "acme".into() },
            emails: emails.iter().map(|e| e.to_string()).collect(),
            mode: ClaimMode::Immediate,
            acknowledge_permanent: true,
            manage_claimed_users: None,
            licenses: vec![],
            revoke: vec![],
        }
    }

    fn info() -> ClaimOrgInfo {
        ClaimOrgInfo {
            verified_domains: vec!["acme.example".into()],
            claimed_domains: vec![],
            allow_content_migration: true,
            directory_sync: false,
        }
    }

    fn claim(email: &str, state: &str, claimed_days_ago: i64) -> ClaimView {
        ClaimView {
            email: email.into(),
            person_id: format!("id-{email}"),
            previous_org_id: "them".into(),
            delayed: state == "DelayedClaim",
            state: state.into(),
            claimed_at: at(-claimed_days_ago),
            completes_at: (state == "DelayedClaim").then(|| at(14 - claimed_days_ago)),
            signed_in_at: None,
            choice: None,
            content_lost: false,
            inactive_since: None,
            deletes_at: None,
            revoked_at: None,
            previous_status: "Active".into(),
        }
    }

    fn set(emails: &[&str]) -> BTreeSet<String> {
        normalise(&emails.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn emails_are_normalised_without_duplicates() {
        let s = set(&["B@acme.example", " b@acme.example ", "a@acme.example", ""]);
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["a@acme.example", "b@acme.example"]);
    }

    #[test]
    fn r_clm_4_no_acknowledgement_no_claim() {
        let s = UserClaimSpec {
            acknowledge_permanent: false,
            ..spec(&["a@acme.example"])
        };
        let emails = normalise(&s.emails);
        let got = precheck(&s, "ns", &OrgFacts::default(), &info(), &emails, &BTreeMap::new());
        assert_eq!(got.map(|g| g.0), Some(ClaimReason::AcknowledgementRequired));
    }

    #[test]
    fn r_clm_1_unverified_domains_block_the_whole_claim() {
        let s = spec(&["a@acme.example", "b@other.example", "c@third.example"]);
        let emails = normalise(&s.emails);
        let (reason, message) = precheck(&s, "ns", &OrgFacts::default(), &info(), &emails, &BTreeMap::new()).unwrap();
        assert_eq!(reason, ClaimReason::DomainNotVerified);
        assert_eq!(
            message,
            "verify 2 domains: other.example, third.example in Control Hub before claiming (R-CLM-1); nothing was claimed"
        );
        // Already claimed users do not count: what is done is done.
        let c = claim("b@other.example", "Claimed", 1);
        let d = claim("c@third.example", "Claimed", 1);
        let claims = BTreeMap::from([("b@other.example".to_string(), &c), ("c@third.example".to_string(), &d)]);
        assert_eq!(
            precheck(&s, "ns", &OrgFacts::default(), &info(), &emails, &claims),
            None
        );
    }

    #[test]
    fn r_org_4_delayed_claim_needs_content_migration() {
        let s = UserClaimSpec {
            mode: ClaimMode::Delayed,
            ..spec(&["a@acme.example"])
        };
        let emails = normalise(&s.emails);
        let no = ClaimOrgInfo {
            allow_content_migration: false,
            ..info()
        };
        let got = precheck(&s, "ns", &OrgFacts::default(), &no, &emails, &BTreeMap::new());
        assert_eq!(got.map(|g| g.0), Some(ClaimReason::ContentMigrationNotAllowed));
        assert_eq!(
            precheck(&s, "ns", &OrgFacts::default(), &info(), &emails, &BTreeMap::new()),
            None
        );
    }

    #[test]
    fn tenancy_is_checked_before_claiming() {
        let org = OrgFacts {
            tenants: vec![("team".into(), vec!["other.example".into()])],
            ..OrgFacts::default()
        };
        let s = spec(&["a@acme.example"]);
        let emails = normalise(&s.emails);
        let got = precheck(&s, "team", &org, &info(), &emails, &BTreeMap::new());
        assert_eq!(
            got,
            Some((
                ClaimReason::NotPermitted,
                "namespace team may not manage the email domain acme.example".into()
            ))
        );
    }

    #[test]
    fn r_clm_5_any_number_of_emails_is_batched_by_the_backend_limit() {
        let emails: BTreeSet<String> = (0..1001).map(|i| format!("u{i:04}@acme.example")).collect();
        let batches = to_claim(&emails, &BTreeMap::new(), &UserClaimStatus::default(), true);
        assert_eq!(batches.len(), 11);
        assert!(batches.iter().all(|b| b.len() <= BATCH));
        let flat: BTreeSet<String> = batches.into_iter().flatten().collect();
        assert_eq!(flat, emails, "none lost, none duplicated");
    }

    #[test]
    fn claimed_revoked_and_known_ineligible_users_are_not_claimed_again() {
        let emails = set(&["a@acme.example", "b@acme.example", "c@acme.example", "d@acme.example"]);
        let a = claim("a@acme.example", "Claimed", 1);
        let b = claim("b@acme.example", "Revoked", 1);
        let claims = BTreeMap::from([("a@acme.example".to_string(), &a), ("b@acme.example".to_string(), &b)]);
        let previous = UserClaimStatus {
            users: vec![ClaimedUserStatus {
                email: "c@acme.example".into(),
                state: ClaimUserState::Ineligible,
                reason: Some("SsoOrg".into()),
                account_status: None,
                claimed_at: None,
                completes_at: None,
                days_left: None,
                choice: None,
                revocable_until: None,
                not_revocable: None,
                deletes_at: None,
            }],
            ..UserClaimStatus::default()
        };
        assert_eq!(
            to_claim(&emails, &claims, &previous, true),
            vec![vec!["d@acme.example".to_string()]]
        );
        // A new generation checks the ineligible ones again.
        assert_eq!(
            to_claim(&emails, &claims, &previous, false),
            vec![vec!["c@acme.example".to_string(), "d@acme.example".to_string()]]
        );
        assert_eq!(
            known_ineligible(&previous, true),
            BTreeMap::from([("c@acme.example".to_string(), "SsoOrg".to_string())])
        );
        assert!(known_ineligible(&previous, false).is_empty());
    }

    #[test]
    fn r_clm_7_revocable_within_14_days_before_sign_in_unless_domain_claimed() {
        let fresh = claim("a@acme.example", "Claimed", 13);
        assert_eq!(
            revocability(&fresh, &info(), now()),
            Ok(now().checked_add(SignedDuration::from_hours(24)).unwrap())
        );
        let old = claim("a@acme.example", "Claimed", 15);
        assert_eq!(revocability(&old, &info(), now()), Err("WindowPassed"));
        let signed = ClaimView {
            signed_in_at: Some(at(-1)),
            ..claim("a@acme.example", "Claimed", 2)
        };
        assert_eq!(revocability(&signed, &info(), now()), Err("UserSignedIn"));
        let claimed_domain = ClaimOrgInfo {
            claimed_domains: vec!["ACME.example".into()],
            ..info()
        };
        assert_eq!(revocability(&fresh, &claimed_domain, now()), Err("DomainClaimedByOrg"));
        let delayed = claim("a@acme.example", "DelayedClaim", 3);
        assert!(revocability(&delayed, &info(), now()).is_ok());
        let revoked = claim("a@acme.example", "Revoked", 1);
        assert_eq!(revocability(&revoked, &info(), now()), Err("NotClaimed"));
    }

    #[test]
    fn r_clm_7_revoke_plan() {
        let c = claim("a@acme.example", "Claimed", 13);
        let late = claim("b@acme.example", "Claimed", 15);
        let gone = claim("c@acme.example", "Revoked", 2);
        let claims = BTreeMap::from([
            ("a@acme.example".to_string(), &c),
            ("b@acme.example".to_string(), &late),
            ("c@acme.example".to_string(), &gone),
        ]);
        let with = |e: &str| UserClaimSpec {
            revoke: vec![e.into()],
            ..spec(&["a@acme.example"])
        };
        let emails = set(&["a@acme.example", "b@acme.example", "c@acme.example", "z@acme.example"]);
        let revoke_plan = |s: &UserClaimSpec, c: &BTreeMap<String, &ClaimView>, i: &ClaimOrgInfo, t: Timestamp| {
            revoke_plan(s, &emails, c, i, t)
        };
        assert_eq!(revoke_plan(&spec(&[]), &claims, &info(), now()), RevokePlan::None);
        assert_eq!(
            revoke_plan(&with(" A@acme.example"), &claims, &info(), now()),
            RevokePlan::Send("a@acme.example".into())
        );
        assert_eq!(
            revoke_plan(&with("c@acme.example"), &claims, &info(), now()),
            RevokePlan::Done("c@acme.example".into())
        );
        match revoke_plan(&with("b@acme.example"), &claims, &info(), now()) {
            RevokePlan::Refused { why, message, .. } => {
                assert_eq!(why, "WindowPassed");
                assert_eq!(
                    message,
                    format!(
                        "the claim of b@acme.example could be revoked within 14 days, until {} (R-CLM-7)",
                        at(-1)
                    )
                );
            }
            other => panic!("{other:?}"),
        }
        match revoke_plan(&with("z@acme.example"), &claims, &info(), now()) {
            RevokePlan::Refused { why, message, .. } => {
                assert_eq!(why, "NotClaimed");
                assert!(message.contains("only the claiming organisation"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match revoke_plan(&with("other@acme.example"), &claims, &info(), now()) {
            RevokePlan::Refused { why, .. } => assert_eq!(why, "NotInClaim"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn report_accounts_for_every_user_once() {
        let emails = set(&[
            "a@acme.example",
            "b@acme.example",
            "c@acme.example",
            "d@acme.example",
            "e@acme.example",
            "f@acme.example",
            "g@acme.example",
        ]);
        let a = claim("a@acme.example", "Claimed", 1);
        let b = claim("b@acme.example", "DelayedClaim", 3);
        let c = claim("c@acme.example", "Revoked", 1);
        let d = ClaimView {
            inactive_since: Some(at(-2)),
            deletes_at: Some(at(28)),
            signed_in_at: Some(at(-1)),
            ..claim("d@acme.example", "Claimed", 2)
        };
        let e = ClaimView {
            content_lost: true,
            ..claim("e@acme.example", "Claimed", 20)
        };
        let claims = BTreeMap::from([
            ("a@acme.example".to_string(), &a),
            ("b@acme.example".to_string(), &b),
            ("c@acme.example".to_string(), &c),
            ("d@acme.example".to_string(), &d),
            ("e@acme.example".to_string(), &e),
        ]);
        let ineligible = BTreeMap::from([("f@acme.example".to_string(), "SsoOrg".to_string())]);
        let (users, counts) = report(&emails, &claims, &ineligible, &info(), now());
        assert_eq!(
            counts,
            ClaimCounts {
                total: 7,
                claimed: 2,
                delayed: 1,
                ineligible: 1,
                pending: 1,
                revoked: 1,
                inactive: 1,
                deleted: 0
            }
        );
        let by = |e: &str| users.iter().find(|u| u.email == e).unwrap().clone();
        assert_eq!(by("a@acme.example").account_status.as_deref(), Some("NotVerified"));
        assert_eq!(by("a@acme.example").revocable_until, Some(at(13)));
        let delayed = by("b@acme.example");
        assert_eq!(delayed.state, ClaimUserState::DelayedClaim);
        assert_eq!(delayed.days_left, Some(11));
        assert_eq!(delayed.completes_at, Some(at(11)));
        assert_eq!(by("c@acme.example").revocable_until, None);
        let inactive = by("d@acme.example");
        assert_eq!(inactive.state, ClaimUserState::Inactive);
        assert_eq!(inactive.deletes_at, Some(at(28)));
        assert_eq!(inactive.not_revocable.as_deref(), Some("UserSignedIn"));
        assert_eq!(inactive.account_status.as_deref(), Some("Active"));
        let lost = by("e@acme.example");
        assert_eq!(lost.reason.as_deref(), Some("ContentNotMigrated"));
        assert_eq!(lost.not_revocable.as_deref(), Some("WindowPassed"));
        assert_eq!(by("f@acme.example").reason.as_deref(), Some("SsoOrg"));
        assert_eq!(by("g@acme.example").state, ClaimUserState::Pending);
        let sorted: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(sorted, emails.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn r_clm_8_account_status_not_verified_or_carried_over() {
        let immediate = claim("a@acme.example", "Claimed", 1);
        assert_eq!(account_status(&immediate), "NotVerified");
        let expired = ClaimView {
            choice: Some("Expired".into()),
            ..claim("a@acme.example", "Claimed", 15)
        };
        assert_eq!(account_status(&expired), "Active");
        let was_unverified = ClaimView {
            previous_status: "NotVerified".into(),
            ..expired.clone()
        };
        assert_eq!(account_status(&was_unverified), "NotVerified");
        let signed = ClaimView {
            signed_in_at: Some(at(-1)),
            previous_status: "NotVerified".into(),
            ..claim("a@acme.example", "Claimed", 2)
        };
        assert_eq!(account_status(&signed), "Active");
    }

    #[test]
    fn r_clm_8_days_left_round_up() {
        let t = now();
        assert_eq!(days_left(t, t.checked_add(SignedDuration::from_hours(1)).unwrap()), 1);
        assert_eq!(days_left(t, t.checked_add(SignedDuration::from_hours(24)).unwrap()), 1);
        assert_eq!(days_left(t, t.checked_add(SignedDuration::from_hours(25)).unwrap()), 2);
        assert_eq!(days_left(t, t), 0);
    }

    #[test]
    fn verdicts() {
        let emails = set(&["a@acme.example", "b@acme.example"]);
        let a = claim("a@acme.example", "Claimed", 1);
        let b = claim("b@acme.example", "DelayedClaim", 1);
        let only_a = BTreeMap::from([("a@acme.example".to_string(), &a)]);
        let (users, counts) = report(&emails, &only_a, &BTreeMap::new(), &info(), now());
        assert_eq!(verdict(&users, &counts).1, ClaimReason::Claiming);
        let both = BTreeMap::from([("a@acme.example".to_string(), &a), ("b@acme.example".to_string(), &b)]);
        let (users, counts) = report(&emails, &both, &BTreeMap::new(), &info(), now());
        let (ready, reason, message) = verdict(&users, &counts);
        assert!(!ready);
        assert_eq!(reason, ClaimReason::DelayedClaim);
        assert!(message.contains(&at(13)), "{message}");
        assert!(message.contains("R-CLM-12"), "{message}");
        let ineligible = BTreeMap::from([("b@acme.example".to_string(), "DirectorySyncOrg".to_string())]);
        let (users, counts) = report(&emails, &only_a, &ineligible, &info(), now());
        let (ready, reason, message) = verdict(&users, &counts);
        assert!(ready);
        assert_eq!(reason, ClaimReason::Complete);
        assert_eq!(
            message,
            "2 users: 1 claimed, 0 delayed, 1 ineligible (DirectorySyncOrg: 1), 0 revoked, 0 inactive, 0 deleted, 0 pending"
        );
    }

    #[test]
    fn r_clm_11_directory_sync_warning_names_inactive_users() {
        assert_eq!(directory_sync_warning(&info(), &[]), None);
        let sync = ClaimOrgInfo {
            directory_sync: true,
            ..info()
        };
        assert_eq!(
            directory_sync_warning(&sync, &[]).map(|w| w.0),
            Some(ClaimReason::OrgUsesDirectorySync)
        );
        let d = ClaimView {
            inactive_since: Some(at(0)),
            deletes_at: Some(at(30)),
            ..claim("d@acme.example", "Claimed", 2)
        };
        let claims = BTreeMap::from([("d@acme.example".to_string(), &d)]);
        let (users, _) = report(&set(&["d@acme.example"]), &claims, &BTreeMap::new(), &sync, now());
        let (reason, message) = directory_sync_warning(&sync, &users).unwrap();
        assert_eq!(reason, ClaimReason::ClaimedUsersInactive);
        assert!(
            message.starts_with(&format!(
                "1 claimed user is inactive after a directory sync: d@acme.example (deleted at {})",
                at(30)
            )),
            "{message}"
        );
    }

    #[test]
    fn webex_users_are_created_once_when_claimed_and_retired_when_revoked() {
        let emails = set(&["a@acme.example", "b@acme.example", "c@acme.example"]);
        let a = claim("a@acme.example", "Claimed", 1);
        let b = claim("b@acme.example", "DelayedClaim", 1);
        let c = claim("c@acme.example", "Revoked", 1);
        let claims = BTreeMap::from([
            ("a@acme.example".to_string(), &a),
            ("b@acme.example".to_string(), &b),
            ("c@acme.example".to_string(), &c),
        ]);
        let (users, _) = report(&emails, &claims, &BTreeMap::new(), &info(), now());
        let fresh = UserClaimStatus::default();
        assert_eq!(
            webex_user_changes(&spec(&[]), &fresh, true, &users),
            WebexUserChanges {
                create: vec!["a@acme.example".into()],
                retire: vec!["c@acme.example".into()],
            }
        );
        // Nothing changed since the last status: nothing to do (a deleted WebexUser stays so).
        let previous = UserClaimStatus {
            users: users.clone(),
            ..UserClaimStatus::default()
        };
        assert_eq!(
            webex_user_changes(&spec(&[]), &previous, true, &users),
            WebexUserChanges::default()
        );
        // A spec change looks at everyone again.
        assert_eq!(
            webex_user_changes(&spec(&[]), &previous, false, &users).create,
            ["a@acme.example"]
        );
        let off = UserClaimSpec {
            manage_claimed_users: Some(false),
            ..spec(&[])
        };
        assert_eq!(
            webex_user_changes(&off, &fresh, true, &users),
            WebexUserChanges::default()
        );
    }

    #[test]
    fn next_check_is_the_nearest_deadline() {
        let emails = set(&["a@acme.example"]);
        let a = claim("a@acme.example", "DelayedClaim", 13);
        let claims = BTreeMap::from([("a@acme.example".to_string(), &a)]);
        let (users, _) = report(&emails, &claims, &BTreeMap::new(), &info(), now());
        let resync = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(next_check(&users, now(), resync), Duration::from_secs(24 * 3600 + 1));
        assert_eq!(
            next_check(&users, now(), Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn control_hub_messages_say_what_to_do_and_by_when() {
        let s = spec(&["a@acme.example"]);
        let text = control_hub_instructions(&s, &normalise(&s.emails));
        assert!(
            text.contains("Claim users") && text.contains("a@acme.example"),
            "{text}"
        );
        let mut previous = UserClaimStatus::default();
        assert!(revoke_in_control_hub("a@acme.example", &previous).contains("within 14 days of the claim"));
        let (users, _) = report(
            &normalise(&s.emails),
            &BTreeMap::from([("a@acme.example".to_string(), &claim("a@acme.example", "Claimed", 1))]),
            &BTreeMap::new(),
            &info(),
            now(),
        );
        previous.users = users;
        assert!(revoke_in_control_hub("a@acme.example", &previous).contains(&format!("by {}", at(13))));
    }
}
