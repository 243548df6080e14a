//! `import`: WebexUser manifests that adopt every current person of an org as they are
//! (names, licences, Calling number and extension, Contact Center type, admin roles), so that
//! `plan` on the result shows no change. Read-only against Webex.
//!
//! What cannot be expressed without changing something is left out of the manifest (and thus
//! unmanaged: the operator never touches what a spec leaves unset) with a warning: a Calling
//! licence without a number, extension or location; Standard and Premium Contact Center held
//! together; a supervisor holding admin roles (R-CC-3); Calling names that break R-USER-2.
//! Persons claimed by another org (R-CLM-10) and bots are skipped.
//!
//! ExternalUsers: one per person of another org who holds host accounts on the org's Meetings
//! sites, as the site licences' user listings show them (`EXTERNAL`, accepted, R-EXT-6), with
//! those sites as `Host`; `plan` adopts them without a write (R-EXT-8). Not imported, because no
//! GET shows them: pending invitations (they appear in a later import once accepted; one that
//! is declined or expires leaves nothing to manage, R-EXT-5) and attendee accounts (they have
//! no licence to list); add those by hand.

use std::collections::{BTreeMap, BTreeSet};

use super::GitopsError;
use super::external::ExternalListing;
use super::input::{API_VERSION, external_schema_problems, is_e164, schema_problems};
use super::observe::{self, ObservedOrg};
use super::output::Document;
use super::progress;
use crate::api::common::{
    CC_PREMIUM, CC_STANDARD, ContactCenterType, ExistingUserPolicy, LicenseRef, ManagementPolicy, OrgRef,
};
use crate::api::external_user::{
    ExternalDeletionPolicy, ExternalSite, ExternalUser, ExternalUserSpec, SiteAccountType,
};
use crate::api::webex_org::{Backend, WebexOrg};
use crate::api::webex_user::{AdminRole, CallingSpec, ContactCenterSpec, DeletionPolicy, WebexUser, WebexUserSpec};
use crate::controller::org_registry::OrgFacts;
use crate::controller::webex_user::plan::{self as user_plan, SUPERVISOR_ROLE};
use crate::webex::client::{PEOPLE_PAGE_SIZE, WebexClient};
use crate::webex::model::Person;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub api_base_url: String,
    pub backend: Backend,
    pub token_env: String,
    /// Name of the WebexOrg the manifests refer to.
    pub org_name: String,
    pub namespace: String,
    pub deletion_policy: DeletionPolicy,
    /// Also write the WebexOrg (token Secret `<org>-webex-token` in `namespace`).
    pub include_org: bool,
}

/// The manifests and the warnings about what was left out.
#[derive(Debug, Default)]
pub struct Imported {
    pub documents: Vec<Document>,
    pub warnings: Vec<String>,
}

fn org_object(options: &ImportOptions) -> Result<WebexOrg, GitopsError> {
    // Built from JSON so that spec fields added later keep their defaults.
    let value = serde_json::json!({
        "apiVersion": API_VERSION,
        "kind": "WebexOrg",
        "metadata": {"name": options.org_name},
        "spec": {
            "apiBaseUrl": options.api_base_url,
            "backend": options.backend,
            "tokenSecretRef": {"name": format!("{}-webex-token", options.org_name), "namespace": options.namespace, "key": "token"},
            "defaultExistingUserPolicy": ExistingUserPolicy::Adopt,
        },
    });
    serde_json::from_value(value).map_err(|e| GitopsError::Render {
        what: "the WebexOrg",
        message: e.to_string(),
    })
}

/// Reads the org and every person, and builds the manifests.
pub async fn run(options: &ImportOptions) -> Result<Imported, GitopsError> {
    let org = org_object(options)?;
    let token = observe::find_token(&org, &options.token_env, &[], |k| std::env::var(k).ok())?;
    let observed: ObservedOrg = observe::observe_org(&org, token).await?;
    let bar = progress::bar(1, "reading people");
    let people = list_people(&observed.client, &options.org_name).await?;
    bar.finish_and_clear();
    let listing = observe::list_external(&observed, Some(&people)).await?;
    let mut imported = build(&people, &observed.facts, options);
    build_external(&listing, options, &mut imported);
    if options.include_org {
        imported
            .documents
            .insert(0, Document::new(options.org_name.clone(), &org)?);
    }
    Ok(imported)
}

