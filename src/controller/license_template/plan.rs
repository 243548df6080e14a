//! Pure decisions about licence templates (R-TPL-1..5): which templates apply to a WebexUser,
//! and the user's effective licences — the one function that merges the matching templates with
//! the user's manual choices. No I/O; exhaustively unit- and property-tested below.
//!
//! Rules, in the order they are applied:
//! - A manual choice overrides the templates field by field (R-TPL-4, R-USER-6): `spec.licenses`
//!   (even an empty list) replaces every template licence list; `spec.contactCenter` replaces the
//!   templates' Contact Center type. Calling is never given by a template: it needs a number or
//!   extension per user (R-USER-7), so only `spec.calling` sets it.
//! - Template licence lists are merged: one licence per offer code, the first template by name
//!   supplying it; its subscription is the licence's own, else the template's (R-ORG-6).
//!   Calling and Contact Center offer codes in a template's list are ignored (the CRD refuses
//!   them; an older object could still carry them).
//! - Of the templates' Contact Center types the strongest wins: Premium over Standard
//!   (R-CC-2, R-TPL-3), PremiumSupervisor over Premium. A PremiumSupervisor from a template is
//!   lowered to Premium for a user with administrator roles chosen by hand (R-CC-3: the manual
//!   choice wins).

use std::collections::BTreeMap;

use kube::ResourceExt;
use kube::core::{Selector, SelectorExt};

use crate::api::common::{CC_PREMIUM, CC_STANDARD, ContactCenterType, LicenseRef};
use crate::api::license_template::{LicenseTemplate, LicenseTemplateSpec};
use crate::api::webex_user::{ContactCenterSpec, EffectiveLicense, WebexUser, WebexUserSpec};

/// Provenance of the manual choice in `status.effectiveLicenses[].source`.
pub const MANUAL: &str = "Manual";

/// Provenance of a licence given by template `name`.
pub fn template_source(name: &str) -> String {
    format!("Template/{name}")
}

/// Whether a provenance string names a template.
pub fn is_template_source(source: &str) -> bool {
    source.starts_with("Template/")
}

/// Licence groups of which a person holds at most one offer code: Webex refuses Calling
/// Professional with Standard (400404) and CC Standard with Premium (400413).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LicenseGroup {
    Calling,
    ContactCenter,
}

pub fn group_of(offer_code: &str) -> Option<LicenseGroup> {
    if offer_code.starts_with("BC") {
        Some(LicenseGroup::Calling)
    } else if offer_code == CC_STANDARD || offer_code == CC_PREMIUM {
        Some(LicenseGroup::ContactCenter)
    } else {
        None
    }
}

/// One applicable template, as the merge sees it.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub name: &'a str,
    pub spec: &'a LicenseTemplateSpec,
}

/// The effective licence fields of a user and where each value comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    /// Licences other than Calling and Contact Center, each with its source. `None`: neither
    /// the user nor a template sets any.
    pub licenses: Option<Vec<(LicenseRef, String)>>,
    /// The Contact Center type with its source.
    pub contact_center: Option<(ContactCenterSpec, String)>,
    /// Templates disagreed on the Contact Center type and R-CC-2 decided.
    pub conflict_resolved: bool,
}

fn cc_rank(kind: ContactCenterType) -> u8 {
    match kind {
        ContactCenterType::Standard => 0,
        ContactCenterType::Premium => 1,
        ContactCenterType::PremiumSupervisor => 2,
    }
}

