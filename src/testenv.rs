//! A real kube-apiserver + etcd (envtest-style, no containers) for the demo and the integration
//! tests. See `testenv/build.sh` for how the binaries are built; the flags they run with are
//! below.
//!
//! - [`binaries`] finds (env `WEBEX_TESTENV_DIR`) or builds (`testenv/build.sh`) the binaries.
//! - [`ControlPlane::start`] runs etcd and kube-apiserver (RBAC on, static token users) on free
//!   localhost ports in a temp dir and waits for `/readyz`. Dropping it kills both processes and
//!   removes the temp dir (kept when `WEBEX_TESTENV_KEEP=1`). The processes also die, and the
//!   temp dir is removed, when this process exits without dropping it (e.g. from a `static`).

mod keys;
mod process;

use std::collections::VecDeque;
use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

pub use self::process::Supervised;
use self::process::{Janitor, log_tail};

/// Env var naming the directory that holds `kube-apiserver` and `etcd`.
pub const DIR_ENV: &str = "WEBEX_TESTENV_DIR";
/// Env var that, when `1`, keeps the temp dir (data, certs, logs) after teardown.
pub const KEEP_ENV: &str = "WEBEX_TESTENV_KEEP";
/// The user in `system:masters` that [`ControlPlane::kube_config`] authenticates as.
pub const ADMIN_USER: &str = "admin";

const APISERVER: &str = "kube-apiserver";
const ETCD: &str = "etcd";
const LOG_TAIL_LINES: usize = 40;

