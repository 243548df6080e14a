//! Benchmark at scale (issue 8): the real controller (`webex-operator run`, a separate process
//! whose peak RSS and CPU time are read from /proc), the real kube-apiserver + etcd (testenv) and
//! the simulator (in this process, no state file) with a fixed latency per call and a fixed
//! per-org rate limit; each org's `apiBudget` matches the rate limit.
//!
//! ```sh
//! cargo bench --bench scale                       # N = 1,000 and 10,000 (about 8 minutes)
//! cargo bench --bench scale -- --sizes 200 --bulk 100 --naive-users 200   # a quick look
//! ```
//!
//! `cargo test --all-targets` runs it too, without `--bench`: then it is a smoke run at N = 40.
//!
//! Phases: for each N, a fresh org and namespace get N WebexUsers applied at once (concurrent
//! server-side applies; every other user has a licence); the clock runs until every user is
//! `InvitePending` (the simulator's people have not signed in) for its generation. On the largest
//! N: one drift interval with nothing changed, then the naive strategy (a loop in this benchmark
//! that GETs every person through the operator's own `WebexClient` and an equal `Budget`), then a
//! bulk change: ONE LicenseTemplate applied, selecting the `--bulk` users by label (set at cold
//! start) with `applyToExistingUsers`, giving them Contact Center Standard (the cold-start users
//! choose their licence lists by hand, which a template does not override, R-TPL-4).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use webex_operator::api::conditions::{self, READY};
use webex_operator::api::{LicenseTemplate, WebexOrg, WebexUser};
use webex_operator::sim::control_types::{Counters, FaultKind, FaultRule, LicenseSeed, OrgSeed, RateLimit, SeededOrg};
use webex_operator::sim::{SimConfig, SimControl};
use webex_operator::testenv::{ControlPlane, Supervised};
use webex_operator::webex::budget::{Budget, BudgetConfig};
use webex_operator::webex::client::{Token, WebexClient};

const BIN: &str = env!("CARGO_BIN_EXE_webex-operator");
const MANAGER: &str = "bench";
/// Label of the users the bulk LicenseTemplate selects.
const BULK_LABEL: &str = "bench.webex.operator.io/group";

