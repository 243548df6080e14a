//! The control API under `/_sim` (simulator-only, no auth): seed orgs and accounts, sign users
//! in, move the virtual clock, inject faults, read counters.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::sim::claims;
use crate::sim::control_types::{
    ActiveFault, ClaimChoiceRequest, ClaimList, ClaimRequest, ClaimResponse, ClaimRevoke, ClaimView, ClockAdvance,
    ClockState, Counters, DirectorySyncResult, DirectorySyncRun, FaultRule, Invitation, InvitationAnswer,
    InvitationAnswered, OrgPatch, OrgSeed, PersonSeed, RateLimit, SeededLicense, SeededLocation, SeededOrg,
    SettingWrite, SignIn, SignInResult,
};
use crate::sim::error::ApiError;
use crate::sim::external;
use crate::sim::faults::check_rule;
use crate::sim::roles::FULL_ADMIN;
use crate::sim::rules;
use crate::sim::settings::{check_setting_write, setting_of};
use crate::sim::state::{LicenseRec, Location, Org, SimPerson, State as SimState, format_time, resolve_roles};
use crate::sim::{AppState, parse_json};
use crate::webex::ids;
use crate::webex::model::{OrgSetting, Person};

fn org_not_found() -> ApiError {
    ApiError::not_found("No such organization in the simulator.")
}

fn org_uuid_of(s: &SimState, org_id: &str) -> Result<String, ApiError> {
    s.org_by_id(org_id).map(|o| o.uuid.clone()).ok_or_else(org_not_found)
}

/// `POST /_sim/orgs`.
pub async fn seed_org(State(app): State<AppState>, body: Bytes) -> Result<Json<SeededOrg>, ApiError> {
    let seed: OrgSeed = parse_json(&body)?;
    let out = app.store.mutate(|s| {
        let org_uuid = uuid::Uuid::new_v4().to_string();
        let token = seed
            .admin_token
            .clone()
            .unwrap_or_else(|| format!("sim_{}", uuid::Uuid::new_v4().simple()));
        if token.trim().is_empty() || s.org_by_token(&token).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "adminToken is empty or already used by another org.",
            ));
        }
        let admin_email = seed.admin_email.clone().unwrap_or_else(|| match seed.domains.first() {
            Some(d) => format!("admin@{d}"),
            None => format!("admin-{}@sim.invalid", &org_uuid[..8]),
        });
        if s.person_by_email(&admin_email).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("{admin_email} already has an account."),
            ));
        }
        let locations: Vec<Location> = seed
            .locations
            .iter()
            .map(|n| Location {
                uuid: uuid::Uuid::new_v4().to_string(),
                name: n.clone(),
            })
            .collect();
        let licenses: Vec<LicenseRec> = seed
            .licenses
            .iter()
            .map(|l| LicenseRec {
                id: ids::license_id(
                    &org_uuid,
                    &l.offer_code,
                    &uuid::Uuid::new_v4().to_string(),
                    l.site_url.as_deref(),
                ),
                offer_code: l.offer_code.clone(),
                name: l.name.clone(),
                total_units: l.total_units,
                subscription_id: l.subscription_id.clone(),
                site_url: l.site_url.clone(),
            })
            .collect();
        let now = s.now();
        let seq = s.next_seq();
        let admin = SimPerson {
            seq,
            uuid: uuid::Uuid::new_v4().to_string(),
            org_uuid: org_uuid.clone(),
            emails: vec![admin_email.clone()],
            display_name: Some("Sim Admin".into()),
            first_name: Some("Sim".into()),
            last_name: Some("Admin".into()),
            roles: vec![FULL_ADMIN.to_string()],
            created: now,
            last_modified: now,
            login_enabled: true,
            signed_in_once: true,
            ..SimPerson::default()
        };
        let org = Org {
            uuid: org_uuid.clone(),
            name: if seed.name.is_empty() {
                "Simulated Org".into()
            } else {
                seed.name.clone()
            },
            domains: seed.domains.clone(),
            trial: seed.trial,
            directory_sync: seed.directory_sync,
            sso: seed.sso,
            allow_admin_invite_emails: seed.allow_admin_invite_emails.unwrap_or(true),
            allow_cross_org_licensing: seed.allow_cross_org_licensing.unwrap_or(true),
            claimed_domains: seed.claimed_domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            allow_content_migration: seed.allow_content_migration,
            delayed_claim_supported: seed.delayed_claim_supported.unwrap_or(true),
            locations,
            licenses,
            admin_token: token.clone(),
            admin_person_uuid: admin.uuid.clone(),
        };
        let out = SeededOrg {
            org_id: org.public_id(),
            org_uuid,
            admin_token: token,
            admin_person_id: admin.public_id(),
            admin_email,
            licenses: org
                .licenses
                .iter()
                .map(|l| SeededLicense {
                    id: l.id.clone(),
                    offer_code: l.offer_code.clone(),
                    name: l.name.clone(),
                })
                .collect(),
            locations: org
                .locations
                .iter()
                .map(|l| SeededLocation {
                    id: l.public_id(),
                    name: l.name.clone(),
                })
                .collect(),
        };
        s.orgs.push(org);
        s.people.push(admin);
        Ok(out)
    })?;
    Ok(Json(out))
}