async fn list_people(client: &WebexClient, org: &str) -> Result<Vec<Person>, GitopsError> {
    client
        .list_people(PEOPLE_PAGE_SIZE)
        .await
        .map_err(|source| GitopsError::Webex {
            org: org.to_string(),
            operation: "list people",
            source: Box::new(source),
        })
}

/// The manifests for `people` (no client required).
pub fn build(people: &[Person], org: &OrgFacts, options: &ImportOptions) -> Imported {
    let mut imported = Imported::default();
    let mut names = BTreeSet::new();
    let mut sorted: Vec<&Person> = people.iter().collect();
    sorted.sort_by_key(|p| p.primary_email());
    for person in sorted {
        let Some(email) = person.primary_email() else {
            imported
                .warnings
                .push(format!("person {} has no email: skipped", person.id));
            continue;
        };
        if person.kind.as_deref().is_some_and(|k| k != "person") {
            imported.warnings.push(format!(
                "{email}: a {} account, skipped",
                person.kind.as_deref().unwrap_or("")
            ));
            continue;
        }
        if email.ends_with(".convert-user.local") {
            imported
                .warnings
                .push(format!("{email}: claimed by another organisation (R-CLM-10), skipped"));
            continue;
        }
        let (spec, warnings) = spec_for(person, &email, org, options);
        imported
            .warnings
            .extend(warnings.into_iter().map(|w| format!("{email}: {w}")));
        let problems: Vec<String> = user_plan::validate(&spec)
            .into_iter()
            .chain(schema_problems(&spec).into_iter().map(|(f, m)| format!("{f}: {m}")))
            .collect();
        if !problems.is_empty() {
            imported
                .warnings
                .push(format!("{email}: skipped: {}", problems.join("; ")));
            continue;
        }
        let base = super::object_name_for_email(&email);
        let mut name = base.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{}-{n}", base.chars().take(60).collect::<String>());
            n += 1;
        }
        let mut user = WebexUser::new(&name, spec);
        user.metadata.namespace = Some(options.namespace.clone());
        user.status = None;
        match Document::new(name, &user) {
            Ok(doc) => imported.documents.push(doc),
            Err(e) => imported.warnings.push(format!("{email}: skipped: {e}")),
        }
    }
    imported
}

/// One ExternalUser per person of another org holding host accounts (no client required).
pub fn build_external(listing: &ExternalListing, options: &ImportOptions, imported: &mut Imported) {
    let mut stems: BTreeSet<String> = imported.documents.iter().map(|d| d.stem.clone()).collect();
    let before = imported.documents.len();
    for (email, holder) in &listing.holders {
        if holder.sites.is_empty() {
            continue;
        }
        let spec = ExternalUserSpec {
            org_ref: OrgRef {
                name: options.org_name.clone(),
            },
            email: email.clone(),
            sites: holder
                .sites
                .iter()
                .map(|site| ExternalSite {
                    site_url: site.clone(),
                    account_type: SiteAccountType::Host,
                })
                .collect(),
            reinvite_on_expiry: false,
            deletion_policy: external_deletion_policy(options.deletion_policy),
        };
        if let Some((field, message)) = external_schema_problems(&spec).into_iter().next() {
            imported
                .warnings
                .push(format!("{email} (external): skipped: {field}: {message}"));
            continue;
        }
        let base = super::object_name_for_email(email);
        let mut name = base.clone();
        let mut n = 2;
        while !stems.insert(name.clone()) {
            name = format!("{}-{n}", base.chars().take(60).collect::<String>());
            n += 1;
        }
        let mut user = ExternalUser::new(&name, spec);
        user.metadata.namespace = Some(options.namespace.clone());
        user.status = None;
        match Document::new(name, &user) {
            Ok(doc) => imported.documents.push(doc),
            Err(e) => imported.warnings.push(format!("{email} (external): skipped: {e}")),
        }
    }
    let written = imported.documents.len() - before;
    if written > 0 && external_deletion_policy(options.deletion_policy) == ExternalDeletionPolicy::RemoveAccounts {
        imported.warnings.push(format!(
            "{written} ExternalUser(s) written with deletionPolicy RemoveAccounts: deleting or pruning one removes the person's accounts on this org's sites (R-EXT-7)"
        ));
    }
}

