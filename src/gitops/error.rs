//! Errors of the GitOps tools. Every input error names where it is (file, document or CSV line)
//! and the field or column; display texts are lowercase sentences without the source error,
//! which is chained.

use std::path::PathBuf;

use crate::webex::error::WebexError;

#[derive(Debug, thiserror::Error)]
pub enum GitopsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A YAML document that is not a valid object of its kind.
    #[error("{location}: {}{message}", field_prefix(field))]
    Invalid {
        /// `file#N (line L)`.
        location: String,
        /// JSON path of the field, `.` for the document itself.
        field: String,
        message: String,
    },
    #[error(
        "{location}: unknown kind {api_version}/{kind} (this tool knows webex.operator.io/v1alpha1 WebexOrg, WebexUser, LicenseTemplate, UserClaim, ExternalUser)"
    )]
    UnknownKind {
        location: String,
        api_version: String,
        kind: String,
    },
    #[error("no token for WebexOrg {org}: set {per_org_env} or {env} (the token is never printed)")]
    MissingToken {
        org: String,
        per_org_env: String,
        env: String,
    },
    #[error("WebexOrg {org}: failed to {operation}")]
    Webex {
        org: String,
        operation: &'static str,
        #[source]
        source: Box<WebexError>,
    },
    #[error("{file}: missing column {column:?} (a Control Hub users export has it)")]
    CsvMissingColumn { file: String, column: String },
    #[error("{file} line {line}: column {column:?}: {message}")]
    CsvValue {
        file: String,
        line: u64,
        column: String,
        message: String,
    },
    #[error("{file}: not a readable CSV file")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error("invalid option {option}: {message}")]
    Usage { option: &'static str, message: String },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot render {what}")]
    Render { what: &'static str, message: String },
}

fn field_prefix(field: &str) -> String {
    if field == "." {
        String::new()
    } else {
        format!("{field}: ")
    }
}