/// THE merge: the user's manual choices and the applicable templates (in any order) give the
/// effective licences with their provenance (rules in the module documentation).
pub fn effective_licenses(spec: &WebexUserSpec, templates: &[Grant<'_>]) -> Effective {
    let mut templates: Vec<Grant<'_>> = templates.to_vec();
    // Independent of the order the cache lists them in.
    templates.sort_by(|a, b| a.name.cmp(b.name));

    let licenses = match &spec.licenses {
        Some(manual) => Some(manual.iter().map(|l| (l.clone(), MANUAL.to_string())).collect()),
        None => {
            let mut merged: Vec<(LicenseRef, String)> = Vec::new();
            let mut any = false;
            for t in &templates {
                for l in &t.spec.licenses {
                    any = true;
                    if group_of(&l.offer_code).is_some() || merged.iter().any(|(m, _)| m.offer_code == l.offer_code) {
                        continue;
                    }
                    let license = LicenseRef {
                        offer_code: l.offer_code.clone(),
                        subscription_id: l.subscription_id.clone().or_else(|| t.spec.subscription_id.clone()),
                        site_url: l.site_url.clone(),
                    };
                    merged.push((license, template_source(t.name)));
                }
            }
            any.then_some(merged)
        }
    };

    let mut conflict_resolved = false;
    let contact_center = match &spec.contact_center {
        Some(manual) => Some((manual.clone(), MANUAL.to_string())),
        None => {
            let offered: Vec<(ContactCenterType, &Grant<'_>)> = templates
                .iter()
                .filter_map(|t| t.spec.contact_center.map(|k| (k, t)))
                .collect();
            let codes: std::collections::BTreeSet<&str> = offered.iter().map(|(k, _)| k.offer_code()).collect();
            conflict_resolved = codes.len() > 1;
            // Highest rank; among equals the first template by name.
            let best = offered
                .iter()
                .max_by(|(ka, ta), (kb, tb)| cc_rank(*ka).cmp(&cc_rank(*kb)).then(tb.name.cmp(ta.name)));
            best.map(|(kind, t)| {
                let has_admin_roles = spec.admin_roles.as_ref().is_some_and(|r| !r.is_empty());
                let kind = if *kind == ContactCenterType::PremiumSupervisor && has_admin_roles {
                    ContactCenterType::Premium // R-CC-3: the manual admin roles win
                } else {
                    *kind
                };
                (
                    ContactCenterSpec {
                        kind,
                        subscription_id: t.spec.subscription_id.clone(),
                    },
                    template_source(t.name),
                )
            })
        }
    };
    Effective {
        licenses,
        contact_center,
        conflict_resolved,
    }
}

/// The spec the WebexUser planner works on: the user's spec with the effective licence fields,
/// and the provenance of each offer code. `managed`: what the operator manages for the user now
/// (`status.effectiveLicenses`); when it holds template licences and no template applies any
/// more, the licence list becomes an empty managed list, so that they are removed.
pub fn effective_spec(
    spec: &WebexUserSpec,
    templates: &[Grant<'_>],
    managed: &[EffectiveLicense],
) -> (WebexUserSpec, BTreeMap<String, String>, bool) {
    let effective = effective_licenses(spec, templates);
    let mut sources = BTreeMap::new();
    let mut out = spec.clone();
    let had_template = managed.iter().any(|l| is_template_source(&l.source));
    out.licenses = match effective.licenses {
        Some(list) => {
            for (l, source) in &list {
                sources.entry(l.offer_code.clone()).or_insert_with(|| source.clone());
            }
            Some(list.into_iter().map(|(l, _)| l).collect())
        }
        None if had_template => Some(Vec::new()),
        None => None,
    };
    out.contact_center = effective.contact_center.map(|(cc, source)| {
        sources.insert(cc.kind.offer_code().to_string(), source);
        cc
    });
    if let Some(calling) = &spec.calling {
        sources.insert(calling.offer_code.clone(), MANUAL.to_string());
    }
    (out, sources, effective.conflict_resolved)
}

/// Whether `template` selects `user` by namespace, org and labels (not by age).
pub fn selects(template: &LicenseTemplate, user: &WebexUser) -> bool {
    if template.metadata.deletion_timestamp.is_some()
        || template.namespace() != user.namespace()
        || template.spec.org_ref != user.spec.org_ref
    {
        return false;
    }
    match &template.spec.selector {
        None => true,
        Some(selector) => Selector::try_from(selector.clone()).is_ok_and(|s| s.matches(user.labels())),
    }
}

/// "Users created after the template" (R-TPL-1, R-TPL-2): a user is new for a template when its
/// WebexUser was created at or after the template (Kubernetes creation timestamps, one-second
/// resolution) and its person was not adopted — an adopted person existed in Webex before, with
/// a profile someone may have customised. A person adopted because a UserClaim brought it into
/// the org counts as new: templates apply to claimed users when they are claimed (R-TPL-5).
pub fn is_new_for(template: &LicenseTemplate, user: &WebexUser, adopted: bool) -> bool {
    let claimed = user.labels().contains_key(crate::api::user_claim::CLAIM_LABEL);
    let adopted = adopted && !claimed;
    let (Some(t), Some(u)) = (
        template.metadata.creation_timestamp.as_ref(),
        user.metadata.creation_timestamp.as_ref(),
    ) else {
        // Not stored yet (no timestamps): not applicable until it is.
        return false;
    };
    !adopted && u.0 >= t.0
}

/// Whether `template` applies to `user` (R-TPL-1, R-TPL-2). Templates never see ExternalUsers:
/// they select WebexUsers only (R-TPL-5, R-EXT-3).
pub fn applies(template: &LicenseTemplate, user: &WebexUser, adopted: bool) -> bool {
    selects(template, user) && (template.spec.apply_to_existing_users || is_new_for(template, user, adopted))
}

/// The templates of `templates` that apply to `user`, as grants for the merge.
pub fn grants_for<'a>(
    templates: &'a [std::sync::Arc<LicenseTemplate>],
    user: &WebexUser,
    adopted: bool,
) -> Vec<Grant<'a>> {
    templates
        .iter()
        .filter(|t| applies(t, user, adopted))
        .map(|t| Grant {
            name: t.metadata.name.as_deref().unwrap_or_default(),
            spec: &t.spec,
        })
        .collect()
}

/// Status figures of one template over the users of its namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateTally {
    /// Users the template applies to.
    pub matched: i64,
    /// Of those, users that exist from before the template (changed only with the opt-in).
    pub existing: i64,
    /// Users for whom templates disagreed on Contact Center and Premium won (R-CC-2).
    pub conflicts_resolved: i64,
}

