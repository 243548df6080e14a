//! What the controller asks of the simulator for one org (the simulator counts every request per
//! bearer token, and each test org has its own token): the markers that show the controller at
//! work. A test that asserts "nothing was written" first waits for one of them, so that it fails
//! when the controller has stalled instead of passing because nothing happened at all.
#![allow(dead_code, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use webex_operator::sim::control_types::Counters;

use super::operator::SimProcess;

/// The drift detector's listing of an org's people (every drift interval, 1 s in tests; the
/// reconciler's reads by email count here too). Each listing compares every WebexUser of the org
/// with its person through the reconciler's planner and hands the ones that differ over.
pub const DRIFT_LISTING: &str = "GET /v1/people";

/// The WebexOrg reconciler's reading of the org's licences (each org reconcile).
pub const LICENCE_LISTING: &str = "GET /v1/licenses";

/// The ExternalUser reconciler's read of a person's accounts (a licence PATCH without changes,
/// each reconcile and each retry of the finalizer; a change is a PATCH too).
pub const LICENCE_PATCH: &str = "PATCH /v1/licenses/users";

/// Reads of the managed calling settings (each at every WebexUser reconcile).
pub const CALLING_READS: &[&str] = &[
    "GET /v1/people/{personId}/features/{feature}",
    "GET /v1/telephony/config/people/{personId}/{feature}",
    "GET /_sim/hub/people/{personId}/calling/{feature}",
];

/// The read of a person's enterprise content management (at every WebexUser reconcile that
/// manages it; the org's setting is read by WebexOrg reconciles too, so it is left out).
pub const CONTENT_MANAGEMENT_READS: &[&str] = &["GET /_sim/hub/people/{personId}/content-management"];

/// How long the counters must stand still to count as quiet (a reconcile's calls follow each
/// other within milliseconds).
pub const QUIET: Duration = Duration::from_millis(500);

/// How long a marker may take: longer than a resync (5 s in tests) with room to spare.
pub const MARKER_TIMEOUT: Duration = Duration::from_secs(30);

/// The org's counters now.
pub async fn counters(sim: &SimProcess, org_id: &str) -> Counters {
    match sim.control().counters_for(org_id).await {
        Ok(counters) => counters,
        Err(e) => panic!("the simulator's counters of {org_id}: {e}"),
    }
}

/// All answers of `endpoints` together.
pub fn total(counters: &Counters, endpoints: &[&str]) -> u64 {
    endpoints.iter().map(|e| counters.total(e)).sum()
}

/// The answers per endpoint of everything but GET: the writes.
pub fn writes(counters: &Counters) -> BTreeMap<String, u64> {
    counters
        .endpoints
        .iter()
        .filter(|(endpoint, _)| !endpoint.starts_with("GET "))
        .map(|(endpoint, by_status)| (endpoint.clone(), by_status.values().sum()))
        .collect()
}

/// Waits until `endpoints` were answered at least `n` more times for the org than in `since`;
/// returns the counters then. Panics after [`MARKER_TIMEOUT`] naming `what`.
pub async fn wait_more(
    sim: &SimProcess,
    org_id: &str,
    since: &Counters,
    endpoints: &[&str],
    n: u64,
    what: &str,
) -> Counters {
    let want = total(since, endpoints) + n;
    let deadline = Instant::now() + MARKER_TIMEOUT;
    loop {
        let now = counters(sim, org_id).await;
        if total(&now, endpoints) >= want {
            return now;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out after {MARKER_TIMEOUT:?} waiting for {what}: {endpoints:?} answered {} times, expected {want}; counters {now:?}",
                total(&now, endpoints)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the controller's drift detection listed the org `n` more times from now: it is
/// alive and looked at the org in Webex again, and handed over any WebexUser whose person
/// differs. `n` listings take about `n` drift intervals (1 s in tests); a claim over a resync
/// uses [`wait_alive_for`]. Returns the counters then.
pub async fn wait_drift_listings(sim: &SimProcess, org_id: &str, n: u64) -> Counters {
    let since = counters(sim, org_id).await;
    wait_more(
        sim,
        org_id,
        &since,
        &[DRIFT_LISTING],
        n,
        &format!("{n} drift listings of the org"),
    )
    .await
}

/// How long without a drift listing of a ready org counts as a stalled controller (the drift
/// interval is 1 s in tests; the margin is for a loaded machine).
pub const STALLED: Duration = Duration::from_secs(4);

/// Waits out `span` while the controller shows it is alive: its drift detection lists the org
/// at least every [`STALLED`] (else this panics), and once more after `span`. For a claim over a
/// period that no per-object marker shows (a WebexUser reconcile in steady state makes no call
/// and writes no status), such as "over a resync nothing was written", which waits out
/// [`OVER_A_RESYNC`](super::operator::OVER_A_RESYNC). Returns the counters after that last
/// listing.
pub async fn wait_alive_for(sim: &SimProcess, org_id: &str, span: Duration) -> Counters {
    let start = Instant::now();
    let mut listings = counters(sim, org_id).await.total(DRIFT_LISTING);
    let mut listed_at = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = counters(sim, org_id).await;
        if now.total(DRIFT_LISTING) != listings {
            if start.elapsed() >= span {
                return now;
            }
            listings = now.total(DRIFT_LISTING);
            listed_at = Instant::now();
        } else if listed_at.elapsed() > STALLED {
            panic!(
                "no drift listing of org {org_id} for {STALLED:?} ({:?} into a wait of {span:?}): the controller stalled; counters {now:?}",
                start.elapsed()
            );
        }
    }
}

/// Waits until `reads` and the writes of the org stood still for [`QUIET`]; returns the
/// counters then.
pub async fn wait_quiet(sim: &SimProcess, org_id: &str, reads: &[&str]) -> Counters {
    let key = |c: &Counters| (total(c, reads), writes(c));
    let mut last = key(&counters(sim, org_id).await);
    let mut since = Instant::now();
    let deadline = Instant::now() + MARKER_TIMEOUT;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = counters(sim, org_id).await;
        let current = key(&now);
        if current != last {
            last = current;
            since = Instant::now();
        } else if since.elapsed() >= QUIET {
            return now;
        }
        if Instant::now() > deadline {
            panic!("the org's requests {reads:?} and writes never stood still for {QUIET:?}: {now:?}");
        }
    }
}

/// Waits for one whole reconcile that begins after this call, seen through `reads` (calls the
/// reconciler makes at every reconcile, such as [`CALLING_READS`]): the org's reads and writes
/// first stand still (none in flight), then the reads move (a reconcile began), then everything
/// stands still again (it finished, with whatever it wrote). Returns the counters before and
/// after; what the reconcile wrote is the difference of their [`writes`].
pub async fn wait_reconcile_round(sim: &SimProcess, org_id: &str, reads: &[&str], what: &str) -> (Counters, Counters) {
    let before = wait_quiet(sim, org_id, reads).await;
    wait_more(sim, org_id, &before, reads, 1, what).await;
    let after = wait_quiet(sim, org_id, reads).await;
    (before, after)
}
