//! The GitOps subcommands of the binary (`plan`, `import`, `csv-to-manifests`,
//! `manifests-to-csv`). `run` prints results on stdout, warnings and errors on stderr, and
//! returns the exit code: 0 no change (or done), 2 `plan` found changes or blocked objects,
//! 1 error (nothing written).

use std::path::PathBuf;

use clap::Subcommand;

use super::csv::{self as csv_conv, CsvMode, CsvOptions, ServiceColumns};
use super::import::{self, ImportOptions};
use super::input;
use super::observe::DEFAULT_TOKEN_ENV;
use super::output::{self, Destination, Document};
use super::plan::{self, PlanOptions};
use super::render::{self, OutputFormat};
use super::{GitopsError, progress};
use crate::api::webex_org::Backend;
use crate::api::webex_user::DeletionPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Webex,
    Simulator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeletionPolicyArg {
    Delete,
    Deactivate,
    RemoveLicenses,
    Orphan,
}

impl From<DeletionPolicyArg> for DeletionPolicy {
    fn from(p: DeletionPolicyArg) -> Self {
        match p {
            DeletionPolicyArg::Delete => Self::Delete,
            DeletionPolicyArg::Deactivate => Self::Deactivate,
            DeletionPolicyArg::RemoveLicenses => Self::RemoveLicenses,
            DeletionPolicyArg::Orphan => Self::Orphan,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum GitopsCommand {
    /// Show what the controller would do for these manifests, against Webex (read-only). Exit
    /// code: 0 no change, 2 changes or blocked objects, 1 error.
    Plan {
        /// Manifest files or folders (*.yaml, *.yml); `-` reads standard input (kustomize build).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        /// The live objects with their status (`kubectl get
        /// webexusers,externalusers,licensetemplates -A -o yaml`): which person and licences the
        /// operator already manages, which invitations are pending, when users and templates were
        /// created (R-TPL-1/2); live objects missing from the manifests are planned as deleted.
        #[arg(long)]
        live: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
        /// Environment variable with the token; `<VAR>_<ORG>` per WebexOrg wins.
        #[arg(long, default_value = DEFAULT_TOKEN_ENV)]
        token_env: String,
    },
    /// Write WebexUser manifests that adopt every current person of an org as they are, and
    /// ExternalUser manifests for the people of other orgs holding host accounts on its sites.
    Import {
        /// API root of the org (`https://webexapis.com`, or the simulator's URL).
        #[arg(long, visible_alias = "org-url", default_value = "https://webexapis.com")]
        api_base_url: String,
        #[arg(long, value_enum, default_value_t = BackendArg::Webex)]
        backend: BackendArg,
        /// Environment variable with an admin token of the org (never printed).
        #[arg(long, default_value = DEFAULT_TOKEN_ENV)]
        token_env: String,
        /// Name of the WebexOrg the manifests refer to (spec.orgRef.name).
        #[arg(long)]
        org_name: String,
        /// Namespace of the WebexUsers and ExternalUsers.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// deletionPolicy of the imported objects: Orphan by default, so deleting an imported
        /// object never deletes a person the operator did not create.
        #[arg(long, value_enum, default_value_t = DeletionPolicyArg::Orphan)]
        deletion_policy: DeletionPolicyArg,
        /// Also write the WebexOrg (its token Secret `<org>-webex-token` is yours to create).
        #[arg(long)]
        include_org: bool,
        /// `-` (default): stdout; `*.yaml`: one file; otherwise a folder with one file per user.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
    /// Convert a Control Hub users CSV export into WebexUser manifests.
    CsvToManifests {
        /// The CSV file (`-` for standard input).
        #[arg(long)]
        csv: PathBuf,
        /// Name of the WebexOrg (spec.orgRef.name) of new objects.
        #[arg(long)]
        org_name: String,
        /// Namespace of new objects.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// Control Hub's import mode (R-USER-14): whether licences set FALSE or without a column
        /// are removed.
        #[arg(long, value_enum, default_value_t = CsvMode::AddServicesOnly)]
        mode: CsvMode,
        /// Current manifests (files, folders): rows are merged onto the object of the same email.
        #[arg(long)]
        existing: Vec<PathBuf>,
        /// Extra service column: `"Column Name=OFFERCODE"` (repeatable).
        #[arg(long)]
        service_column: Vec<String>,
        /// Location name to Webex location id: `"HQ=<id>"` (repeatable).
        #[arg(long)]
        location: Vec<String>,
        #[arg(long, value_enum, default_value_t = DeletionPolicyArg::Orphan)]
        deletion_policy: DeletionPolicyArg,
        /// `-` (default): stdout; `*.yaml`: one file; otherwise a folder with one file per user.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
    /// Convert WebexUser manifests into a Control Hub users CSV.
    ManifestsToCsv {
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        service_column: Vec<String>,
        #[arg(long)]
        location: Vec<String>,
        /// `-` (default): stdout; otherwise the CSV file.
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
}

impl GitopsCommand {
    /// Runs the command; returns the exit code.
    pub async fn run(self) -> u8 {
        match self.execute().await {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {}", chain(&error));
                1
            }
        }
    }

    async fn execute(self) -> Result<u8, GitopsError> {
        match self {
            Self::Plan {
                files,
                live,
                output,
                token_env,
            } => {
                let report = plan::run(&PlanOptions { files, live, token_env }).await?;
                print!("{}", render::render(&report, output)?);
                Ok(report.exit_code)
            }
            Self::Import {
                api_base_url,
                backend,
                token_env,
                org_name,
                namespace,
                deletion_policy,
                include_org,
                out,
            } => {
                let options = ImportOptions {
                    api_base_url,
                    backend: match backend {
                        BackendArg::Webex => Backend::Webex,
                        BackendArg::Simulator => Backend::Simulator,
                    },
                    token_env,
                    org_name,
                    namespace,
                    deletion_policy: deletion_policy.into(),
                    include_org,
                };
                let imported = import::run(&options).await?;
                warn(&imported.warnings);
                let files = output::write_manifests(
                    &Destination::parse(out.as_deref()),
                    &imported.documents,
                    &import::header(&options),
                )?;
                report_written(imported.documents.len(), &files);
                Ok(0)
            }
            Self::CsvToManifests {
                csv,
                org_name,
                namespace,
                mode,
                existing,
                service_column,
                location,
                deletion_policy,
                out,
            } => {
                let options = CsvOptions {
                    org_name,
                    namespace,
                    mode,
                    deletion_policy: deletion_policy.into(),
                    columns: ServiceColumns::default().with(&service_column)?,
                    locations: csv_conv::parse_locations(&location)?,
                };
                let (name, text) = input::read_texts(std::slice::from_ref(&csv))?
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| (csv.display().to_string(), String::new()));
                let existing = if existing.is_empty() {
                    vec![]
                } else {
                    input::read_paths(&existing)?
                        .users
                        .into_iter()
                        .map(|u| u.object)
                        .collect()
                };
                let bar = progress::bar(1, "converting");
                let (rows, mut warnings) = csv_conv::parse(&name, &text, &options)?;
                let (users, more) = csv_conv::to_users(&name, &rows, &existing, &options)?;
                bar.finish_and_clear();
                warnings.extend(more);
                warn(&warnings);
                let docs = users
                    .iter()
                    .map(|u| Document::new(u.metadata.name.clone().unwrap_or_default(), u))
                    .collect::<Result<Vec<_>, _>>()?;
                let header = format!("Converted by `webex-operator csv-to-manifests` from {name} ({mode:?}).");
                let files = output::write_manifests(&Destination::parse(out.as_deref()), &docs, &header)?;
                report_written(docs.len(), &files);
                Ok(0)
            }
            Self::ManifestsToCsv {
                files,
                service_column,
                location,
                out,
            } => {
                let columns = ServiceColumns::default().with(&service_column)?;
                let locations = csv_conv::parse_locations(&location)?;
                let users: Vec<_> = input::read_paths(&files)?.users.into_iter().map(|u| u.object).collect();
                let text = csv_conv::from_users(&users, &columns, &locations)?;
                let files = output::write_text(&Destination::parse(out.as_deref()), &text)?;
                report_written(users.len(), &files);
                Ok(0)
            }
        }
    }
}

fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn report_written(objects: usize, files: &[PathBuf]) {
    if !files.is_empty() {
        eprintln!("wrote {objects} object(s) to {} file(s)", files.len());
    }
}

/// The error with its sources, `a: b: c`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
