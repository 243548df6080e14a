//! The watch relation from LicenseTemplates to WebexUsers: a template change (spec, or its
//! deletion) re-reconciles the users of its namespace it applies to, and those that hold its
//! licences now. No polling.

use futures::{Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};

use super::plan;
use crate::api::{LicenseTemplate, WebexUser};

/// Template changes that matter to users: spec changes and deletions. A deleted template is
/// handed on with a deletion timestamp (the watch's last copy may lack one), so that it selects
/// nobody and the change filter lets it through.
pub fn changes(api: Api<LicenseTemplate>) -> impl Stream<Item = Result<LicenseTemplate, watcher::Error>> + Send {
    watcher(api, watcher::Config::default().any_semantic())
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
