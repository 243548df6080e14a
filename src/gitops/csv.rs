//! Control Hub users CSV ↔ WebexUser manifests (no client required).
//!
//! Columns (Control Hub "user management CSV file reference", help article afv3q8): the
//! attributes `User ID/Email (Required)`, `First Name`, `Last Name`, `Display Name`,
//! `Phone Number`, `Extension`, `Location`, and one TRUE/FALSE column per service, named after
//! the licence and possibly followed by ` [subscription]` or `(Suspended)`. Other columns (Title,
//! Department, Caller ID, ...) are not managed by the operator and are ignored.
//!
//! - R-USER-14: spreadsheets strip the leading `+` of phone numbers: a number of digits only is
//!   taken as E.164 with its `+` restored.
//! - R-USER-14: "add services only" (TRUE adds; FALSE and missing columns change nothing) vs
//!   "add and remove services" (FALSE and missing service columns remove the licence). An empty
//!   cell never changes anything (Control Hub: leave it empty for automatic assignment).
//! - R-CC-5: Contact Center Standard and Premium both FALSE removes the Contact Center licence
//!   (in both modes).
//! - A CSV cannot make supervisors or admins: `--existing` manifests keep them.

use std::collections::{BTreeMap, BTreeSet};

use super::GitopsError;
use super::input::{is_e164, schema_problems};
use crate::api::common::{CC_PREMIUM, CC_STANDARD, ContactCenterType, LicenseRef, ManagementPolicy, OrgRef};
use crate::api::webex_user::{CallingSpec, ContactCenterSpec, DeletionPolicy, WebexUser, WebexUserSpec};
use crate::controller::webex_user::plan as user_plan;
use crate::webex::ids;

pub const EMAIL: &str = "User ID/Email (Required)";
pub const FIRST_NAME: &str = "First Name";
pub const LAST_NAME: &str = "Last Name";
pub const DISPLAY_NAME: &str = "Display Name";
pub const PHONE_NUMBER: &str = "Phone Number";
pub const EXTENSION: &str = "Extension";
pub const LOCATION: &str = "Location";
pub const CC_STANDARD_COLUMN: &str = "Contact Center Standard Agent";
pub const CC_PREMIUM_COLUMN: &str = "Contact Center Premium Agent";

/// Service column names (assumed: Control Hub names them after the licence) and their offer
/// codes. The first name of each code is the one written.
const BUILTIN_SERVICES: &[(&str, &str)] = &[
    ("Messaging", "MS"),
    ("Webex Messaging", "MS"),
    ("Enterprise Edition", "EE"),
    ("Webex Enterprise Edition", "EE"),
    ("Webex Calling - Professional", "BCPRO"),
    ("Webex Calling Professional", "BCPRO"),
    ("Calling - Professional", "BCPRO"),
    ("Webex Calling - Standard", "BCSTD"),
    ("Webex Calling Standard", "BCSTD"),
    ("Calling - Standard", "BCSTD"),
    (CC_STANDARD_COLUMN, CC_STANDARD),
    (CC_PREMIUM_COLUMN, CC_PREMIUM),
];

/// "Add services only" or "add and remove services" (R-USER-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvMode {
    AddServicesOnly,
    AddAndRemoveServices,
}

/// Service column ↔ offer code.
#[derive(Debug, Clone)]
pub struct ServiceColumns {
    by_name: Vec<(String, String)>,
}

impl Default for ServiceColumns {
    fn default() -> Self {
        Self {
            by_name: BUILTIN_SERVICES
                .iter()
                .map(|(n, c)| (n.to_string(), c.to_string()))
                .collect(),
        }
    }
}

impl ServiceColumns {
    /// Adds `NAME=CODE` mappings (`--service-column`); they win over the built-in ones.
    pub fn with(mut self, extra: &[String]) -> Result<Self, GitopsError> {
        for m in extra.iter().rev() {
            let (name, code) = m.rsplit_once('=').ok_or_else(|| GitopsError::Usage {
                option: "--service-column",
                message: format!("{m:?} is not NAME=CODE"),
            })?;
            self.by_name
                .insert(0, (name.trim().to_string(), code.trim().to_string()));
        }
        Ok(self)
    }