#[derive(Parser, Debug, Clone)]
#[command(about = "webex-operator scale benchmark (issue 8)")]
struct Args {
    /// Cold-start sizes, run in this order (the last one also runs steady state and bulk).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sizes: Vec<usize>,
    /// Simulator rate limit per org and second; the WebexOrg apiBudget gets the same rate.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// apiBudget burst.
    #[arg(long, default_value_t = 1)]
    burst: u32,
    /// Fixed latency the simulator adds to every call (ms).
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Drift interval of the orgs (s).
    #[arg(long, default_value_t = 30)]
    drift_seconds: u64,
    /// Users the bulk LicenseTemplate change touches on the largest N.
    #[arg(long, default_value_t = 5000)]
    bulk: usize,
    /// People GET by the naive strategy (default: all of the largest N).
    #[arg(long)]
    naive_users: Option<usize>,
    /// Concurrent server-side applies.
    #[arg(long, default_value_t = 64)]
    apply_concurrency: usize,
    /// Give up on a phase after this many seconds.
    #[arg(long, default_value_t = 420)]
    phase_timeout: u64,
    /// A program the controller runs under, e.g. `heaptrack` for a heap profile (its output
    /// lands in the current directory). The figures then include the wrapper's overhead.
    #[arg(long)]
    controller_wrapper: Option<String>,
    /// RUST_LOG of the controller.
    #[arg(long, default_value = "warn")]
    controller_log: String,
    /// Passed by `cargo bench`; without it (`cargo test --all-targets` runs benches too) a
    /// small smoke run replaces the figures asked for.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    /// The smoke run of `cargo test`: every phase, at a size that takes seconds.
    fn smoke(mut self) -> Self {
        self.sizes = vec![40];
        self.bulk = 20;
        self.drift_seconds = 2;
        self.naive_users = Some(40);
        self.phase_timeout = 120;
        self
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if !args.bench {
        eprintln!("bench: not run by `cargo bench`: a smoke run (N = 40)");
        args = args.smoke();
    }
    let started = Instant::now();
    let bin_dir = webex_operator::testenv::binaries(|line| eprintln!("{line}")).await?;
    let cp = ControlPlane::start(&bin_dir).await?;
    let client = cp.client().await?;
    webex_operator::manifests::install_crds(&client, MANAGER).await?;
    let sim = webex_operator::sim::start(SimConfig {
        listen: "127.0.0.1:0".parse()?,
        state_file: None,
        tls: None,
    })
    .await?;
    let control = sim.control();
    control
        .set_rate_limit(RateLimit {
            per_second: args.rate,
            retry_after_secs: 1,
        })
        .await?;
    control
        .inject_fault(FaultRule::new(FaultKind::Latency { ms: args.latency_ms }))
        .await?;
    let work = tempfile::tempdir()?;
    let mut controller = start_controller(&cp, work.path(), &args)?;
    let pid = wait_pid(&controller).await?;
    eprintln!(
        "bench: control plane, simulator ({}) and controller (pid {pid}) up after {:.1} s",
        sim.base_url,
        started.elapsed().as_secs_f64()
    );

    let mut report = Report::default();
    let largest = args.sizes.iter().copied().max().unwrap_or(0);
    let mut last_phase: Option<Phase> = None;
    for &n in &args.sizes {
        let phase = cold_start(&client, &control, &sim.base_url, &args, n, pid).await?;
        report.cold.push(phase.cold.clone());
        if n == largest {
            last_phase = Some(phase);
        }
    }
    if let Some(phase) = last_phase {
        report.steady = Some(steady_state(&client, &control, &sim.base_url, &args, &phase).await?);
        report.bulk = Some(bulk_change(&client, &control, &args, &phase, pid).await?);
    }
    report.proc_at_end = read_proc(pid);
    controller.stop();
    report.print(&args, largest, started.elapsed());
    if let Ok(path) = std::env::var("WEBEX_BENCH_LOG_COPY") {
        let _ = std::fs::copy(controller.log(), path);
    }
    sim.shutdown().await;
    drop(cp);
    Ok(())
}

fn start_controller(cp: &ControlPlane, dir: &Path, args: &Args) -> anyhow::Result<Supervised> {
    let env = [
        ("KUBECONFIG", cp.kubeconfig_path().display().to_string()),
        ("RUST_LOG", args.controller_log.clone()),
        ("WEBEX_OPERATOR_METRICS_ADDR", "127.0.0.1:0".to_string()),
        ("WEBEX_OPERATOR_LEADER_ELECTION", "false".to_string()),
        ("WEBEX_OPERATOR_DRIFT_INTERVAL_SECONDS", args.drift_seconds.to_string()),
    ];
    let mut argv: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    argv.extend(
        args.controller_wrapper
            .iter()
            .flat_map(|w| w.split_whitespace().map(str::to_string)),
    );
    argv.push(BIN.to_string());
    argv.push("run".to_string());
    Ok(Supervised::spawn(
        "controller",
        Path::new("/usr/bin/env"),
        &argv,
        &dir.join("controller.log"),
        &dir.join("controller.pid"),
    )?)
}

async fn wait_pid(process: &Supervised) -> anyhow::Result<u32> {
    for _ in 0..100 {
        if let Some(pid) = process.pid() {
            return Ok(pid);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the controller did not start")
}

/// Peak RSS (VmHWM, KiB) and CPU seconds (utime + stime) of a process.
#[derive(Debug, Clone, Copy, Default)]
struct ProcStats {
    peak_rss_kib: u64,
    rss_kib: u64,
    cpu_seconds: f64,
}

fn read_proc(pid: u32) -> ProcStats {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start at the last ')'.
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ')'.
    let ticks = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    ProcStats {
        peak_rss_kib: field("VmHWM:"),
        rss_kib: field("VmRSS:"),
        cpu_seconds: (ticks(11) + ticks(12)) as f64 / clock_ticks(),
    }
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

#[derive(Debug, Clone)]
struct Phase {
    n: usize,
    namespace: String,
    seeded: SeededOrg,
    cold: ColdStart,
}

#[derive(Debug, Clone, Default)]
struct ColdStart {
    n: usize,
    licensed: usize,
    apply_seconds: f64,
    converge_seconds: f64,
    calls: Counters,
    cpu_seconds: f64,
    rss_after_kib: u64,
}

fn minus(after: &Counters, before: &Counters) -> Counters {
    let mut out = Counters::default();
    for (endpoint, statuses) in &after.endpoints {
        for (status, count) in statuses {
            let prior = before.get(endpoint, *status);
            if *count > prior {
                out.endpoints
                    .entry(endpoint.clone())
                    .or_default()
                    .insert(*status, count - prior);
            }
        }
    }
    out
}

async fn cold_start(
    client: &kube::Client,
    control: &SimControl,
    base_url: &str,
    args: &Args,
    n: usize,
    pid: u32,
) -> anyhow::Result<Phase> {
    let org_name = format!("bench-{n}");
    let namespace = format!("bench-{n}");
    let domain = format!("n{n}.example");
    let units = i64::try_from(n * 2)?;
    let seed = OrgSeed::new(&org_name, &domain)
        .with_license(LicenseSeed::new("MS", "Messaging", units))
        .with_license(LicenseSeed::new("EE", "Enterprise Edition", units))
        .with_license(LicenseSeed::new("CJPSTD", "Contact Center Standard Agent", units))
        .with_location("Headquarters");
    let seeded = control.seed_org(seed).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .patch(
            &namespace,
            &PatchParams::apply(MANAGER),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})),
        )
        .await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": namespace}, "stringData": {"token": seeded.admin_token}});
    secrets
        .patch("token", &PatchParams::apply(MANAGER), &Patch::Apply(&secret))
        .await?;
    let org = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": org_name},
        "spec": {"apiBaseUrl": base_url, "backend": "Simulator",
                 "tokenSecretRef": {"name": "token", "namespace": namespace},
                 "apiBudget": {"requestsPerSecond": args.rate, "burst": args.burst},
                 "driftInterval": format!("{}s", args.drift_seconds)}});
    let orgs: Api<WebexOrg> = Api::all(client.clone());
    orgs.patch(&org_name, &PatchParams::apply(MANAGER), &Patch::Apply(&org))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = orgs.get_opt(&org_name).await?.is_some_and(|o| {
            o.status
                .as_ref()
                .and_then(|s| conditions::find(&s.conditions, READY))
                .is_some_and(|c| c.status == "True")
        });
        if ready {
            break;
        }
        if Instant::now() > deadline {
            bail!("WebexOrg {org_name} did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = control.counters_for(&seeded.org_id).await?;
    let proc_before = read_proc(pid);
    eprintln!("bench: N={n}: applying {n} WebexUsers");
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &namespace);
    let watch = Convergence::start(users.clone(), n);
    let t0 = Instant::now();
    let licensed = apply_users(&users, &namespace, &domain, n, args.bulk, args.apply_concurrency, |i| {
        if i % 2 == 0 { vec!["MS"] } else { vec![] }
    })
    .await?;
    let apply_seconds = t0.elapsed().as_secs_f64();
    eprintln!("bench: N={n}: applied in {apply_seconds:.1} s; waiting until all are InvitePending");
    let converge = watch
        .wait(t0, Duration::from_secs(args.phase_timeout), |_| true)
        .await
        .with_context(|| format!("cold start N={n}"))?;
    // Calls still in flight when the last status landed are counted too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = control.counters_for(&seeded.org_id).await?;
    let proc_after = read_proc(pid);
    let cold = ColdStart {
        n,
        licensed,
        apply_seconds,
        converge_seconds: converge.as_secs_f64(),
        calls: minus(&after, &before),
        cpu_seconds: proc_after.cpu_seconds - proc_before.cpu_seconds,
        rss_after_kib: proc_after.rss_kib,
    };
    eprintln!(
        "bench: N={n}: converged in {:.1} s ({} calls)",
        cold.converge_seconds,
        cold.calls.grand_total()
    );
    Ok(Phase {
        n,
        namespace,
        seeded,
        cold,
    })
}

