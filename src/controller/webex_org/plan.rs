//! Pure decisions of the WebexOrg reconciler (no client required).

use std::collections::HashMap;

use crate::api::content_management::{ContentManagement, OrgContentManagementStatus};
use crate::api::webex_org::{DriftPolicy, OrgLicenseStatus, WebexOrgSpec};
use crate::controller::guard::GuardConfig;
use crate::controller::org_registry::{OrgFacts, OrgLicense};
use crate::webex::budget::BudgetConfig;
use crate::webex::content_management::OrgContentManagement;
use crate::webex::ids;
use crate::webex::model::{License, Role};

/// What the reconciler read from Webex.
#[derive(Debug, Clone, Default)]
pub struct OrgObservation {
    pub org_id: String,
    pub licenses: Vec<License>,
    pub roles: Vec<Role>,
    /// Automatic activation emails as Webex reports them (R-ORG-1).
    pub activation_emails: Option<bool>,
    /// Directory sync as the backend reports it; `None` when it cannot tell (R-ORG-2).
    pub directory_sync_reported: Option<bool>,
    /// Enterprise content management as the backend reports it; `None` when it cannot tell
    /// (R-USER-9: no public API).
    pub content_management: Option<OrgContentManagement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgAction {
    /// Turn automatic activation emails on or off (R-ORG-1).
    SetActivationEmails(bool),
}

/// The writes needed to make the org's settings match the spec. Unset settings are left alone.
pub fn plan(spec: &WebexOrgSpec, observed: &OrgObservation) -> Vec<OrgAction> {
    let mut actions = Vec::new();
    let wanted = spec.settings.as_ref().and_then(|s| s.automatic_activation_emails);
    if let Some(wanted) = wanted
        && observed.activation_emails != Some(wanted)
    {
        actions.push(OrgAction::SetActivationEmails(wanted));
    }
    actions
}

/// Directory sync as far as anyone knows: the spec's declaration wins over the backend's report.
pub fn directory_sync(spec: &WebexOrgSpec, observed: &OrgObservation) -> Option<bool> {
    spec.directory_sync.or(observed.directory_sync_reported)
}

pub fn directory_sync_label(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "Enabled",
        Some(false) => "Disabled",
        None => "Unknown",
    }
}

/// The org's content management for its status (R-USER-9).
pub fn content_management_status(observed: &OrgObservation) -> Option<OrgContentManagementStatus> {
    observed
        .content_management
        .as_ref()
        .map(|c| OrgContentManagementStatus {
            access: c.access.into(),
            platforms: c.platforms.iter().map(|p| ContentManagement::of(*p)).collect(),
        })
}

/// Licences keyed by offer code; licences whose id carries no offer code are skipped.
pub fn org_licenses(licenses: &[License]) -> Vec<OrgLicense> {
    licenses
        .iter()
        .filter_map(|l| {
            Some(OrgLicense {
                offer_code: ids::license_offer_code(&l.id)?,
                id: l.id.clone(),
                name: l.name.clone(),
                subscription_id: l.subscription_id.clone(),
                site_url: l.site_url.clone(),
                total_units: l.total_units.unwrap_or(0),
                consumed_units: l.consumed_units.unwrap_or(0),
            })
        })
        .collect()
}

/// `reserved`: seats the controller reserved per licence id and the listing does not count yet.
pub fn license_status(licenses: &[OrgLicense], reserved: &HashMap<String, i64>) -> Vec<OrgLicenseStatus> {
    licenses
        .iter()
        .map(|l| OrgLicenseStatus {
            reserved_units: reserved.get(&l.id).copied().unwrap_or(0),
            offer_code: l.offer_code.clone(),
            name: l.name.clone(),
            id: l.id.clone(),
            subscription_id: l.subscription_id.clone(),
            site_url: l.site_url.clone(),
            total_units: l.total_units,
            consumed_units: l.consumed_units,
        })
        .collect()
}

/// The drift interval the spec asks for; `None` when unset or unreadable (the CRD pattern
/// refuses most bad values at apply time).
pub fn drift_interval(spec: &WebexOrgSpec) -> Option<std::time::Duration> {
    spec.drift_interval
        .as_deref()
        .and_then(|text| humantime::parse_duration(text).ok())
}

/// The budget the spec asks for.
pub fn budget_config(spec: &WebexOrgSpec) -> BudgetConfig {
    spec.api_budget.map_or_else(BudgetConfig::default, |b| BudgetConfig {
        requests_per_second: f64::from(b.requests_per_second),
        burst: b.burst,
    })
}

/// The facts other reconcilers decide on.
pub fn facts(spec: &WebexOrgSpec, observed: &OrgObservation) -> OrgFacts {
    let roles: HashMap<String, String> = observed
        .roles
        .iter()
        .filter_map(|r| match ids::decode(&r.id) {
            Some((ids::IdKind::Role, name)) => Some((name, r.id.clone())),
            _ => None,
        })
        .collect();
    OrgFacts {
        org_id: observed.org_id.clone(),
        licenses: org_licenses(&observed.licenses),
        roles,
        directory_sync: directory_sync(spec, observed),
        default_existing_user_policy: spec.default_existing_user_policy,
        tenants: spec
            .tenants
            .iter()
            .map(|t| (t.namespace.clone(), t.email_domains.clone()))
            .collect(),
        drift_report_only: spec.drift_policy == DriftPolicy::ReportOnly,
        drift_interval: drift_interval(spec),
        guard: guard_config(spec),
    }
}

