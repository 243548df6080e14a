//! What every reconciler does the same way: the object's backoff key, the error policy (log,
//! then back off; style-anchors 3), the pause annotation, and running apply / cleanup under the
//! finalizer with the backoff reset on success.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backoff::Backoff;
use super::error::ReconcileError;
use crate::api::common::{PAUSE_ANNOTATION, USER_FINALIZER};

/// `Kind/namespace/name` (`Kind/name` when cluster-scoped): the object's key in the backoff.
pub fn object_key<K: Resource<DynamicType = ()>>(object: &K) -> String {
    match object.namespace() {
        Some(namespace) => format!("{}/{namespace}/{}", K::kind(&()), object.name_any()),
        None => format!("{}/{}", K::kind(&()), object.name_any()),
    }
}

/// The error policy of every kind: a warning naming the object, then the backoff's answer
/// (a growing delay for a retryable error, the next change for a terminal one).
pub fn error_policy<K: Resource<DynamicType = ()>>(object: &K, error: &ReconcileError, backoff: &Backoff) -> Action {
    tracing::warn!(
        kind = %K::kind(&()),
        namespace = object.namespace().unwrap_or_default(),
        name = %object.name_any(),
        category = error.category(),
        error = %error.describe(),
        "reconcile failed"
    );
    backoff.on_error(&object_key(object), error)
}

/// Whether the pause annotation holds the object (any value but `false`).
pub fn is_paused<K: ResourceExt>(object: &K) -> bool {
    object.annotations().get(PAUSE_ANNOTATION).is_some_and(|v| v != "false")
}

/// Runs `apply` or, once the object is being deleted, `cleanup` under the operator's finalizer,
/// and resets the object's backoff when that succeeds.
pub async fn with_finalizer<K, A, AFut, C, CFut>(
    client: &kube::Client,
    backoff: &Backoff,
    object: Arc<K>,
    apply: A,
    cleanup: C,
) -> Result<Action, ReconcileError>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
    A: FnOnce(Arc<K>) -> AFut,
    AFut: Future<Output = Result<Action, ReconcileError>>,
    C: FnOnce(Arc<K>) -> CFut,
    CFut: Future<Output = Result<Action, ReconcileError>>,
{
    let namespace = object.namespace().ok_or(ReconcileError::MissingMetadata("namespace"))?;
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    let key = object_key(object.as_ref());
    let result = finalizer(&api, USER_FINALIZER, object, |event| async {
        match event {
            FinalizerEvent::Apply(object) => apply(object).await,
            FinalizerEvent::Cleanup(object) => cleanup(object).await,
        }
    })
    .await
    .map_err(ReconcileError::from);
    if result.is_ok() {
        backoff.reset(&key);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{WebexOrg, WebexUser};

    #[test]
    fn keys_name_kind_namespace_and_object() {
        let mut user = WebexUser::new(
            "ann",
            serde_json::from_value(serde_json::json!({"orgRef": {"name": "acme"}, "email": "ann@acme.example"}))
                .expect("spec"),
        );
        user.metadata.namespace = Some("team".into());
        assert_eq!(object_key(&user), "WebexUser/team/ann");
        let org = WebexOrg::new("acme", serde_json::from_value(serde_json::json!({"apiBaseUrl": "http://127.0.0.1:8787", "tokenSecretRef": {"name": "t", "namespace": "x"}})).expect("spec"));
        assert_eq!(object_key(&org), "WebexOrg/acme");
    }

    #[test]
    fn only_false_unpauses() {
        let mut user = WebexUser::new(
            "ann",
            serde_json::from_value(serde_json::json!({"orgRef": {"name": "acme"}, "email": "ann@acme.example"}))
                .expect("spec"),
        );
        assert!(!is_paused(&user));
        user.annotations_mut().insert(PAUSE_ANNOTATION.into(), "true".into());
        assert!(is_paused(&user));
        user.annotations_mut().insert(PAUSE_ANNOTATION.into(), "false".into());
        assert!(!is_paused(&user));
    }
}
