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
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        let delay = self.delay(*n, webex_retry_after(error));
        Action::requeue(delay)
    }

    pub fn reset(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// Number of objects currently backing off.
    pub fn in_backoff(&self) -> usize {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
        exp.min(self.max).max(retry_after.unwrap_or_default())
    }
}

fn webex_retry_after(error: &ReconcileError) -> Option<Duration> {
    match error {
        ReconcileError::Webex { source, .. } => source.retry_after(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(b.delay(1, None), Duration::from_secs(1));
        assert_eq!(b.delay(3, None), Duration::from_secs(4));
        assert_eq!(b.delay(30, None), Duration::from_secs(10));
        assert_eq!(b.delay(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
    }

    #[test]
    fn terminal_errors_wait_for_a_change_and_reset_clears() {
        let b = Backoff::default();
        let terminal = ReconcileError::InvalidSpec("x".into());
        assert_eq!(b.on_error("a", &terminal), Action::await_change());
        assert_eq!(b.in_backoff(), 0);
        let retryable = ReconcileError::NotReady("org".into());
        assert_eq!(b.on_error("a", &retryable), Action::requeue(Duration::from_secs(1)));
        assert_eq!(b.on_error("a", &retryable), Action::requeue(Duration::from_secs(2)));
        assert_eq!(b.in_backoff(), 1);
        b.reset("a");
        assert_eq!(b.in_backoff(), 0);
    }
}
