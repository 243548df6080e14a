//! Watches that survive an object the controller's types cannot read (written against a newer
//! CRD, or stored before a schema change). A plain typed watch fails its whole list on such an
//! object and retries forever: no object of the kind reconciles. Here the object is reported —
//! a WARN once per version, the `webex_operator_invalid_objects` gauge, a Warning Event
//! `InvalidObject` on it — and left out of the stream; every other object still reconciles.
//!
//! Left out means "not seen": the cache keeps the object's last readable version if it had one
//! (nothing is deleted in Webex: deletion only runs through the finalizer, on a readable object).
//! The WebexUser reconciler does not decide template licences in a namespace with an unreadable
//! LicenseTemplate ([`InvalidObjects::in_namespace`]): a template left out would look removed.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::core::DeserializeGuard;
use kube::core::error_boundary::InvalidObject;
use kube::runtime::watcher;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use super::context::Context;
use super::events::{EventAction, EventReason};

/// Unreadable objects of one kind: `namespace/name` → (uid, resourceVersion) last reported.
type Unreadable = BTreeMap<String, (String, String)>;

/// The unreadable objects the watches have seen, by kind.
#[derive(Debug, Default)]
pub struct InvalidObjects {
    by_kind: Mutex<BTreeMap<String, Unreadable>>,
}

impl InvalidObjects {
    /// Records `meta` as unreadable; true when this version was not reported yet.
    fn note(&self, kind: &str, meta: &kube::core::ObjectMeta) -> bool {
        let version = (
            meta.uid.clone().unwrap_or_default(),
            meta.resource_version.clone().unwrap_or_default(),
        );
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|p| p.into_inner());
        by_kind
            .entry(kind.to_owned())
            .or_default()
            .insert(key(meta), version.clone())
            != Some(version)
    }

    /// The object is readable again, or gone.
    fn clear(&self, kind: &str, meta: &kube::core::ObjectMeta) {
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(objects) = by_kind.get_mut(kind) {
            objects.remove(&key(meta));
        }
    }

    /// Unreadable objects of `kind` in `namespace`, by name.
    pub fn in_namespace(&self, kind: &str, namespace: &str) -> Vec<String> {
        let by_kind = self.by_kind.lock().unwrap_or_else(|p| p.into_inner());
        let prefix = format!("{namespace}/");
        by_kind
            .get(kind)
            .map(|objects| {
                objects
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Number of unreadable objects per kind (the gauge).
    pub fn counts(&self) -> Vec<(String, usize)> {
        let by_kind = self.by_kind.lock().unwrap_or_else(|p| p.into_inner());
        by_kind
            .iter()
            .map(|(kind, objects)| (kind.clone(), objects.len()))
            .collect()
    }
}

fn key(meta: &kube::core::ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default()
    )
}

/// `watcher(Api::<K>::all(client), config)`, without the objects that cannot be read as `K`.
pub fn watch<K>(
    ctx: &Arc<Context>,
    config: watcher::Config,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + use<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api: Api<DeserializeGuard<K>> = Api::all(ctx.client.clone());
    let ctx = ctx.clone();
    watcher::watcher(api, config).filter_map(move |event| {
        let ctx = ctx.clone();
        async move {
            let event = match event {
                Ok(event) => event,
                Err(error) => return Some(Err(error)),
            };
            let kind = K::kind(&()).into_owned();
            match event {
                watcher::Event::Apply(guard) => readable(&ctx, &kind, guard)
                    .await
                    .map(|object| Ok(watcher::Event::Apply(object))),
                watcher::Event::InitApply(guard) => readable(&ctx, &kind, guard)
                    .await
                    .map(|object| Ok(watcher::Event::InitApply(object))),
                watcher::Event::Delete(guard) => {
                    ctx.invalid.clear(&kind, guard.meta());
                    guard.0.ok().map(|object| Ok(watcher::Event::Delete(object)))
                }
                watcher::Event::Init => Some(Ok(watcher::Event::Init)),
                watcher::Event::InitDone => Some(Ok(watcher::Event::InitDone)),
            }
        }
    })
}

/// The object, or `None` (reported once per version) when it cannot be read.
async fn readable<K: Resource<DynamicType = ()>>(ctx: &Context, kind: &str, guard: DeserializeGuard<K>) -> Option<K> {
    match guard.0 {
        Ok(object) => {
            ctx.invalid.clear(kind, object.meta());
            Some(object)
        }
        Err(invalid) => {
            if ctx.invalid.note(kind, &invalid.metadata) {
                report::<K>(ctx, &invalid).await;
            }
            None
        }
    }
}

/// The objects of a watch stream for `Controller::watches_stream` (what `Controller::watches`
/// does with a plain watch).
pub fn touched<K>(
    ctx: &Arc<Context>,
    config: watcher::Config,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + use<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    use kube::runtime::WatchStreamExt as _;
    watch::<K>(ctx, config).default_backoff().touched_objects()
}

async fn report<K: Resource<DynamicType = ()>>(ctx: &Context, invalid: &InvalidObject) {
    let meta = &invalid.metadata;
    tracing::warn!(
        kind = %K::kind(&()),
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
        error = %invalid.error,
        "cannot read this object; it is left alone until it is fixed (the other objects of its kind reconcile)"
    );
    let reference = ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        ..ObjectReference::default()
    };
    let note = format!(
        "the controller cannot read this {}: {}; it is left alone until it is fixed",
        K::kind(&()),
        invalid.error
    );
    ctx.event(&reference, true, EventReason::InvalidObject, EventAction::Read, note)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(namespace: &str, name: &str, version: &str) -> kube::core::ObjectMeta {
        kube::core::ObjectMeta {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            resource_version: Some(version.into()),
            ..Default::default()
        }
    }

    #[test]
    fn each_unreadable_version_is_reported_once_and_cleared_when_fixed() {
        let invalid = InvalidObjects::default();
        assert!(invalid.note("LicenseTemplate", &meta("team", "bad", "1")));
        assert!(
            !invalid.note("LicenseTemplate", &meta("team", "bad", "1")),
            "same version"
        );
        assert!(
            invalid.note("LicenseTemplate", &meta("team", "bad", "2")),
            "edited, still bad"
        );
        assert_eq!(invalid.in_namespace("LicenseTemplate", "team"), vec!["bad".to_string()]);
        assert!(invalid.in_namespace("LicenseTemplate", "other").is_empty());
        assert!(invalid.in_namespace("WebexUser", "team").is_empty());
        assert_eq!(invalid.counts(), vec![("LicenseTemplate".to_string(), 1)]);
        invalid.clear("LicenseTemplate", &meta("team", "bad", "3"));
        assert!(invalid.in_namespace("LicenseTemplate", "team").is_empty());
        assert_eq!(invalid.counts(), vec![("LicenseTemplate".to_string(), 0)]);
    }
}