    /// The offer code of a header: `Messaging [Sub-1234] (Suspended)` is `Messaging`. A header
    /// that is itself an offer code (`MS`) is taken as one.
    pub fn code_for(&self, header: &str) -> Option<String> {
        let mut name = header.trim();
        if let Some(i) = name.find(" [") {
            name = name[..i].trim();
        }
        let name = name.trim_end_matches("(Suspended)").trim();
        if let Some((_, code)) = self.by_name.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Some(code.clone());
        }
        let looks_like_code =
            (1..=16).contains(&name.len()) && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        looks_like_code.then(|| name.to_string())
    }

    pub fn column_for(&self, code: &str) -> String {
        self.by_name
            .iter()
            .find(|(_, c)| c == code)
            .map_or_else(|| code.to_string(), |(n, _)| n.clone())
    }
}

#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub org_name: String,
    pub namespace: String,
    pub mode: CsvMode,
    pub deletion_policy: DeletionPolicy,
    pub columns: ServiceColumns,
    /// Location name → Webex location id (`--location NAME=ID`).
    pub locations: BTreeMap<String, String>,
}

/// Parses `--location NAME=ID` values.
pub fn parse_locations(values: &[String]) -> Result<BTreeMap<String, String>, GitopsError> {
    values
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(n, id)| (n.trim().to_string(), id.trim().to_string()))
                .ok_or_else(|| GitopsError::Usage {
                    option: "--location",
                    message: format!("{v:?} is not NAME=ID"),
                })
        })
        .collect()
}

/// One CSV row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub phone_number: Option<String>,
    pub extension: Option<String>,
    pub location_id: Option<String>,
    /// Offer code → cell: `None` empty, `Some(b)` TRUE/FALSE. Codes without a column are absent.
    pub services: BTreeMap<String, Option<bool>>,
}

/// R-USER-14: restores the `+` a spreadsheet stripped; refuses what is not E.164.
pub fn normalize_phone(value: &str) -> Result<String, String> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if value.to_ascii_uppercase().contains("E+") {
        return Err(format!(
            "{value:?} is a spreadsheet number format: format the column as text and restore the number"
        ));
    }
    let candidate = if compact.starts_with('+') {
        compact
    } else if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
        format!("+{compact}") // R-USER-14: the leading + was stripped
    } else {
        compact
    };
    if is_e164(&candidate) {
        Ok(candidate)
    } else {
        Err(format!("{value:?} is not an E.164 number such as +14085550101"))
    }
}

fn parse_bool(value: &str) -> Result<Option<bool>, String> {
    match value.trim().to_ascii_uppercase().as_str() {
        "" => Ok(None),
        "TRUE" => Ok(Some(true)),
        "FALSE" => Ok(Some(false)),
        other => Err(format!("{other:?} is neither TRUE nor FALSE")),
    }
}

