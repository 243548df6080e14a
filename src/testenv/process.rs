//! Child processes that die with the test process.
//!
//! Each binary runs under a small `sh` supervisor whose stdin is a pipe; this process holds the
//! only write end. When the pipe closes (our `Drop`, or this process exiting for any reason,
//! including a `static` whose `Drop` never runs, a panic, or SIGKILL), the supervisor's `read`
//! returns and it SIGKILLs the binary. A janitor built the same way removes the temp dir once
//! the binaries are gone. No unsafe code, no `prctl`.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::TestenvError;

/// `sh -c SUPERVISOR sh <pid-file> <binary> <args...>`: runs the binary in the background, writes
/// its pid, SIGKILLs it when stdin reaches EOF, and exits with the binary's status when it ends.
const SUPERVISOR: &str = r#"pid_file=$1
shift
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
echo "$child" >"$pid_file"
{ read -r _ignored <&3; kill -KILL "$child" 2>/dev/null; } &
reader=$!
exec 3<&-
wait "$child"
status=$?
kill "$reader" 2>/dev/null
exit "$status"
"#;

/// `sh -c JANITOR sh <dir> <pid-file>...`: when stdin reaches EOF, waits (at most ~10 s) until
/// the processes in the pid files are gone, then removes the directory.
const JANITOR: &str = r#"trap '' INT HUP
dir=$1
shift
read -r _ignored
for _ in $(seq 100); do
  alive=
  for f in "$@"; do
    p=$(cat "$f" 2>/dev/null) || continue
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then alive=1; fi
  done
  [ -z "$alive" ] && break
  sleep 0.1
done
rm -rf "$dir"
"#;

/// A binary started under a supervisor that SIGKILLs it when [`Supervised::stop`] runs, when
/// this value is dropped, or when this process ends in any way (exit, panic, SIGKILL).
/// Its stdout and stderr go to one log file.
pub struct Supervised {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    pid_file: PathBuf,
    log: PathBuf,
    stopped: bool,
}

impl Supervised {
    /// Starts `binary args...` with stdin `/dev/null` and stdout/stderr written to `log`
    /// (created or truncated); the binary's pid is written to `pid_file` as soon as it runs.
    pub fn spawn(
        name: &'static str,
        binary: &Path,
        args: &[String],
        log: &Path,
        pid_file: &Path,
    ) -> Result<Self, TestenvError> {
        let out = File::create(log).map_err(TestenvError::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(TestenvError::io(format!("duplicating {}", log.display())))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(pid_file)
            .arg(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(TestenvError::io(format!("starting {name} ({})", binary.display())))?;
        let stdin = child.stdin.take();
        Ok(Self {
            name,
            child,
            stdin,
            pid_file: pid_file.to_owned(),
            log: log.to_owned(),
            stopped: false,
        })
    }

    /// The name given to [`Supervised::spawn`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The log file (stdout and stderr of the binary).
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The binary's own pid (not the supervisor's), once the supervisor has written it.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// `Some(status)` if the binary has exited.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, TestenvError> {
        self.child
            .try_wait()
            .map_err(TestenvError::io(format!("checking on {}", self.name)))
    }

    /// Kills the binary at once (SIGKILL, no graceful shutdown) and reaps the supervisor.
    /// Idempotent; blocks at most ~10 s (normally milliseconds).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        drop(self.stdin.take());
        if wait_timeout(&mut self.child, Duration::from_secs(10)) {
            return;
        }
        // The supervisor did not react: kill the binary and the supervisor directly.
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Supervised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervised")
            .field("name", &self.name)
            .field("pid", &self.pid())
            .field("log", &self.log)
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes a directory when this process ends (or the janitor is dropped), after the processes
/// in the pid files are gone.
pub(crate) struct Janitor {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Janitor {
    pub(crate) fn spawn(dir: &Path, pid_files: &[&Path]) -> Result<Self, TestenvError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(JANITOR)
            .arg("sh")
            .arg(dir)
            .args(pid_files)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(TestenvError::io("starting the temp-dir janitor".to_owned()))?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    /// Lets the janitor run now and waits for it briefly.
    pub(crate) fn finish(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        if !wait_timeout(&mut self.child, Duration::from_secs(12)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Janitor {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.finish();
        }
    }
}

/// Waits for the child up to `timeout`; true if it has exited (and was reaped).
fn wait_timeout(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return true,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => return false,
        }
    }
}

/// The last `lines` lines of a log file (empty if it cannot be read).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