/// The ExternalUser counterpart of the WebexUser `--deletion-policy`: only `Orphan` leaves
/// the accounts alone; every other policy removes what the org gave.
fn external_deletion_policy(policy: DeletionPolicy) -> ExternalDeletionPolicy {
    match policy {
        DeletionPolicy::Orphan => ExternalDeletionPolicy::Orphan,
        DeletionPolicy::Delete | DeletionPolicy::Deactivate | DeletionPolicy::RemoveLicenses => {
            ExternalDeletionPolicy::RemoveAccounts
        }
    }
}

/// The spec that matches `person` exactly, and what had to be left out.
pub fn spec_for(person: &Person, email: &str, org: &OrgFacts, options: &ImportOptions) -> (WebexUserSpec, Vec<String>) {
    let mut warnings = Vec::new();
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let mut spec = WebexUserSpec {
        org_ref: OrgRef {
            name: options.org_name.clone(),
        },
        email: email.to_string(),
        first_name: non_empty(&person.first_name),
        last_name: non_empty(&person.last_name),
        display_name: non_empty(&person.display_name),
        licenses: None,
        calling: None,
        contact_center: None,
        admin_roles: None,
        calling_settings: None,
        tracking_codes: None,
        content_management: None,
        // Explicit: the org's default may be Refuse, and these objects exist to adopt.
        existing_user_policy: Some(ExistingUserPolicy::Adopt),
        deletion_policy: options.deletion_policy,
        management_policy: ManagementPolicy::Manage,
    };
    let mut regular = Vec::new();
    let mut calling = Vec::new();
    let mut cc = BTreeSet::new();
    for id in &person.licenses {
        let Some(l) = org.licenses.iter().find(|l| &l.id == id) else {
            warnings.push(format!("licence {id} is not among the org's licences: left unmanaged"));
            continue;
        };
        let code = l.offer_code.as_str();
        if code.starts_with("BC") {
            calling.push(l);
        } else if code == CC_STANDARD || code == CC_PREMIUM {
            cc.insert(code.to_string());
        } else {
            // Narrow to the subscription/site only when the org has several of this code.
            let same_code: Vec<_> = org.licenses.iter().filter(|o| o.offer_code == code).collect();
            let several = same_code.len() > 1;
            regular.push(LicenseRef {
                offer_code: code.to_string(),
                subscription_id: if several { l.subscription_id.clone() } else { None },
                site_url: if several { l.site_url.clone() } else { None },
            });
        }
    }
    regular.sort();
    regular.dedup();
    if !regular.is_empty() {
        spec.licenses = Some(regular);
    }
    match calling.as_slice() {
        [] => {}
        [l] => {
            let number = person
                .phone_numbers
                .iter()
                .find(|n| n.kind == "work" && is_e164(&n.value))
                .map(|n| n.value.clone());
            let extension = person
                .extension
                .clone()
                .filter(|e| (2..=10).contains(&e.len()) && e.chars().all(|c| c.is_ascii_digit()));
            let location = person.location_id.clone();
            // R-USER-7: a number or an extension; without a number, a location.
            if (number.is_some() || extension.is_some()) && (number.is_some() || location.is_some()) {
                spec.calling = Some(CallingSpec {
                    offer_code: l.offer_code.clone(),
                    subscription_id: None,
                    location_id: if number.is_none() { location } else { None },
                    phone_number: number,
                    extension,
                });
            } else {
                warnings.push(format!(
                    "Calling licence {} without an E.164 number or an extension and location: left unmanaged (R-USER-7)",
                    l.offer_code
                ));
            }
        }
        _ => warnings.push("several Calling licences: left unmanaged".into()),
    }
    let supervisor = org
        .roles
        .get(SUPERVISOR_ROLE)
        .is_some_and(|id| person.roles.contains(id));
    let roles = admin_roles(person, org);
    let has_standard = cc.contains(CC_STANDARD);
    let has_premium = cc.contains(CC_PREMIUM);
    let kind = match (has_standard, has_premium) {
        (true, true) => {
            warnings.push(
                "holds Contact Center Standard and Premium: left unmanaged (R-CC-2 would remove Standard)".into(),
            );
            None
        }
        (false, true) if supervisor && !roles.is_empty() => {
            warnings.push("a supervisor with admin roles (R-CC-3): Contact Center left unmanaged".into());
            None
        }
        (false, true) if supervisor => Some(ContactCenterType::PremiumSupervisor),
        (false, true) => Some(ContactCenterType::Premium),
        (true, false) if supervisor => {
            warnings.push("a Standard agent with the supervisor role: Contact Center left unmanaged".into());
            None
        }
        (true, false) => Some(ContactCenterType::Standard),
        (false, false) => None,
    };
    spec.contact_center = kind.map(|kind| ContactCenterSpec {
        kind,
        subscription_id: None,
    });
    if !roles.is_empty() {
        spec.admin_roles = Some(roles);
    }
    // R-USER-2: a Calling user's names must follow the rules; leave names out rather than fail.
    if spec.calling.is_some() && !user_plan::validate(&spec).is_empty() {
        spec.first_name = None;
        spec.last_name = None;
        warnings.push("first/last name break the Calling name rules (R-USER-2): left unmanaged".into());
    }
    (spec, warnings)
}