/// Reads a Control Hub users CSV. Returns the rows and warnings (ignored columns).
pub fn parse(file: &str, text: &str, options: &CsvOptions) -> Result<(Vec<CsvRow>, Vec<String>), GitopsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text); // Excel's UTF-8 BOM
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let csv_err = |source| GitopsError::Csv {
        file: file.to_string(),
        source,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let index = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let missing = |column: &str| GitopsError::CsvMissingColumn {
        file: file.to_string(),
        column: column.to_string(),
    };
    let email_at = index(EMAIL).ok_or_else(|| missing(EMAIL))?;
    let attributes = [
        EMAIL,
        FIRST_NAME,
        LAST_NAME,
        DISPLAY_NAME,
        PHONE_NUMBER,
        EXTENSION,
        LOCATION,
    ];
    let mut services: Vec<(usize, String)> = Vec::new();
    let mut unknown: Vec<usize> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if attributes.iter().any(|a| a.eq_ignore_ascii_case(h)) {
            continue;
        }
        match options.columns.code_for(h) {
            Some(code) => services.push((i, code)),
            None => unknown.push(i),
        }
    }
    let has = |code: &str| services.iter().any(|(_, c)| c == code);
    // R-CC-5 needs both: one Contact Center column without the other cannot say "no licence".
    if has(CC_STANDARD) && !has(CC_PREMIUM) {
        return Err(missing(CC_PREMIUM_COLUMN));
    }
    if has(CC_PREMIUM) && !has(CC_STANDARD) {
        return Err(missing(CC_STANDARD_COLUMN));
    }
    let mut rows = Vec::new();
    let mut boolean_unknown: BTreeSet<usize> = unknown.iter().copied().collect();
    let mut any_value: BTreeSet<usize> = BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let bad = |column: &str, message: String| GitopsError::CsvValue {
            file: file.to_string(),
            line,
            column: column.to_string(),
            message,
        };
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let email = cell(Some(email_at)).ok_or_else(|| bad(EMAIL, "required".into()))?;
        let phone_number = cell(index(PHONE_NUMBER))
            .map(|v| normalize_phone(&v))
            .transpose()
            .map_err(|m| bad(PHONE_NUMBER, format!("{m} (R-USER-14)")))?;
        let extension = cell(index(EXTENSION));
        if let Some(ext) = &extension
            && (!(2..=10).contains(&ext.len()) || !ext.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(bad(EXTENSION, format!("{ext:?} must be 2 to 10 digits")));
        }
        let location_id = match cell(index(LOCATION)) {
            None => None,
            Some(name) => match options.locations.get(&name) {
                Some(id) => Some(id.clone()),
                None if matches!(ids::decode(&name), Some((ids::IdKind::Location, _))) => Some(name),
                None => {
                    return Err(bad(
                        LOCATION,
                        format!("location {name:?} has no id: pass --location '{name}=<Webex location id>'"),
                    ));
                }
            },
        };
        let mut row_services = BTreeMap::new();
        for (i, code) in &services {
            let value = parse_bool(record.get(*i).unwrap_or("")).map_err(|m| bad(&headers[*i], m))?;
            // Two columns for one code (two subscriptions): TRUE wins.
            let entry = row_services.entry(code.clone()).or_insert(None);
            *entry = match (*entry, value) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), _) | (_, Some(false)) => Some(false),
                _ => None,
            };
        }
        for i in &unknown {
            let v = record.get(*i).unwrap_or("").trim();
            if !v.is_empty() {
                any_value.insert(*i);
                if parse_bool(v).is_err() {
                    boolean_unknown.remove(i);
                }
            }
        }
        rows.push(CsvRow {
            line,
            email: email.to_ascii_lowercase(),
            first_name: cell(index(FIRST_NAME)),
            last_name: cell(index(LAST_NAME)),
            display_name: cell(index(DISPLAY_NAME)),
            phone_number,
            extension,
            location_id,
            services: row_services,
        });
    }
    let warnings = boolean_unknown
        .into_iter()
        .filter(|i| any_value.contains(i))
        .map(|i| {
            format!(
                "column {:?} holds TRUE/FALSE like a service but has no offer code: ignored (pass --service-column '{}=<OFFER CODE>')",
                headers[i], headers[i]
            )
        })
        .collect();
    Ok((rows, warnings))
}

fn column_of(field: &str) -> &'static str {
    match field {
        f if f.starts_with("spec.firstName") => FIRST_NAME,
        f if f.starts_with("spec.lastName") => LAST_NAME,
        f if f.starts_with("spec.calling.extension") => EXTENSION,
        f if f.starts_with("spec.calling.location") => LOCATION,
        f if f.starts_with("spec.calling") => PHONE_NUMBER,
        f if f.starts_with("spec.adminRoles") || f.starts_with("spec.contactCenter") => CC_PREMIUM_COLUMN,
        _ => EMAIL,
    }
}

