//! The reconcilers, one folder per kind (`plan.rs`: pure decisions; `mod.rs`: I/O), and `run`,
//! which starts them all.

pub mod backoff;
pub mod context;
pub mod drift;
pub mod error;
pub mod events;
pub mod external_user;
pub mod guard;
pub mod guarded_watch;
pub mod license_template;
pub mod listing;
pub mod org_registry;
pub mod reconciler;
pub mod runtime;
pub mod shared;
pub mod user_claim;
pub mod webex_org;
pub mod webex_user;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Resource;
use kube::api::Api;
use kube::runtime::{Controller, WatchStreamExt, reflector, reflector::ObjectRef, watcher};
use kube::{CustomResourceExt, ResourceExt};

use crate::api::conditions::{self, READY};
use crate::api::{ExternalUser, LicenseTemplate, UserClaim, WebexOrg, WebexUser};
use crate::telemetry::metrics::{Kind, instrument};
pub use context::{Context, RunOptions};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the CRD {name} is not installed or not established; apply crds/ first")]
    CrdMissing {
        name: String,
        #[source]
        source: kube::runtime::wait::Error,
    },
    #[error("timed out waiting for the CRD {0} to be established")]
    CrdTimeout(String),
}

/// Resolves when the process should stop; every controller shuts down gracefully on it.
type Shutdown = futures::future::Shared<BoxFuture<'static, ()>>;

/// One controller, running until [`Shutdown`].
type Running = BoxFuture<'static, ()>;

/// Runs every controller until SIGINT/SIGTERM (or `shutdown` resolves).
pub async fn run(
    client: kube::Client,
    options: RunOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), RunError> {
    wait_for_crds(&client).await?;
    let ctx = Arc::new(Context::new(client, options));
    let shutdown: Shutdown = FutureExt::shared(Box::pin(shutdown) as BoxFuture<'static, ()>);

    let (org_controller, orgs) = org_controller(&ctx, &shutdown);
    // The LicenseTemplates cache serves the WebexUser reconciler: set before users start.
    let (template_reader, template_writer) = reflector::store();
    let _ = ctx.templates.set(template_reader.clone());
    let users = UserParts::new(&ctx);
    let template_controller = template_controller(&ctx, &shutdown, template_writer, template_reader, &users.store);
    let user_store = users.store.clone();
    let (drift_tx, drift_rx) = futures::channel::mpsc::channel(1024);
    let drift = tokio::spawn(drift::run(ctx.clone(), user_store.clone(), drift_tx));
    let user_controller = user_controller(&ctx, &shutdown, users, drift_rx);
    let (external_controller, externals, accepted_watch) = external_controller(&ctx, &shutdown);
    let claim_controller = claim_controller(&ctx, &shutdown);

    observe_caches(&ctx, orgs, user_store, externals);
    tracing::info!("controllers started");
    futures::join!(
        org_controller,
        user_controller,
        external_controller,
        template_controller,
        claim_controller
    );
    drift.abort();
    accepted_watch.abort();
    tracing::info!("controllers stopped");
    Ok(())
}

/// Logs a reconcile error at debug level (the error policy already warned).
fn drain<T, E: std::fmt::Display>(kind: &'static str) -> impl FnMut(Result<T, E>) -> futures::future::Ready<()> {
    move |result| {
        if let Err(error) = result {
            tracing::debug!(%error, kind, "reconcile error");
        }
        futures::future::ready(())
    }
}

/// The object refs of `store` whose `org_name` is `org`.
fn using_org<K: Resource<DynamicType = ()> + Clone + 'static>(
    store: &reflector::Store<K>,
    org: &str,
    org_name: impl Fn(&K) -> &str,
) -> Vec<ObjectRef<K>> {
    store
        .state()
        .into_iter()
        .filter(|o| org_name(o) == org)
        .map(|o| ObjectRef::from_obj(&*o))
        .collect()
}

