//! Status conditions: the `metav1.Condition` shape, the two condition types every kind has
//! (`Ready` for kstatus / Flux / Argo CD, `Synced` for "the last reconcile reached Webex"),
//! and helpers that keep `lastTransitionTime` stable when nothing changed.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// The summary condition that kstatus, Flux and Argo CD read.
pub const READY: &str = "Ready";
/// Whether the last reconcile reached the backend.
pub const SYNCED: &str = "Synced";

/// A condition to set, before timestamps are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionUpdate {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

impl ConditionUpdate {
    pub fn new(type_: &'static str, status: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            type_,
            status,
            reason,
            message: message.into(),
        }
    }
}

/// Merges `updates` into `existing`: a condition whose status did not change keeps its
/// `lastTransitionTime`; every updated condition gets `observed_generation`.
pub fn merge(
    existing: &[Condition],
    updates: &[ConditionUpdate],
    observed_generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = existing
        .iter()
        .filter(|c| !updates.iter().any(|u| u.type_ == c.type_))
        .cloned()
        .collect();
    for update in updates {
        let status = if update.status { TRUE } else { FALSE };
        let previous = existing.iter().find(|c| c.type_ == update.type_);
        let last_transition_time = match previous {
            Some(prev) if prev.status == status => prev.last_transition_time.clone(),
            _ => Time(now),
        };
        out.push(Condition {
            type_: update.type_.to_string(),
            status: status.to_string(),
            reason: update.reason.to_string(),
            message: truncate(&update.message, 32 * 1024),
            last_transition_time,
            observed_generation,
        });
    }
    out.sort_by(|a, b| a.type_.cmp(&b.type_));
    out
}

/// Whether `update` says something `existing` does not yet (worth announcing with an Event,
/// once).
pub fn is_news(existing: &[Condition], update: &ConditionUpdate) -> bool {
    find(existing, update.type_).is_none_or(|c| {
        c.status != if update.status { TRUE } else { FALSE } || c.reason != update.reason || c.message != update.message
    })
}

/// Condition statuses (Kubernetes spells them as strings).
pub const TRUE: &str = "True";
pub const FALSE: &str = "False";

/// Whether the condition of `type_` is present and `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == TRUE)
}

/// Finds a condition by type.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn unchanged_status_keeps_its_transition_time() {
        let first = merge(
            &[],
            &[ConditionUpdate::new(READY, false, "InvitePending", "waiting")],
            Some(1),
            at(10),
        );
        let second = merge(
            &first,
            &[ConditionUpdate::new(READY, false, "InvitePending", "still waiting")],
            Some(2),
            at(20),
        );
        assert_eq!(second[0].last_transition_time, Time(at(10)));
        assert_eq!(second[0].observed_generation, Some(2));
        assert_eq!(second[0].message, "still waiting");
        let third = merge(
            &second,
            &[ConditionUpdate::new(READY, true, "Active", "ok")],
            Some(2),
            at(30),
        );
        assert_eq!(third[0].last_transition_time, Time(at(30)));
    }

    #[test]
    fn other_conditions_are_kept_and_sorted() {
        let first = merge(&[], &[ConditionUpdate::new(SYNCED, true, "Synced", "")], None, at(1));
        let both = merge(&first, &[ConditionUpdate::new(READY, true, "Active", "")], None, at(2));
        let types: Vec<_> = both.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, vec![READY, SYNCED]);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
