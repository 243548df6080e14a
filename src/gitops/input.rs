//! Reading manifests for the GitOps tools (no client required): files, folders (`*.yaml` /
//! `*.yml`, sorted, not recursive, as [`crate::manifests::read_path`]), multi-document streams,
//! `kind: List` (what `kubectl get -o yaml` prints) and `-` for standard input (Kustomize
//! output). Objects are decoded into the operator's typed kinds; every error names the file,
//! the document and its first line, and the field.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Secret;
use serde::de::DeserializeOwned;

use super::GitopsError;
use crate::api::external_user::ExternalUserSpec;
use crate::api::license_template::LicenseTemplateSpec;
use crate::api::{ExternalUser, GROUP, LicenseTemplate, WebexOrg, WebexUser};
use crate::controller::license_template::plan::group_of;
use crate::manifests::{self, ManifestError};

/// The API version of every kind of the operator.
pub const API_VERSION: &str = "webex.operator.io/v1alpha1";

/// Kinds of the operator that `plan` does not cover: accepted, reported, not planned.
const NOT_PLANNED: &[&str] = &["UserClaim"];

/// One decoded object and where it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// `file#N (line L)`.
    pub location: String,
    pub object: T,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Inputs {
    pub orgs: Vec<Located<WebexOrg>>,
    pub users: Vec<Located<WebexUser>>,
    pub external_users: Vec<Located<ExternalUser>>,
    /// LicenseTemplates: merged into the WebexUsers they apply to (R-TPL-1..5).
    pub templates: Vec<Located<LicenseTemplate>>,
    /// Secrets, only ever used to find a WebexOrg's token.
    pub secrets: Vec<Located<Secret>>,
    /// Objects of the operator's group that are not planned: (location, kind).
    pub not_planned: Vec<(String, String)>,
    /// Objects of other groups (Namespaces, ...), skipped: (location, apiVersion/kind).
    pub ignored: Vec<(String, String)>,
}

/// Reads every path (`-` is standard input, read once).
pub fn read_paths(paths: &[PathBuf]) -> Result<Inputs, GitopsError> {
    let mut inputs = Inputs::default();
    for (name, text) in read_texts(paths)? {
        parse_into(&mut inputs, &name, &text)?;
    }
    check_unique(&inputs)?;
    Ok(inputs)
}

/// The text of every input file: (source name, content).
pub fn read_texts(paths: &[PathBuf]) -> Result<Vec<(String, String)>, GitopsError> {
    let mut out = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| GitopsError::Read {
                    path: path.clone(),
                    source,
                })?;
            out.push(("<stdin>".to_string(), text));
            continue;
        }
        for file in files_of(path)? {
            let text = std::fs::read_to_string(&file).map_err(|source| GitopsError::Read {
                path: file.clone(),
                source,
            })?;
            out.push((file.display().to_string(), text));
        }
    }
    Ok(out)
}

