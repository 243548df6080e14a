//! What every reconciler does the same way: the object's backoff key, the error policy (log,
//! then back off; style-anchors 3) and the backoff reset on success (one wrapper for every kind,
//! so both use the same key), the pause annotation, and running apply / cleanup under the
//! finalizer.

use futures::future::BoxFuture;
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
    let (kind, namespace, name) = (K::kind(&()), object.namespace().unwrap_or_default(), object.name_any());
    if error.is_expected_wait() {
        tracing::info!(%kind, namespace, %name, category = error.category(), error = %error.describe(), "waiting");
    } else {
        tracing::warn!(%kind, namespace, %name, category = error.category(), error = %error.describe(), "reconcile failed");
    }
    backoff.on_error(&object_key(object), error)
}

/// Wraps a kind's reconcile so that a success resets the object's backoff under the key
/// [`error_policy`] grows it under. Every controller in `controller::run` goes through it; no
/// reconciler resets by itself.
pub fn resetting_backoff<K, C, F, Fut>(
    mut reconcile: F,
    backoff: fn(&C) -> &Backoff,
) -> impl FnMut(Arc<K>, Arc<C>) -> BoxFuture<'static, Result<Action, ReconcileError>>
where
    K: Resource<DynamicType = ()> + Send + Sync + 'static,
    C: Send + Sync + 'static,
    F: FnMut(Arc<K>, Arc<C>) -> Fut,
    Fut: Future<Output = Result<Action, ReconcileError>> + Send + 'static,
{
    move |object, ctx| {
        let key = object_key(object.as_ref());
        let run = reconcile(object, ctx.clone());
        Box::pin(async move {
            let result = run.await;
            if result.is_ok() {
                backoff(&ctx).reset(&key);
            }
            result
        })
    }
}

/// Whether the pause annotation holds the object (any value but `false`).
pub fn is_paused<K: ResourceExt>(object: &K) -> bool {
    object.annotations().get(PAUSE_ANNOTATION).is_some_and(|v| v != "false")
}

/// Runs `apply` or, once the object is being deleted, `cleanup` under the operator's finalizer.
pub async fn with_finalizer<K, A, AFut, C, CFut>(
    client: &kube::Client,
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
    let outcome = finalizer(&api, USER_FINALIZER, object, |event| async {
        match event {
            FinalizerEvent::Apply(object) => apply(object).await,
            FinalizerEvent::Cleanup(object) => cleanup(object).await,
        }
    })
    .await;
    match outcome {
        // The finalizer patch tests the finalizer list it read: a cache older than our own
        // last finalizer write fails that test (422). The write that made it stale brings a new
        // version, which reconciles again; nothing failed.
        Err(kube::runtime::finalizer::Error::AddFinalizer(kube::Error::Api(status))) if status.code == 422 => {
            tracing::debug!("the finalizer list changed since the cache read it; reconciling the newer version");
            Ok(Action::requeue(std::time::Duration::from_secs(1)))
        }
        other => other.map_err(ReconcileError::from),
    }
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

    /// A retryable failure puts the object in backoff and the next success takes it out, for
    /// every kind: the WebexOrg reconciler used to reset under `acme` while the policy counted
    /// `WebexOrg/acme`, and LicenseTemplates were never reset.
    #[tokio::test]
    async fn a_success_resets_the_backoff_the_error_policy_grew_for_every_kind() {
        use crate::api::{ExternalUser, LicenseTemplate, UserClaim};
        fn object<K: Resource<DynamicType = ()> + DeserializeOwned>(kind: &str, namespaced: bool) -> K {
            let mut metadata = serde_json::json!({"name": "acme"});
            if namespaced {
                metadata["namespace"] = "team".into();
            }
            serde_json::from_value(serde_json::json!({
                "apiVersion": "webex.operator.io/v1alpha1", "kind": kind, "metadata": metadata,
                "spec": {"orgRef": {"name": "acme"}, "email": "a@acme.example", "emails": ["a@acme.example"],
                         "apiBaseUrl": "https://webexapis.com/v1", "tokenSecretRef": {"name": "t", "namespace": "x"},
                         "licenses": [], "sites": [{"siteUrl": "acme.webex.com", "accountType": "Host"}],
                         "acknowledgeAccountTransfer": true, "acknowledgePermanent": true}
            }))
            .expect(kind)
        }
        async fn fails_then_succeeds<K: Resource<DynamicType = ()> + Send + Sync + 'static>(object: K) {
            let backoff = Arc::new(Backoff::default());
            let failing = ReconcileError::OrgNotReady { org: "acme".into() };
            error_policy(&object, &failing, &backoff);
            assert_eq!(backoff.in_backoff(), 1, "{}", K::kind(&()));
            let mut reconcile = resetting_backoff(
                |_: Arc<K>, _: Arc<Arc<Backoff>>| async { Ok(Action::await_change()) },
                |b: &Arc<Backoff>| b.as_ref(),
            );
            reconcile(Arc::new(object), Arc::new(backoff.clone()))
                .await
                .expect("reconciled");
            assert_eq!(backoff.in_backoff(), 0, "{} left in backoff", K::kind(&()));
        }
        fails_then_succeeds(object::<WebexOrg>("WebexOrg", false)).await;
        fails_then_succeeds(object::<WebexUser>("WebexUser", true)).await;
        fails_then_succeeds(object::<LicenseTemplate>("LicenseTemplate", true)).await;
        fails_then_succeeds(object::<ExternalUser>("ExternalUser", true)).await;
        fails_then_succeeds(object::<UserClaim>("UserClaim", true)).await;
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