fn user_name(i: usize) -> String {
    format!("u{i:05}")
}

/// Applies users 0..n with the licences `licences(i)`; returns how many have at least one.
async fn apply_users(
    users: &Api<WebexUser>,
    namespace: &str,
    domain: &str,
    n: usize,
    bulk: usize,
    concurrency: usize,
    licences: impl Fn(usize) -> Vec<&'static str>,
) -> anyhow::Result<usize> {
    let mut licensed = 0;
    let objects: Vec<(String, serde_json::Value)> = (0..n)
        .map(|i| {
            let name = user_name(i);
            let codes = licences(i);
            if !codes.is_empty() {
                licensed += 1;
            }
            let licenses: Vec<_> = codes.iter().map(|c| json!({"offerCode": c})).collect();
            // The first `bulk` users carry the label the bulk change's template selects.
            let labels = if i < bulk {
                json!({BULK_LABEL: "bulk"})
            } else {
                json!({})
            };
            let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {"orgRef": {"name": format!("bench-{}", n_of(namespace))}, "email": format!("{name}@{domain}"),
                         "firstName": "User", "lastName": format!("Number {i}"), "licenses": licenses,
                         "deletionPolicy": "Orphan"}});
            (name, object)
        })
        .collect();
    futures::stream::iter(objects)
        .map(|(name, object)| async move {
            users
                .patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&object))
                .await
                .with_context(|| format!("apply {name}"))
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    Ok(licensed)
}

