//! Per-object exponential backoff for retryable errors; terminal errors wait for a change.
//! (style-anchors 3: wrap the error policy, reset on success.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kube::runtime::controller::Action;

use super::error::ReconcileError;

#[derive(Debug)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
    base: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(300))
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            base,
            max,
        }
    }

    /// The action after `error` for the object `key`: requeue with a growing delay, or wait
    /// for the next change when retrying cannot help.
    pub fn on_error(&self, key: &str, error: &ReconcileError) -> Action {
        if !error.is_retryable() {
            return Action::await_change();
        }
        // Webex said when to come back (429 / 423 Retry-After): that is not the object's fault,
        // so honour the wait as given and do not grow the object's backoff.
        if let Some(wait) = webex_retry_after(error) {
            return Action::requeue(wait.clamp(Duration::from_secs(1), self.max));
        }
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        let delay = self.delay(*n);
        Action::requeue(delay)
    }

    pub fn reset(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// Number of objects currently backing off.
    pub fn in_backoff(&self) -> usize {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn delay(&self, failures: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
        exp.min(self.max)
    }
}

fn webex_retry_after(error: &ReconcileError) -> Option<Duration> {
    match error {
        ReconcileError::Webex { source, .. } => source.retry_after(),
        ReconcileError::WaitingUntil { retry_in, .. } => Some(*retry_in),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(b.delay(1), Duration::from_secs(1));
        assert_eq!(b.delay(3), Duration::from_secs(4));
        assert_eq!(b.delay(30), Duration::from_secs(10));
    }

    #[test]
    fn terminal_errors_wait_for_a_change_and_reset_clears() {
        let b = Backoff::default();
        let terminal = ReconcileError::InvalidSpec("x".into());
        assert_eq!(b.on_error("a", &terminal), Action::await_change());
        assert_eq!(b.in_backoff(), 0);
        let retryable = ReconcileError::OrgNotReady { org: "acme".into() };
        assert_eq!(b.on_error("a", &retryable), Action::requeue(Duration::from_secs(1)));
        assert_eq!(b.on_error("a", &retryable), Action::requeue(Duration::from_secs(2)));
        assert_eq!(b.in_backoff(), 1);
        b.reset("a");
        assert_eq!(b.in_backoff(), 0);
    }

    #[test]
    fn retry_after_is_honoured_without_growing_the_backoff() {
        let b = Backoff::default();
        let throttled = ReconcileError::Webex {
            action: "list",
            source: crate::webex::error::WebexError::Api {
                endpoint: "GET /v1/people".into(),
                status: 429,
                message: "slow down".into(),
                error_codes: vec![],
                tracking_id: None,
                retry_after: Some(Duration::from_secs(7)),
            },
        };
        for _ in 0..5 {
            assert_eq!(b.on_error("a", &throttled), Action::requeue(Duration::from_secs(7)));
        }
        assert_eq!(b.in_backoff(), 0);
    }
}