fn admin_roles(person: &Person, org: &OrgFacts) -> Vec<AdminRole> {
    let by_id: BTreeMap<&str, &str> = org.roles.iter().map(|(n, id)| (id.as_str(), n.as_str())).collect();
    let mut out: Vec<AdminRole> = person
        .roles
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .filter_map(|name| {
            [
                AdminRole::FullAdministrator,
                AdminRole::UserAdministrator,
                AdminRole::ReadOnlyAdministrator,
                AdminRole::DeviceAdministrator,
                AdminRole::ContactCenterServiceAdministrator,
            ]
            .into_iter()
            .find(|r| user_plan::role_name(*r) == *name)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The header comment of imported files.
pub fn header(options: &ImportOptions) -> String {
    format!(
        "Imported by `webex-operator import` from {} ({API_VERSION}).\nEvery object adopts an existing person as it is; deletionPolicy {:?}.",
        options.api_base_url, options.deletion_policy
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::org_registry::OrgLicense;
    use crate::webex::ids;
    use crate::webex::model::PhoneNumber;

    fn lic(code: &str, sub: &str) -> OrgLicense {
        OrgLicense {
            id: ids::license_id("org", code, sub, None),
            offer_code: code.into(),
            name: code.into(),
            subscription_id: Some(sub.into()),
            site_url: None,
            total_units: 10,
            consumed_units: 0,
        }
    }

    fn org() -> OrgFacts {
        OrgFacts {
            org_id: "org".into(),
            licenses: vec![
                lic("MS", "s1"),
                lic("MS", "s2"),
                lic("EE", "s1"),
                lic("BCPRO", "s1"),
                lic("CJPPRM", "s1"),
                lic("CJPSTD", "s1"),
            ],
            roles: [
                ("id_full_admin".to_string(), ids::role_id("id_full_admin")),
                (SUPERVISOR_ROLE.to_string(), ids::role_id(SUPERVISOR_ROLE)),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }
    }

    fn options() -> ImportOptions {
        ImportOptions {
            api_base_url: "http://sim".into(),
            backend: Backend::Simulator,
            token_env: "T".into(),
            org_name: "acme".into(),
            namespace: "team-a".into(),
            deletion_policy: DeletionPolicy::Orphan,
            include_org: false,
        }
    }

    #[test]
    fn external_hosts_become_external_users_with_their_sites() {
        use crate::gitops::external::Holder;
        let mut listing = ExternalListing::default();
        listing.holders.insert(
            "pat@other.example".into(),
            Holder {
                person_id: "p1".into(),
                sites: ["b.webex.com".to_string(), "a.webex.com".to_string()].into(),
            },
        );
        let mut imported = Imported::default();
        imported.documents.push(Document {
            stem: "pat-other-example".into(),
            value: serde_json::json!({}),
        });
        build_external(&listing, &options(), &mut imported);
        assert_eq!(imported.documents.len(), 2);
        let doc = &imported.documents[1];
        assert_eq!(doc.stem, "pat-other-example-2", "file names stay unique");
        assert_eq!(doc.value["kind"], "ExternalUser");
        assert_eq!(doc.value["metadata"]["namespace"], "team-a");
        assert_eq!(
            doc.value["spec"]["sites"],
            serde_json::json!([{"siteUrl": "a.webex.com", "accountType": "Host"}, {"siteUrl": "b.webex.com", "accountType": "Host"}])
        );
        assert!(doc.value.get("status").is_none());
        assert_eq!(
            doc.value["spec"]["deletionPolicy"], "Orphan",
            "the default --deletion-policy"
        );
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);

        let removing = ImportOptions {
            deletion_policy: DeletionPolicy::Delete,
            ..options()
        };
        let mut imported = Imported::default();
        build_external(&listing, &removing, &mut imported);
        assert_eq!(imported.documents[0].value["spec"]["deletionPolicy"], "RemoveAccounts");
        assert!(
            imported.warnings[0].contains("RemoveAccounts"),
            "{:?}",
            imported.warnings
        );
    }

    #[test]
    fn a_person_maps_to_the_fields_that_hold_what_it_has() {
        let p = Person {
            id: "p".into(),
            emails: vec!["Ada@acme.example".into()],
            first_name: Some("Ada".into()),
            display_name: Some("Ada L".into()),
            licenses: vec![
                lic("MS", "s2").id,
                lic("EE", "s1").id,
                lic("BCPRO", "s1").id,
                lic("CJPPRM", "s1").id,
            ],
            roles: vec![ids::role_id(SUPERVISOR_ROLE)],
            phone_numbers: vec![PhoneNumber {
                kind: "work".into(),
                value: "+14085550101".into(),
                primary: Some(true),
            }],
            extension: Some("5101".into()),
            ..Default::default()
        };
        let (spec, warnings) = spec_for(&p, "ada@acme.example", &org(), &options());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            spec.licenses,
            Some(vec![
                LicenseRef {
                    offer_code: "EE".into(),
                    subscription_id: None,
                    site_url: None
                },
                LicenseRef {
                    offer_code: "MS".into(),
                    subscription_id: Some("s2".into()),
                    site_url: None
                },
            ])
        );
        let calling = spec.calling.unwrap();
        assert_eq!(calling.phone_number.as_deref(), Some("+14085550101"));
        assert_eq!(calling.extension.as_deref(), Some("5101"));
        assert_eq!(spec.contact_center.unwrap().kind, ContactCenterType::PremiumSupervisor);
        assert_eq!(spec.admin_roles, None);
        assert_eq!(spec.existing_user_policy, Some(ExistingUserPolicy::Adopt));
    }

    #[test]
    fn what_cannot_be_kept_as_is_is_left_unmanaged_with_a_warning() {
        let p = Person {
            id: "p".into(),
            emails: vec!["bo@acme.example".into()],
            licenses: vec![lic("BCPRO", "s1").id, lic("CJPPRM", "s1").id, lic("CJPSTD", "s1").id],
            ..Default::default()
        };
        let (spec, warnings) = spec_for(&p, "bo@acme.example", &org(), &options());
        assert_eq!(spec.calling, None);
        assert_eq!(spec.contact_center, None);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let claimed = Person {
            emails: vec!["x@y.example.convert-user.local".into()],
            ..p.clone()
        };
        let bot = Person {
            emails: vec!["bot@webex.bot".into()],
            kind: Some("bot".into()),
            ..p.clone()
        };
        let imported = build(&[claimed, bot, p], &org(), &options());
        assert_eq!(imported.documents.len(), 1);
        assert_eq!(imported.documents[0].stem, "bo-acme-example");
        assert_eq!(imported.documents[0].value["metadata"]["namespace"], "team-a");
        assert_eq!(imported.documents[0].value["spec"]["deletionPolicy"], "Orphan");
    }
}