fn files_of(path: &Path) -> Result<Vec<PathBuf>, GitopsError> {
    let read_err = |source| GitopsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_err)? {
        let p = entry.map_err(read_err)?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// First line (1-based) of each YAML document of `text`, in the numbering of
/// [`manifests::parse_documents`] (`file#N`).
pub fn document_lines(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut seen_content = false;
    for (i, line) in text.lines().enumerate() {
        let is_separator = line == "---" || line.starts_with("--- ") || line.trim_end() == "---";
        if is_separator {
            starts.push(i + 2);
            seen_content = true;
            continue;
        }
        let trimmed = line.trim();
        if !seen_content && !trimmed.is_empty() && !trimmed.starts_with('#') && !trimmed.starts_with('%') {
            starts.push(i + 1);
            seen_content = true;
        }
    }
    starts
}

fn located(source: &str, lines: &[usize]) -> String {
    // `source` is `file#N`.
    let line = source
        .rsplit_once('#')
        .and_then(|(_, n)| n.parse::<usize>().ok())
        .and_then(|n| lines.get(n.saturating_sub(1)));
    match line {
        Some(line) => format!("{source} (line {line})"),
        None => source.to_string(),
    }
}

/// Parses one file's documents into `inputs`.
pub fn parse_into(inputs: &mut Inputs, name: &str, text: &str) -> Result<(), GitopsError> {
    let lines = document_lines(text);
    let docs = manifests::parse_documents(name, text).map_err(|e| match e {
        ManifestError::Parse { source_name, message } => GitopsError::Invalid {
            location: located(&source_name, &lines),
            field: ".".into(),
            message,
        },
        other => GitopsError::Invalid {
            location: name.to_string(),
            field: ".".into(),
            message: other.to_string(),
        },
    })?;
    for doc in docs {
        let location = located(&doc.source, &lines);
        let value = serde_json::to_value(&doc.object).map_err(|e| GitopsError::Invalid {
            location: location.clone(),
            field: ".".into(),
            message: e.to_string(),
        })?;
        add_value(inputs, location, value)?;
    }
    Ok(())
}

fn add_value(inputs: &mut Inputs, location: String, value: serde_json::Value) -> Result<(), GitopsError> {
    let api_version = value.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default();
    let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or_default();
    let (group, _) = api_version.split_once('/').unwrap_or(("", api_version));
    match (api_version, kind) {
        (API_VERSION, "WebexOrg") => {
            let object: WebexOrg = decode(&location, value)?;
            require_name(&location, object.metadata.name.as_deref())?;
            inputs.orgs.push(Located { location, object });
        }
        (API_VERSION, "WebexUser") => {
            let object: WebexUser = decode(&location, value)?;
            require_name(&location, object.metadata.name.as_deref())?;
            if let Some((field, message)) = schema_problems(&object.spec).into_iter().next() {
                return Err(GitopsError::Invalid {
                    location,
                    field,
                    message,
                });
            }
            inputs.users.push(Located { location, object });
        }
        (API_VERSION, "ExternalUser") => {
            let object: ExternalUser = decode(&location, value)?;
            require_name(&location, object.metadata.name.as_deref())?;
            if let Some((field, message)) = external_schema_problems(&object.spec).into_iter().next() {
                return Err(GitopsError::Invalid {
                    location,
                    field,
                    message,
                });
            }
            inputs.external_users.push(Located { location, object });
        }
        (API_VERSION, "LicenseTemplate") => {
            let object: LicenseTemplate = decode(&location, value)?;
            require_name(&location, object.metadata.name.as_deref())?;
            if let Some((field, message)) = template_schema_problems(&object.spec).into_iter().next() {
                return Err(GitopsError::Invalid {
                    location,
                    field,
                    message,
                });
            }
            inputs.templates.push(Located { location, object });
        }
        (API_VERSION, k) if NOT_PLANNED.contains(&k) => inputs.not_planned.push((location, k.to_string())),
        ("v1", "Secret") => {
            let object: Secret = decode(&location, value)?;
            inputs.secrets.push(Located { location, object });
        }
        (_, "List") if value.get("items").is_some_and(|i| i.is_array()) => {
            let items = value
                .get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                add_value(inputs, format!("{location} item {}", i + 1), item)?;
            }
        }
        _ if group == GROUP => {
            return Err(GitopsError::UnknownKind {
                location,
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            });
        }
        _ => inputs.ignored.push((location, format!("{api_version}/{kind}"))),
    }
    Ok(())
}

/// Decodes with the path of the failing field (`spec.calling.extension`).
fn decode<T: DeserializeOwned>(location: &str, value: serde_json::Value) -> Result<T, GitopsError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        GitopsError::Invalid {
            location: location.to_string(),
            field: path,
            message: e.inner().to_string(),
        }
    })
}

fn require_name(location: &str, name: Option<&str>) -> Result<(), GitopsError> {
    if name.is_none_or(str::is_empty) {
        return Err(GitopsError::Invalid {
            location: location.to_string(),
            field: "metadata.name".into(),
            message: "required".into(),
        });
    }
    Ok(())
}

