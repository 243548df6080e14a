//! Pure decisions of the Contact Center "Synchronise users" step (R-CC-6): after a user's
//! Contact Center licence changes, Contact Center must take the org's users again. The status
//! remembers the licence as of the last sync (`contactCenterSynced`), so each change leads to
//! exactly one sync (or, against the real service, one request to the admin).

use crate::api::common::{CC_PREMIUM, CC_STANDARD};
use crate::controller::org_registry::OrgFacts;
use crate::webex::model::Person;

/// Condition type that reports the sync.
pub const CONTACT_CENTER_SYNCED: &str = "ContactCenterSynced";

/// The person's Contact Center licence (offer code); Premium wins (R-CC-2).
pub fn contact_center_license(person: &Person, org: &OrgFacts) -> Option<String> {
    let codes: Vec<&str> = person
        .licenses
        .iter()
        .filter_map(|id| org.licenses.iter().find(|l| &l.id == id))
        .map(|l| l.offer_code.as_str())
        .collect();
    [CC_PREMIUM, CC_STANDARD]
        .into_iter()
        .find(|code| codes.contains(code))
        .map(str::to_string)
}

/// `Some(current)` when the licence changed since the last sync and a sync is due.
pub fn sync_due(last_synced: Option<&str>, current: Option<&str>) -> Option<Option<String>> {
    (last_synced != current).then(|| current.map(str::to_string))
}

/// What the admin is told against the real service, which has no API for the step.
pub fn control_hub_message(current: Option<&str>) -> String {
    let what = match current {
        Some(code) => format!("changed to {code}"),
        None => "was removed".to_string(),
    };
    format!(
        "the Contact Center licence {what}: press Contact Center > Settings > Synchronize Users in Control Hub (R-CC-6); Webex has no API for it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::org_registry::OrgLicense;

    fn org() -> OrgFacts {
        let lic = |id: &str, code: &str| OrgLicense {
            id: id.into(),
            offer_code: code.into(),
            name: code.into(),
            subscription_id: None,
            site_url: None,
            total_units: 10,
            consumed_units: 0,
        };
        OrgFacts {
            org_id: "ORG".into(),
            licenses: vec![lic("S", CC_STANDARD), lic("P", CC_PREMIUM), lic("M", "MS")],
            roles: Default::default(),
            directory_sync: None,
            default_existing_user_policy: Default::default(),
            tenants: vec![],
            drift_report_only: false,
            drift_interval: None,
            guard: Default::default(),
        }
    }

    fn person(ids: &[&str]) -> Person {
        Person {
            licenses: ids.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn premium_wins_and_others_do_not_count() {
        assert_eq!(
            contact_center_license(&person(&["M", "S", "P"]), &org()).as_deref(),
            Some(CC_PREMIUM)
        );
        assert_eq!(
            contact_center_license(&person(&["S"]), &org()).as_deref(),
            Some(CC_STANDARD)
        );
        assert_eq!(contact_center_license(&person(&["M"]), &org()), None);
    }

    #[test]
    fn a_sync_is_due_on_each_change_only() {
        assert_eq!(sync_due(None, None), None);
        assert_eq!(sync_due(None, Some(CC_STANDARD)), Some(Some(CC_STANDARD.into())));
        assert_eq!(sync_due(Some(CC_STANDARD), Some(CC_STANDARD)), None);
        assert_eq!(
            sync_due(Some(CC_STANDARD), Some(CC_PREMIUM)),
            Some(Some(CC_PREMIUM.into()))
        );
        assert_eq!(sync_due(Some(CC_PREMIUM), None), Some(None));
    }

    #[test]
    fn the_admin_is_told_where_to_click() {
        assert!(control_hub_message(Some(CC_PREMIUM)).contains("Synchronize Users"));
        assert!(control_hub_message(None).contains("removed"));
    }
}