fn org_controller(ctx: &Arc<Context>, shutdown: &Shutdown) -> (Running, reflector::Store<WebexOrg>) {
    // Every watch goes through `guarded_watch`: one object the types cannot read must not stop
    // its kind.
    let (org_reader, org_writer) = reflector::store();
    let org_changes = guarded_watch::watch::<WebexOrg>(ctx, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(org_writer)
        .inspect(crate::telemetry::on_watch_event(Kind::WebexOrg))
        .applied_objects()
        .predicate_filter(desired_state_changed, Default::default());
    let running = Controller::for_stream(org_changes, org_reader.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(
            instrument(
                Kind::WebexOrg,
                shared::resetting_backoff(webex_org::reconcile, |c: &Context| &c.backoff),
            ),
            webex_org::error_policy,
            ctx.clone(),
        )
        .for_each(drain("WebexOrg"));
    (running.boxed(), org_reader)
}

fn template_controller(
    ctx: &Arc<Context>,
    shutdown: &Shutdown,
    writer: reflector::store::Writer<LicenseTemplate>,
    reader: reflector::Store<LicenseTemplate>,
    users: &reflector::Store<WebexUser>,
) -> Running {
    let template_changes = guarded_watch::watch::<LicenseTemplate>(ctx, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(desired_state_changed, Default::default());
    Controller::for_stream(template_changes, reader.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(
            shared::resetting_backoff(license_template::reconcile, |c: &license_template::TemplateContext| {
                &c.ctx.backoff
            }),
            license_template::error_policy,
            Arc::new(license_template::TemplateContext {
                ctx: ctx.clone(),
                users: users.clone(),
                templates: reader,
            }),
        )
        .for_each(drain("LicenseTemplate"))
        .boxed()
}

/// The WebexUser controller before it runs: its store serves drift detection and the template
/// controller first.
struct UserParts {
    controller: Controller<WebexUser>,
    store: reflector::Store<WebexUser>,
}

impl UserParts {
    fn new(ctx: &Arc<Context>) -> Self {
        let (user_reader, user_writer) = reflector::store();
        let user_changes = guarded_watch::watch::<WebexUser>(ctx, watcher::Config::default().any_semantic())
            .default_backoff()
            // Nothing reads managedFields; at 10,000 users they were a large part of the cache.
            .modify(|user| user.managed_fields_mut().clear())
            .reflect(user_writer)
            .inspect(crate::telemetry::on_watch_event(Kind::WebexUser))
            .applied_objects()
            .predicate_filter(desired_state_changed, Default::default());
        let controller = Controller::for_stream(user_changes, user_reader);
        let store = controller.store();
        Self { controller, store }
    }
}

fn user_controller(
    ctx: &Arc<Context>,
    shutdown: &Shutdown,
    users: UserParts,
    drift: futures::channel::mpsc::Receiver<ObjectRef<WebexUser>>,
) -> Running {
    let user_store = users.store.clone();
    let template_user_store = users.store.clone();
    let user_org_triggers = OrgTriggers::default();
    users
        .controller
        // A WebexOrg that becomes ready (or changes) re-reconciles the users that use it.
        .watches_stream(
            guarded_watch::touched::<WebexOrg>(ctx, watcher::Config::default()),
            move |org| {
                let name = org.name_any();
                // Only a change that matters to users (spec, readiness, org id) re-reconciles them;
                // licence counts moving as people sign in do not.
                if !user_org_triggers.changed(&org) {
                    // Licence units moved: users waiting for a seat look again (R-USER-10).
                    return user_store
                        .state()
                        .into_iter()
                        .filter(|u| u.spec.org_ref.name == name && webex_user::waits_for_seat(u))
                        .map(|u| ObjectRef::from_obj(&*u))
                        .collect::<Vec<_>>();
                }
                using_org(&user_store, &name, |u: &WebexUser| &u.spec.org_ref.name)
            },
        )
        // A template change re-reconciles the users it applies to and the users holding its
        // licences (it may no longer match them).
        .watches_stream(
            license_template::watch::changes(ctx),
            license_template::watch::users_of(template_user_store),
        )
        // Drift detection hands over the users whose person changed in Webex.
        .reconcile_on(drift)
        .graceful_shutdown_on(shutdown.clone())
        .run(
            instrument(
                Kind::WebexUser,
                shared::resetting_backoff(webex_user::reconcile, |c: &Context| &c.backoff),
            ),
            webex_user::error_policy,
            ctx.clone(),
        )
        .for_each(drain("WebexUser"))
        .boxed()
}

/// ExternalUsers: an org that becomes ready (or changes) re-reconciles its ExternalUsers;
/// accepted host invitations come from the per-org licence listing (the returned task).
fn external_controller(
    ctx: &Arc<Context>,
    shutdown: &Shutdown,
) -> (Running, reflector::Store<ExternalUser>, tokio::task::JoinHandle<()>) {
    let (external_reader, external_writer) = reflector::store();
    let external_changes = guarded_watch::watch::<ExternalUser>(ctx, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(external_writer)
        .inspect(crate::telemetry::on_watch_event(Kind::ExternalUser))
        .applied_objects()
        .predicate_filter(desired_state_changed, Default::default());
    let controller = Controller::for_stream(external_changes, external_reader);
    let external_store = controller.store();
    let (accepted_tx, accepted_rx) = futures::channel::mpsc::channel(1024);
    let accepted_watch = tokio::spawn(external_user::watch::run(
        ctx.clone(),
        external_store.clone(),
        accepted_tx,
    ));
    let triggers = OrgTriggers::default();
    let store = external_store.clone();
    let running = controller
        .watches_stream(
            guarded_watch::touched::<WebexOrg>(ctx, watcher::Config::default()),
            move |org| {
                if !triggers.changed(&org) {
                    return Vec::new();
                }
                using_org(&store, &org.name_any(), |u: &ExternalUser| &u.spec.org_ref.name)
            },
        )
        .reconcile_on(accepted_rx)
        .graceful_shutdown_on(shutdown.clone())
        .run(
            instrument(
                Kind::ExternalUser,
                shared::resetting_backoff(external_user::reconcile, |c: &Context| &c.backoff),
            ),
            external_user::error_policy,
            ctx.clone(),
        )
        .for_each(drain("ExternalUser"));
    (running.boxed(), external_store, accepted_watch)
}

/// UserClaims: an org that becomes ready (or changes) re-reconciles its claims; Webex-side
/// changes (a user's choice, the 14 days) are seen by each claim's own requeue at its next
/// deadline, at most once per resync.
fn claim_controller(ctx: &Arc<Context>, shutdown: &Shutdown) -> Running {
    let (claim_reader, claim_writer) = reflector::store();
    let claim_changes = guarded_watch::watch::<UserClaim>(ctx, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|claim| claim.managed_fields_mut().clear())
        .reflect(claim_writer)
        .inspect(crate::telemetry::on_watch_event(Kind::UserClaim))
        .applied_objects()
        .predicate_filter(desired_state_changed, Default::default());
    let controller = Controller::for_stream(claim_changes, claim_reader);
    let store = controller.store();
    let triggers = OrgTriggers::default();
    controller
        .watches_stream(
            guarded_watch::touched::<WebexOrg>(ctx, watcher::Config::default()),
            move |org| {
                if !triggers.changed(&org) {
                    return Vec::new();
                }
                using_org(&store, &org.name_any(), |c: &UserClaim| &c.spec.org_ref.name)
            },
        )
        .graceful_shutdown_on(shutdown.clone())
        .run(
            instrument(
                Kind::UserClaim,
                shared::resetting_backoff(user_claim::reconcile, |c: &Context| &c.backoff),
            ),
            user_claim::error_policy,
            ctx.clone(),
        )
        .for_each(drain("UserClaim"))
        .boxed()
}

/// The object gauges read the controllers' caches, the backoff table and the unreadable objects.
fn observe_caches(
    ctx: &Arc<Context>,
    orgs: reflector::Store<WebexOrg>,
    users: reflector::Store<WebexUser>,
    externals: reflector::Store<ExternalUser>,
) {
    let Some(metrics) = crate::telemetry::metrics::global() else {
        return;
    };
    metrics.observe_kind(Kind::WebexOrg, orgs, |org: &WebexOrg| {
        let conds = org.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
        (String::new(), conditions::find(conds, READY))
    });
    metrics.observe_kind(Kind::WebexUser, users, |user: &WebexUser| {
        let status = user.status.as_ref();
        let state = status
            .and_then(|s| s.state.as_ref())
            .map(|s| format!("{s:?}"))
            .unwrap_or_default();
        let conds = status.map(|s| s.conditions.as_slice()).unwrap_or_default();
        (state, conditions::find(conds, READY))
    });
    metrics.observe_kind(Kind::ExternalUser, externals, |external: &ExternalUser| {
        let status = external.status.as_ref();
        let invitation = status
            .and_then(|s| s.invitation)
            .map(|i| format!("{i:?}"))
            .unwrap_or_default();
        let conds = status.map(|s| s.conditions.as_slice()).unwrap_or_default();
        (invitation, conditions::find(conds, READY))
    });
    let invalid_ctx = ctx.clone();
    metrics.observe_invalid(Arc::new(move || invalid_ctx.invalid.counts()));
    let backoff_ctx = ctx.clone();
    metrics.observe_backoff(Arc::new(move || backoff_ctx.backoff.in_backoff()));
}

/// What a reconcile depends on in the object itself: spec (generation), annotations (pause,
/// reconcile-now), labels (template selectors), finalizers and deletion. Status writes (our
/// own) do not re-trigger a reconcile; requeues and Webex-side events do the rest.
fn desired_state_changed<K: Resource>(object: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = object.meta();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut hasher);
    meta.annotations.hash(&mut hasher);
    // Labels: LicenseTemplates select WebexUsers by them (R-TPL-1).
    meta.labels.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// Each WebexOrg's last [`org_trigger_key`]: an org's watch event re-reconciles the objects
/// that use it only when the key changed (licence counts moving as people sign in do not).
#[derive(Default)]
struct OrgTriggers(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl OrgTriggers {
    /// Whether `org` changed in a way that matters to the objects using it; remembers it.
    fn changed(&self, org: &WebexOrg) -> bool {
        let key = org_trigger_key(org);
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.get(&org.name_any()) == Some(&key) {
            return false;
        }
        seen.insert(org.name_any(), key);
        true
    }
}

fn org_trigger_key(org: &WebexOrg) -> String {
    let status = org.status.clone().unwrap_or_default();
    let ready =
        crate::api::conditions::find(&status.conditions, crate::api::conditions::READY).map(|c| c.status.clone());
    format!("{:?}/{:?}/{:?}", org.metadata.generation, ready, status.org_id)
}

/// Fails fast when the CRDs are missing (style-anchors 14).
async fn wait_for_crds(client: &kube::Client) -> Result<(), RunError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in [
        WebexOrg::crd_name(),
        WebexUser::crd_name(),
        ExternalUser::crd_name(),
        LicenseTemplate::crd_name(),
        UserClaim::crd_name(),
    ] {
        let established = kube::runtime::wait::await_condition(
            crds.clone(),
            name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        match tokio::time::timeout(Duration::from_secs(30), established).await {
            Ok(Ok(_)) => {}
            Ok(Err(source)) => {
                return Err(RunError::CrdMissing {
                    name: name.to_string(),
                    source,
                });
            }
            Err(_) => return Err(RunError::CrdTimeout(name.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The API types and the wire name the Contact Center offer codes separately (neither layer
    /// imports the other); they must not drift apart.
    #[test]
    fn contact_center_offer_codes_agree_between_api_and_wire() {
        use crate::webex::model::offer_codes;
        assert_eq!(crate::api::common::CC_STANDARD, offer_codes::CONTACT_CENTER_STANDARD);
        assert_eq!(crate::api::common::CC_PREMIUM, offer_codes::CONTACT_CENTER_PREMIUM);
    }
}