/// The CRD's OpenAPI checks that the API server would apply and the planner does not repeat
/// (email shape, E.164 number, extension digits): (field, message).
pub fn schema_problems(spec: &crate::api::webex_user::WebexUserSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !email_ok(&spec.email) {
        out.push(("spec.email".into(), format!("{:?} is not an email address", spec.email)));
    }
    if let Some(calling) = &spec.calling {
        if let Some(number) = &calling.phone_number
            && !is_e164(number)
        {
            out.push((
                "spec.calling.phoneNumber".into(),
                format!("{number:?} is not an E.164 number such as +14085550101 (R-USER-7)"),
            ));
        }
        if let Some(ext) = &calling.extension
            && (!(2..=10).contains(&ext.len()) || !ext.chars().all(|c| c.is_ascii_digit()))
        {
            out.push((
                "spec.calling.extension".into(),
                format!("{ext:?} must be 2 to 10 digits"),
            ));
        }
    }
    out
}

/// The shape the CRDs' email pattern checks.
fn email_ok(email: &str) -> bool {
    email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.contains(char::is_whitespace)
    })
}

/// The ExternalUser CRD's checks that the API server would apply: the email pattern (R-EXT-2
/// needs an existing account's email), at least one site (its CEL rule), non-empty site URLs.
pub fn external_schema_problems(spec: &ExternalUserSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !email_ok(&spec.email) {
        out.push(("spec.email".into(), format!("{:?} is not an email address", spec.email)));
    }
    if spec.sites.is_empty() {
        out.push(("spec.sites".into(), "name at least one Meetings site".into()));
    }
    for (i, site) in spec.sites.iter().enumerate() {
        let url = site.site_url.trim();
        if url.is_empty() || url.contains('/') || url.contains(char::is_whitespace) {
            out.push((
                format!("spec.sites[{i}].siteUrl"),
                format!("{:?} is not a site host name such as acme.webex.com", site.site_url),
            ));
        }
    }
    out
}

/// The LicenseTemplate CRD's checks that the API server would apply (its CEL rule on
/// `licenses`), and a selector the controller could not use (its `InvalidSelector`).
pub fn template_schema_problems(spec: &LicenseTemplateSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, l) in spec.licenses.iter().enumerate() {
        if group_of(&l.offer_code).is_some() {
            out.push((
                format!("spec.licenses[{i}].offerCode"),
                format!(
                    "{:?}: a template cannot assign Calling licences (set spec.calling on the WebexUser, R-USER-7); choose Contact Center with contactCenter",
                    l.offer_code
                ),
            ));
        }
    }
    if let Some(selector) = &spec.selector
        && let Err(e) = kube::core::Selector::try_from(selector.clone())
    {
        out.push(("spec.selector".into(), format!("not a usable label selector: {e}")));
    }
    out
}

/// `^\+[1-9][0-9]{6,14}$`, the CRD's pattern for phone numbers.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
}

