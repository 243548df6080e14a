//! One API budget per Webex org, shared by every call made for that org (design §3).
//!
//! A token bucket refilled at the configured rate. A 429 pauses every caller until the
//! `Retry-After` has passed and halves the rate; each success wins a little of it back
//! (additive increase, multiplicative decrease). User-driven calls go before background ones
//! (drift checks): a background caller waits while a user-driven one is waiting.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Who is asking: a change a user asked for, or the operator's own checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    #[default]
    UserDriven,
    Background,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// Sustained calls per second.
    pub requests_per_second: f64,
    /// Calls that may go at once after a quiet spell.
    pub burst: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            requests_per_second: 10.0,
            burst: 20,
        }
    }
}

/// What the budget looks like now, for status and metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSnapshot {
    pub configured_rate: f64,
    pub current_rate: f64,
    pub available: f64,
    /// Time left in a 429 pause.
    pub paused_for: Option<Duration>,
    pub throttled_total: u64,
    pub waited_total: u64,
}

#[derive(Debug)]
struct Bucket {
    config: BudgetConfig,
    rate: f64,
    tokens: f64,
    refilled_at: Instant,
    paused_until: Option<Instant>,
    user_waiting: usize,
    /// User-driven callers queued behind the head of their queue.
    user_queued: usize,
    throttled_total: u64,
    waited_total: u64,
}

#[derive(Debug)]
pub struct Budget {
    bucket: Mutex<Bucket>,
    /// Callers queue here, first come first served, one queue per priority: only the head of
    /// each queue polls the bucket. (Without it, thousands of waiting reconciles each woke up
    /// at every refill to find no token: a thundering herd that burnt the CPU.)
    user_queue: tokio::sync::Mutex<()>,
    background_queue: tokio::sync::Mutex<()>,
}

/// The rate never drops below this share of the configured one after 429s.
const MIN_RATE_SHARE: f64 = 0.1;
/// Share of the configured rate won back per success.
const RECOVERY_SHARE: f64 = 0.02;
/// Pause after a 429 without `Retry-After` (webex-api-notes §6: SDKs use 5-15 s).
const DEFAULT_PAUSE: Duration = Duration::from_secs(5);

impl Budget {
    pub fn new(config: BudgetConfig) -> Self {
        let config = sanitize(config);
        Self {
            bucket: Mutex::new(Bucket {
                config,
                rate: config.requests_per_second,
                tokens: f64::from(config.burst),
                refilled_at: Instant::now(),
                paused_until: None,
                user_waiting: 0,
                user_queued: 0,
                throttled_total: 0,
                waited_total: 0,
            }),
            user_queue: tokio::sync::Mutex::new(()),
            background_queue: tokio::sync::Mutex::new(()),
        }
    }

    /// Adopts a new configuration, keeping the current state.
    pub fn reconfigure(&self, config: BudgetConfig) {
        let config = sanitize(config);
        let mut b = self.lock();
        if b.config != config {
            b.rate = config.requests_per_second;
            b.tokens = b.tokens.min(f64::from(config.burst));
            b.config = config;
        }
    }