fn n_of(namespace: &str) -> &str {
    namespace.trim_start_matches("bench-")
}

/// Follows the WebexUsers of a namespace through a watch and tells when enough are done.
struct Convergence {
    rx: tokio::sync::watch::Receiver<HashMap<String, UserView>>,
    expected: usize,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone, Default)]
struct UserView {
    generation: Option<i64>,
    observed: Option<i64>,
    reason: String,
    /// Effective licences that come from a LicenseTemplate.
    template_licences: usize,
}

impl UserView {
    fn done(&self) -> bool {
        self.generation.is_some()
            && self.generation == self.observed
            && (self.reason == "InvitePending" || self.reason == "Active")
    }
}

impl Convergence {
    fn start(users: Api<WebexUser>, expected: usize) -> Self {
        let (tx, rx) = tokio::sync::watch::channel(HashMap::new());
        let task = tokio::spawn(async move {
            let mut stream = watcher(users, watcher::Config::default()).default_backoff().boxed();
            let mut pending_init: Option<HashMap<String, UserView>> = None;
            while let Some(event) = stream.next().await {
                let Ok(event) = event else { continue };
                match event {
                    watcher::Event::Init => pending_init = Some(HashMap::new()),
                    watcher::Event::InitApply(u) => {
                        if let Some(m) = pending_init.as_mut() {
                            m.insert(u.metadata.name.clone().unwrap_or_default(), view(&u));
                        }
                    }
                    watcher::Event::InitDone => {
                        if let Some(m) = pending_init.take() {
                            tx.send_replace(m);
                        }
                    }
                    watcher::Event::Apply(u) => {
                        tx.send_modify(|m| {
                            m.insert(u.metadata.name.clone().unwrap_or_default(), view(&u));
                        });
                    }
                    watcher::Event::Delete(u) => {
                        tx.send_modify(|m| {
                            m.remove(&u.metadata.name.clone().unwrap_or_default());
                        });
                    }
                }
            }
        });
        Self { rx, expected, task }
    }