/// Two documents for one object, or two WebexUsers for one email in one org, are input errors:
/// the result would depend on the order in which they are applied.
fn check_unique(inputs: &Inputs) -> Result<(), GitopsError> {
    let mut keys = BTreeSet::new();
    let mut emails = BTreeSet::new();
    for u in &inputs.users {
        let ns = u.object.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let name = u.object.metadata.name.clone().unwrap_or_default();
        if !keys.insert((ns.clone(), name.clone())) {
            return Err(GitopsError::Invalid {
                location: u.location.clone(),
                field: "metadata.name".into(),
                message: format!("WebexUser {ns}/{name} appears twice in the inputs"),
            });
        }
        if !emails.insert((
            u.object.spec.org_ref.name.clone(),
            u.object.spec.email.to_ascii_lowercase(),
        )) {
            return Err(GitopsError::Invalid {
                location: u.location.clone(),
                field: "spec.email".into(),
                message: format!(
                    "another WebexUser of org {} manages {} too",
                    u.object.spec.org_ref.name, u.object.spec.email
                ),
            });
        }
    }
    let mut external_keys = BTreeSet::new();
    let mut external_emails = BTreeSet::new();
    for u in &inputs.external_users {
        let ns = u.object.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let name = u.object.metadata.name.clone().unwrap_or_default();
        if !external_keys.insert((ns.clone(), name.clone())) {
            return Err(GitopsError::Invalid {
                location: u.location.clone(),
                field: "metadata.name".into(),
                message: format!("ExternalUser {ns}/{name} appears twice in the inputs"),
            });
        }
        if !external_emails.insert((
            u.object.spec.org_ref.name.clone(),
            u.object.spec.email.to_ascii_lowercase(),
        )) {
            return Err(GitopsError::Invalid {
                location: u.location.clone(),
                field: "spec.email".into(),
                message: format!(
                    "another ExternalUser of org {} manages {} too",
                    u.object.spec.org_ref.name, u.object.spec.email
                ),
            });
        }
    }
    let mut template_keys = BTreeSet::new();
    for t in &inputs.templates {
        let ns = t.object.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let name = t.object.metadata.name.clone().unwrap_or_default();
        if !template_keys.insert((ns.clone(), name.clone())) {
            return Err(GitopsError::Invalid {
                location: t.location.clone(),
                field: "metadata.name".into(),
                message: format!("LicenseTemplate {ns}/{name} appears twice in the inputs"),
            });
        }
    }
    let mut orgs = BTreeSet::new();
    for o in &inputs.orgs {
        let name = o.object.metadata.name.clone().unwrap_or_default();
        if !orgs.insert(name.clone()) {
            return Err(GitopsError::Invalid {
                location: o.location.clone(),
                field: "metadata.name".into(),
                message: format!("WebexOrg {name} appears twice in the inputs"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inputs, GitopsError> {
        let mut inputs = Inputs::default();
        parse_into(&mut inputs, "t.yaml", text)?;
        check_unique(&inputs)?;
        Ok(inputs)
    }

    const USER: &str = "apiVersion: webex.operator.io/v1alpha1\nkind: WebexUser\nmetadata: {name: ada, namespace: a}\nspec:\n  orgRef: {name: acme}\n  email: ada@acme.example\n";

    #[test]
    fn document_lines_follow_separators() {
        assert_eq!(document_lines("a: 1\n---\nb: 2\n"), vec![1, 3]);
        assert_eq!(document_lines("# c\n---\na: 1\n---\nb: 2\n"), vec![3, 5]);
    }

    #[test]
    fn kinds_are_sorted_into_planned_ignored_and_refused() {
        let text = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: a}}\n---\n{USER}---\napiVersion: webex.operator.io/v1alpha1\nkind: UserClaim\nmetadata: {{name: c}}\nspec: {{}}\n"
        );
        let inputs = parse(&text).unwrap();
        assert_eq!(inputs.users.len(), 1);
        assert_eq!(inputs.users[0].location, "t.yaml#2 (line 5)");
        assert_eq!(
            inputs.ignored,
            vec![("t.yaml#1 (line 1)".to_string(), "v1/Namespace".to_string())]
        );
        assert_eq!(inputs.not_planned.len(), 1);
        let bad = parse("apiVersion: webex.operator.io/v1alpha1\nkind: WebexUsr\nmetadata: {name: x}\n").unwrap_err();
        assert!(
            bad.to_string()
                .contains("t.yaml#1 (line 1): unknown kind webex.operator.io/v1alpha1/WebexUsr"),
            "{bad}"
        );
    }

    const TEMPLATE: &str = "apiVersion: webex.operator.io/v1alpha1\nkind: LicenseTemplate\nmetadata: {name: base, namespace: a}\nspec:\n  orgRef: {name: acme}\n  licenses: [{offerCode: EE}]\n  contactCenter: Standard\n";

    #[test]
    fn license_templates_are_read_and_checked_like_the_api_server_would() {
        let inputs = parse(&format!("{USER}---\n{TEMPLATE}")).unwrap();
        assert_eq!(inputs.templates.len(), 1);
        assert_eq!(inputs.templates[0].location, "t.yaml#2 (line 8)");
        assert!(inputs.not_planned.is_empty());
        // The CRD's CEL rule: no Calling or Contact Center offer code in `licenses`.
        let e = parse(&TEMPLATE.replace("[{offerCode: EE}]", "[{offerCode: EE}, {offerCode: BCPRO}]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.yaml#1 (line 1): spec.licenses[1].offerCode: \"BCPRO\": a template cannot assign Calling"),
            "{e}"
        );
        let e = parse(&TEMPLATE.replace("contactCenter: Standard", "contactCenter: Gold"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.yaml#1 (line 1): spec.contactCenter: unknown variant `Gold`"),
            "{e}"
        );
        let e = parse(&TEMPLATE.replace(
            "contactCenter: Standard",
            "selector: {matchExpressions: [{key: team, operator: Sideways, values: [a]}]}",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("t.yaml#1 (line 1): spec.selector: not a usable label selector"),
            "{e}"
        );
        let e = parse(&TEMPLATE.replace("name: base, ", "")).unwrap_err().to_string();
        assert!(e.contains("metadata.name: required"), "{e}");
        let e = parse(&format!("{TEMPLATE}---\n{TEMPLATE}")).unwrap_err().to_string();
        assert!(
            e.starts_with("t.yaml#2 (line 9): metadata.name: LicenseTemplate a/base appears twice"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_field_is_named_with_its_path() {
        let text = USER.replace(
            "email: ada@acme.example",
            "email: ada@acme.example\n  contactCenter: {type: Gold}",
        );
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("t.yaml#1 (line 1): spec.contactCenter.type: unknown variant `Gold`"),
            "{e}"
        );
        let e = parse(&USER.replace("  email: ada@acme.example\n", ""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("spec: missing field `email`"), "{e}");
        let e = parse(&USER.replace("ada@acme.example", "not-an-email"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("spec.email:"), "{e}");
        let e = parse("a: [1, 2\n").unwrap_err().to_string();
        assert!(e.starts_with("t.yaml"), "{e}");
    }

    #[test]
    fn lists_are_expanded_and_duplicates_refused() {
        let list = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}\n",
            serde_json::to_string(&serde_saphyr::from_str::<serde_json::Value>(USER).unwrap()).unwrap()
        );
        let inputs = parse(&list).unwrap();
        assert_eq!(inputs.users[0].location, "t.yaml#1 (line 1) item 1");
        let e = parse(&format!("{USER}---\n{USER}")).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
    }

    const EXT: &str = "apiVersion: webex.operator.io/v1alpha1\nkind: ExternalUser\nmetadata: {name: pat, namespace: a}\nspec:\n  orgRef: {name: acme}\n  email: pat@other.example\n  sites:\n  - {siteUrl: acme.webex.com, accountType: Host}\n";

    #[test]
    fn external_users_are_read_and_checked_like_the_crd() {
        let inputs = parse(&format!("{USER}---\n{EXT}")).unwrap();
        assert_eq!(inputs.external_users.len(), 1);
        assert_eq!(inputs.external_users[0].location, "t.yaml#2 (line 8)");
        assert!(inputs.not_planned.is_empty());
        let e = parse(&EXT.replace("Host", "Owner")).unwrap_err().to_string();
        assert!(
            e.starts_with("t.yaml#1 (line 1): spec.sites[0].accountType: unknown variant `Owner`"),
            "{e}"
        );
        let e = parse(&EXT.replace(
            "  sites:\n  - {siteUrl: acme.webex.com, accountType: Host}\n",
            "  sites: []\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("spec.sites: name at least one Meetings site"), "{e}");
        let e = parse(&EXT.replace("pat@other.example", "pat")).unwrap_err().to_string();
        assert!(e.contains("spec.email:"), "{e}");
        let e = parse(&format!("{EXT}---\n{}", EXT.replace("name: pat", "name: pat2")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("another ExternalUser of org acme manages pat@other.example too"),
            "{e}"
        );
    }

    #[test]
    fn e164() {
        assert!(is_e164("+14085550101"));
        assert!(!is_e164("14085550101"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+1 408"));
    }
}