/// Everything that can go wrong while finding, building or running the control plane.
#[derive(Debug, thiserror::Error)]
pub enum TestenvError {
    #[error("testenv: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("testenv/build.sh failed ({status}); last output:\n{tail}")]
    Build { status: String, tail: String },
    #[error("testenv: no kube-apiserver and etcd in {}", dir.display())]
    MissingBinaries { dir: PathBuf },
    #[error("testenv: {name} exited during start-up ({status}); last lines of {}:\n{tail}", log.display())]
    Exited {
        name: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("testenv: {name} not ready after {}s ({last}); last lines of {}:\n{tail}", timeout.as_secs(), log.display())]
    Timeout {
        name: &'static str,
        timeout: Duration,
        last: String,
        log: PathBuf,
        tail: String,
    },
    #[error("testenv: invalid user or group name {0:?} (use letters, digits and -_.:@; not \"admin\")")]
    InvalidUser(String),
    #[error("testenv: duplicate user {0:?}")]
    DuplicateUser(String),
    #[error("testenv: unknown user {0:?}")]
    UnknownUser(String),
    #[error("testenv: {0}")]
    Crypto(String),
    #[error("testenv: invalid apiserver URL {url}: {reason}")]
    Url { url: String, reason: String },
    #[error("testenv: building the readiness client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("testenv: building a kube client: {0}")]
    Kube(#[from] kube::Error),
}

impl TestenvError {
    fn io(context: String) -> impl FnOnce(std::io::Error) -> TestenvError {
        move |source| TestenvError::Io { context, source }
    }
}

/// True if `dir` holds both `kube-apiserver` and `etcd`.
pub fn binaries_present(dir: &Path) -> bool {
    dir.join(APISERVER).is_file() && dir.join(ETCD).is_file()
}

/// The directory with `kube-apiserver` and `etcd`: `$WEBEX_TESTENV_DIR` if the binaries are
/// there, else the output of `testenv/build.sh` (a cache dir; the first build takes minutes).
/// The script's progress lines (stderr) are passed to `progress` as they come.
pub async fn binaries(progress: impl Fn(&str)) -> Result<PathBuf, TestenvError> {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        let dir = PathBuf::from(dir);
        if binaries_present(&dir) {
            return Ok(dir);
        }
        progress(&format!(
            "testenv: {DIR_ENV}={} has no kube-apiserver/etcd yet; building them there",
            dir.display()
        ));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/build.sh");
    let mut child = tokio::process::Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(TestenvError::io(format!("running {}", script.display())))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read_stdout = async {
        let mut out = String::new();
        if let Some(mut stdout) = stdout {
            stdout
                .read_to_string(&mut out)
                .await
                .map_err(TestenvError::io("reading build.sh output".to_owned()))?;
        }
        Ok::<_, TestenvError>(out)
    };
    let read_stderr = async {
        let mut tail = VecDeque::new();
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Some(line) = lines
                .next_line()
                .await
                .map_err(TestenvError::io("reading build.sh progress".to_owned()))?
            {
                progress(&line);
                if tail.len() == LOG_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
        Ok::<_, TestenvError>(tail)
    };
    let (stdout, tail) = tokio::join!(read_stdout, read_stderr);
    let (stdout, tail) = (stdout?, tail?);
    let status = child
        .wait()
        .await
        .map_err(TestenvError::io("waiting for build.sh".to_owned()))?;
    if !status.success() {
        return Err(TestenvError::Build {
            status: status.to_string(),
            tail: Vec::from(tail).join("\n"),
        });
    }
    let dir = PathBuf::from(stdout.trim());
    if stdout.trim().is_empty() || !binaries_present(&dir) {
        return Err(TestenvError::MissingBinaries { dir });
    }
    Ok(dir)
}

/// Options for [`ControlPlane::start_with`].
#[derive(Clone, Debug)]
pub struct ControlPlaneOptions {
    /// Users besides `admin`, as (name, groups); each gets a bearer token ([`ControlPlane::token_for`]).
    /// They have no permissions beyond `system:authenticated` until a test binds a role to them.
    pub extra_users: Vec<(String, Vec<String>)>,
    /// How long to wait for etcd and then `/readyz` (default 60 s).
    pub startup_timeout: Duration,
}

impl Default for ControlPlaneOptions {
    fn default() -> Self {
        Self {
            extra_users: Vec::new(),
            startup_timeout: Duration::from_secs(60),
        }
    }
}

/// A running etcd + kube-apiserver pair. Dropping it stops both and removes its temp dir.
pub struct ControlPlane {
    // Field order matters only for the Drop impl below, which stops explicitly.
    apiserver: Supervised,
    etcd: Supervised,
    janitor: Option<Janitor>,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    url: String,
    base_config: kube::Config,
    /// (name, token); `admin` first.
    users: Vec<(String, String)>,
    kubeconfig: PathBuf,
    log_dir: PathBuf,
    keep: bool,
    startup: Duration,
}

impl fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("url", &self.url)
            .field("dir", &self.root)
            .field("users", &self.users.iter().map(|(u, _)| u).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver from `bin_dir` with only the `admin` user.
    pub async fn start(bin_dir: &Path) -> Result<ControlPlane, TestenvError> {
        Self::start_with(bin_dir, ControlPlaneOptions::default()).await
    }

    /// Starts etcd and kube-apiserver from `bin_dir`; waits until `/readyz` answers `ok`.
    /// Retries (up to 3 times) if a freshly picked port was taken by someone else meanwhile.
    pub async fn start_with(bin_dir: &Path, options: ControlPlaneOptions) -> Result<ControlPlane, TestenvError> {
        crate::tls::install_crypto_provider();
        if !binaries_present(bin_dir) {
            return Err(TestenvError::MissingBinaries {
                dir: bin_dir.to_owned(),
            });
        }
        let users = users(&options)?;
        let mut attempt = 1;
        loop {
            match Self::try_start(bin_dir, &options, users.clone()).await {
                Err(TestenvError::Exited { tail, .. }) if attempt < 3 && tail.contains("address already in use") => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn try_start(
        bin_dir: &Path,
        options: &ControlPlaneOptions,
        users: Vec<(String, Vec<String>)>,
    ) -> Result<ControlPlane, TestenvError> {
        let started = Instant::now();
        let keep = std::env::var(KEEP_ENV).is_ok_and(|v| v == "1");
        let dir = tempfile::Builder::new()
            .prefix("webex-testenv-")
            .tempdir()
            .map_err(TestenvError::io("creating the temp dir".to_owned()))?;
        let root = dir.path().to_owned();
        // With KEEP the dir outlives this value, also when start-up fails.
        let dir = if keep {
            let _ = dir.keep();
            None
        } else {
            Some(dir)
        };
        let log_dir = root.join("logs");
        let certs = root.join("certs");
        for d in [&log_dir, &certs] {
            std::fs::create_dir_all(d).map_err(TestenvError::io(format!("creating {}", d.display())))?;
        }

        // Declared before the processes so that, on an early return, it is dropped after them.
        let janitor = if keep {
            None
        } else {
            Some(Janitor::spawn(
                &root,
                &[&root.join("etcd.pid"), &root.join("kube-apiserver.pid")],
            )?)
        };

        // Credentials.
        let key = keys::service_account_key()?;
        write(&root.join("sa.key"), &key.private_pem)?;
        write(&root.join("sa.pub"), &key.public_pem)?;
        let users: Vec<(String, String, Vec<String>)> = users
            .into_iter()
            .map(|(name, groups)| (name, keys::token(), groups))
            .collect();
        let mut csv = String::new();
        for (name, token, groups) in &users {
            csv.push_str(&format!("{token},{name},{name}"));
            if !groups.is_empty() {
                csv.push_str(&format!(",\"{}\"", groups.join(",")));
            }
            csv.push('\n');
        }
        write(&root.join("tokens.csv"), &csv)?;

        // Ports: hold the listeners until just before the processes start.
        let (etcd_l, etcd_port) = free_port()?;
        let (peer_l, peer_port) = free_port()?;
        let (api_l, api_port) = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let url = format!("https://127.0.0.1:{api_port}");
        let p = |name: &str| root.join(name).display().to_string();

        drop((etcd_l, peer_l));
        let etcd_args = vec![
            format!("--data-dir={}", p("etcd")),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"),
            "--unsafe-no-fsync".to_owned(),
        ];
        let mut etcd = Supervised::spawn(
            ETCD,
            &bin_dir.join(ETCD),
            &etcd_args,
            &log_dir.join("etcd.log"),
            &root.join("etcd.pid"),
        )?;
        let deadline = started + options.startup_timeout;
        wait_for_etcd(&mut etcd, etcd_port, deadline, options.startup_timeout).await?;

        drop(api_l);
        let api_args = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--cert-dir={}", certs.display()),
            format!("--secure-port={api_port}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            "--service-cluster-ip-range=10.0.0.0/24".to_owned(),
            "--allow-privileged=true".to_owned(),
            "--disable-admission-plugins=ServiceAccount".to_owned(),
            "--authorization-mode=RBAC".to_owned(),
            format!("--service-account-issuer={url}/"),
            format!("--service-account-key-file={}", p("sa.pub")),
            format!("--service-account-signing-key-file={}", p("sa.key")),
            format!("--token-auth-file={}", p("tokens.csv")),
        ];
        let mut apiserver = Supervised::spawn(
            APISERVER,
            &bin_dir.join(APISERVER),
            &api_args,
            &log_dir.join("kube-apiserver.log"),
            &root.join("kube-apiserver.pid"),
        )?;
        let admin_token = users.first().map(|(_, t, _)| t.clone()).unwrap_or_default();
        // kube-apiserver writes its self-signed serving cert, followed by the CA that signed it,
        // before it listens; clients trust that CA instead of skipping verification.
        let serving_cert = certs.join("apiserver.crt");
        let ca_pem = wait_for_serving_cert(&mut apiserver, &serving_cert, deadline, options.startup_timeout).await?;
        wait_for_readyz(
            &mut apiserver,
            &url,
            &ca_pem,
            &admin_token,
            deadline,
            options.startup_timeout,
        )
        .await?;

        let mut base_config = kube::Config::new(url.parse().map_err(|e| TestenvError::Url {
            url: url.clone(),
            reason: format!("{e}"),
        })?);
        base_config.root_cert = Some(der_certificates(&ca_pem, &serving_cert)?);
        base_config.default_namespace = "default".to_owned();

        let users: Vec<(String, String)> = users.into_iter().map(|(n, t, _)| (n, t)).collect();
        let kubeconfig = root.join("kubeconfig");
        write(&kubeconfig, &kubeconfig_yaml(&url, &ca_pem, &users))?;

        Ok(ControlPlane {
            apiserver,
            etcd,
            janitor,
            dir,
            root,
            url,
            base_config,
            users,
            kubeconfig,
            log_dir,
            keep,
            startup: started.elapsed(),
        })
    }

    /// The apiserver URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kube config for `admin` (system:masters), trusting the apiserver's self-signed CA.
    pub fn kube_config(&self) -> kube::Config {
        let mut config = self.base_config.clone();
        config.auth_info.token = Some(secrecy::SecretString::from(self.admin_token().to_owned()));
        config
    }

    /// A kube config for one of [`ControlPlaneOptions::extra_users`] (or `admin`).
    pub fn kube_config_for(&self, user: &str) -> Result<kube::Config, TestenvError> {
        let token = self
            .token_for(user)
            .ok_or_else(|| TestenvError::UnknownUser(user.to_owned()))?;
        let mut config = self.base_config.clone();
        config.auth_info.token = Some(secrecy::SecretString::from(token.to_owned()));
        Ok(config)
    }

    /// A new admin client, bound to the calling tokio runtime.
    pub async fn client(&self) -> Result<kube::Client, TestenvError> {
        crate::tls::install_crypto_provider();
        Ok(kube::Client::try_from(self.kube_config())?)
    }

    /// A new client for `user`, bound to the calling tokio runtime.
    pub async fn client_for(&self, user: &str) -> Result<kube::Client, TestenvError> {
        crate::tls::install_crypto_provider();
        Ok(kube::Client::try_from(self.kube_config_for(user)?)?)
    }

    /// The bearer token of `user` (`admin` or an extra user).
    pub fn token_for(&self, user: &str) -> Option<&str> {
        self.users
            .iter()
            .find(|(name, _)| name == user)
            .map(|(_, token)| token.as_str())
    }

    /// The admin's bearer token.
    pub fn admin_token(&self) -> &str {
        self.token_for(ADMIN_USER).unwrap_or_default()
    }

    /// A kubeconfig file for kubectl and humans (with the apiserver's CA); one context
    /// per user, named after the user, current context `admin`.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The directory with `etcd.log` and `kube-apiserver.log`.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The temp dir holding data, certs, credentials and logs.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// How long [`ControlPlane::start`] took until `/readyz` said ok.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Pids of the kube-apiserver and etcd processes themselves (for teardown checks).
    pub fn pids(&self) -> (Option<u32>, Option<u32>) {
        (self.apiserver.pid(), self.etcd.pid())
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.apiserver.stop();
        self.etcd.stop();
        if self.keep {
            eprintln!(
                "testenv: kept {} ({KEEP_ENV}=1; logs in {})",
                self.root.display(),
                self.log_dir.display()
            );
        }
        drop(self.dir.take());
        if let Some(mut janitor) = self.janitor.take() {
            janitor.finish();
        }
    }
}

/// Validates the user list; `admin` (system:masters) comes first.
fn users(options: &ControlPlaneOptions) -> Result<Vec<(String, Vec<String>)>, TestenvError> {
    let mut users = vec![(ADMIN_USER.to_owned(), vec!["system:masters".to_owned()])];
    for (name, groups) in &options.extra_users {
        if !valid_name(name) || name == ADMIN_USER {
            return Err(TestenvError::InvalidUser(name.clone()));
        }
        if let Some(bad) = groups.iter().find(|g| !valid_name(g)) {
            return Err(TestenvError::InvalidUser(bad.clone()));
        }
        if users.iter().any(|(n, _)| n == name) {
            return Err(TestenvError::DuplicateUser(name.clone()));
        }
        users.push((name.clone(), groups.clone()));
    }
    Ok(users)
}

/// Names that are safe in the token CSV and in the kubeconfig.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
}

fn write(path: &Path, contents: &str) -> Result<(), TestenvError> {
    std::fs::write(path, contents).map_err(TestenvError::io(format!("writing {}", path.display())))
}

fn free_port() -> Result<(TcpListener, u16), TestenvError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(TestenvError::io("binding a free port".to_owned()))?;
    let port = listener
        .local_addr()
        .map_err(TestenvError::io("reading a free port".to_owned()))?
        .port();
    Ok((listener, port))
}

fn exited_error(process: &Supervised, status: std::process::ExitStatus) -> TestenvError {
    TestenvError::Exited {
        name: process.name(),
        status: status.to_string(),
        log: process.log().to_owned(),
        tail: log_tail(process.log(), LOG_TAIL_LINES),
    }
}

fn timeout_error(process: &Supervised, timeout: Duration, last: String) -> TestenvError {
    TestenvError::Timeout {
        name: process.name(),
        timeout,
        last,
        log: process.log().to_owned(),
        tail: log_tail(process.log(), LOG_TAIL_LINES),
    }
}

async fn wait_for_etcd(
    etcd: &mut Supervised,
    port: u16,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), TestenvError> {
    loop {
        if let Some(status) = etcd.exited()? {
            return Err(exited_error(etcd, status));
        }
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(timeout_error(etcd, timeout, e.to_string()));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The PEM bundle (serving cert, then its CA) that kube-apiserver generates in `--cert-dir`.
async fn wait_for_serving_cert(
    apiserver: &mut Supervised,
    path: &Path,
    deadline: Instant,
    timeout: Duration,
) -> Result<String, TestenvError> {
    loop {
        if let Some(status) = apiserver.exited()? {
            return Err(exited_error(apiserver, status));
        }
        // Written in one go but not atomically: wait until both blocks are complete.
        if let Ok(pem) = std::fs::read_to_string(path)
            && pem.matches("-----END CERTIFICATE-----").count() >= 2
        {
            return Ok(pem);
        }
        if Instant::now() >= deadline {
            return Err(timeout_error(
                apiserver,
                timeout,
                format!("no serving cert at {}", path.display()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn der_certificates(pem: &str, path: &Path) -> Result<Vec<Vec<u8>>, TestenvError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|cert| cert.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TestenvError::Url {
            url: path.display().to_string(),
            reason: format!("unreadable serving cert: {e}"),
        })
}

async fn wait_for_readyz(
    apiserver: &mut Supervised,
    url: &str,
    ca_pem: &str,
    token: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), TestenvError> {
    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(5));
    for cert in reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())? {
        http = http.add_root_certificate(cert);
    }
    let http = http.build()?;
    let readyz = format!("{url}/readyz");
    loop {
        if let Some(status) = apiserver.exited()? {
            return Err(exited_error(apiserver, status));
        }
        let last = match http.get(&readyz).bearer_auth(token).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                let body = resp.text().await.unwrap_or_default();
                let failing: Vec<&str> = body.lines().filter(|l| l.contains("failed")).collect();
                format!("/readyz {status}: {}", failing.join("; "))
            }
            Err(e) => format!("/readyz: {e}"),
        };
        if Instant::now() >= deadline {
            return Err(timeout_error(apiserver, timeout, last));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn kubeconfig_yaml(url: &str, ca_pem: &str, users: &[(String, String)]) -> String {
    use base64::Engine as _;
    // JSON strings are valid YAML double-quoted scalars.
    let q = |s: &str| serde_json::Value::from(s).to_string();
    let mut y = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    y.push_str(&format!(
        "- name: webex-testenv\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n",
        q(url),
        q(&base64::engine::general_purpose::STANDARD.encode(ca_pem))
    ));
    y.push_str("users:\n");
    for (name, token) in users {
        y.push_str(&format!("- name: {}\n  user:\n    token: {}\n", q(name), q(token)));
    }
    y.push_str("contexts:\n");
    for (name, _) in users {
        y.push_str(&format!(
            "- name: {0}\n  context:\n    cluster: webex-testenv\n    user: {0}\n    namespace: default\n",
            q(name)
        ));
    }
    y.push_str(&format!("current-context: {}\n", q(ADMIN_USER)));
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_validated_and_admin_first() {
        let opts = ControlPlaneOptions {
            extra_users: vec![("webex-operator".into(), vec!["team:ops".into()])],
            ..Default::default()
        };
        let u = users(&opts).unwrap();
        assert_eq!(u[0].0, "admin");
        assert_eq!(u[1].0, "webex-operator");
        for bad in ["", "a,b", "a\"b", "admin"] {
            let opts = ControlPlaneOptions {
                extra_users: vec![(bad.into(), vec![])],
                ..Default::default()
            };
            assert!(users(&opts).is_err(), "{bad:?}");
        }
        let opts = ControlPlaneOptions {
            extra_users: vec![("x".into(), vec![]), ("x".into(), vec![])],
            ..Default::default()
        };
        assert!(matches!(users(&opts), Err(TestenvError::DuplicateUser(_))));
    }

    #[test]
    fn usable_from_statics_and_spawned_tasks() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let dir = Path::new("/nonexistent");
        send(&ControlPlane::start(dir));
        send(&binaries(|_| {}));
        let cell: Option<ControlPlane> = None;
        send_sync(&cell);
    }

    #[test]
    fn kubeconfig_parses() {
        let yaml = kubeconfig_yaml(
            "https://127.0.0.1:1234",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &[("admin".into(), "t1".into()), ("op".into(), "t2".into())],
        );
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("admin"));
        assert_eq!(kc.auth_infos.len(), 2);
        assert_eq!(kc.contexts.len(), 2);
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.insecure_skip_tls_verify, None);
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=")
        );
    }
}
