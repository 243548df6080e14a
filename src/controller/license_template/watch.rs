//! The watch relation from LicenseTemplates to WebexUsers: a template change (spec, or its
//! deletion) re-reconciles the users of its namespace it applies to, and those that hold its
//! licences now. No polling.

use futures::{Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use std::sync::Arc;

use crate::controller::context::Context;
use crate::controller::guarded_watch;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};

use super::plan;
use crate::api::{LicenseTemplate, WebexUser};

/// Template changes that matter to users: spec changes and deletions. A deleted template is
/// handed on with a deletion timestamp (the watch's last copy may lack one), so that it selects
/// nobody and the change filter lets it through.
pub fn changes(ctx: &Arc<Context>) -> impl Stream<Item = Result<LicenseTemplate, watcher::Error>> + Send + use<> {
    guarded_watch::watch::<LicenseTemplate>(ctx, watcher::Config::default().any_semantic())
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => Some(Ok(t)),
                Ok(watcher::Event::Delete(mut t)) => {
                    t.metadata
                        .deletion_timestamp
                        .get_or_insert_with(|| Time(jiff::Timestamp::now()));
                    Some(Ok(t))
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(error) => Some(Err(error)),
            }
        })
        .predicate_filter(super::super::desired_state_changed, Default::default())
}

/// Maps a template to the WebexUsers to reconcile.
pub fn users_of(users: Store<WebexUser>) -> impl Fn(LicenseTemplate) -> Vec<ObjectRef<WebexUser>> + Send + Sync {
    move |template| {
        let source = plan::template_source(&template.name_any());
        let namespace = template.namespace();
        users
            .state_filter(|u| u.namespace() == namespace)
            .into_iter()
            .filter(|u| {
                let adopted = u.status.as_ref().and_then(|s| s.adopted).unwrap_or(false);
                plan::applies(&template, u, adopted)
                    || u.status
                        .as_ref()
                        .is_some_and(|s| s.effective_licenses.iter().any(|l| l.source == source))
            })
            .map(|u| ObjectRef::from_obj(u.as_ref()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::OrgRef;
    use crate::api::license_template::LicenseTemplateSpec;
    use crate::api::webex_user::{EffectiveLicense, WebexUserSpec, WebexUserStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
    use kube::runtime::reflector;

    fn meta(name: &str, ns: &str, second: i64, labels: &[(&str, &str)]) -> kube::api::ObjectMeta {
        kube::api::ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            creation_timestamp: Some(Time(jiff::Timestamp::from_second(second).unwrap_or_default())),
            labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        }
    }

    fn user(name: &str, ns: &str, labels: &[(&str, &str)], sources: &[&str]) -> WebexUser {
        WebexUser {
            metadata: meta(name, ns, 200, labels),
            spec: WebexUserSpec {
                org_ref: OrgRef { name: "acme".into() },
                email: format!("{name}@acme.example"),
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
            },
            status: Some(WebexUserStatus {
                effective_licenses: sources
                    .iter()
                    .map(|s| EffectiveLicense {
                        offer_code: "MS".into(),
                        id: "ms".into(),
                        source: s.to_string(),
                    })
                    .collect(),
                adopted: Some(false),
                ..Default::default()
            }),
        }
    }

    fn template(team: &str) -> LicenseTemplate {
        LicenseTemplate {
            metadata: meta("sales", "ns", 100, &[]),
            spec: LicenseTemplateSpec {
                org_ref: OrgRef { name: "acme".into() },
                selector: Some(LabelSelector {
                    match_labels: Some([("team".to_string(), team.to_string())].into()),
                    match_expressions: None,
                }),
                licenses: vec![],
                contact_center: None,
                subscription_id: None,
                apply_to_existing_users: false,
            },
            status: None,
        }
    }

    fn names(refs: Vec<ObjectRef<WebexUser>>) -> Vec<String> {
        let mut names: Vec<String> = refs.into_iter().map(|r| r.name).collect();
        names.sort();
        names
    }

    #[test]
    fn a_template_change_maps_to_the_users_it_applies_to_and_those_holding_its_licences() {
        let (store, mut writer) = reflector::store::<WebexUser>();
        let users = vec![
            user("sam", "ns", &[("team", "sales")], &[]),
            user("sue", "ns", &[("team", "support")], &["Template/sales"]),
            user("tom", "ns", &[("team", "support")], &["Template/other"]),
            user("oz", "elsewhere", &[("team", "sales")], &[]),
        ];
        writer.apply_watcher_event(&watcher::Event::Init);
        for u in &users {
            writer.apply_watcher_event(&watcher::Event::InitApply(u.clone()));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        let map = users_of(store);
        // Sam is selected now; Sue held its licences when it selected support (it must lose them).
        assert_eq!(names(map(template("sales"))), vec!["sam", "sue"]);
        // Deleted: only the holders of its licences.
        let mut deleted = template("sales");
        deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::from_second(300).unwrap_or_default()));
        assert_eq!(names(map(deleted)), vec!["sue"]);
    }
}
