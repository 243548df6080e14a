//! Rendering a plan (no client required): text for people, JSON for machines.

use std::fmt::Write as _;

use super::GitopsError;
use super::plan::{Change, FieldChange, ObjectPlan, PlanReport, PlannedAction, StatusFrom, TemplatePlan};
use crate::controller::license_template::plan::is_template_source;

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

pub fn render(report: &PlanReport, format: OutputFormat) -> Result<String, GitopsError> {
    match format {
        OutputFormat::Text => Ok(text(report)),
        OutputFormat::Json => serde_json::to_string_pretty(report)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| GitopsError::Render {
                what: "the plan as JSON",
                message: e.to_string(),
            }),
    }
}

fn symbol(change: Change) -> char {
    match change {
        Change::Create => '+',
        Change::Update => '~',
        Change::Deprovision => '-',
        Change::Blocked => '!',
        Change::Adopt => '>',
        Change::None => '=',
    }
}

fn value(v: &Option<String>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "(unset)".into(),
    }
}

/// `firstName: "Ada" → "Augusta"`.
pub fn field_diff(c: &FieldChange) -> String {
    format!("{}: {} → {}", c.field, value(&c.from), value(&c.to))
}

/// One line per action.
pub fn action_line(action: &PlannedAction) -> String {
    match action {
        PlannedAction::Create { email, display_name } => match display_name {
            Some(d) => format!("create the person {email} ({d:?})"),
            None => format!("create the person {email}"),
        },
        PlannedAction::Adopt { person_id } => {
            format!(
                "adopt the existing person {person_id} (nothing written to Webex; the deletionPolicy applies to it from now on)"
            )
        }
        PlannedAction::Licenses {
            add,
            remove,
            properties,
            provenance,
        } => {
            // Template provenance is shown (`+EE (Template/base)`, `-EE (was Template/base)`);
            // manual choices go without.
            let from = |code: &String, prefix: &str| {
                provenance
                    .get(code)
                    .filter(|s| is_template_source(s))
                    .map(|s| format!(" ({prefix}{s})"))
                    .unwrap_or_default()
            };
            let mut parts: Vec<String> = add.iter().map(|c| format!("+{c}{}", from(c, ""))).collect();
            parts.extend(remove.iter().map(|c| format!("-{c}{}", from(c, "was "))));
            parts.extend(properties.iter().map(field_diff));
            format!("licences: {}", parts.join(", "))
        }
        PlannedAction::Update { fields } => {
            let parts: Vec<String> = fields.iter().map(field_diff).collect();
            if parts.is_empty() {
                "update the person (no visible field change)".into()
            } else {
                format!("update: {}", parts.join("; "))
            }
        }
        PlannedAction::Deprovision { deletion_policy } => {
            format!("deprovision: gone from the manifests, deletionPolicy {deletion_policy}")
        }
        PlannedAction::Delete { person_id } => format!("delete the person {person_id}"),
        PlannedAction::Invite { email, sites } => {
            format!(
                "invite {email} to {} (pending until accepted, R-EXT-4, R-EXT-5)",
                sites.join(", ")
            )
        }
        PlannedAction::SiteAccounts { add, remove, reinvite } => {
            let mut parts: Vec<String> = add.iter().map(|s| format!("+{s}")).collect();
            parts.extend(remove.iter().map(|s| format!("-{s}")));
            let mut line = format!("site accounts: {}", parts.join(", "));
            if !reinvite.is_empty() {
                let _ = write!(line, " (invited again after expiry: {}, R-EXT-5)", reinvite.join(", "));
            }
            line
        }
        PlannedAction::AdoptSites { sites } => format!(
            "adopt the accounts already held on {} (nothing written to Webex, R-EXT-8)",
            sites.join(", ")
        ),
        PlannedAction::SetOrgSetting { setting, from, to } => {
            let from = from.map_or_else(|| "(unknown)".to_string(), |f| f.to_string());
            format!("set {setting}: {from} → {to} (R-ORG-1)")
        }
    }
}