/// The guard limits the spec asks for (defaults: 25 per hour).
pub fn guard_config(spec: &WebexOrgSpec) -> GuardConfig {
    let Some(guard) = &spec.deprovisioning_guard else {
        return GuardConfig::default();
    };
    GuardConfig {
        max_operations: guard.max_operations,
        max_percent: guard.max_percent,
        window: humantime::parse_duration(&guard.window).unwrap_or(GuardConfig::default().window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::webex_org::{OrgSettings, TokenSecretRef};

    fn spec() -> WebexOrgSpec {
        WebexOrgSpec {
            api_base_url: "http://sim".into(),
            backend: Default::default(),
            token_secret_ref: TokenSecretRef {
                name: "t".into(),
                namespace: "n".into(),
                key: "token".into(),
            },
            settings: None,
            directory_sync: None,
            default_existing_user_policy: Default::default(),
            tenants: vec![],
            drift_interval: None,
            drift_policy: Default::default(),
            api_budget: None,
            deprovisioning_guard: None,
        }
    }

    #[test]
    fn r_user_10_licence_status_shows_total_consumed_and_reserved() {
        let license = |id: &str, total, consumed| OrgLicense {
            id: id.into(),
            offer_code: id.to_uppercase(),
            name: id.into(),
            subscription_id: None,
            site_url: None,
            total_units: total,
            consumed_units: consumed,
        };
        let reserved = HashMap::from([("ee".to_string(), 3)]);
        let status = license_status(&[license("ee", 10, 2), license("ms", 5, 5)], &reserved);
        let seats: Vec<(&str, i64, i64, i64)> = status
            .iter()
            .map(|l| (l.offer_code.as_str(), l.total_units, l.consumed_units, l.reserved_units))
            .collect();
        assert_eq!(seats, vec![("EE", 10, 2, 3), ("MS", 5, 5, 0)]);
    }

    #[test]
    fn drift_interval_and_budget_come_from_the_spec() {
        let mut s = spec();
        assert_eq!(drift_interval(&s), None);
        s.drift_interval = Some("1m30s".into());
        assert_eq!(drift_interval(&s), Some(std::time::Duration::from_secs(90)));
        assert_eq!(budget_config(&s), BudgetConfig::default());
        s.api_budget = Some(crate::api::webex_org::ApiBudgetSpec {
            requests_per_second: 3,
            burst: 4,
        });
        assert_eq!(
            budget_config(&s),
            BudgetConfig {
                requests_per_second: 3.0,
                burst: 4
            }
        );
    }

    #[test]
    fn activation_emails_are_set_only_when_asked_and_different() {
        let mut s = spec();
        let obs = OrgObservation {
            activation_emails: Some(true),
            ..Default::default()
        };
        assert!(plan(&s, &obs).is_empty(), "unset setting is left alone");
        s.settings = Some(OrgSettings {
            automatic_activation_emails: Some(false),
        });
        assert_eq!(plan(&s, &obs), vec![OrgAction::SetActivationEmails(false)]);
        let same = OrgObservation {
            activation_emails: Some(false),
            ..Default::default()
        };
        assert!(plan(&s, &same).is_empty());
    }

    #[test]
    fn r_user_9_content_management_shows_when_the_backend_tells() {
        use crate::api::content_management::ContentManagementAccess;
        use crate::webex::content_management::{ContentAccess, ContentPlatform};
        assert_eq!(content_management_status(&OrgObservation::default()), None);
        let obs = OrgObservation {
            content_management: Some(OrgContentManagement {
                access: ContentAccess::General,
                platforms: vec![ContentPlatform::GoogleDrive],
            }),
            ..Default::default()
        };
        assert_eq!(
            content_management_status(&obs),
            Some(OrgContentManagementStatus {
                access: ContentManagementAccess::General,
                platforms: vec![ContentManagement::GoogleDrive],
            })
        );
    }

    #[test]
    fn declared_directory_sync_wins_over_the_report() {
        let mut s = spec();
        let obs = OrgObservation {
            directory_sync_reported: Some(false),
            ..Default::default()
        };
        assert_eq!(directory_sync(&s, &obs), Some(false));
        s.directory_sync = Some(true);
        assert_eq!(directory_sync(&s, &obs), Some(true));
        assert_eq!(
            directory_sync_label(directory_sync(&spec(), &OrgObservation::default())),
            "Unknown"
        );
    }

    #[test]
    fn licences_are_keyed_by_offer_code_and_roles_by_name() {
        let obs = OrgObservation {
            licenses: vec![
                License {
                    id: ids::license_id("o", "CJPPRM", "1", None),
                    name: "Contact Center Premium".into(),
                    total_units: Some(5),
                    ..Default::default()
                },
                License {
                    id: "opaque".into(),
                    name: "weird".into(),
                    ..Default::default()
                },
            ],
            roles: vec![Role {
                id: ids::role_id("id_full_admin"),
                name: "Full Administrator".into(),
            }],
            ..Default::default()
        };
        let f = facts(&spec(), &obs);
        assert_eq!(f.licenses.len(), 1);
        assert_eq!(f.licenses[0].offer_code, "CJPPRM");
        assert_eq!(f.licenses[0].total_units, 5);
        assert_eq!(f.roles.get("id_full_admin"), Some(&ids::role_id("id_full_admin")));
    }
}