/// `GET /_sim/orgs/{orgId}`: the org's flags. Also read by the operator (with
/// `backend: Simulator`) for what Webex has no public API for, such as directory sync (R-ORG-2).
pub async fn get_org(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    app.store.read(|s| {
        let org = s
            .orgs
            .iter()
            .find(|o| o.is_named_by(&org_id))
            .ok_or_else(org_not_found)?;
        Ok(axum::Json(serde_json::json!({
            "orgId": org.public_id(),
            "name": org.name,
            "domains": org.domains,
            "trial": org.trial,
            "directorySync": org.directory_sync,
            "sso": org.sso,
            "allowAdminInviteEmails": org.allow_admin_invite_emails,
            "allowCrossOrgLicensing": org.allow_cross_org_licensing,
            "verifiedDomains": org.domains,
            "claimedDomains": org.claimed_domains,
            "allowContentMigration": org.allow_content_migration,
            "delayedClaimSupported": org.delayed_claim_supported,
        })))
    })
}

/// `PATCH /_sim/orgs/{orgId}`: flips org flags.
pub async fn patch_org(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let patch: OrgPatch = parse_json(&body)?;
    app.store.mutate(|s| {
        let org = s
            .orgs
            .iter_mut()
            .find(|o| o.is_named_by(&org_id))
            .ok_or_else(org_not_found)?;
        let OrgPatch {
            trial,
            directory_sync,
            sso,
            allow_admin_invite_emails,
            allow_cross_org_licensing,
            claimed_domains,
            allow_content_migration,
            delayed_claim_supported,
            domains,
        } = patch;
        if let Some(domains) = domains {
            org.domains = domains;
        }
        if let Some(domains) = claimed_domains {
            org.claimed_domains = domains.iter().map(|d| d.to_ascii_lowercase()).collect();
        }
        org.allow_content_migration = allow_content_migration.unwrap_or(org.allow_content_migration);
        org.delayed_claim_supported = delayed_claim_supported.unwrap_or(org.delayed_claim_supported);
        org.allow_cross_org_licensing = allow_cross_org_licensing.unwrap_or(org.allow_cross_org_licensing);
        org.trial = trial.unwrap_or(org.trial);
        org.directory_sync = directory_sync.unwrap_or(org.directory_sync);
        org.sso = sso.unwrap_or(org.sso);
        org.allow_admin_invite_emails = allow_admin_invite_emails.unwrap_or(org.allow_admin_invite_emails);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `DELETE /_sim/orgs/{orgId}`: the org and all its people go (their emails become free).
pub async fn delete_org(State(app): State<AppState>, Path(org_id): Path<String>) -> Result<StatusCode, ApiError> {
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        s.orgs.retain(|o| o.uuid != uuid);
        s.people.retain(|p| p.org_uuid != uuid);
        let people: std::collections::HashSet<String> = s.people.iter().map(|p| p.uuid.clone()).collect();
        s.external_grants
            .retain(|g| g.org_uuid != uuid && people.contains(&g.person_uuid));
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `POST /_sim/orgs/{orgId}/settings`.
pub async fn set_setting(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<OrgSetting>, ApiError> {
    let write: SettingWrite = parse_json(&body)?;
    let write = OrgSetting {
        key: write.key,
        value: write.value,
        name: None,
    };
    app.store.mutate(|s| {
        let org = s
            .orgs
            .iter_mut()
            .find(|o| o.is_named_by(&org_id))
            .ok_or_else(org_not_found)?;
        org.allow_admin_invite_emails = check_setting_write(&write)?;
        setting_of(org, &write.key)
            .map(Json)
            .ok_or_else(|| ApiError::internal("setting vanished"))
    })
}

/// `POST /_sim/orgs/{orgId}/people`: an account made outside the operator.
pub async fn seed_person(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<Person>, ApiError> {
    let seed: PersonSeed = parse_json(&body)?;
    let person = app.store.mutate(|s| {
        let org = s.org_by_id(&org_id).cloned().ok_or_else(org_not_found)?;
        let email = seed.email.trim().to_string();
        if !email.contains('@') {
            return Err(ApiError::bad_request("email is required."));
        }
        s.check_email_free(&org.uuid, &email, None)?;
        let licenses = seed
            .licenses
            .iter()
            .map(|l| {
                org.licenses
                    .iter()
                    .find(|x| x.id == *l || x.offer_code == *l)
                    .map(|x| x.id.clone())
                    .ok_or_else(|| ApiError::bad_request(format!("Unknown licence: {l}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let roles = resolve_roles(&seed.roles)?;
        let now = s.now();
        let seq = s.next_seq();
        let person = SimPerson {
            seq,
            uuid: uuid::Uuid::new_v4().to_string(),
            org_uuid: org.uuid.clone(),
            emails: vec![email],
            display_name: seed.display_name.clone(),
            first_name: seed.first_name.clone(),
            last_name: seed.last_name.clone(),
            roles,
            licenses,
            created: now,
            last_modified: now,
            login_enabled: true,
            signed_in_once: seed.signed_in,
            password: seed.password.clone().filter(|_| seed.signed_in),
            ..SimPerson::default()
        };
        let wire = person.to_wire(true);
        s.people.push(person);
        Ok(wire)
    })?;
    Ok(Json(person))
}

/// `GET /_sim/orgs/{orgId}/people`: every person of the org, in creation order.
pub async fn org_people(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<Json<Vec<Person>>, ApiError> {
    app.store.read(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        Ok(Json(
            s.people
                .iter()
                .filter(|p| p.org_uuid == uuid)
                .map(|p| p.to_wire(true))
                .collect(),
        ))
    })
}

/// `POST /_sim/sign-in`: the first sign-in enforces the password policy (R-USER-15), ends the
/// pending state and consumes licence units (R-USER-10); later ones check the password.
pub async fn sign_in(State(app): State<AppState>, body: Bytes) -> Result<Json<SignInResult>, ApiError> {
    let req: SignIn = parse_json(&body)?;
    let out = app.store.mutate(|s| {
        let now = s.now();
        let person = s
            .people
            .iter_mut()
            .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(&req.email)))
            .ok_or_else(|| ApiError::not_found(format!("No account for {}.", req.email)))?;
        if !person.login_enabled {
            return Err(ApiError::forbidden(
                "Sign-in is disabled for this user (loginEnabled false).",
            ));
        }
        let first_sign_in = !person.signed_in_once;
        match &person.password {
            Some(stored) if *stored != req.password => {
                return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Wrong password."));
            }
            Some(_) => {}
            None => {
                rules::check_password(
                    &req.password,
                    person.first_name.as_deref(),
                    person.last_name.as_deref(),
                    person.email(),
                )
                .map_err(|p| ApiError::from(rules::RuleViolation::Password(p)))?;
                person.password = Some(req.password.clone());
            }
        }
        if first_sign_in {
            person.signed_in_once = true;
            person.last_modified = now;
        }
        let out = SignInResult {
            person_id: person.public_id(),
            first_sign_in,
        };
        let uuid = person.uuid.clone();
        claims::on_sign_in(s, &uuid, now);
        Ok(out)
    })?;
    Ok(Json(out))
}

/// `POST /_sim/invitations/respond`: the people accept or decline (R-EXT-4); accepting
/// consumes licence units (R-EXT-6). 404 when one of them has no pending invitation (nothing
/// is answered then).
pub async fn respond_to_invitations(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<InvitationAnswered>, ApiError> {
    let req: InvitationAnswer = parse_json(&body)?;
    app.store.mutate(|s| {
        let org_uuid = match &req.org_id {
            Some(id) => Some(org_uuid_of(s, id)?),
            None => None,
        };
        let mut next = s.clone();
        let mut answered = 0;
        for email in &req.emails {
            answered += external::respond(&mut next, email, org_uuid.as_deref(), req.accept)?;
        }
        *s = next;
        Ok(Json(InvitationAnswered { answered }))
    })
}

/// `GET /_sim/orgs/{orgId}/invitations`.
pub async fn invitations(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    app.store.read(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        let now = s.now();
        Ok(Json(
            s.external_grants
                .iter()
                .filter(|g| g.org_uuid == uuid)
                .map(|g| {
                    let person = s.person(&g.person_uuid);
                    Invitation {
                        email: person.map(|p| p.email().to_string()).unwrap_or_default(),
                        person_id: person.map(SimPerson::public_id).unwrap_or_default(),
                        site_url: g.site_url.clone(),
                        account_type: g.account_type.clone(),
                        state: g.state_at(now).to_string(),
                        invited_at: format_time(g.invited_at),
                        expires_at: format_time(g.expires_at),
                        invitations_sent: g.invitations_sent,
                    }
                })
                .collect(),
        ))
    })
}

fn clock_state(s: &SimState) -> ClockState {
    ClockState {
        now: format_time(s.now()),
        offset_seconds: s.clock_offset_ms / 1000,
    }
}

/// `GET /_sim/clock`.
pub async fn clock(State(app): State<AppState>) -> Json<ClockState> {
    Json(app.store.read(clock_state))
}

/// `POST /_sim/clock/advance`: the virtual clock only moves forward.
pub async fn advance_clock(State(app): State<AppState>, body: Bytes) -> Result<Json<ClockState>, ApiError> {
    let req: ClockAdvance = parse_json(&body)?;
    if req.seconds < 0 {
        return Err(ApiError::bad_request("The virtual clock only moves forward."));
    }
    app.store.mutate(|s| {
        s.clock_offset_ms = req
            .seconds
            .checked_mul(1000)
            .and_then(|ms| s.clock_offset_ms.checked_add(ms))
            .ok_or_else(|| ApiError::bad_request("seconds is too large"))?;
        claims::settle(s);
        Ok(Json(clock_state(s)))
    })
}

/// `POST /_sim/faults`.
pub async fn add_fault(State(app): State<AppState>, body: Bytes) -> Result<Json<ActiveFault>, ApiError> {
    let rule: FaultRule = parse_json(&body)?;
    check_rule(&rule)?;
    Ok(Json(app.runtime().add_fault(rule)))
}

/// `GET /_sim/faults`.
pub async fn list_faults(State(app): State<AppState>) -> Json<Vec<ActiveFault>> {
    Json(app.runtime().faults())
}

/// `DELETE /_sim/faults`.
pub async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.runtime().clear_faults();
    StatusCode::NO_CONTENT
}

/// `PUT /_sim/rate-limit`.
pub async fn set_rate_limit(State(app): State<AppState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let limit: RateLimit = parse_json(&body)?;
    if limit.per_second == 0 {
        return Err(ApiError::bad_request("perSecond must be at least 1"));
    }
    app.runtime().set_rate_limit(Some(limit));
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /_sim/rate-limit`.
pub async fn clear_rate_limit(State(app): State<AppState>) -> StatusCode {
    app.runtime().set_rate_limit(None);
    StatusCode::NO_CONTENT
}

/// `GET /_sim/counters[?org=<orgId>]`: every request, or only those made with that org's token.
pub async fn counters(
    State(app): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Counters>, ApiError> {
    let Some(org_id) = query.get("org") else {
        return Ok(Json(app.runtime().counters.clone()));
    };
    let token = app.store.read(|s| {
        s.orgs
            .iter()
            .find(|o| o.is_named_by(org_id))
            .map(|o| o.admin_token.clone())
            .ok_or_else(org_not_found)
    })?;
    Ok(Json(
        app.runtime().counters_by_token.get(&token).cloned().unwrap_or_default(),
    ))
}

/// `DELETE /_sim/counters`.
pub async fn reset_counters(State(app): State<AppState>) -> StatusCode {
    let mut runtime = app.runtime();
    runtime.counters = Counters::default();
    runtime.counters_by_token.clear();
    StatusCode::NO_CONTENT
}

/// `POST /_sim/orgs/{orgId}/claims` (simulator-only, R-CLM-*).
pub async fn claim_users(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<ClaimResponse>, ApiError> {
    let req: ClaimRequest = parse_json(&body)?;
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        Ok(Json(ClaimResponse {
            items: claims::claim(s, &uuid, &req)?,
        }))
    })
}

/// `GET /_sim/orgs/{orgId}/claims` (simulator-only). Settles what time did first.
pub async fn list_claims(State(app): State<AppState>, Path(org_id): Path<String>) -> Result<Json<ClaimList>, ApiError> {
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        claims::settle(s);
        Ok(Json(ClaimList {
            now: format_time(s.now()),
            items: claims::list(s, &uuid),
        }))
    })
}

/// `POST /_sim/orgs/{orgId}/claims/revoke` (simulator-only, R-CLM-7).
pub async fn revoke_claim(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<ClaimView>, ApiError> {
    let req: ClaimRevoke = parse_json(&body)?;
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        claims::revoke(s, &uuid, &req.email).map(Json)
    })
}

/// `POST /_sim/claims/choose`: a claimed user signs in and chooses (R-CLM-9).
pub async fn choose_claim(State(app): State<AppState>, body: Bytes) -> Result<Json<ClaimView>, ApiError> {
    let req: ClaimChoiceRequest = parse_json(&body)?;
    app.store
        .mutate(|s| claims::choose(s, &req.email, req.choice, req.new_email.as_deref()).map(Json))
}

/// `POST /_sim/orgs/{orgId}/directory-sync`: a full directory sync (R-CLM-11).
pub async fn directory_sync(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<DirectorySyncResult>, ApiError> {
    let req: DirectorySyncRun = parse_json(&body)?;
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        Ok(Json(DirectorySyncResult {
            deactivated: claims::directory_sync(s, &uuid, &req.emails)?,
        }))
    })
}
