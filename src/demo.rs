//! The local demo: a real kube-apiserver + etcd, the simulator, the controller and `examples/`,
//! converging while simulated users sign in. Everything runs on this machine.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use crate::api::conditions::{self, READY};
use crate::api::external_user::{ExternalUser, InvitationState};
use crate::api::user_claim::UserClaim;
use crate::api::webex_user::{UserState, WebexUser};
use crate::controller::{self, RunOptions};
use crate::sim::control::SimControl;
use crate::sim::control_types::{LicenseSeed, OrgSeed, PersonSeed};
use crate::{manifests, sim, testenv};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub keep_running: bool,
    pub sim_port: u16,
}

/// The password the demo's users choose at their first sign-in (R-USER-15).
const DEMO_PASSWORD: &str = "Harbour-Lights-2026!";
/// Reasons that end the wait for a user: it converged or it is refused for a rule.
const FINAL_REASONS: &[&str] = &["Active", "TrialOrgOwnsEmail", "ExistsInOtherOrg"];

pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    step("building kube-apiserver and etcd (cached after the first run)");
    let bin_dir = testenv::binaries(|line| println!("    {line}"))
        .await
        .context("building the test control plane")?;
    step("starting kube-apiserver + etcd");
    let control_plane = testenv::ControlPlane::start(&bin_dir)
        .await
        .context("starting the control plane")?;
    let client = control_plane
        .client()
        .await
        .context("connecting to the control plane")?;
    manifests::install_crds(&client, "webex-operator-demo")
        .await
        .context("installing the CRDs")?;
    println!("    CRDs installed and established");

    step(&format!(
        "starting the Webex simulator on 127.0.0.1:{}",
        options.sim_port
    ));
    let state_dir = tempfile::tempdir().context("creating a directory for the simulator state")?;
    let listen = SocketAddr::from(([127, 0, 0, 1], options.sim_port));
    let simulator = sim::start(sim::SimConfig {
        listen,
        state_file: Some(state_dir.path().join("sim-state.json")),
        tls: None,
    })
    .await
    .with_context(|| format!("starting the simulator on {listen} (is the port free? try --sim-port)"))?;
    let control = SimControl::new(&simulator.base_url);
    seed(&control).await.context("seeding the simulator")?;
    println!(
        "    orgs acme and globex, a trial org owning pat@trial.example, initech owning sam@initech.example, and a free org holding lee@acme.example"
    );

    step("starting the controller");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let options_run = RunOptions {
        pending_poll: Duration::from_secs(2),
        resync: Duration::from_secs(60),
        drift_interval: Duration::from_secs(1),
        instance: Some("demo".into()),
    };
    let controller_task = tokio::spawn(controller::run(client.clone(), options_run, async move {
        let _ = stop_rx.await;
    }));

    step("applying examples/");
    let mut examples = manifests::read_path(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))?;
    point_orgs_at(&mut examples, &simulator.base_url);
    manifests::apply(&client, &examples, "webex-operator-demo").await?;
    for m in &examples {
        println!(
            "    {} {}",
            m.object.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("?"),
            m.object.metadata.name.as_deref().unwrap_or("?")
        );
    }

    step("watching everything converge (users sign in as their invitations arrive, Sam accepts Acme's)");
    let users: Api<WebexUser> = Api::all(client.clone());
    let externals: Api<ExternalUser> = Api::all(client.clone());
    let claims: Api<UserClaim> = Api::all(client.clone());
    let mut signed_in: BTreeSet<String> = BTreeSet::new();
    let mut accepted: BTreeSet<String> = BTreeSet::new();
    let mut last_table = String::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    let converged = loop {
        let list = users.list(&ListParams::default()).await.context("listing WebexUsers")?;
        let external_list = externals
            .list(&ListParams::default())
            .await
            .context("listing ExternalUsers")?;
        let claim_list = claims
            .list(&ListParams::default())
            .await
            .context("listing UserClaims")?;
        let table = format!(
            "{}\n\n{}\n\n{}",
            render_table(&list.items),
            render_external_table(&external_list.items),
            render_claim_table(&claim_list.items)
        );
        if table != last_table {
            println!("\n[{:>5.1}s]\n{table}", started.elapsed().as_secs_f64());
            last_table = table;
        }
        for user in &list.items {
            let pending = user.status.as_ref().and_then(|s| s.state) == Some(UserState::Pending);
            if pending && signed_in.insert(user.spec.email.clone()) {
                control
                    .sign_in(&user.spec.email, DEMO_PASSWORD)
                    .await
                    .with_context(|| format!("signing {} in", user.spec.email))?;
                println!("    {} signed in for the first time", user.spec.email);
            }
        }
        for external in &external_list.items {
            let pending = external.status.as_ref().and_then(|s| s.invitation) == Some(InvitationState::Pending);
            if pending && accepted.insert(external.spec.email.clone()) {
                control
                    .answer_invitations(&[external.spec.email.as_str()], None, true)
                    .await
                    .with_context(|| format!("accepting {}'s invitations", external.spec.email))?;
                println!("    {} accepted the invitation", external.spec.email);
            }
        }
        let ready = |conds: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>| {
            conds
                .and_then(|c| conditions::find(c, READY))
                .is_some_and(|c| c.status == conditions::TRUE)
        };
        let done = !list.items.is_empty()
            && list
                .items
                .iter()
                .all(|u| ready_reason(u).is_some_and(|r| FINAL_REASONS.contains(&r.as_str())))
            && external_list
                .items
                .iter()
                .all(|e| ready(e.status.as_ref().map(|s| &s.conditions)))
            && claim_list
                .items
                .iter()
                .all(|c| ready(c.status.as_ref().map(|s| &s.conditions)));
        if done {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if converged {
        let list = users.list(&ListParams::default()).await.context("listing WebexUsers")?;
        let active = list
            .items
            .iter()
            .filter(|u| ready_reason(u).as_deref() == Some("Active"))
            .count();
        step(&format!(
            "converged in {:.1}s: {active} users Active (one of them claimed), {} refused with their reasons, Sam's external accounts accepted",
            started.elapsed().as_secs_f64(),
            list.items.len() - active
        ));
    } else {
        step("not everything converged within 3 minutes; the table above shows where each user stands");
    }
    let counters = control.counters().await?;
    println!("    Webex calls seen by the simulator:");
    let mut calls: BTreeMap<&str, u64> = BTreeMap::new();
    for (endpoint, by_status) in &counters.endpoints {
        calls.insert(endpoint, by_status.values().sum());
    }
    for (endpoint, n) in calls {
        println!("      {n:>4}  {endpoint}");
    }

    println!("\nTo look around with kubectl while this runs (--keep-running):");
    println!("    export KUBECONFIG={}", control_plane.kubeconfig_path().display());
    println!("    kubectl get webex -A");
    println!("    kubectl describe webexuser -n webex-demo pat");
    println!("    kubectl describe externaluser -n webex-demo sam-initech");
    println!("    kubectl describe userclaim -n webex-demo acme-early-adopters");
    if options.keep_running {
        println!("\nRunning until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), controller_task).await;
    simulator.shutdown().await;
    drop(control_plane);
    if converged {
        Ok(())
    } else {
        anyhow::bail!("the demo did not converge")
    }
}

/// The examples' WebexOrgs name the simulator's default address; `--sim-port` moves it.
fn point_orgs_at(examples: &mut [manifests::Manifest], base_url: &str) {
    for m in examples.iter_mut() {
        let is_org = m.object.types.as_ref().is_some_and(|t| t.kind == "WebexOrg");
        if is_org && let Some(spec) = m.object.data.get_mut("spec").and_then(|s| s.as_object_mut()) {
            spec.insert("apiBaseUrl".into(), serde_json::Value::String(base_url.to_string()));
        }
    }
}

fn step(text: &str) {
    println!("==> {text}");
}

fn ready_reason(user: &WebexUser) -> Option<String> {
    let status = user.status.as_ref()?;
    conditions::find(&status.conditions, READY).map(|c| c.reason.clone())
}

/// A `kubectl get externalusers -A`-style table.
fn render_external_table(externals: &[ExternalUser]) -> String {
    let mut rows = vec![
        ["EXTERNALUSER", "EMAIL", "ORG", "INVITATION", "READY", "REASON"]
            .map(String::from)
            .to_vec(),
    ];
    for external in externals {
        let status = external.status.clone().unwrap_or_default();
        let ready = conditions::find(&status.conditions, READY);
        rows.push(vec![
            external.name_any(),
            external.spec.email.clone(),
            external.spec.org_ref.name.clone(),
            status.invitation.map(|i| format!("{i:?}")).unwrap_or_default(),
            ready.map(|c| c.status.clone()).unwrap_or_default(),
            ready.map(|c| c.reason.clone()).unwrap_or_default(),
        ]);
    }
    align(&rows)
}

/// A `kubectl get userclaims -A`-style table.
fn render_claim_table(claims: &[UserClaim]) -> String {
    let mut rows = vec![
        ["USERCLAIM", "ORG", "TOTAL", "CLAIMED", "INELIGIBLE", "READY", "REASON"]
            .map(String::from)
            .to_vec(),
    ];
    for claim in claims {
        let status = claim.status.clone().unwrap_or_default();
        let counts = status.counts.clone().unwrap_or_default();
        let ready = conditions::find(&status.conditions, READY);
        rows.push(vec![
            claim.name_any(),
            claim.spec.org_ref.name.clone(),
            counts.total.to_string(),
            counts.claimed.to_string(),
            counts.ineligible.to_string(),
            ready.map(|c| c.status.clone()).unwrap_or_default(),
            ready.map(|c| c.reason.clone()).unwrap_or_default(),
        ]);
    }
    align(&rows)
}

/// A `kubectl get webexusers -A -o wide`-style table.
pub fn render_table(users: &[WebexUser]) -> String {
    let mut rows = vec![
        ["NAMESPACE", "NAME", "EMAIL", "ORG", "STATE", "READY", "REASON"]
            .map(String::from)
            .to_vec(),
    ];
    let mut sorted: Vec<&WebexUser> = users.iter().collect();
    sorted.sort_by_key(|u| (u.namespace(), u.name_any()));
    for user in sorted {
        let status = user.status.clone().unwrap_or_default();
        let ready = conditions::find(&status.conditions, READY);
        rows.push(vec![
            user.namespace().unwrap_or_default(),
            user.name_any(),
            user.spec.email.clone(),
            user.spec.org_ref.name.clone(),
            status.state.map(|s| <&str>::from(s).to_string()).unwrap_or_default(),
            ready.map(|c| c.status.clone()).unwrap_or_default(),
            ready.map(|c| c.reason.clone()).unwrap_or_default(),
        ]);
    }
    align(&rows)
}

/// Columns padded to their widest cell.
fn align(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("   ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn seed(control: &SimControl) -> anyhow::Result<()> {
    let mut acme = OrgSeed::new("Acme", "acme.example")
        .with_license(LicenseSeed::new("MS", "Messaging", 100))
        .with_license(LicenseSeed::new("EE", "Enterprise Edition", 100))
        .with_license(LicenseSeed::new("BCPRO", "Webex Calling - Professional", 50))
        .with_license(LicenseSeed::new("BCSTD", "Webex Calling - Standard", 50))
        .with_license(LicenseSeed::new("CJPSTD", "Contact Center Standard Agent", 20))
        .with_license(LicenseSeed::new("CJPPRM", "Contact Center Premium Agent", 20))
        .with_license(LicenseSeed {
            site_url: Some("acme.webex.com".into()),
            ..LicenseSeed::new("MC", "Meeting 25 party", 20)
        })
        .with_license(LicenseSeed {
            site_url: Some("acme-events.webex.com".into()),
            ..LicenseSeed::new("MC", "Meeting 25 party (events)", 20)
        })
        .with_location("Headquarters");
    acme.admin_token = Some("acme-demo-admin-token".into());
    control.seed_org(acme).await?;
    let mut globex = OrgSeed::new("Globex", "globex.example").with_license(LicenseSeed::new("MS", "Messaging", 10));
    globex.admin_token = Some("globex-demo-admin-token".into());
    control.seed_org(globex).await?;
    let mut trial = OrgSeed::new("Pat's trial", "trial.example");
    trial.trial = true;
    let trial = control.seed_org(trial).await?;
    control
        .seed_person(
            &trial.org_id,
            PersonSeed::new("pat@trial.example").named("Pat", "Parker"),
        )
        .await?;
    let initech = control.seed_org(OrgSeed::new("Initech", "initech.example")).await?;
    control
        .seed_person(
            &initech.org_id,
            PersonSeed::new("sam@initech.example").named("Sam", "Singh").signed_in(),
        )
        .await?;
    // A free (consumer-like) org where Lee signed up with an Acme address: claimable (R-CLM-*).
    let free = control
        .seed_org(OrgSeed::new("Lee's free Webex", "free-webex.example"))
        .await?;
    control
        .seed_person(
            &free.org_id,
            PersonSeed::new("lee@acme.example").named("Lee", "Lopez").signed_in(),
        )
        .await?;
    Ok(())
}