/// Merges the rows into WebexUsers: onto the `existing` manifest of the same email (its
/// metadata, policies, roles and supervisor role are kept), else new ones. Returns the objects
/// (in row order) and warnings.
pub fn to_users(
    file: &str,
    rows: &[CsvRow],
    existing: &[WebexUser],
    options: &CsvOptions,
) -> Result<(Vec<WebexUser>, Vec<String>), GitopsError> {
    let by_email: BTreeMap<String, &WebexUser> = existing
        .iter()
        .map(|u| (u.spec.email.to_ascii_lowercase(), u))
        .collect();
    let mut names: BTreeSet<String> = existing.iter().filter_map(|u| u.metadata.name.clone()).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for row in rows {
        let bad = |column: &str, message: String| GitopsError::CsvValue {
            file: file.to_string(),
            line: row.line,
            column: column.to_string(),
            message,
        };
        if !seen.insert(row.email.clone()) {
            return Err(bad(EMAIL, format!("{} appears twice", row.email)));
        }
        let mut user = match by_email.get(&row.email) {
            Some(u) => (*u).clone(),
            None => {
                let base = super::object_name_for_email(&row.email);
                let mut name = base.clone();
                let mut n = 2;
                while !names.insert(name.clone()) {
                    name = format!("{}-{n}", base.chars().take(60).collect::<String>());
                    n += 1;
                }
                let mut u = WebexUser::new(&name, new_spec(&row.email, options));
                u.metadata.namespace = Some(options.namespace.clone());
                u
            }
        };
        user.status = None;
        let (spec, row_warnings) = merge(&user.spec, row, options).map_err(|(c, m)| bad(c, m))?;
        warnings.extend(
            row_warnings
                .into_iter()
                .map(|w| format!("{file} line {}: {w}", row.line)),
        );
        let problems: Vec<(String, String)> = user_plan::validate(&spec)
            .into_iter()
            .map(|p| {
                let field = p.split(':').next().unwrap_or("").to_string();
                (field, p)
            })
            .chain(schema_problems(&spec))
            .collect();
        if let Some((field, message)) = problems.into_iter().next() {
            return Err(bad(column_of(&field), message));
        }
        user.spec = spec;
        out.push(user);
    }
    Ok((out, warnings))
}

fn new_spec(email: &str, options: &CsvOptions) -> WebexUserSpec {
    WebexUserSpec {
        org_ref: OrgRef {
            name: options.org_name.clone(),
        },
        email: email.to_string(),
        first_name: None,
        last_name: None,
        display_name: None,
        licenses: None,
        calling: None,
        contact_center: None,
        admin_roles: None,
        calling_settings: None,
        tracking_codes: None,
        content_management: None,
        existing_user_policy: None,
        deletion_policy: options.deletion_policy,
        management_policy: ManagementPolicy::Manage,
    }
}

fn is_calling(code: &str) -> bool {
    code.starts_with("BC")
}
fn is_cc(code: &str) -> bool {
    code == CC_STANDARD || code == CC_PREMIUM
}