    /// Waits until `expected` users accepted by `filter` are done; returns the time since `t0`.
    async fn wait(
        mut self,
        t0: Instant,
        timeout: Duration,
        filter: impl Fn(&UserView) -> bool,
    ) -> anyhow::Result<Duration> {
        let deadline = t0 + timeout;
        let mut last_print = Instant::now();
        loop {
            let (done, by_reason) = {
                let m = self.rx.borrow_and_update();
                let done = m.values().filter(|v| filter(v) && v.done()).count();
                let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
                for v in m.values() {
                    *by_reason.entry(v.reason.clone()).or_default() += 1;
                }
                (done, by_reason)
            };
            if done >= self.expected {
                let elapsed = t0.elapsed();
                self.task.abort();
                return Ok(elapsed);
            }
            if last_print.elapsed() > Duration::from_secs(10) {
                eprintln!(
                    "bench:   {:.0} s: {done}/{} done; reasons {by_reason:?}",
                    t0.elapsed().as_secs_f64(),
                    self.expected
                );
                last_print = Instant::now();
            }
            let now = Instant::now();
            if now > deadline {
                self.task.abort();
                bail!("timed out: {done}/{} done; reasons {by_reason:?}", self.expected);
            }
            let _ = tokio::time::timeout(deadline - now, self.rx.changed()).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn view(user: &WebexUser) -> UserView {
    let status = user.status.clone().unwrap_or_default();
    UserView {
        generation: user.metadata.generation,
        observed: status.observed_generation,
        reason: conditions::find(&status.conditions, READY)
            .map(|c| c.reason.clone())
            .unwrap_or_default(),
        template_licences: status
            .effective_licenses
            .iter()
            .filter(|l| l.source.starts_with("Template/"))
            .count(),
    }
}

#[derive(Debug, Clone, Default)]
struct Steady {
    interval_seconds: f64,
    calls: Counters,
    naive_users: usize,
    naive_calls: u64,
    naive_seconds: f64,
    naive_calls_per_interval: f64,
}

async fn steady_state(
    client: &kube::Client,
    control: &SimControl,
    base_url: &str,
    args: &Args,
    phase: &Phase,
) -> anyhow::Result<Steady> {
    // Counted over whole drift runs: a fixed window cuts runs at its edges (a window of two
    // intervals held two runs and most of a third in an earlier version: 1.4x the pages).
    eprintln!(
        "bench: steady state: watching two whole drift runs ({} s interval) of org bench-{}",
        args.drift_seconds, phase.n
    );
    let deadline = Instant::now() + Duration::from_secs(4 * args.drift_seconds + 120);
    // Pages of one run follow each other within tens of milliseconds (seconds when the machine
    // is loaded); runs are an interval apart.
    let quiet = Duration::from_millis((args.drift_seconds * 1000 / 4).min(5000));
    let org = &phase.seeded.org_id;
    // The tail of the cold start (and a drift run under way) first.
    let before = wait_for_quiet(control, org, quiet, deadline).await?;
    let mut run_starts = Vec::new();
    let mut last = before.clone();
    while run_starts.len() < 2 {
        let now = wait_for_activity(control, org, &last, deadline).await?;
        run_starts.push(Instant::now());
        last = now;
        last = wait_for_quiet_from(control, org, last, quiet, deadline).await?;
    }
    let after = last;
    let interval_seconds = run_starts[1].duration_since(run_starts[0]).as_secs_f64();
    let calls = minus(&after, &before);

    // The naive strategy: GET every person, through the operator's own client and an equal budget.
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &phase.namespace);
    let ids: Vec<String> = users
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter_map(|u| u.status.and_then(|s| s.person_id))
        .take(args.naive_users.unwrap_or(usize::MAX))
        .collect();
    eprintln!("bench: naive strategy: GET {} people one by one", ids.len());
    let budget = Arc::new(Budget::new(BudgetConfig {
        requests_per_second: f64::from(args.rate),
        burst: args.burst,
    }));
    let webex = WebexClient::new(base_url, Token::new(phase.seeded.admin_token.clone()))?.with_budget(budget);
    let before = control.counters_for(&phase.seeded.org_id).await?;
    let t0 = Instant::now();
    let naive_users = ids.len();
    futures::stream::iter(ids)
        .map(|id| {
            let webex = webex.clone();
            async move { webex.get_person(&id).await }
        })
        .buffer_unordered(64)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let naive_seconds = t0.elapsed().as_secs_f64();
    let after = control.counters_for(&phase.seeded.org_id).await?;
    let naive_counters = minus(&after, &before);
    eprintln!(
        "bench: naive strategy calls (and the controller's meanwhile):\n{}",
        breakdown(&naive_counters)
    );
    let naive_calls = naive_counters.total("GET /v1/people/{personId}");
    Ok(Steady {
        interval_seconds,
        calls,
        naive_users,
        naive_calls,
        naive_seconds,
        naive_calls_per_interval: naive_calls as f64 * phase.n as f64 / naive_users.max(1) as f64,
    })
}

const POLL: Duration = Duration::from_millis(200);

/// Counters of `org` once no call has been answered for `quiet`.
async fn wait_for_quiet(
    control: &SimControl,
    org: &str,
    quiet: Duration,
    deadline: Instant,
) -> anyhow::Result<Counters> {
    let first = control.counters_for(org).await?;
    wait_for_quiet_from(control, org, first, quiet, deadline).await
}

async fn wait_for_quiet_from(
    control: &SimControl,
    org: &str,
    mut last: Counters,
    quiet: Duration,
    deadline: Instant,
) -> anyhow::Result<Counters> {
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let now = control.counters_for(org).await?;
        if now.grand_total() != last.grand_total() {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return Ok(last);
        }
        if Instant::now() > deadline {
            bail!("steady state: the org's calls never paused for {quiet:?}");
        }
    }
}

/// Counters of `org` as soon as a call beyond `last` was answered.
async fn wait_for_activity(
    control: &SimControl,
    org: &str,
    last: &Counters,
    deadline: Instant,
) -> anyhow::Result<Counters> {
    loop {
        tokio::time::sleep(POLL).await;
        let now = control.counters_for(org).await?;
        if now.grand_total() != last.grand_total() {
            return Ok(now);
        }
        if Instant::now() > deadline {
            bail!("steady state: no drift run began before the deadline");
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Bulk {
    users: usize,
    apply_seconds: f64,
    converge_seconds: f64,
    calls: Counters,
    cpu_seconds: f64,
    /// The controller's peak RSS (KiB) before and after the bulk change: which phase set it.
    peak_before_kib: u64,
    peak_after_kib: u64,
}

async fn bulk_change(
    client: &kube::Client,
    control: &SimControl,
    args: &Args,
    phase: &Phase,
    pid: u32,
) -> anyhow::Result<Bulk> {
    let count = args.bulk.min(phase.n);
    eprintln!("bench: bulk change: one LicenseTemplate giving Contact Center Standard to {count} WebexUsers");
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &phase.namespace);
    let watch = Convergence::start(users.clone(), count);
    // Wait for the watch's initial list so that old statuses are not mistaken for new ones.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = control.counters_for(&phase.seeded.org_id).await?;
    let proc_before = read_proc(pid);
    let t0 = Instant::now();
    // The users exist already: the opt-in applies the template to them (R-TPL-2).
    let templates: Api<LicenseTemplate> = Api::namespaced(client.clone(), &phase.namespace);
    let template = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "LicenseTemplate",
        "metadata": {"name": "bulk", "namespace": phase.namespace},
        "spec": {"orgRef": {"name": format!("bench-{}", phase.n)},
                 "selector": {"matchLabels": {BULK_LABEL: "bulk"}},
                 "contactCenter": "Standard", "applyToExistingUsers": true}});
    templates
        .patch("bulk", &PatchParams::apply(MANAGER).force(), &Patch::Apply(&template))
        .await
        .context("apply the bulk LicenseTemplate")?;
    let apply_seconds = t0.elapsed().as_secs_f64();
    let converge = watch
        .wait(t0, Duration::from_secs(args.phase_timeout), |v| {
            v.template_licences >= 1
        })
        .await
        .context("bulk change")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = control.counters_for(&phase.seeded.org_id).await?;
    let proc_after = read_proc(pid);
    Ok(Bulk {
        users: count,
        apply_seconds,
        converge_seconds: converge.as_secs_f64(),
        calls: minus(&after, &before),
        cpu_seconds: proc_after.cpu_seconds - proc_before.cpu_seconds,
        peak_before_kib: proc_before.peak_rss_kib,
        peak_after_kib: proc_after.peak_rss_kib,
    })
}

#[derive(Debug, Default)]
struct Report {
    cold: Vec<ColdStart>,
    steady: Option<Steady>,
    bulk: Option<Bulk>,
    proc_at_end: ProcStats,
}

fn writes(c: &Counters) -> u64 {
    c.endpoints
        .iter()
        .filter(|(e, _)| !e.starts_with("GET "))
        .flat_map(|(_, s)| s.values())
        .sum()
}

fn ok(c: &Counters, endpoint: &str) -> u64 {
    c.endpoints.get(endpoint).map_or(0, |m| {
        m.iter().filter(|(s, _)| (200..300).contains(*s)).map(|(_, v)| v).sum()
    })
}

fn throttled(c: &Counters) -> u64 {
    c.endpoints.values().filter_map(|m| m.get(&429)).sum()
}

fn breakdown(c: &Counters) -> String {
    c.endpoints
        .iter()
        .map(|(e, s)| {
            let parts: Vec<String> = s.iter().map(|(code, n)| format!("{code}: {n}")).collect();
            format!("    {e:<34} {}", parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Report {
    fn print(&self, args: &Args, largest: usize, total: Duration) {
        let rate = f64::from(args.rate);
        println!();
        println!(
            "webex-operator scale benchmark: rate limit {} calls/s per org (apiBudget {} /s, burst {}), {} ms latency per call, drift interval {} s, {} CPUs",
            args.rate,
            args.rate,
            args.burst,
            args.latency_ms,
            args.drift_seconds,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!();
        println!("## Cold start (N WebexUsers applied at once; every other one has a licence)");
        println!();
        println!(
            "| N | licensed | apply (s) | until all InvitePending (s) | Webex calls | floor: calls needed | floor (s) | ratio (target <= 1.2) | 429s | controller CPU (s) | controller RSS after (MiB) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for c in &self.cold {
            // Needed: one create per user and one licence PATCH per licensed user.
            let needed = c.n as f64 + c.licensed as f64;
            let floor = needed / rate;
            println!(
                "| {} | {} | {:.1} | {:.1} | {} | {} | {:.1} | {:.2} | {} | {:.1} | {:.1} |",
                c.n,
                c.licensed,
                c.apply_seconds,
                c.converge_seconds,
                c.calls.grand_total(),
                needed,
                floor,
                c.converge_seconds / floor,
                throttled(&c.calls),
                c.cpu_seconds,
                c.rss_after_kib as f64 / 1024.0
            );
        }
        println!();
        println!("## Calls per user by endpoint (cold start)");
        println!();
        println!("| N | endpoint | calls | per user | per licensed user |");
        println!("|---|---|---|---|---|");
        for c in &self.cold {
            for (endpoint, statuses) in &c.calls.endpoints {
                let total: u64 = statuses.values().sum();
                println!(
                    "| {} | {endpoint} | {total} | {:.3} | {:.3} |",
                    c.n,
                    total as f64 / c.n as f64,
                    total as f64 / c.licensed.max(1) as f64
                );
            }
            println!(
                "| {} | all (writes: {}) | {} | {:.3} | |",
                c.n,
                writes(&c.calls),
                c.calls.grand_total(),
                c.calls.grand_total() as f64 / c.n as f64
            );
        }
        for c in &self.cold {
            let creates = ok(&c.calls, "POST /v1/people");
            let patches = ok(&c.calls, "PATCH /v1/licenses/users");
            println!();
            println!(
                "N={}: successful creates {creates} (target {}), licence PATCHes {patches} (target {})",
                c.n, c.n, c.licensed
            );
            println!("{}", breakdown(&c.calls));
        }
        if let Some(s) = &self.steady {
            let lists = s.calls.total("GET /v1/people") as f64 / 2.0;
            let per_interval = s.calls.grand_total() as f64 / 2.0;
            println!();
            println!("## Steady state (N = {largest}, nothing changed)");
            println!();
            println!(
                "| strategy | calls per drift interval (two whole drift runs watched) | writes | time for one pass (s) | ratio |"
            );
            println!("|---|---|---|---|---|");
            println!(
                "| operator (drift by pages of 100) | {per_interval:.0} ({lists:.0} list pages; target about {}) | {} | one interval (run start to run start): {:.0} s | 1 |",
                largest.div_ceil(100),
                writes(&s.calls),
                s.interval_seconds
            );
            println!(
                "| naive: GET every person (loop in the benchmark, WebexClient + equal Budget) | {:.0}{} | 0 | {:.1} ({} GETs) | {:.0}x |",
                s.naive_calls_per_interval,
                if s.naive_users < largest { " (extrapolated)" } else { "" },
                s.naive_seconds,
                s.naive_calls,
                s.naive_calls_per_interval / per_interval.max(1.0)
            );
            println!("{}", breakdown(&s.calls));
        }
        if let Some(b) = &self.bulk {
            println!();
            println!(
                "## Bulk change: one LicenseTemplate edit (Contact Center Standard) touching {} WebexUsers",
                b.users
            );
            println!();
            println!(
                "| users | apply (s) | until all converged (s) | Webex calls | writes | floor (s, one PATCH each) | ratio | controller CPU (s) |"
            );
            println!("|---|---|---|---|---|---|---|---|");
            let floor = b.users as f64 / rate;
            println!(
                "| {} | {:.1} | {:.1} | {} | {} | {:.1} | {:.2} | {:.1} |",
                b.users,
                b.apply_seconds,
                b.converge_seconds,
                b.calls.grand_total(),
                writes(&b.calls),
                floor,
                b.converge_seconds / floor,
                b.cpu_seconds
            );
            println!("{}", breakdown(&b.calls));
        }
        println!();
        println!("## Controller process");
        println!();
        println!(
            "peak RSS (VmHWM) {:.1} MiB (target < 128 MiB; its caches hold {} WebexUsers), RSS at the end {:.1} MiB, CPU {:.1} s in total",
            self.proc_at_end.peak_rss_kib as f64 / 1024.0,
            self.cold.iter().map(|c| c.n).sum::<usize>(),
            self.proc_at_end.rss_kib as f64 / 1024.0,
            self.proc_at_end.cpu_seconds
        );
        if let Some(b) = &self.bulk {
            println!(
                "peak RSS before the bulk change {:.1} MiB (cold starts and steady state), after it {:.1} MiB",
                b.peak_before_kib as f64 / 1024.0,
                b.peak_after_kib as f64 / 1024.0
            );
        }
        println!("benchmark wall time {:.0} s", total.as_secs_f64());
    }
}