fn header(o: &ObjectPlan) -> String {
    let mut h = format!("{} {} ", symbol(o.change), o.kind);
    if let Some(ns) = &o.namespace {
        let _ = write!(h, "{ns}/");
    }
    h.push_str(&o.name);
    if let Some(email) = &o.email {
        let _ = write!(h, " <{email}>");
    }
    let _ = write!(h, "  [{}]", o.source);
    h
}

fn reach_line(o: &ObjectPlan) -> String {
    let r = &o.would_reach;
    let state = r.state.as_deref().map(|s| format!("{s}, ")).unwrap_or_default();
    if r.blocked {
        let terminal = if r.terminal == Some(true) {
            " (needs a spec or Webex change)"
        } else {
            " (retried)"
        };
        format!("blocked: {}: {}{terminal}", r.reason, r.message)
    } else {
        let ready = if r.ready { "True" } else { "False" };
        format!("would reach: {state}Ready={ready} {}: {}", r.reason, r.message)
    }
}

/// One line per LicenseTemplate: whom it selects and applies to, as the controller counts.
pub fn template_lines(t: &TemplatePlan) -> Vec<String> {
    let mut header = format!("@ LicenseTemplate {}/{}  [{}]", t.namespace, t.name, t.source);
    if t.created_from == StatusFrom::None {
        header.push_str(" (new)");
    }
    let mut out = vec![header];
    if t.pruned {
        out.push(format!(
            "    gone from the manifests: would be deleted and apply to nobody; {} user(s) hold licences from it (their removal is in those users' plans)",
            t.holders
        ));
        return out;
    }
    let opt_in = if t.apply_to_existing_users {
        format!(
            "{} of them existing, reached through applyToExistingUsers (R-TPL-2)",
            t.existing
        )
    } else {
        "new users only: applyToExistingUsers off (R-TPL-2)".to_string()
    };
    out.push(format!(
        "    selects {} WebexUser(s) of org {}; applies to {}, {opt_in}; Contact Center conflicts resolved: {} (R-CC-2)",
        t.selected, t.org, t.matched, t.conflicts_resolved
    ));
    out
}

