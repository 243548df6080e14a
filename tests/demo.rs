//! The main job, end to end: `webex-operator demo` (control plane, simulator, controller,
//! `examples/`) converges and says so. Runs the real binary on a free simulator port.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::time::Duration;

#[tokio::test]
async fn the_demo_converges_with_every_kind() {
    let bin_dir = common::bin_dir().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let run = tokio::process::Command::new(common::operator::BIN)
        .args(["demo", "--sim-port", &port.to_string()])
        .env(webex_operator::testenv::DIR_ENV, &bin_dir)
        // What a newcomer sees: the demo's own default filter.
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the demo finishes within 4 minutes")
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout
        .lines()
        .find(|l| l.starts_with("==> converged in"))
        .unwrap_or_else(|| panic!("no convergence line:\n{stdout}"));
    assert!(last.contains("7 users Active") && last.contains("2 refused"), "{last}");
    // A quiet demo: nothing in it is a failure a newcomer should worry about (waiting for the
    // org to get ready is info, the kubeconfig trusts the apiserver's CA).
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| l.contains("WARN"))
        .collect();
    assert!(warnings.is_empty(), "the demo printed warnings: {warnings:#?}");
    // Every kind reached its end state in the final tables.
    for expected in [
        "TrialOrgOwnsEmail",
        "ExistsInOtherOrg",
        "sam-initech",
        "Accepted",
        "acme-early-adopters",
        "Complete",
    ] {
        assert!(stdout.contains(expected), "{expected} missing:\n{stdout}");
    }
}