/// One row onto a spec. Errors: (column, message).
fn merge(
    base: &WebexUserSpec,
    row: &CsvRow,
    options: &CsvOptions,
) -> Result<(WebexUserSpec, Vec<String>), (&'static str, String)> {
    let remove = options.mode == CsvMode::AddAndRemoveServices;
    let mut warnings = Vec::new();
    let mut spec = base.clone();
    spec.first_name = row.first_name.clone().or(spec.first_name);
    spec.last_name = row.last_name.clone().or(spec.last_name);
    spec.display_name = row.display_name.clone().or(spec.display_name);

    // Licences chosen by hand.
    let regular: Vec<(&String, &Option<bool>)> = row
        .services
        .iter()
        .filter(|(c, _)| !is_calling(c) && !is_cc(c))
        .collect();
    let explicit = regular.iter().any(|(_, v)| v.is_some());
    let mut list = spec.licenses.clone().unwrap_or_default();
    for (code, value) in &regular {
        match value {
            Some(true) if !list.iter().any(|l| &&l.offer_code == code) => list.push(LicenseRef {
                offer_code: (*code).clone(),
                subscription_id: None,
                site_url: None,
            }),
            Some(false) if remove => list.retain(|l| &&l.offer_code != code),
            _ => {}
        }
    }
    if remove && explicit {
        // "Add and remove services": a licence without a column in the file is removed too.
        list.retain(|l| row.services.contains_key(&l.offer_code));
    }
    if !list.is_empty() || spec.licenses.is_some() || (remove && explicit) {
        spec.licenses = Some(list);
    }

    // Calling: one licence, with its number and extension.
    let calling_true: Vec<&String> = row
        .services
        .iter()
        .filter(|(c, v)| is_calling(c) && **v == Some(true))
        .map(|(c, _)| c)
        .collect();
    let calling_explicit = row.services.iter().any(|(c, v)| is_calling(c) && v.is_some());
    match calling_true.as_slice() {
        [] => {
            if let Some(current) = &spec.calling {
                let cell = row.services.get(&current.offer_code);
                let removed = match cell {
                    Some(Some(false)) => remove,
                    None => remove && calling_explicit,
                    _ => false,
                };
                if removed {
                    spec.calling = None;
                } else {
                    spec.calling = Some(calling_with(current.clone(), row));
                }
            } else if row.phone_number.is_some() || row.extension.is_some() {
                warnings.push("Phone Number / Extension ignored: the row has no Calling licence".into());
            }
        }
        [code] => {
            let current = spec
                .calling
                .clone()
                .filter(|c| &&c.offer_code == code)
                .unwrap_or(CallingSpec {
                    offer_code: (*code).clone(),
                    subscription_id: None,
                    location_id: None,
                    phone_number: None,
                    extension: None,
                });
            let calling = calling_with(current, row);
            if calling.phone_number.is_none() && calling.extension.is_none() {
                return Err((
                    PHONE_NUMBER,
                    "a Calling user needs a Phone Number or an Extension (R-USER-7)".into(),
                ));
            }
            if calling.phone_number.is_none() && calling.location_id.is_none() {
                return Err((
                    LOCATION,
                    "a Calling user without a Phone Number needs a Location (R-USER-7)".into(),
                ));
            }
            spec.calling = Some(calling);
        }
        _ => {
            return Err((
                PHONE_NUMBER,
                format!(
                    "more than one Calling licence is TRUE ({}); a user holds one",
                    calling_true.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }

    // Contact Center (R-CC-1, R-CC-2, R-CC-5).
    let standard = row.services.get(CC_STANDARD).copied();
    let premium = row.services.get(CC_PREMIUM).copied();
    let current = spec.contact_center.clone();
    let keep_supervisor = |kind: ContactCenterType| match (kind, current.as_ref().map(|c| c.kind)) {
        (ContactCenterType::Premium, Some(ContactCenterType::PremiumSupervisor)) => {
            ContactCenterType::PremiumSupervisor
        }
        (k, _) => k,
    };
    let sub = current.as_ref().and_then(|c| c.subscription_id.clone());
    let wanted = if premium == Some(Some(true)) {
        Some(keep_supervisor(ContactCenterType::Premium)) // R-CC-2: Premium wins
    } else if standard == Some(Some(true)) {
        Some(ContactCenterType::Standard)
    } else if standard == Some(Some(false)) && premium == Some(Some(false)) {
        // R-CC-5, in both modes; the licence set must be managed for the removal to happen.
        if current.is_some() {
            warnings.push(
                "Contact Center Standard and Premium both FALSE: the Contact Center licence is removed (R-CC-5)".into(),
            );
        }
        if spec.licenses.is_none() {
            spec.licenses = Some(vec![]);
        }
        None
    } else {
        current.as_ref().map(|c| c.kind)
    };
    spec.contact_center = wanted.map(|kind| ContactCenterSpec {
        kind,
        subscription_id: if current
            .as_ref()
            .is_some_and(|c| c.kind.offer_code() == kind.offer_code())
        {
            sub
        } else {
            None
        },
    });
    Ok((spec, warnings))
}

fn calling_with(mut calling: CallingSpec, row: &CsvRow) -> CallingSpec {
    if row.phone_number.is_some() {
        calling.phone_number = row.phone_number.clone();
    }
    if row.extension.is_some() {
        calling.extension = row.extension.clone();
    }
    if row.location_id.is_some() {
        calling.location_id = row.location_id.clone();
    }
    calling
}

/// WebexUsers as a Control Hub users CSV: attribute columns, then one column per service the
/// users use, Contact Center Standard and Premium always. A cell is TRUE when the spec asks for
/// the licence, FALSE when the spec manages that licence group without it, empty when it does
/// not manage it.
pub fn from_users(
    users: &[WebexUser],
    columns: &ServiceColumns,
    locations: &BTreeMap<String, String>,
) -> Result<String, GitopsError> {
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for u in users {
        codes.extend(u.spec.licenses.iter().flatten().map(|l| l.offer_code.clone()));
        codes.extend(u.spec.calling.iter().map(|c| c.offer_code.clone()));
    }
    let mut service_codes: Vec<String> = codes.into_iter().filter(|c| !is_cc(c)).collect();
    service_codes.push(CC_STANDARD.into());
    service_codes.push(CC_PREMIUM.into());
    let names_by_id: BTreeMap<&String, &String> = locations.iter().map(|(n, id)| (id, n)).collect();
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        EMAIL,
        FIRST_NAME,
        LAST_NAME,
        DISPLAY_NAME,
        PHONE_NUMBER,
        EXTENSION,
        LOCATION,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(service_codes.iter().map(|c| columns.column_for(c)));
    let csv_err = |e: ::csv::Error| GitopsError::Render {
        what: "the CSV",
        message: e.to_string(),
    };
    writer.write_record(&header).map_err(csv_err)?;
    for u in users {
        let s = &u.spec;
        let calling = s.calling.as_ref();
        let location = calling
            .and_then(|c| c.location_id.as_ref())
            .map(|id| names_by_id.get(id).map_or_else(|| id.clone(), |n| (*n).clone()));
        let bool_cell = |v: Option<bool>| match v {
            Some(true) => "TRUE".to_string(),
            Some(false) => "FALSE".to_string(),
            None => String::new(),
        };
        let mut record = vec![
            s.email.clone(),
            s.first_name.clone().unwrap_or_default(),
            s.last_name.clone().unwrap_or_default(),
            s.display_name.clone().unwrap_or_default(),
            calling.and_then(|c| c.phone_number.clone()).unwrap_or_default(),
            calling.and_then(|c| c.extension.clone()).unwrap_or_default(),
            location.unwrap_or_default(),
        ];
        let managed = s.licenses.is_some();
        for code in &service_codes {
            let value = if is_cc(code) {
                match &s.contact_center {
                    Some(cc) => Some(cc.kind.offer_code() == code),
                    None if managed => Some(false), // R-CC-5
                    None => None,
                }
            } else if is_calling(code) {
                match calling {
                    Some(c) => Some(&c.offer_code == code),
                    None if managed => Some(false),
                    None => None,
                }
            } else if managed {
                Some(s.licenses.iter().flatten().any(|l| &l.offer_code == code))
            } else {
                None
            };
            record.push(bool_cell(value));
        }
        writer.write_record(&record).map_err(csv_err)?;
    }
    let bytes = writer.into_inner().map_err(|e| GitopsError::Render {
        what: "the CSV",
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| GitopsError::Render {
        what: "the CSV",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(mode: CsvMode) -> CsvOptions {
        CsvOptions {
            org_name: "acme".into(),
            namespace: "team-a".into(),
            mode,
            deletion_policy: DeletionPolicy::Orphan,
            columns: ServiceColumns::default(),
            locations: BTreeMap::from([("HQ".to_string(), "loc-hq".to_string())]),
        }
    }

    const HEADER: &str = "User ID/Email (Required),First Name,Last Name,Display Name,User Status,Title,Phone Number,Extension,Location,Messaging [Sub-1],Enterprise Edition,Webex Calling - Professional,Contact Center Standard Agent,Contact Center Premium Agent";

    fn convert(body: &str, mode: CsvMode, existing: &[WebexUser]) -> Result<Vec<WebexUser>, GitopsError> {
        let text = format!("{HEADER}\n{body}");
        let (rows, _) = parse("u.csv", &text, &options(mode))?;
        to_users("u.csv", &rows, existing, &options(mode)).map(|(u, _)| u)
    }

    #[test]
    fn r_user_14_restores_a_stripped_plus() {
        assert_eq!(normalize_phone("14085550101").unwrap(), "+14085550101");
        assert_eq!(normalize_phone("+1 408-555-0101").unwrap(), "+14085550101");
        assert!(normalize_phone("1.40856E+10").unwrap_err().contains("spreadsheet"));
        assert!(normalize_phone("abc").is_err());
        let users = convert(
            "ada@acme.example,Ada,Lovelace,,Active,Eng,14085550101,5101,HQ,TRUE,FALSE,TRUE,FALSE,TRUE\n",
            CsvMode::AddAndRemoveServices,
            &[],
        )
        .unwrap();
        let s = &users[0].spec;
        assert_eq!(users[0].metadata.name.as_deref(), Some("ada-acme-example"));
        let calling = s.calling.clone().unwrap();
        assert_eq!(calling.phone_number.as_deref(), Some("+14085550101"));
        assert_eq!(calling.location_id.as_deref(), Some("loc-hq"));
        assert_eq!(s.licenses.as_ref().unwrap().len(), 1);
        assert_eq!(s.contact_center.as_ref().unwrap().kind, ContactCenterType::Premium);
    }

    fn existing() -> WebexUser {
        let mut u = WebexUser::new(
            "ada",
            WebexUserSpec {
                licenses: Some(vec![
                    LicenseRef {
                        offer_code: "MS".into(),
                        subscription_id: None,
                        site_url: None,
                    },
                    LicenseRef {
                        offer_code: "XY".into(),
                        subscription_id: None,
                        site_url: None,
                    },
                ]),
                contact_center: Some(ContactCenterSpec {
                    kind: ContactCenterType::PremiumSupervisor,
                    subscription_id: None,
                }),
                ..new_spec("ada@acme.example", &options(CsvMode::AddServicesOnly))
            },
        );
        u.metadata.namespace = Some("elsewhere".into());
        u
    }

    fn codes(u: &WebexUser) -> Vec<String> {
        u.spec.licenses.iter().flatten().map(|l| l.offer_code.clone()).collect()
    }

    #[test]
    fn modes_decide_whether_absent_and_false_licences_are_removed() {
        let row = "ADA@acme.example,,,,,,,,,FALSE,TRUE,,,TRUE\n";
        let added = convert(row, CsvMode::AddServicesOnly, &[existing()]).unwrap();
        assert_eq!(
            codes(&added[0]),
            vec!["MS", "XY", "EE"],
            "add only: FALSE and absent columns keep"
        );
        assert_eq!(
            added[0].metadata.namespace.as_deref(),
            Some("elsewhere"),
            "existing metadata kept"
        );
        assert_eq!(
            added[0].spec.contact_center.as_ref().unwrap().kind,
            ContactCenterType::PremiumSupervisor,
            "a CSV cannot make supervisors; the manifest's stays"
        );
        let replaced = convert(row, CsvMode::AddAndRemoveServices, &[existing()]).unwrap();
        assert_eq!(
            codes(&replaced[0]),
            vec!["EE"],
            "add and remove: FALSE and absent columns remove"
        );
    }

    #[test]
    fn r_cc_5_both_false_removes_contact_center_in_both_modes() {
        for mode in [CsvMode::AddServicesOnly, CsvMode::AddAndRemoveServices] {
            let users = convert("ada@acme.example,,,,,,,,,,,,FALSE,FALSE\n", mode, &[existing()]).unwrap();
            assert_eq!(users[0].spec.contact_center, None, "{mode:?}");
            assert!(
                users[0].spec.licenses.is_some(),
                "managed, so the operator removes its licence"
            );
        }
        // One FALSE, one empty: no opinion on Contact Center.
        let users = convert(
            "ada@acme.example,,,,,,,,,,,,FALSE,\n",
            CsvMode::AddAndRemoveServices,
            &[existing()],
        )
        .unwrap();
        assert!(users[0].spec.contact_center.is_some());
    }

    #[test]
    fn bad_values_name_the_line_and_column() {
        let e = convert("ada@acme.example,,,,,,,,,maybe,,,,\n", CsvMode::AddServicesOnly, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "u.csv line 2: column \"Messaging [Sub-1]\": \"MAYBE\" is neither TRUE nor FALSE"
        );
        let e = convert(",Ada,,,,,,,,,,,,\n", CsvMode::AddServicesOnly, &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("u.csv line 2: column \"User ID/Email (Required)\": required"),
            "{e}"
        );
        let e = convert("a@acme.example,,,,,,,,Moon,,,TRUE,,\n", CsvMode::AddServicesOnly, &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("column \"Location\": location \"Moon\" has no id"),
            "{e}"
        );
        let e = convert("a@acme.example,,,,,,,,,,,TRUE,,\n", CsvMode::AddServicesOnly, &[]).unwrap_err();
        assert!(
            e.to_string().contains("column \"Phone Number\": a Calling user needs"),
            "{e}"
        );
        let e = convert(
            "a@acme.example,Ad#a,,,,,+14085550101,,,,,TRUE,,\n",
            CsvMode::AddServicesOnly,
            &[],
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("column \"First Name\"") && e.to_string().contains("R-USER-2"),
            "{e}"
        );
        let e = parse(
            "u.csv",
            "First Name,Last Name\nA,B\n",
            &options(CsvMode::AddServicesOnly),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "u.csv: missing column \"User ID/Email (Required)\" (a Control Hub users export has it)"
        );
        let e = parse(
            "u.csv",
            "User ID/Email (Required),Contact Center Premium Agent\na@b.example,TRUE\n",
            &options(CsvMode::AddServicesOnly),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("missing column \"Contact Center Standard Agent\""),
            "{e}"
        );
    }

    #[test]
    fn unknown_boolean_columns_are_reported_and_mappings_extend_the_table() {
        let text = "User ID/Email (Required),Webex Assistant,Title\na@b.example,TRUE,Boss\n";
        let (_, warnings) = parse("u.csv", text, &options(CsvMode::AddServicesOnly)).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("Webex Assistant"));
        let mut o = options(CsvMode::AddServicesOnly);
        o.columns = ServiceColumns::default().with(&["Webex Assistant=WA".into()]).unwrap();
        let (rows, warnings) = parse("u.csv", text, &o).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(rows[0].services.get("WA"), Some(&Some(true)));
    }

    #[test]
    fn manifests_to_csv_and_back_is_the_identity_on_what_csv_can_say() {
        let text = format!(
            "{HEADER}\nada@acme.example,Ada,Lovelace,Ada L,,,+14085550101,5101,HQ,TRUE,FALSE,TRUE,FALSE,TRUE\nbob@acme.example,Bob,,,,,,,,,,,,\ncy@acme.example,,,,,,,,,TRUE,TRUE,FALSE,FALSE,FALSE\n"
        );
        let o = options(CsvMode::AddAndRemoveServices);
        let (rows, _) = parse("u.csv", &text, &o).unwrap();
        let (users, _) = to_users("u.csv", &rows, &[], &o).unwrap();
        let csv_text = from_users(&users, &o.columns, &o.locations).unwrap();
        let (rows2, _) = parse("back.csv", &csv_text, &o).unwrap();
        let (users2, _) = to_users("back.csv", &rows2, &[], &o).unwrap();
        let view = |u: &[WebexUser]| {
            u.iter()
                .map(|u| (u.metadata.clone(), u.spec.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&users), view(&users2));
        assert!(csv_text.starts_with("User ID/Email (Required),First Name,Last Name,Display Name,Phone Number,Extension,Location,Webex Calling - Professional,Enterprise Edition,Messaging,Contact Center Standard Agent,Contact Center Premium Agent\n"), "{csv_text}");
        assert!(csv_text.contains("bob@acme.example,Bob,,,,,,,,,,\n"), "{csv_text}");
    }
}