    /// Waits until a call may go.
    pub async fn acquire(&self, priority: Priority) {
        let _turn = match priority {
            Priority::UserDriven => {
                // Queued user-driven callers count as waiting too: background ones yield to them.
                let _queued = Queued::new(self);
                self.user_queue.lock().await
            }
            Priority::Background => self.background_queue.lock().await,
        };
        let mut registered = false;
        loop {
            let wait = {
                let mut b = self.lock();
                let now = Instant::now();
                b.refill(now);
                let paused = b.paused_until.filter(|until| *until > now);
                let yield_to_users = priority == Priority::Background && (b.user_waiting > 0 || b.user_queued > 0);
                match paused {
                    Some(until) => until - now,
                    None if b.tokens >= 1.0 && !yield_to_users => {
                        b.tokens -= 1.0;
                        if registered {
                            b.user_waiting = b.user_waiting.saturating_sub(1);
                        }
                        return;
                    }
                    None => {
                        if !registered {
                            b.waited_total += 1;
                            crate::telemetry::metrics::budget_wait();
                            if priority == Priority::UserDriven {
                                b.user_waiting += 1;
                            }
                            registered = priority == Priority::UserDriven;
                        }
                        let missing = (1.0 - b.tokens).max(0.0);
                        let refill = Duration::from_secs_f64(missing / b.rate);
                        // A background caller also lets a waiting user go first.
                        if yield_to_users {
                            refill + Duration::from_millis(5)
                        } else {
                            refill.max(Duration::from_millis(1))
                        }
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Webex answered 429: everyone pauses for `retry_after`, and the rate halves.
    pub fn on_rate_limited(&self, retry_after: Option<Duration>) {
        let mut b = self.lock();
        let until = Instant::now() + retry_after.unwrap_or(DEFAULT_PAUSE);
        b.paused_until = Some(b.paused_until.map_or(until, |p| p.max(until)));
        b.rate = (b.rate / 2.0).max(b.config.requests_per_second * MIN_RATE_SHARE);
        b.tokens = b.tokens.min(1.0);
        b.throttled_total += 1;
    }

    /// A call succeeded: win back a little of the rate lost to 429s.
    pub fn on_success(&self) {
        let mut b = self.lock();
        let max = b.config.requests_per_second;
        b.rate = (b.rate + max * RECOVERY_SHARE).min(max);
    }

    pub fn snapshot(&self) -> BudgetSnapshot {
        let mut b = self.lock();
        let now = Instant::now();
        b.refill(now);
        BudgetSnapshot {
            configured_rate: b.config.requests_per_second,
            current_rate: b.rate,
            available: b.tokens,
            paused_for: b.paused_until.filter(|u| *u > now).map(|u| u - now),
            throttled_total: b.throttled_total,
            waited_total: b.waited_total,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Counts a user-driven caller as queued until its turn comes (or it gives up).
struct Queued<'a>(&'a Budget);

impl<'a> Queued<'a> {
    fn new(budget: &'a Budget) -> Self {
        budget.lock().user_queued += 1;
        Self(budget)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let mut b = self.0.lock();
        b.user_queued = b.user_queued.saturating_sub(1);
    }
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(f64::from(self.config.burst));
        self.refilled_at = now;
    }
}

fn sanitize(config: BudgetConfig) -> BudgetConfig {
    BudgetConfig {
        requests_per_second: if config.requests_per_second.is_finite() && config.requests_per_second > 0.0 {
            config.requests_per_second
        } else {
            BudgetConfig::default().requests_per_second
        },
        burst: config.burst.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_paces_calls_at_the_configured_rate_after_the_burst() {
        let budget = Budget::new(BudgetConfig {
            requests_per_second: 10.0,
            burst: 5,
        });
        let start = Instant::now();
        for _ in 0..25 {
            budget.acquire(Priority::UserDriven).await;
        }
        // 5 at once, then 20 at 10/s.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1_990) && elapsed <= Duration::from_millis(2_100),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_everyone_and_halves_the_rate_then_successes_recover_it() {
        let budget = Budget::new(BudgetConfig {
            requests_per_second: 10.0,
            burst: 1,
        });
        budget.on_rate_limited(Some(Duration::from_secs(3)));
        let snap = budget.snapshot();
        assert_eq!(snap.current_rate, 5.0);
        assert_eq!(snap.throttled_total, 1);
        let start = Instant::now();
        budget.acquire(Priority::UserDriven).await;
        assert!(start.elapsed() >= Duration::from_secs(3), "honours Retry-After");
        for _ in 0..100 {
            budget.on_success();
        }
        assert_eq!(
            budget.snapshot().current_rate,
            10.0,
            "recovers to, never beyond, the configured rate"
        );
        for _ in 0..10 {
            budget.on_rate_limited(None);
        }
        assert_eq!(budget.snapshot().current_rate, 1.0, "never below a tenth");
    }

    #[tokio::test(start_paused = true)]
    async fn user_driven_calls_go_before_background_ones() {
        let budget = std::sync::Arc::new(Budget::new(BudgetConfig {
            requests_per_second: 1.0,
            burst: 1,
        }));
        budget.acquire(Priority::UserDriven).await; // empty the bucket
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let background = {
            let (budget, order) = (budget.clone(), order.clone());
            tokio::spawn(async move {
                budget.acquire(Priority::Background).await;
                order.lock().unwrap().push("background");
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let user = {
            let (budget, order) = (budget.clone(), order.clone());
            tokio::spawn(async move {
                budget.acquire(Priority::UserDriven).await;
                order.lock().unwrap().push("user");
            })
        };
        user.await.unwrap();
        background.await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["user", "background"]);
    }
}
