//! Errors of the reconcilers. Each variant says whether retrying can help: terminal errors wait
//! for a spec change, retryable ones back off per object.

use crate::webex::error::WebexError;

#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ReconcileError {
    /// Reading or writing Kubernetes failed. Retryable.
    #[error("kubernetes request failed: {context}")]
    Kube {
        context: &'static str,
        #[source]
        source: kube::Error,
    },

    /// A Webex call failed; retryable or not as the Webex error says.
    #[error("webex call failed while trying to {action}")]
    Webex {
        action: &'static str,
        #[source]
        source: WebexError,
    },

    /// The object cannot work as written. Terminal.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    /// The WebexOrg the object names is missing or not Ready yet. Retryable.
    #[error("WebexOrg {org} is missing or not ready")]
    OrgNotReady { org: String },

    /// The WebexOrg's token Secret, or the key in it, does not exist (yet). Retryable.
    #[error("waiting for {0}")]
    TokenSecretMissing(String),

    /// A watch cache the decision needs has not listed its objects yet; deciding without it
    /// would read as "none exist". Retryable.
    #[error("the {kind} cache has not listed its objects yet (may the controller list and watch {kind}s?)")]
    CacheNotSynced { kind: &'static str },

    /// Objects the decision needs cannot be read by the controller's types (`guarded_watch`);
    /// deciding without them would read as "they do not exist". Retryable: fixed objects clear it.
    #[error(
        "the {kind}(s) {names} in this namespace cannot be read by the controller; fix or delete them (see their InvalidObject Events)"
    )]
    Unreadable { kind: &'static str, names: String },

    /// Webex answered 206: it applied only part of the change. Retryable: the next reconcile
    /// plans the rest.
    #[error("Webex applied only part of the {what} (206); retrying the rest")]
    PartiallyApplied { what: &'static str },

    /// Every round of writes asked for more writes. Retryable.
    #[error("Webex did not converge after {rounds} rounds of writes")]
    NotConverged { rounds: usize },

    /// A write planned on the org's listing found the person changed or gone: the listing was
    /// out of date. Retryable; the next reconcile reads the person afresh.
    #[error("the org's listing was out of date ({cause}); reading the person again")]
    StaleListing { cause: String },

    /// The mass-deprovisioning guard holds the operation. Retryable: approval or a new window
    /// releases it.
    #[error(
        "held by the mass-deprovisioning guard: {done_in_window} deprovisioning operations in this org within the window reached the limit of {limit}"
    )]
    DeprovisioningHeld { done_in_window: u32, limit: u32 },

    /// The deletion policy could not run and needs a change (for example `deletionPolicy:
    /// Orphan`). Terminal; the finalizer stays.
    #[error("the deletion policy could not run: {0}")]
    DeletionBlocked(String),

    /// The object has no namespace or name, which the API server never allows. Terminal.
    #[error("object has no {0}")]
    MissingMetadata(&'static str),

    /// Something outside the operator must happen first, at a known time (an external user's
    /// pending invitation blocks its removal until answered or expired, R-EXT-7). Retried after
    /// `retry_in` without growing the object's backoff.
    #[error("waiting: {what}")]
    WaitingUntil {
        what: String,
        retry_in: std::time::Duration,
    },
}

impl ReconcileError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Kube { .. }
            | Self::OrgNotReady { .. }
            | Self::TokenSecretMissing(_)
            | Self::CacheNotSynced { .. }
            | Self::Unreadable { .. }
            | Self::PartiallyApplied { .. }
            | Self::NotConverged { .. }
            | Self::StaleListing { .. }
            | Self::DeprovisioningHeld { .. }
            | Self::WaitingUntil { .. } => true,
            Self::DeletionBlocked(_) => false,
            Self::Webex { source, .. } => source.is_retryable(),
            Self::InvalidSpec(_) | Self::MissingMetadata(_) => false,
        }
    }

    /// A wait the operator expects and resolves by itself (a dependency getting ready, a 206's
    /// rest, a listing to refresh, a time to come): logged at info, not as a failure. The object
    /// waiting says so in its status; the dependency reports its own problem.
    pub fn is_expected_wait(&self) -> bool {
        matches!(
            self,
            Self::OrgNotReady { .. }
                | Self::CacheNotSynced { .. }
                | Self::PartiallyApplied { .. }
                | Self::StaleListing { .. }
                | Self::WaitingUntil { .. }
                | Self::DeprovisioningHeld { .. }
        )
    }

    /// Category for metrics and Event reasons (bounded set: the variant name).
    pub fn category(&self) -> &'static str {
        self.into()
    }

    /// The full cause chain, with the Webex tracking id, for conditions and logs.
    pub fn describe(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// The finalizer helper's errors, flattened back to the reconcile's own (style-anchors 2).
impl From<kube::runtime::finalizer::Error<ReconcileError>> for ReconcileError {
    fn from(error: kube::runtime::finalizer::Error<ReconcileError>) -> Self {
        use kube::runtime::finalizer::Error;
        match error {
            Error::ApplyFailed(e) | Error::CleanupFailed(e) => e,
            Error::AddFinalizer(source) | Error::RemoveFinalizer(source) => ReconcileError::Kube {
                context: "update the finalizer",
                source,
            },
            Error::UnnamedObject => ReconcileError::MissingMetadata("name"),
            Error::InvalidFinalizer => ReconcileError::InvalidSpec("invalid finalizer name".into()),
        }
    }
}

impl crate::telemetry::metrics::ReconcileFailure for ReconcileError {
    fn category(&self) -> &'static str {
        self.into()
    }
    fn is_retryable(&self) -> bool {
        ReconcileError::is_retryable(self)
    }
}

pub fn kube_err(context: &'static str) -> impl FnOnce(kube::Error) -> ReconcileError {
    move |source| ReconcileError::Kube { context, source }
}

pub fn webex_err(action: &'static str) -> impl FnOnce(WebexError) -> ReconcileError {
    move |source| ReconcileError::Webex { action, source }
}
