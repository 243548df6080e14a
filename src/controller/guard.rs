//! The mass-deprovisioning guard (the Entra "accidental deletions" threshold, the Kubernetes
//! way): per org, more than a number (or share of the org's people) of deletions,
//! deactivations and licence removals within a window are held, with a condition and an Event
//! naming them, until each held object is approved with the
//! `webex.operator.io/approve-deprovisioning: "true"` annotation.
//!
//! The ledger lives in the controller's memory (the leader's): a restart starts a new window.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// The annotation that releases a held deprovisioning of one object.
pub const APPROVE_ANNOTATION: &str = "webex.operator.io/approve-deprovisioning";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    pub max_operations: u32,
    /// Share of the org's people (percent) that may be deprovisioned in one window; the lower
    /// of the two limits applies.
    pub max_percent: Option<u32>,
    pub window: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            max_operations: 25,
            max_percent: None,
            window: Duration::from_secs(3600),
        }
    }
}

/// A held operation: how many went through in the window, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub done_in_window: u32,
    pub limit: u32,
    /// False when the object was already held (an Event was already sent).
    pub newly_held: bool,
}

#[derive(Debug, Default)]
pub struct Ledger {
    done: VecDeque<Instant>,
    held: BTreeSet<String>,
}

/// The number of operations allowed per window for an org of `people` people.
pub fn limit(config: GuardConfig, people: usize) -> u32 {
    let by_share = config.max_percent.map(|pct| {
        let share = (people as u64 * u64::from(pct)).div_ceil(100);
        u32::try_from(share).unwrap_or(u32::MAX).max(1)
    });
    by_share.map_or(config.max_operations, |s| s.min(config.max_operations))
}

impl Ledger {
    /// Records one deprovisioning operation of `object` if the window has room (or it is
    /// approved); otherwise holds it.
    pub fn admit(
        &mut self,
        object: &str,
        now: Instant,
        config: GuardConfig,
        people: usize,
        approved: bool,
    ) -> Result<(), Held> {
        while self
            .done
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= config.window)
        {
            self.done.pop_front();
        }
        let limit = limit(config, people);
        let done_in_window = u32::try_from(self.done.len()).unwrap_or(u32::MAX);
        if approved || done_in_window < limit {
            self.done.push_back(now);
            self.held.remove(object);
            Ok(())
        } else {
            let newly_held = self.held.insert(object.to_string());
            Err(Held {
                done_in_window,
                limit,
                newly_held,
            })
        }
    }

    /// Forgets a held object (deleted, or no longer deprovisioning).
    pub fn release(&mut self, object: &str) {
        self.held.remove(object);
    }

    /// The objects held now, sorted.
    pub fn held(&self) -> Vec<String> {
        self.held.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max: u32) -> GuardConfig {
        GuardConfig {
            max_operations: max,
            max_percent: None,
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn operations_beyond_the_limit_are_held_until_approved() {
        let mut ledger = Ledger::default();
        let now = Instant::now();
        for i in 0..3 {
            assert!(ledger.admit(&format!("u{i}"), now, config(3), 100, false).is_ok());
        }
        let held = |newly_held| {
            Err(Held {
                done_in_window: 3,
                limit: 3,
                newly_held,
            })
        };
        assert_eq!(ledger.admit("u3", now, config(3), 100, false), held(true));
        assert_eq!(ledger.admit("u4", now, config(3), 100, false), held(true));
        assert_eq!(ledger.admit("u4", now, config(3), 100, false), held(false));
        assert_eq!(ledger.held(), vec!["u3".to_string(), "u4".to_string()]);
        assert!(
            ledger.admit("u3", now, config(3), 100, true).is_ok(),
            "approval releases it"
        );
        assert_eq!(ledger.held(), vec!["u4".to_string()]);
    }

    #[test]
    fn the_window_slides() {
        let mut ledger = Ledger::default();
        let start = Instant::now();
        assert!(ledger.admit("a", start, config(1), 10, false).is_ok());
        assert!(
            ledger
                .admit("b", start + Duration::from_secs(30), config(1), 10, false)
                .is_err()
        );
        assert!(
            ledger
                .admit("b", start + Duration::from_secs(61), config(1), 10, false)
                .is_ok()
        );
    }

    #[test]
    fn the_lower_of_count_and_share_applies() {
        let share = GuardConfig {
            max_operations: 25,
            max_percent: Some(10),
            window: Duration::from_secs(60),
        };
        assert_eq!(limit(share, 50), 5);
        assert_eq!(limit(share, 1000), 25);
        assert_eq!(limit(share, 3), 1, "never zero");
        assert_eq!(limit(config(7), 0), 7);
    }
}