/// Counts, for `template`, the users it applies to, the existing ones among them, and the
/// Contact Center conflicts resolved for them. `all` are the templates of the namespace.
pub fn tally(template: &LicenseTemplate, all: &[&LicenseTemplate], users: &[&WebexUser]) -> TemplateTally {
    let mut t = TemplateTally::default();
    for user in users {
        let adopted = user.status.as_ref().and_then(|s| s.adopted).unwrap_or(false);
        if !applies(template, user, adopted) {
            continue;
        }
        t.matched += 1;
        if !is_new_for(template, user, adopted) {
            t.existing += 1;
        }
        let grants: Vec<Grant<'_>> = all
            .iter()
            .filter(|other| applies(other, user, adopted))
            .map(|other| Grant {
                name: other.metadata.name.as_deref().unwrap_or_default(),
                spec: &other.spec,
            })
            .collect();
        if effective_licenses(&user.spec, &grants).conflict_resolved {
            t.conflicts_resolved += 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::OrgRef;
    use crate::api::webex_user::{AdminRole, CallingSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, Time};
    use proptest::prelude::*;

    fn lref(code: &str) -> LicenseRef {
        LicenseRef {
            offer_code: code.into(),
            subscription_id: None,
            site_url: None,
        }
    }

    fn user_spec() -> WebexUserSpec {
        WebexUserSpec {
            org_ref: OrgRef { name: "acme".into() },
            email: "a@acme.example".into(),
            first_name: None,
            last_name: None,
            display_name: None,
            licenses: None,
            calling: None,
            contact_center: None,
            admin_roles: None,
            existing_user_policy: None,
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            calling_settings: None,
            tracking_codes: None,
            content_management: None,
        }
    }

    fn tpl(codes: &[&str], cc: Option<ContactCenterType>) -> LicenseTemplateSpec {
        LicenseTemplateSpec {
            org_ref: OrgRef { name: "acme".into() },
            selector: None,
            licenses: codes.iter().map(|c| lref(c)).collect(),
            contact_center: cc,
            subscription_id: None,
            apply_to_existing_users: false,
        }
    }

    fn codes(e: &Effective) -> Vec<(String, String)> {
        e.licenses
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(l, s)| (l.offer_code, s))
            .collect()
    }

    #[test]
    fn r_user_6_no_manual_choice_and_no_template_manages_nothing() {
        let e = effective_licenses(&user_spec(), &[]);
        assert_eq!(e.licenses, None);
        assert_eq!(e.contact_center, None);
        assert!(!e.conflict_resolved);
    }

    #[test]
    fn r_tpl_1_default_template_gives_its_licences_with_provenance() {
        let t = tpl(&["MS", "EE"], None);
        let e = effective_licenses(
            &user_spec(),
            &[Grant {
                name: "default",
                spec: &t,
            }],
        );
        assert_eq!(
            codes(&e),
            vec![
                ("MS".into(), "Template/default".into()),
                ("EE".into(), "Template/default".into())
            ]
        );
    }

    #[test]
    fn r_tpl_1_templates_merge_one_licence_per_offer_code_first_by_name() {
        let a = tpl(&["MS"], None);
        let b = tpl(&["MS", "EE"], None);
        // Given in reverse order: the result does not depend on it.
        let e = effective_licenses(
            &user_spec(),
            &[Grant { name: "b", spec: &b }, Grant { name: "a", spec: &a }],
        );
        assert_eq!(
            codes(&e),
            vec![("MS".into(), "Template/a".into()), ("EE".into(), "Template/b".into())]
        );
    }

    #[test]
    fn r_org_6_template_subscription_applies_unless_the_licence_names_its_own() {
        let mut t = tpl(&["MS"], Some(ContactCenterType::Standard));
        t.subscription_id = Some("sub-t".into());
        t.licenses.push(LicenseRef {
            offer_code: "EE".into(),
            subscription_id: Some("sub-own".into()),
            site_url: None,
        });
        let e = effective_licenses(&user_spec(), &[Grant { name: "t", spec: &t }]);
        let subs: Vec<Option<String>> = e
            .licenses
            .unwrap_or_default()
            .into_iter()
            .map(|(l, _)| l.subscription_id)
            .collect();
        assert_eq!(subs, vec![Some("sub-t".into()), Some("sub-own".into())]);
        assert_eq!(
            e.contact_center.map(|(cc, _)| cc.subscription_id),
            Some(Some("sub-t".into()))
        );
    }

    #[test]
    fn r_cc_2_r_tpl_3_premium_wins_over_standard_and_counts_a_conflict() {
        let std_t = tpl(&[], Some(ContactCenterType::Standard));
        let prm_t = tpl(&[], Some(ContactCenterType::Premium));
        for order in [[("a", &std_t), ("b", &prm_t)], [("a", &prm_t), ("b", &std_t)]] {
            let grants: Vec<Grant<'_>> = order.iter().map(|(n, s)| Grant { name: n, spec: s }).collect();
            let e = effective_licenses(&user_spec(), &grants);
            let (cc, source) = e.contact_center.expect("a Contact Center type");
            assert_eq!(cc.kind, ContactCenterType::Premium);
            assert_eq!(source, template_source(if order[0].1 == &prm_t { "a" } else { "b" }));
            assert!(e.conflict_resolved);
        }
    }

    #[test]
    fn same_contact_center_type_twice_is_no_conflict_and_first_name_wins() {
        let a = tpl(&[], Some(ContactCenterType::Premium));
        let b = tpl(&[], Some(ContactCenterType::Premium));
        let e = effective_licenses(
            &user_spec(),
            &[Grant { name: "b", spec: &b }, Grant { name: "a", spec: &a }],
        );
        assert!(!e.conflict_resolved);
        assert_eq!(e.contact_center.map(|(_, s)| s), Some("Template/a".into()));
    }

    #[test]
    fn premium_supervisor_wins_over_premium_but_not_over_manual_admin_roles() {
        let p = tpl(&[], Some(ContactCenterType::Premium));
        let s = tpl(&[], Some(ContactCenterType::PremiumSupervisor));
        let grants = [Grant { name: "p", spec: &p }, Grant { name: "s", spec: &s }];
        let e = effective_licenses(&user_spec(), &grants);
        assert_eq!(
            e.contact_center.map(|(cc, _)| cc.kind),
            Some(ContactCenterType::PremiumSupervisor)
        );
        assert!(!e.conflict_resolved, "same offer code: no licence conflict");
        // R-CC-3: a user with admin roles gets Premium without the supervisor role.
        let admin = WebexUserSpec {
            admin_roles: Some(vec![AdminRole::UserAdministrator]),
            ..user_spec()
        };
        let e = effective_licenses(&admin, &grants);
        assert_eq!(
            e.contact_center.map(|(cc, _)| cc.kind),
            Some(ContactCenterType::Premium)
        );
    }

    #[test]
    fn r_tpl_4_manual_licence_list_overrides_every_template_list() {
        let t = tpl(&["MS", "EE"], None);
        let manual = WebexUserSpec {
            licenses: Some(vec![lref("EE")]),
            ..user_spec()
        };
        let e = effective_licenses(&manual, &[Grant { name: "t", spec: &t }]);
        assert_eq!(codes(&e), vec![("EE".into(), MANUAL.into())]);
        // An empty manual list still overrides: the user wants none.
        let none = WebexUserSpec {
            licenses: Some(vec![]),
            ..user_spec()
        };
        assert_eq!(
            effective_licenses(&none, &[Grant { name: "t", spec: &t }]).licenses,
            Some(vec![])
        );
    }

    #[test]
    fn r_tpl_4_manual_contact_center_overrides_templates_even_downwards() {
        let t = tpl(&[], Some(ContactCenterType::Premium));
        let manual = WebexUserSpec {
            contact_center: Some(ContactCenterSpec {
                kind: ContactCenterType::Standard,
                subscription_id: None,
            }),
            ..user_spec()
        };
        let e = effective_licenses(&manual, &[Grant { name: "t", spec: &t }]);
        assert_eq!(
            e.contact_center.map(|(cc, s)| (cc.kind, s)),
            Some((ContactCenterType::Standard, MANUAL.into()))
        );
        assert!(!e.conflict_resolved);
    }

    #[test]
    fn manual_fields_override_separately() {
        // Manual licences, template Contact Center.
        let t = tpl(&["MS"], Some(ContactCenterType::Standard));
        let manual = WebexUserSpec {
            licenses: Some(vec![lref("EE")]),
            ..user_spec()
        };
        let e = effective_licenses(&manual, &[Grant { name: "t", spec: &t }]);
        assert_eq!(codes(&e), vec![("EE".into(), MANUAL.into())]);
        assert_eq!(e.contact_center.map(|(_, s)| s), Some("Template/t".into()));
    }

    #[test]
    fn calling_and_contact_center_codes_in_a_template_list_are_ignored() {
        let t = tpl(&["BCPRO", "CJPPRM", "MS"], None);
        let e = effective_licenses(&user_spec(), &[Grant { name: "t", spec: &t }]);
        assert_eq!(codes(&e), vec![("MS".into(), "Template/t".into())]);
        assert_eq!(e.contact_center, None);
    }

    #[test]
    fn effective_spec_records_provenance_and_keeps_manual_calling() {
        let t = tpl(&["MS"], Some(ContactCenterType::Premium));
        let spec = WebexUserSpec {
            calling: Some(CallingSpec {
                offer_code: "BCPRO".into(),
                subscription_id: None,
                location_id: None,
                phone_number: Some("+14085550101".into()),
                extension: None,
            }),
            ..user_spec()
        };
        let (out, sources, conflict) = effective_spec(&spec, &[Grant { name: "t", spec: &t }], &[]);
        assert_eq!(out.licenses, Some(vec![lref("MS")]));
        assert_eq!(out.contact_center.map(|c| c.kind), Some(ContactCenterType::Premium));
        assert_eq!(out.calling, spec.calling);
        assert!(!conflict);
        assert_eq!(
            sources,
            BTreeMap::from([
                ("MS".to_string(), "Template/t".to_string()),
                ("CJPPRM".to_string(), "Template/t".to_string()),
                ("BCPRO".to_string(), MANUAL.to_string()),
            ])
        );
    }

    #[test]
    fn effective_spec_manages_an_empty_list_when_template_licences_must_go() {
        let managed = vec![EffectiveLicense {
            offer_code: "MS".into(),
            id: "x".into(),
            source: "Template/gone".into(),
        }];
        let (out, _, _) = effective_spec(&user_spec(), &[], &managed);
        assert_eq!(out.licenses, Some(vec![]), "template licences are removed");
        let manual_only = vec![EffectiveLicense {
            source: MANUAL.into(),
            ..managed[0].clone()
        }];
        let (out, _, _) = effective_spec(&user_spec(), &[], &manual_only);
        assert_eq!(out.licenses, None, "without templates nothing changes for manual users");
    }

    fn meta_at(name: &str, seconds: i64, labels: &[(&str, &str)]) -> kube::api::ObjectMeta {
        kube::api::ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            creation_timestamp: Some(Time(jiff::Timestamp::from_second(seconds).unwrap_or_default())),
            labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        }
    }

    fn template_at(seconds: i64, selector: Option<LabelSelector>, existing: bool) -> LicenseTemplate {
        let mut spec = tpl(&["MS"], None);
        spec.selector = selector;
        spec.apply_to_existing_users = existing;
        LicenseTemplate {
            metadata: meta_at("t", seconds, &[]),
            spec,
            status: None,
        }
    }

    fn user_at(seconds: i64, labels: &[(&str, &str)]) -> WebexUser {
        WebexUser {
            metadata: meta_at("u", seconds, labels),
            spec: user_spec(),
            status: None,
        }
    }

    fn team(value: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: Some([("team".to_string(), value.to_string())].into()),
            match_expressions: None,
        })
    }

    #[test]
    fn r_tpl_1_selector_matches_labels_and_unset_selects_all() {
        let user = user_at(200, &[("team", "sales")]);
        assert!(applies(&template_at(100, None, false), &user, false));
        assert!(applies(&template_at(100, team("sales"), false), &user, false));
        assert!(!applies(&template_at(100, team("support"), false), &user, false));
        let expr = Some(LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "team".into(),
                operator: "In".into(),
                values: Some(vec!["sales".into(), "support".into()]),
            }]),
        });
        assert!(applies(&template_at(100, expr, false), &user, false));
    }

    #[test]
    fn selector_needs_same_namespace_and_org_and_a_live_template() {
        let user = user_at(200, &[]);
        let mut other_ns = template_at(100, None, false);
        other_ns.metadata.namespace = Some("elsewhere".into());
        assert!(!applies(&other_ns, &user, false));
        let mut other_org = template_at(100, None, false);
        other_org.spec.org_ref.name = "globex".into();
        assert!(!applies(&other_org, &user, false));
        let mut deleting = template_at(100, None, false);
        deleting.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::from_second(300).unwrap_or_default()));
        assert!(!applies(&deleting, &user, false));
    }

    #[test]
    fn r_tpl_2_existing_users_only_with_the_opt_in() {
        let older = user_at(50, &[]);
        let same_second = user_at(100, &[]);
        let newer = user_at(150, &[]);
        let t = template_at(100, None, false);
        assert!(
            !applies(&t, &older, false),
            "a user older than the template is existing"
        );
        assert!(
            applies(&t, &same_second, false),
            "created in the same second counts as new"
        );
        assert!(applies(&t, &newer, false));
        assert!(!applies(&t, &newer, true), "an adopted person existed before (R-TPL-2)");
        let opt_in = template_at(100, None, true);
        assert!(applies(&opt_in, &older, false));
        assert!(applies(&opt_in, &newer, true));
    }

    #[test]
    fn r_tpl_5_claimed_users_count_as_new_although_adopted() {
        let t = template_at(100, None, false);
        let claimed_later = user_at(150, &[(crate::api::user_claim::CLAIM_LABEL, "sales")]);
        assert!(applies(&t, &claimed_later, true), "claimed when the template existed");
        let claimed_before = user_at(50, &[(crate::api::user_claim::CLAIM_LABEL, "sales")]);
        assert!(
            !applies(&t, &claimed_before, true),
            "claimed before the template: existing"
        );
    }

    #[test]
    fn tally_counts_matched_existing_and_conflicts() {
        let mut a = template_at(100, None, true);
        a.metadata.name = Some("a".into());
        a.spec.contact_center = Some(ContactCenterType::Standard);
        let mut b = template_at(100, team("sales"), false);
        b.metadata.name = Some("b".into());
        b.spec.contact_center = Some(ContactCenterType::Premium);
        let users = [
            user_at(50, &[("team", "sales")]),
            user_at(150, &[("team", "sales")]),
            user_at(150, &[]),
        ];
        let users: Vec<&WebexUser> = users.iter().collect();
        let all = [&a, &b];
        assert_eq!(
            tally(&a, &all, &users),
            TemplateTally {
                matched: 3,
                existing: 1,
                conflicts_resolved: 1
            }
        );
        assert_eq!(
            tally(&b, &all, &users),
            TemplateTally {
                matched: 1,
                existing: 0,
                conflicts_resolved: 1
            }
        );
    }

    // Property tests of the merge: random templates and manual choices.

    const CODES: &[&str] = &["MS", "EE", "WXAW", "BCPRO", "BCSTD", "CJPSTD", "CJPPRM"];

    fn any_cc() -> impl Strategy<Value = Option<ContactCenterType>> {
        prop_oneof![
            Just(None),
            Just(Some(ContactCenterType::Standard)),
            Just(Some(ContactCenterType::Premium)),
            Just(Some(ContactCenterType::PremiumSupervisor)),
        ]
    }

    fn any_codes() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(proptest::sample::select(CODES).prop_map(String::from), 0..5)
    }

    fn any_template() -> impl Strategy<Value = LicenseTemplateSpec> {
        (any_codes(), any_cc(), proptest::option::of("sub-[ab]")).prop_map(|(codes, cc, sub)| LicenseTemplateSpec {
            subscription_id: sub,
            ..tpl(&codes.iter().map(String::as_str).collect::<Vec<_>>(), cc)
        })
    }

    fn any_user() -> impl Strategy<Value = WebexUserSpec> {
        (
            proptest::option::of(proptest::collection::vec(
                proptest::sample::select(&CODES[..3]).prop_map(String::from),
                0..3,
            )),
            any_cc(),
            any::<bool>(),
        )
            .prop_map(|(licenses, cc, admin)| WebexUserSpec {
                licenses: licenses.map(|l| l.iter().map(|c| lref(c)).collect()),
                contact_center: cc.map(|kind| ContactCenterSpec {
                    kind,
                    subscription_id: None,
                }),
                admin_roles: admin.then(|| vec![AdminRole::UserAdministrator]),
                ..user_spec()
            })
    }

    proptest! {
        #[test]
        fn prop_premium_always_wins(user in any_user(), templates in proptest::collection::vec(any_template(), 0..6)) {
            let names: Vec<String> = (0..templates.len()).map(|i| format!("t{i}")).collect();
            let grants: Vec<Grant<'_>> = templates.iter().zip(&names).map(|(spec, name)| Grant { name, spec }).collect();
            let e = effective_licenses(&user, &grants);
            let template_premium = templates.iter().any(|t| matches!(t.contact_center, Some(ContactCenterType::Premium | ContactCenterType::PremiumSupervisor)));
            if user.contact_center.is_none() && template_premium {
                let cc = e.contact_center.as_ref().map(|(cc, _)| cc.kind.offer_code());
                prop_assert_eq!(cc, Some(CC_PREMIUM));
            }
        }

        #[test]
        fn prop_manual_always_overrides(user in any_user(), templates in proptest::collection::vec(any_template(), 0..6)) {
            let names: Vec<String> = (0..templates.len()).map(|i| format!("t{i}")).collect();
            let grants: Vec<Grant<'_>> = templates.iter().zip(&names).map(|(spec, name)| Grant { name, spec }).collect();
            let e = effective_licenses(&user, &grants);
            if let Some(manual) = &user.licenses {
                let got: Vec<LicenseRef> = e.licenses.clone().unwrap_or_default().into_iter().map(|(l, _)| l).collect();
                prop_assert_eq!(&got, manual);
                prop_assert!(e.licenses.iter().flatten().all(|(_, s)| s == MANUAL));
            }
            if let Some(manual) = &user.contact_center {
                prop_assert_eq!(e.contact_center, Some((manual.clone(), MANUAL.to_string())));
            }
        }

        #[test]
        fn prop_never_two_offer_codes_of_one_group(user in any_user(), templates in proptest::collection::vec(any_template(), 0..6)) {
            let names: Vec<String> = (0..templates.len()).map(|i| format!("t{i}")).collect();
            let grants: Vec<Grant<'_>> = templates.iter().zip(&names).map(|(spec, name)| Grant { name, spec }).collect();
            let (spec, sources, _) = effective_spec(&user, &grants, &[]);
            let mut all: Vec<String> = spec.licenses.iter().flatten().map(|l| l.offer_code.clone()).collect();
            all.extend(spec.contact_center.iter().map(|cc| cc.kind.offer_code().to_string()));
            all.extend(spec.calling.iter().map(|c| c.offer_code.clone()));
            for group in [LicenseGroup::Calling, LicenseGroup::ContactCenter] {
                let distinct: std::collections::BTreeSet<&String> = all.iter().filter(|c| group_of(c) == Some(group)).collect();
                prop_assert!(distinct.len() <= 1, "{:?}: {:?}", group, distinct);
            }
            // Every effective offer code has a provenance.
            for code in &all {
                prop_assert!(sources.contains_key(code), "{} has no source", code);
            }
            // And a template licence list never duplicates an offer code.
            let mut seen = std::collections::BTreeSet::new();
            if user.licenses.is_none() {
                for code in spec.licenses.iter().flatten().map(|l| &l.offer_code) {
                    prop_assert!(seen.insert(code.clone()), "duplicate {}", code);
                }
            }
        }
    }
}