pub fn text(report: &PlanReport) -> String {
    let mut out = String::new();
    for t in &report.templates {
        for line in template_lines(t) {
            let _ = writeln!(out, "{line}");
        }
    }
    for o in &report.objects {
        let _ = writeln!(out, "{}", header(o));
        for a in &o.actions {
            let _ = writeln!(out, "    {}", action_line(a));
        }
        if o.actions.is_empty() && !o.would_reach.blocked {
            let _ = writeln!(out, "    no change");
        }
        let _ = writeln!(out, "    {}", reach_line(o));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\nPlan: {} to create, {} to adopt, {} to update, {} to deprovision, {} blocked, {} unchanged.",
        s.create, s.adopt, s.update, s.deprovision, s.blocked, s.unchanged
    );
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::plan::{Reach, StatusFrom};

    fn object(change: Change, actions: Vec<PlannedAction>, blocked: bool) -> ObjectPlan {
        ObjectPlan {
            source: "u.yaml#1 (line 1)".into(),
            kind: "WebexUser".into(),
            name: "ada".into(),
            namespace: Some("team-a".into()),
            email: Some("ada@acme.example".into()),
            org: Some("acme".into()),
            status_from: Some(StatusFrom::None),
            change,
            actions,
            would_reach: Reach {
                state: Some("Pending".into()),
                ready: false,
                reason: if blocked { "LicenseNotInOrg" } else { "InvitePending" }.into(),
                message: "m".into(),
                blocked,
                terminal: blocked.then_some(true),
            },
        }
    }

    #[test]
    fn field_diffs_show_both_sides() {
        let c = FieldChange {
            field: "firstName".into(),
            from: Some("Ada".into()),
            to: None,
        };
        assert_eq!(field_diff(&c), "firstName: \"Ada\" → (unset)");
    }

    #[test]
    fn text_lists_actions_reach_and_summary() {
        let report = PlanReport::new(
            vec![
                object(
                    Change::Create,
                    vec![
                        PlannedAction::Create {
                            email: "ada@acme.example".into(),
                            display_name: Some("Ada".into()),
                        },
                        PlannedAction::Licenses {
                            add: vec!["MS".into(), "EE".into()],
                            remove: vec!["CJPSTD".into(), "BCSTD".into()],
                            properties: vec![],
                            provenance: [("MS", "Manual"), ("EE", "Template/base"), ("CJPSTD", "Template/agents")]
                                .into_iter()
                                .map(|(c, s)| (c.to_string(), s.to_string()))
                                .collect(),
                        },
                    ],
                    false,
                ),
                object(Change::Blocked, vec![], true),
            ],
            vec!["n".into()],
        );
        let t = text(&report);
        assert_eq!(
            t,
            "+ WebexUser team-a/ada <ada@acme.example>  [u.yaml#1 (line 1)]\n    create the person ada@acme.example (\"Ada\")\n    licences: +MS, +EE (Template/base), -CJPSTD (was Template/agents), -BCSTD\n    would reach: Pending, Ready=False InvitePending: m\n! WebexUser team-a/ada <ada@acme.example>  [u.yaml#1 (line 1)]\n    blocked: LicenseNotInOrg: m (needs a spec or Webex change)\n\nPlan: 1 to create, 0 to adopt, 0 to update, 0 to deprovision, 1 blocked, 0 unchanged.\nnote: n\n"
        );
        assert_eq!(report.exit_code, 2);
        let json: serde_json::Value = serde_json::from_str(&render(&report, OutputFormat::Json).unwrap()).unwrap();
        assert_eq!(json["objects"][0]["actions"][1]["type"], "licenses");
        assert_eq!(json["objects"][0]["actions"][0]["displayName"], "Ada");
        assert_eq!(
            json["objects"][0]["actions"][1]["provenance"],
            serde_json::json!({"MS": "Manual", "EE": "Template/base", "CJPSTD": "Template/agents"})
        );
        assert_eq!(json["objects"][1]["wouldReach"]["reason"], "LicenseNotInOrg");
        assert_eq!(json["exitCode"], 2);
    }

    #[test]
    fn templates_are_listed_first_with_their_tally() {
        let t = TemplatePlan {
            source: "t.yaml#1 (line 1)".into(),
            name: "base".into(),
            namespace: "team-a".into(),
            org: "acme".into(),
            created_from: StatusFrom::None,
            pruned: false,
            apply_to_existing_users: true,
            selected: 3,
            matched: 2,
            existing: 1,
            conflicts_resolved: 1,
            holders: 0,
        };
        let pruned = TemplatePlan {
            name: "old".into(),
            created_from: StatusFrom::Live,
            pruned: true,
            holders: 4,
            ..t.clone()
        };
        let mut report = PlanReport::new(vec![], vec![]);
        report.templates = vec![t, pruned];
        let text = text(&report);
        assert!(
            text.starts_with(
                "@ LicenseTemplate team-a/base  [t.yaml#1 (line 1)] (new)\n    selects 3 WebexUser(s) of org acme; applies to 2, 1 of them existing, reached through applyToExistingUsers (R-TPL-2); Contact Center conflicts resolved: 1 (R-CC-2)\n@ LicenseTemplate team-a/old  [t.yaml#1 (line 1)]\n    gone from the manifests: would be deleted and apply to nobody; 4 user(s) hold licences from it (their removal is in those users' plans)\n"
            ),
            "{text}"
        );
        assert_eq!(report.exit_code, 0, "a template writes nothing itself");
        let json: serde_json::Value = serde_json::from_str(&render(&report, OutputFormat::Json).unwrap()).unwrap();
        assert_eq!(json["templates"][0]["matched"], 2);
        assert_eq!(json["templates"][0]["createdFrom"], "none");
        assert_eq!(json["templates"][1]["pruned"], true);
    }
}
