//! GitOps tooling end to end (issue 7): the real binary's `plan`, `import`, `csv-to-manifests`
//! and `manifests-to-csv` against the simulator binary over HTTP. No Kubernetes: `plan` reads
//! the org from the WebexOrg manifest and the token from `WEBEX_TOKEN`. One simulator serves
//! every test; each test has its own org.

// Test helpers fail by panicking, with what they saw.
#![allow(clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::operator::{self, BIN, SimProcess, standard_org};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use webex_operator::sim::control_types::{LicenseSeed, OrgSeed, PersonSeed, SeededOrg};
use webex_operator::webex::client::{Token, WebexClient};
use webex_operator::webex::model::{
    LicenseOperation, LicenseProperties, LicenseRequest, PatchUserLicenses, PersonWrite, SiteUrlRequest,
};

static SIM: OnceCell<SimProcess> = OnceCell::const_new();

async fn sim() -> &'static SimProcess {
    SIM.get_or_init(operator::start_sim).await
}

async fn org(name: &str) -> (&'static SimProcess, SeededOrg, String) {
    let sim = sim().await;
    let domain = format!("{name}.example");
    let seeded = sim
        .control()
        .seed_org(standard_org(name, &domain))
        .await
        .expect("seed org");
    (sim, seeded, domain)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], token: Option<&str>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("WEBEX_TOKEN").env("CI", "true");
    if let Some(t) = token {
        cmd.env("WEBEX_TOKEN", t);
    }
    let out = cmd.output().expect("run the binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn org_manifest(sim: &SimProcess, name: &str, extra_spec: Value) -> String {
    let mut spec =
        json!({"apiBaseUrl": sim.base_url, "backend": "Simulator", "tokenSecretRef": {"name": "t", "namespace": "x"}});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra_spec.as_object()) {
        s.extend(e.clone());
    }
    let doc = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": name}, "spec": spec});
    serde_saphyr::to_string(&doc).expect("yaml")
}

fn user_manifest(org: &str, name: &str, spec: Value, status: Option<Value>) -> String {
    let mut spec = spec;
    spec["orgRef"] = json!({"name": org});
    let mut doc = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser", "metadata": {"name": name, "namespace": "team-a"}, "spec": spec});
    if let Some(s) = status {
        doc["status"] = s;
    }
    serde_saphyr::to_string(&doc).expect("yaml")
}

fn write(dir: &Path, file: &str, docs: &[String]) -> String {
    let path = dir.join(file);
    std::fs::write(&path, docs.join("---\n")).expect("write");
    path.display().to_string()
}

fn object<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["objects"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == name))
        .unwrap_or_else(|| panic!("no object {name} in {plan:#}"))
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr))
}

#[tokio::test]
async fn plan_reports_each_action_kind_read_only() {
    let (sim, seeded, domain) = org("plan-kinds").await;
    let control = sim.control();
    let person = |email: &str, licences: &[&str]| {
        let mut seed = PersonSeed::new(format!("{email}@{domain}"))
            .named("Old", "Name")
            .signed_in();
        seed.licenses = licences.iter().map(|l| l.to_string()).collect();
        seed
    };
    control
        .seed_person(&seeded.org_id, person("adopt", &["MS"]))
        .await
        .expect("seed");
    let upd = control
        .seed_person(&seeded.org_id, person("upd", &["MS"]))
        .await
        .expect("seed");
    let gone = control
        .seed_person(&seeded.org_id, person("gone", &["MS"]))
        .await
        .expect("seed");
    let ms = seeded.license_id("MS").expect("MS").to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let email = |local: &str| format!("{local}@{domain}");
    let managed_status = |id: &str| json!({"personId": id, "adopted": true, "effectiveLicenses": [{"offerCode": "MS", "id": ms, "source": "Manual"}]});
    let manifests = write(
        dir.path(),
        "all.yaml",
        &[
            org_manifest(sim, "acme", json!({"settings": {"automaticActivationEmails": false}})),
            user_manifest(
                "acme",
                "new",
                json!({"email": email("new"), "firstName": "Nia", "lastName": "New", "licenses": [{"offerCode": "EE"}], "adminRoles": ["UserAdministrator"]}),
                None,
            ),
            user_manifest(
                "acme",
                "adopt",
                json!({"email": email("adopt"), "firstName": "Old", "lastName": "Name", "licenses": [{"offerCode": "MS"}]}),
                None,
            ),
            user_manifest(
                "acme",
                "upd",
                json!({"email": email("upd"), "firstName": "New", "lastName": "Name", "licenses": [{"offerCode": "EE"}]}),
                Some(managed_status(&upd.id)),
            ),
            user_manifest(
                "acme",
                "blocked",
                json!({"email": email("blocked"), "licenses": [{"offerCode": "XX"}]}),
                None,
            ),
        ],
    );
    let live = write(
        dir.path(),
        "live.yaml",
        &[user_manifest(
            "acme",
            "gone",
            json!({"email": email("gone")}),
            Some(managed_status(&gone.id)),
        )],
    );
    control.reset_counters().await.expect("reset counters");
    let r = run(
        &["plan", "-f", &manifests, "--live", &live, "--output", "json"],
        Some(&seeded.admin_token),
    );
    assert_eq!(r.code, 2, "changes: exit 2\n{}\n{}", r.stdout, r.stderr);
    let plan = json_of(&r);

    let acme = object(&plan, "acme");
    assert_eq!(acme["change"], "update");
    assert_eq!(
        acme["actions"][0],
        json!({"type": "setOrgSetting", "setting": "automaticActivationEmails", "from": true, "to": false})
    );

    let new = object(&plan, "new");
    assert_eq!(new["change"], "create");
    let types: Vec<&str> = new["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["type"].as_str())
        .collect();
    assert_eq!(
        types,
        ["create", "licenses", "update"],
        "create, licences, then roles (R-USER-12): {new:#}"
    );
    assert_eq!(new["actions"][1]["add"], json!(["EE"]));
    assert_eq!(
        new["actions"][2]["fields"][0],
        json!({"field": "adminRoles", "to": "UserAdministrator"})
    );
    assert_eq!(new["wouldReach"]["state"], "Pending");
    assert_eq!(new["wouldReach"]["reason"], "InvitePending");
    assert_eq!(new["statusFrom"], "none");

    let adopt = object(&plan, "adopt");
    assert_eq!(adopt["change"], "adopt");
    assert_eq!(adopt["actions"].as_array().map(Vec::len), Some(1));
    assert_eq!(adopt["wouldReach"]["ready"], true);

    let updated = object(&plan, "upd");
    assert_eq!(updated["change"], "update");
    assert_eq!(updated["statusFrom"], "manifest");
    assert_eq!(
        updated["actions"][0],
        json!({"type": "licenses", "add": ["EE"], "remove": ["MS"], "properties": [], "provenance": {"EE": "Manual", "MS": "Manual"}})
    );
    let fields = updated["actions"][1]["fields"].as_array().expect("fields");
    assert!(
        fields.contains(&json!({"field": "firstName", "from": "Old", "to": "New"})),
        "{fields:?}"
    );

    let blocked = object(&plan, "blocked");
    assert_eq!(blocked["change"], "blocked");
    assert_eq!(blocked["wouldReach"]["reason"], "LicenseNotInOrg");
    assert_eq!(
        blocked["wouldReach"]["message"],
        "the org has no licence with offer code XX"
    );

    let deprovisioned = object(&plan, "gone");
    assert_eq!(deprovisioned["change"], "deprovision");
    assert_eq!(
        deprovisioned["actions"][0],
        json!({"type": "deprovision", "deletionPolicy": "Delete"})
    );
    assert_eq!(
        deprovisioned["actions"][1],
        json!({"type": "delete", "personId": gone.id})
    );

    assert_eq!(
        plan["summary"],
        json!({"create": 1, "adopt": 1, "update": 2, "deprovision": 1, "blocked": 1, "unchanged": 0})
    );
    assert_eq!(plan["exitCode"], 2);

    // Read-only: only GETs reached the Webex API.
    let counters = control.counters().await.expect("counters");
    let writes: Vec<&String> = counters
        .endpoints
        .keys()
        .filter(|e| !e.starts_with("GET ") && !e.contains("/_sim"))
        .collect();
    assert!(writes.is_empty(), "plan wrote to Webex: {writes:?}");

    // The text form, for people.
    let text = run(&["plan", "-f", &manifests, "--live", &live], Some(&seeded.admin_token));
    assert_eq!(text.code, 2);
    assert!(
        text.stdout
            .contains(&format!("+ WebexUser team-a/new <{}>", email("new"))),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("    licences: +EE, -MS\n"), "{}", text.stdout);
    assert!(text.stdout.contains("firstName: \"Old\" → \"New\""), "{}", text.stdout);
    assert!(text.stdout.contains("! WebexUser team-a/blocked"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("Plan: 1 to create, 1 to adopt, 2 to update, 1 to deprovision, 1 blocked, 0 unchanged."),
        "{}",
        text.stdout
    );
    assert!(
        !text.stdout.contains(&seeded.admin_token) && !text.stderr.contains(&seeded.admin_token),
        "the token is never printed"
    );
}

#[tokio::test]
async fn plan_reads_kustomize_output_on_stdin_and_exits_0_without_changes() {
    let (sim, seeded, domain) = org("plan-stdin").await;
    let email = format!("ada@{domain}");
    let p = sim
        .control()
        .seed_person(
            &seeded.org_id,
            PersonSeed::new(&email).named("Ada", "Lovelace").signed_in(),
        )
        .await
        .expect("seed");
    let status = json!({"personId": p.id, "adopted": true});
    let stream = [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n".to_string(),
        org_manifest(sim, "acme", json!({})),
        user_manifest(
            "acme",
            "ada",
            json!({"email": email, "firstName": "Ada",
                   "trackingCodes": [{"siteUrl": "acme.webex.com", "codes": {"Department": "R&D"}}]}),
            Some(status),
        ),
    ]
    .join("---\n");
    let mut child = Command::new(BIN)
        .args(["plan", "-f", "-"])
        .env("WEBEX_TOKEN_ACME", &seeded.admin_token)
        .env_remove("WEBEX_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(stream.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("= WebexUser team-a/ada"), "{stdout}");
    assert!(stdout.contains("<stdin>#3 (line"), "{stdout}");
    assert!(stdout.contains("note: 1 object(s) of other kinds ignored"), "{stdout}");
    assert!(
        stdout.contains(
            "1 WebexUser(s) set callingSettings, trackingCodes or contentManagement, which plan does not compare"
        ),
        "{stdout}"
    );
}

#[tokio::test]
async fn import_then_plan_shows_no_change() {
    let (sim, seeded, domain) = org("import").await;
    let control = sim.control();
    let mut seeds = vec![
        PersonSeed::new(format!("plain@{domain}")).named("Pat", "Plain"),
        PersonSeed::new(format!("lic@{domain}"))
            .named("Lee", "Licensed")
            .signed_in(),
        PersonSeed::new(format!("agent@{domain}"))
            .named("Ann", "Agent")
            .signed_in(),
        PersonSeed::new(format!("sup@{domain}"))
            .named("Sue", "Supervisor")
            .signed_in(),
        PersonSeed::new(format!("admin2@{domain}")).named("Adam", "Admin"),
    ];
    seeds[1].licenses = vec!["MS".into(), "EE".into()];
    seeds[2].licenses = vec!["CJPSTD".into()];
    seeds[3].licenses = vec!["CJPPRM".into()];
    seeds[3].roles = vec!["id_cjp_supervisor".into()];
    seeds[4].roles = vec!["id_user_admin".into()];
    // More than ten objects: `plan` reads this org by pages rather than person by person.
    seeds.extend((1..=6).map(|i| PersonSeed::new(format!("extra{i}@{domain}")).signed_in()));
    for seed in seeds {
        control.seed_person(&seeded.org_id, seed).await.expect("seed");
    }
    // A Calling user with a number and an extension, made through the Webex API.
    let client = WebexClient::new(&sim.base_url, Token::new(&seeded.admin_token)).expect("client");
    let carol = client
        .create_person(&PersonWrite {
            emails: vec![format!("carol@{domain}")],
            first_name: Some("Carol".into()),
            last_name: Some("Chen".into()),
            display_name: Some("Carol Chen".into()),
            ..Default::default()
        })
        .await
        .expect("create carol");
    client
        .patch_user_licenses(&PatchUserLicenses {
            person_id: Some(carol.id.clone()),
            licenses: vec![LicenseRequest {
                id: seeded.license_id("BCPRO").expect("BCPRO").into(),
                operation: LicenseOperation::Add,
                properties: Some(LicenseProperties {
                    location_id: seeded.location_id("Headquarters").map(str::to_string),
                    phone_number: Some("+14085550101".into()),
                    extension: Some("5101".into()),
                }),
            }],
            ..Default::default()
        })
        .await
        .expect("license carol");

    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("imported");
    let out_s = out.display().to_string();
    let r = run(
        &[
            "import",
            "--org-url",
            &sim.base_url,
            "--backend",
            "simulator",
            "--org-name",
            "acme",
            "--namespace",
            "team-a",
            "--include-org",
            "-o",
            &out_s,
        ],
        Some(&seeded.admin_token),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    files.sort();
    assert!(files.contains(&"acme.yaml".to_string()), "{files:?}");
    assert_eq!(files.len(), 14, "org + 12 people + the admin: {files:?}");
    let carol_yaml =
        std::fs::read_to_string(out.join(format!("carol-{}.yaml", domain.replace('.', "-")))).expect("carol");
    assert!(
        carol_yaml.contains("phoneNumber: \"+14085550101\"")
            || carol_yaml.contains("phoneNumber: '+14085550101'")
            || carol_yaml.contains("phoneNumber: +14085550101"),
        "{carol_yaml}"
    );
    let sup_yaml = std::fs::read_to_string(out.join(format!("sup-{}.yaml", domain.replace('.', "-")))).expect("sup");
    assert!(sup_yaml.contains("type: PremiumSupervisor"), "{sup_yaml}");

    let plan = run(&["plan", "-f", &out_s, "--output", "json"], Some(&seeded.admin_token));
    assert_eq!(
        plan.code, 0,
        "import then plan: no change\n{}\n{}",
        plan.stdout, plan.stderr
    );
    let plan = json_of(&plan);
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "adopt": 13, "update": 0, "deprovision": 0, "blocked": 0, "unchanged": 1})
    );

    // With an org-wide template among the inputs, still no change: imported people are adopted,
    // i.e. existing users, which a template reaches only with applyToExistingUsers (R-TPL-2);
    // and an imported licence list would override the template's anyway (R-TPL-4).
    let tpl = write(
        dir.path(),
        "template.yaml",
        &[template_manifest(
            "acme",
            "everyone",
            json!({"licenses": [{"offerCode": "EE"}], "contactCenter": "Premium"}),
            None,
        )],
    );
    let plan = run(
        &["plan", "-f", &out_s, "-f", &tpl, "--output", "json"],
        Some(&seeded.admin_token),
    );
    assert_eq!(
        plan.code, 0,
        "import then plan with a template: no change\n{}\n{}",
        plan.stdout, plan.stderr
    );
    let plan = json_of(&plan);
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "adopt": 13, "update": 0, "deprovision": 0, "blocked": 0, "unchanged": 1})
    );
    let t = template_plan(&plan, "everyone");
    assert_eq!((&t["selected"], &t["matched"]), (&json!(13), &json!(0)), "{t:#}");
}

const CSV_HEADER: &str = "User ID/Email (Required),First Name,Last Name,Display Name,User Status,Phone Number,Extension,Location,Messaging,Enterprise Edition,Webex Calling - Professional,Contact Center Standard Agent,Contact Center Premium Agent";

#[tokio::test]
async fn csv_round_trip_and_plan_of_the_result() {
    let (sim, seeded, domain) = org("csv").await;
    let location = seeded.location_id("Headquarters").expect("location").to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let csv_path = dir.path().join("export.csv");
    // The spreadsheet stripped the + of Carol's number (R-USER-14); Dan has both Contact Center
    // columns FALSE (R-CC-5).
    std::fs::write(
        &csv_path,
        format!(
            "{CSV_HEADER}\nada@{domain},Ada,Lovelace,,Active,,,,TRUE,TRUE,FALSE,FALSE,FALSE\ncarol@{domain},Carol,Chen,Carol Chen,Active,14085550101,5101,HQ,TRUE,FALSE,TRUE,FALSE,TRUE\ndan@{domain},Dan,,,Active,,,,FALSE,FALSE,FALSE,FALSE,FALSE\n"
        ),
    )
    .expect("csv");
    let csv_s = csv_path.display().to_string();
    let loc = format!("HQ={location}");
    let first = dir.path().join("first.yaml").display().to_string();
    let args = |csv: &str, out: &str| -> Vec<String> {
        [
            "csv-to-manifests",
            "--csv",
            csv,
            "--org-name",
            "acme",
            "--namespace",
            "team-a",
            "--mode",
            "add-and-remove-services",
            "--location",
            &loc,
            "-o",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let r = run(
        &args(&csv_s, &first).iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first_text = std::fs::read_to_string(&first).expect("first");
    assert!(
        first_text.contains("+14085550101"),
        "R-USER-14: + restored\n{first_text}"
    );
    assert!(first_text.contains("type: Premium"), "{first_text}");

    let back = dir.path().join("back.csv").display().to_string();
    let r = run(
        &["manifests-to-csv", "-f", &first, "--location", &loc, "-o", &back],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let back_text = std::fs::read_to_string(&back).expect("back");
    assert!(
        back_text.contains(&format!("carol@{domain},Carol,Chen,Carol Chen,+14085550101,5101,HQ,")),
        "{back_text}"
    );

    let second = dir.path().join("second.yaml").display().to_string();
    let r = run(
        &args(&back, &second).iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let strip = |t: &str| t.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    assert_eq!(
        strip(&first_text),
        strip(&std::fs::read_to_string(&second).expect("second")),
        "CSV round trip"
    );

    // The converted manifests plan as creates against the org.
    let orgfile = write(dir.path(), "org.yaml", &[org_manifest(sim, "acme", json!({}))]);
    let plan = run(
        &["plan", "-f", &orgfile, "-f", &first, "--output", "json"],
        Some(&seeded.admin_token),
    );
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    let plan = json_of(&plan);
    assert_eq!(plan["summary"]["create"], 3);
    let carol = object(&plan, &format!("carol-{}", domain.replace('.', "-")));
    assert_eq!(
        carol["actions"][1]["add"],
        json!(["MS", "BCPRO", "CJPPRM"]),
        "{carol:#}"
    );
}

#[tokio::test]
async fn bad_input_names_the_place_and_writes_nothing() {
    let (sim, seeded, _) = org("bad-input").await;
    let dir = tempfile::tempdir().expect("tmp");
    let org = org_manifest(sim, "acme", json!({}));
    let token = Some(seeded.admin_token.as_str());
    let case = |file: &str, text: &str, expected: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).expect("write");
        let r = run(&["plan", "-f", &path.display().to_string()], token);
        assert_eq!(r.code, 1, "{file}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{file}: nothing on stdout: {}", r.stdout);
        assert!(
            r.stderr.contains(expected),
            "{file}: expected {expected:?} in {}",
            r.stderr
        );
    };
    case(
        "malformed.yaml",
        &format!("{org}---\nkind: [unclosed\n"),
        "malformed.yaml: error: line 12 column 7: unclosed bracket",
    );
    case(
        "unknown.yaml",
        &format!("{org}---\napiVersion: webex.operator.io/v1alpha1\nkind: WebexUsr\nmetadata: {{name: x}}\n"),
        "unknown.yaml#2 (line 12): unknown kind webex.operator.io/v1alpha1/WebexUsr",
    );
    case(
        "field.yaml",
        &format!(
            "{org}---\napiVersion: webex.operator.io/v1alpha1\nkind: WebexUser\nmetadata: {{name: x, namespace: a}}\nspec:\n  orgRef: {{name: acme}}\n  email: x@y.example\n  deletionPolicy: Sometimes\n"
        ),
        "field.yaml#2 (line 12): spec.deletionPolicy: unknown variant `Sometimes`",
    );
    case(
        "missing.yaml",
        "apiVersion: webex.operator.io/v1alpha1\nkind: WebexUser\nmetadata: {name: x, namespace: a}\nspec:\n  orgRef: {name: acme}\n",
        "missing.yaml#1 (line 1): spec: missing field `email`",
    );
    case(
        "noorg.yaml",
        "apiVersion: webex.operator.io/v1alpha1\nkind: WebexUser\nmetadata: {name: x, namespace: a}\nspec:\n  orgRef: {name: nowhere}\n  email: x@y.example\n",
        "noorg.yaml#1 (line 1): spec.orgRef.name: WebexOrg nowhere is not among the inputs",
    );
    let ext = "apiVersion: webex.operator.io/v1alpha1\nkind: ExternalUser\nmetadata: {name: pat, namespace: a}\nspec:\n  orgRef: {name: acme}\n  email: pat@other.example\n";
    case(
        "ext-type.yaml",
        &format!("{org}---\n{ext}  sites:\n  - {{siteUrl: acme.webex.com, accountType: Owner}}\n"),
        "ext-type.yaml#2 (line 12): spec.sites[0].accountType: unknown variant `Owner`",
    );
    case(
        "ext-nosite.yaml",
        &format!("{org}---\n{ext}  sites: []\n"),
        "ext-nosite.yaml#2 (line 12): spec.sites: name at least one Meetings site",
    );
    case(
        "ext-email.yaml",
        &format!(
            "{org}---\n{}  sites: [{{siteUrl: acme.webex.com, accountType: Host}}]\n",
            ext.replace("pat@other.example", "pat")
        ),
        "ext-email.yaml#2 (line 12): spec.email: \"pat\" is not an email address",
    );
    // No token: the error says where to put it.
    let orgfile = write(dir.path(), "org.yaml", std::slice::from_ref(&org));
    let r = run(&["plan", "-f", &orgfile], None);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("no token for WebexOrg acme: set WEBEX_TOKEN_ACME or WEBEX_TOKEN"),
        "{}",
        r.stderr
    );

    // CSV: a missing column, and a bad value; nothing written.
    let out = dir.path().join("out.yaml");
    let out_s = out.display().to_string();
    let csv_case = |file: &str, text: &str, expected: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).expect("write");
        let r = run(
            &[
                "csv-to-manifests",
                "--csv",
                &path.display().to_string(),
                "--org-name",
                "acme",
                "-o",
                &out_s,
            ],
            None,
        );
        assert_eq!(r.code, 1, "{file}: {}", r.stderr);
        assert!(
            r.stderr.contains(expected),
            "{file}: expected {expected:?} in {}",
            r.stderr
        );
        assert!(!out.exists(), "{file}: nothing written");
    };
    csv_case(
        "nomail.csv",
        "First Name,Last Name,Messaging\nAda,L,TRUE\n",
        "nomail.csv: missing column \"User ID/Email (Required)\"",
    );
    csv_case(
        "onecc.csv",
        "User ID/Email (Required),Contact Center Premium Agent\na@b.example,TRUE\n",
        "missing column \"Contact Center Standard Agent\"",
    );
    csv_case(
        "value.csv",
        &format!("{CSV_HEADER}\nok@b.example,,,,,,,,TRUE,,,,\nbad@b.example,,,,,12ab,,,TRUE,,,,\n"),
        "value.csv line 3: column \"Phone Number\": \"12ab\" is not an E.164 number",
    );
}

// ---- ExternalUser -------------------------------------------------------------------------------

/// An inviting org with two Meetings sites, `<name>.webex.com` and `events-<name>.webex.com`.
struct SiteOrg {
    seeded: SeededOrg,
    domain: String,
    site: String,
    events: String,
    client: WebexClient,
}

async fn site_org(sim: &SimProcess, name: &str) -> SiteOrg {
    let domain = format!("{name}.example");
    let site = format!("{name}.webex.com");
    let events = format!("events-{name}.webex.com");
    let seed = OrgSeed::new(name, &domain)
        .with_license(LicenseSeed::new("MS", "Messaging", 100))
        .with_license(LicenseSeed {
            site_url: Some(site.clone()),
            ..LicenseSeed::new("EE", "Webex Meetings Suite", 100)
        })
        .with_license(LicenseSeed {
            site_url: Some(events.clone()),
            ..LicenseSeed::new("EE", "Webex Meetings Suite", 100)
        });
    let seeded = sim.control().seed_org(seed).await.expect("seed org");
    let client = WebexClient::new(&sim.base_url, Token::new(&seeded.admin_token)).expect("client");
    SiteOrg {
        seeded,
        domain,
        site,
        events,
        client,
    }
}

impl SiteOrg {
    async fn licence_of(&self, site: &str) -> String {
        self.client
            .list_licenses()
            .await
            .expect("licences")
            .into_iter()
            .find(|l| l.site_url.as_deref() == Some(site))
            .map(|l| l.id)
            .unwrap_or_else(|| panic!("no licence for {site}"))
    }

    /// Invites `email` to host accounts on `sites` and an attendee account on `attendee`
    /// through the Webex API, as the controller would (R-EXT-4).
    async fn invite(&self, email: &str, sites: &[&str], attendee: &[&str]) {
        let mut licenses = Vec::new();
        for s in sites {
            licenses.push(LicenseRequest {
                id: self.licence_of(s).await,
                operation: LicenseOperation::Add,
                properties: None,
            });
        }
        self.client
            .patch_user_licenses(&PatchUserLicenses {
                email: Some(email.to_string()),
                licenses,
                site_urls: attendee
                    .iter()
                    .map(|s| SiteUrlRequest {
                        site_url: s.to_string(),
                        account_type: "attendee".into(),
                        operation: LicenseOperation::Add,
                    })
                    .collect(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("invite {email}: {e}"));
    }
}

/// People of another org (which allows cross-org licensing or not), by local part.
async fn outsiders(sim: &SimProcess, name: &str, cross_org: bool, locals: &[&str]) -> Vec<String> {
    let domain = format!("{name}.example");
    let seed = OrgSeed {
        allow_cross_org_licensing: Some(cross_org),
        ..OrgSeed::new(name, domain.clone())
    };
    let other = sim.control().seed_org(seed).await.expect("seed the other org");
    let mut emails = Vec::new();
    for local in locals {
        let email = format!("{local}@{domain}");
        sim.control()
            .seed_person(&other.org_id, PersonSeed::new(&email).named("Pat", *local).signed_in())
            .await
            .expect("seed an outsider");
        emails.push(email);
    }
    emails
}

fn external_manifest(org: &str, name: &str, spec: Value, status: Option<Value>, generation: Option<i64>) -> String {
    let mut spec = spec;
    spec["orgRef"] = json!({"name": org});
    let mut doc = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "ExternalUser", "metadata": {"name": name, "namespace": "team-a"}, "spec": spec});
    if let Some(g) = generation {
        doc["metadata"]["generation"] = json!(g);
    }
    if let Some(s) = status {
        doc["status"] = s;
    }
    serde_saphyr::to_string(&doc).expect("yaml")
}

fn host(site: &str) -> Value {
    json!({"siteUrl": site, "accountType": "Host"})
}

fn refused(reason: &str, message: &str) -> Value {
    json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "False", "reason": reason, "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]})
}

#[tokio::test]
async fn plan_reports_each_external_user_action_kind_read_only() {
    let sim = sim().await;
    let control = sim.control();
    let inviter = site_org(sim, "ext-kinds").await;
    let (site, events) = (inviter.site.as_str(), inviter.events.as_str());
    let emails = outsiders(
        sim,
        "ext-kinds-partner",
        true,
        &["new", "held", "moved", "gone", "waiting"],
    )
    .await;
    let [new, held, moved, gone, waiting] = [0, 1, 2, 3, 4].map(|i| emails[i].clone());
    let closed = outsiders(sim, "ext-kinds-closed", false, &["off", "off2"]).await;
    let (off, off2) = (closed[0].clone(), closed[1].clone());
    let member = format!("member@{}", inviter.domain);
    control
        .seed_person(&inviter.seeded.org_id, PersonSeed::new(&member).signed_in())
        .await
        .expect("seed a member");
    for email in [&held, &moved, &gone, &waiting] {
        inviter.invite(email, &[site], &[]).await;
    }
    let accepted = control
        .answer_invitations(&[&held, &moved, &gone], Some(&inviter.seeded.org_id), true)
        .await
        .expect("accept");
    assert_eq!(accepted, 3);
    let expiry = control
        .invitations(&inviter.seeded.org_id)
        .await
        .expect("invitations")
        .into_iter()
        .find(|i| i.email == waiting)
        .map(|i| i.expires_at)
        .expect("the pending invitation");

    let dir = tempfile::tempdir().expect("tmp");
    let accepted_on = |s: &str| json!({"personId": "x", "invitation": "Accepted", "sites": [{"siteUrl": s, "accountType": "Host", "invitation": "Accepted"}]});
    let manifests = write(
        dir.path(),
        "ext.yaml",
        &[
            org_manifest(sim, "acme", json!({})),
            external_manifest(
                "acme",
                "new",
                json!({"email": new, "sites": [host(site), {"siteUrl": events, "accountType": "Attendee"}]}),
                None,
                None,
            ),
            external_manifest(
                "acme",
                "held",
                json!({"email": held, "sites": [host(site)]}),
                None,
                None,
            ),
            external_manifest(
                "acme",
                "moved",
                json!({"email": moved, "sites": [host(events)]}),
                Some(accepted_on(site)),
                None,
            ),
            external_manifest(
                "acme",
                "member",
                json!({"email": member, "sites": [host(site)]}),
                None,
                None,
            ),
            external_manifest(
                "acme",
                "badsite",
                json!({"email": "other@ext-kinds-partner.example", "sites": [host("nowhere.webex.com")]}),
                None,
                None,
            ),
            external_manifest(
                "acme",
                "off",
                json!({"email": off, "sites": [host(site)]}),
                Some(refused(
                    "CrossOrgLicensingNotAllowed",
                    "the organisation of off does not allow cross-org licensing (R-EXT-1, R-ORG-5)",
                )),
                Some(1),
            ),
            external_manifest(
                "acme",
                "nobody",
                json!({"email": "nobody@nowhere.example", "sites": [host(site)]}),
                Some(refused(
                    "NoWebexAccount",
                    "nobody@nowhere.example has no Webex account (R-EXT-2)",
                )),
                Some(1),
            ),
            // Refused for the live spec; this manifest changes the spec: a new attempt.
            external_manifest(
                "acme",
                "off2",
                json!({"email": off2, "sites": [host(events)]}),
                None,
                None,
            ),
        ],
    );
    let pending_status = json!({"invitation": "Pending", "expiresAt": expiry, "sites": [{"siteUrl": site, "accountType": "Host", "invitation": "Pending", "expiresAt": expiry}]});
    let live = write(
        dir.path(),
        "live.yaml",
        &[
            external_manifest(
                "acme",
                "gone",
                json!({"email": gone, "sites": [host(site)]}),
                Some(accepted_on(site)),
                None,
            ),
            external_manifest(
                "acme",
                "waiting",
                json!({"email": waiting, "sites": [host(site)]}),
                Some(pending_status),
                None,
            ),
            external_manifest(
                "acme",
                "off2",
                json!({"email": off2, "sites": [host(site)]}),
                Some(refused("CrossOrgLicensingNotAllowed", "refused (R-EXT-1)")),
                Some(1),
            ),
        ],
    );
    control.reset_counters().await.expect("reset counters");
    let r = run(
        &["plan", "-f", &manifests, "--live", &live, "--output", "json"],
        Some(&inviter.seeded.admin_token),
    );
    assert_eq!(r.code, 2, "changes: exit 2\n{}\n{}", r.stdout, r.stderr);
    let plan = json_of(&r);

    let o = object(&plan, "new");
    assert_eq!(o["kind"], "ExternalUser");
    assert_eq!(o["change"], "create");
    assert_eq!(
        o["actions"],
        json!([{"type": "invite", "email": new, "sites": [format!("{events} (Attendee)"), format!("{site} (Host)")]}])
    );
    assert_eq!(o["wouldReach"]["state"], "Pending");
    assert_eq!(o["wouldReach"]["reason"], "InvitationPending");

    let o = object(&plan, "held");
    assert_eq!(o["change"], "adopt", "R-EXT-8: {o:#}");
    assert_eq!(
        o["actions"],
        json!([{"type": "adoptSites", "sites": [format!("{site} (Host)")]}])
    );
    assert_eq!(o["wouldReach"]["ready"], true);
    assert_eq!(o["wouldReach"]["state"], "Accepted");

    let o = object(&plan, "moved");
    assert_eq!(o["change"], "update");
    assert_eq!(
        o["actions"],
        json!([{"type": "siteAccounts", "add": [format!("{events} (Host)")], "remove": [format!("{site} (Host)")], "reinvite": []}])
    );
    assert_eq!(o["wouldReach"]["reason"], "InvitationPending");

    let o = object(&plan, "gone");
    assert_eq!(o["change"], "deprovision");
    assert_eq!(
        o["actions"],
        json!([{"type": "deprovision", "deletionPolicy": "RemoveAccounts"}, {"type": "siteAccounts", "add": [], "remove": [format!("{site} (Host)")], "reinvite": []}])
    );

    let o = object(&plan, "waiting");
    assert_eq!(o["change"], "blocked");
    assert_eq!(o["wouldReach"]["reason"], "RemovalBlocked", "R-EXT-7: {o:#}");

    for (name, reason, words) in [
        ("member", "MemberOfOrg", "manage it with a WebexUser"),
        (
            "badsite",
            "SiteNotInOrg",
            "nowhere.webex.com is not a Meetings site of the org",
        ),
        ("off", "CrossOrgLicensingNotAllowed", "R-EXT-1"),
        ("nobody", "NoWebexAccount", "R-EXT-2"),
    ] {
        let o = object(&plan, name);
        assert_eq!(o["change"], "blocked", "{o:#}");
        assert_eq!(o["wouldReach"]["reason"], reason, "{o:#}");
        let message = o["wouldReach"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{name}: {message}");
    }
    let o = object(&plan, "off2");
    assert_eq!(o["statusFrom"], "live");
    assert_eq!(o["change"], "create", "a changed spec is tried again: {o:#}");
    assert_eq!(
        plan["summary"],
        json!({"create": 2, "adopt": 1, "update": 1, "deprovision": 1, "blocked": 5, "unchanged": 1})
    );

    // Read-only, and by listings: no PATCH, no lookup per person.
    let counters = control.counters_for(&inviter.seeded.org_id).await.expect("counters");
    let endpoints: Vec<&String> = counters.endpoints.keys().filter(|e| !e.contains("/_sim")).collect();
    assert!(
        endpoints.iter().all(|e| e.starts_with("GET ")),
        "plan wrote to Webex: {endpoints:?}"
    );
    // Ten ExternalUsers, observed with one page of people and one listing per site licence.
    assert_eq!(counters.total("GET /v1/people"), 1, "{:?}", counters.endpoints);
    assert_eq!(
        counters.total("GET /v1/licenses/{licenseId}"),
        2,
        "{:?}",
        counters.endpoints
    );

    // The text form.
    let text = run(
        &["plan", "-f", &manifests, "--live", &live],
        Some(&inviter.seeded.admin_token),
    );
    assert_eq!(text.code, 2);
    for line in [
        format!("+ ExternalUser team-a/new <{new}>"),
        format!("invite {new} to {events} (Attendee), {site} (Host)"),
        format!("site accounts: +{events} (Host), -{site} (Host)"),
        "blocked: CrossOrgLicensingNotAllowed:".to_string(),
    ] {
        assert!(text.stdout.contains(&line), "{line:?} in\n{}", text.stdout);
    }
}

#[tokio::test]
async fn import_then_plan_shows_no_change_with_webex_and_external_users() {
    let sim = sim().await;
    let control = sim.control();
    let inviter = site_org(sim, "ext-import").await;
    let (site, events) = (inviter.site.as_str(), inviter.events.as_str());
    let mut lic = PersonSeed::new(format!("lic@{}", inviter.domain))
        .named("Lee", "Licensed")
        .signed_in();
    lic.licenses = vec!["MS".into()];
    control.seed_person(&inviter.seeded.org_id, lic).await.expect("seed");
    control
        .seed_person(
            &inviter.seeded.org_id,
            PersonSeed::new(format!("plain@{}", inviter.domain)).named("Pat", "Plain"),
        )
        .await
        .expect("seed");
    let emails = outsiders(sim, "ext-import-partner", true, &["one", "two", "pending", "attendee"]).await;
    inviter.invite(&emails[0], &[site], &[]).await;
    inviter.invite(&emails[1], &[site, events], &[]).await;
    inviter.invite(&emails[2], &[site], &[]).await;
    inviter.invite(&emails[3], &[], &[events]).await;
    control
        .answer_invitations(
            &[&emails[0], &emails[1], &emails[3]],
            Some(&inviter.seeded.org_id),
            true,
        )
        .await
        .expect("accept");

    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("imported");
    let out_s = out.display().to_string();
    let r = run(
        &[
            "import",
            "--org-url",
            &sim.base_url,
            "--backend",
            "simulator",
            "--org-name",
            "acme",
            "--namespace",
            "team-a",
            "--include-org",
            "-o",
            &out_s,
        ],
        Some(&inviter.seeded.admin_token),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let read = |email: &str| std::fs::read_to_string(out.join(format!("{}.yaml", email.replace(['@', '.'], "-"))));
    let two = read(&emails[1]).expect("an ExternalUser for the person with two host accounts");
    assert!(two.contains("kind: ExternalUser"), "{two}");
    assert!(
        two.contains(&format!("siteUrl: {site}")) && two.contains(&format!("siteUrl: {events}")),
        "{two}"
    );
    assert!(read(&emails[0]).is_ok_and(|y| y.contains("kind: ExternalUser")));
    // Invisible to GETs, hence not imported: the pending invitation and the attendee account.
    assert!(read(&emails[2]).is_err(), "pending invitations are not imported");
    assert!(read(&emails[3]).is_err(), "attendee accounts are not listed");
    assert!(read(&format!("lic@{}", inviter.domain)).is_ok_and(|y| y.contains("kind: WebexUser")));

    let plan = run(
        &["plan", "-f", &out_s, "--output", "json"],
        Some(&inviter.seeded.admin_token),
    );
    assert_eq!(plan.code, 0, "no change: {}\n{}", plan.stdout, plan.stderr);
    let plan = json_of(&plan);
    let kinds: Vec<(&str, &str)> = plan["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| (o["kind"].as_str().unwrap_or(""), o["change"].as_str().unwrap_or("")))
        .collect();
    let externals: Vec<&(&str, &str)> = kinds.iter().filter(|(k, _)| *k == "ExternalUser").collect();
    assert_eq!(
        externals,
        [&("ExternalUser", "adopt"), &("ExternalUser", "adopt")],
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|(k, _)| *k == "WebexUser"), "{kinds:?}");
    assert_eq!(plan["summary"]["create"], 0);
    assert_eq!(plan["summary"]["update"], 0);
    assert_eq!(plan["summary"]["blocked"], 0);
}

fn template_manifest(org: &str, name: &str, spec: Value, created: Option<&str>) -> String {
    let mut spec = spec;
    spec["orgRef"] = json!({"name": org});
    let mut doc = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "LicenseTemplate", "metadata": {"name": name, "namespace": "team-a"}, "spec": spec});
    if let Some(c) = created {
        doc["metadata"]["creationTimestamp"] = json!(c);
    }
    serde_saphyr::to_string(&doc).expect("yaml")
}

fn labelled(doc: String, team: &str) -> String {
    let mut v: Value = serde_saphyr::from_str(&doc).expect("yaml");
    v["metadata"]["labels"] = json!({ "team": team });
    serde_saphyr::to_string(&v).expect("yaml")
}

fn licence_change(o: &Value) -> &Value {
    o["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["type"] == "licenses"))
        .unwrap_or_else(|| panic!("no licence change in {o:#}"))
}

fn template_plan<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["templates"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == name))
        .unwrap_or_else(|| panic!("no template {name} in {plan:#}"))
}

/// `plan` merges LicenseTemplates into the WebexUsers as the reconciler does (the same
/// functions): template licences are additions with their provenance (R-TPL-1), Premium wins
/// over Standard (R-CC-2), a manual licence list overrides the templates' lists field by field
/// (R-TPL-4), and an existing user (created before the template, per `--live`) gets a template
/// only with applyToExistingUsers (R-TPL-2).
#[tokio::test]
async fn plan_applies_license_templates_as_the_controller_would() {
    let (sim, seeded, domain) = org("plan-templates").await;
    let control = sim.control();
    // A person the operator created in 2020, before the templates (2021): existing.
    let old = control
        .seed_person(
            &seeded.org_id,
            PersonSeed::new(format!("old@{domain}"))
                .named("Olga", "Old")
                .signed_in(),
        )
        .await
        .expect("seed");
    let email = |local: &str| format!("{local}@{domain}");
    let dir = tempfile::tempdir().expect("tmp");
    let templates = |opt_in: bool| {
        vec![
            template_manifest(
                "acme",
                "agents-std",
                json!({"selector": {"matchLabels": {"team": "support"}}, "licenses": [{"offerCode": "EE"}], "contactCenter": "Standard", "applyToExistingUsers": opt_in}),
                None,
            ),
            template_manifest(
                "acme",
                "agents-prm",
                json!({"selector": {"matchLabels": {"team": "support"}}, "contactCenter": "Premium"}),
                None,
            ),
        ]
    };
    let mut docs = vec![org_manifest(sim, "acme", json!({}))];
    docs.extend(templates(false));
    docs.extend([
        labelled(
            user_manifest("acme", "sam", json!({"email": email("sam"), "firstName": "Sam", "lastName": "Agent"}), None),
            "support",
        ),
        labelled(
            user_manifest(
                "acme",
                "manny",
                json!({"email": email("manny"), "firstName": "Manny", "lastName": "Manual", "licenses": [{"offerCode": "MS"}]}),
                None,
            ),
            "support",
        ),
        labelled(
            user_manifest("acme", "sal", json!({"email": email("sal"), "firstName": "Sal", "lastName": "Sales"}), None),
            "sales",
        ),
        labelled(
            user_manifest("acme", "old", json!({"email": email("old"), "firstName": "Olga", "lastName": "Old"}), None),
            "support",
        ),
    ]);
    let manifests = write(dir.path(), "all.yaml", &docs);
    // The cluster: the user `old` managed since 2020, the templates since 2021.
    let mut live_old: Value = serde_saphyr::from_str(&labelled(
        user_manifest(
            "acme",
            "old",
            json!({"email": email("old"), "firstName": "Olga", "lastName": "Old"}),
            Some(json!({"personId": old.id, "adopted": false})),
        ),
        "support",
    ))
    .expect("yaml");
    live_old["metadata"]["creationTimestamp"] = json!("2020-01-01T00:00:00Z");
    let mut live_docs = vec![serde_saphyr::to_string(&live_old).expect("yaml")];
    live_docs.extend(
        ["agents-std", "agents-prm"]
            .iter()
            .map(|n| template_manifest("acme", n, json!({}), Some("2021-01-01T00:00:00Z"))),
    );
    let live = write(dir.path(), "live.yaml", &live_docs);
    let token = Some(seeded.admin_token.as_str());

    let text = run(&["plan", "-f", &manifests, "--live", &live], token);
    assert_eq!(text.code, 2, "{}\n{}", text.stdout, text.stderr);
    assert!(
        text.stdout
            .contains("    licences: +EE (Template/agents-std), +CJPPRM (Template/agents-prm)\n"),
        "sam: the templates' licences, Premium winning: {}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("    licences: +MS, +CJPPRM (Template/agents-prm)\n"),
        "manny: the manual list replaces the templates' EE, Contact Center still from them: {}",
        text.stdout
    );
    assert!(
        text.stdout.contains("@ LicenseTemplate team-a/agents-prm  ["),
        "{}",
        text.stdout
    );

    let r = run(&["plan", "-f", &manifests, "--live", &live, "--output", "json"], token);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let plan = json_of(&r);
    let sam = licence_change(object(&plan, "sam"));
    assert_eq!(sam["add"], json!(["EE", "CJPPRM"]));
    assert_eq!(
        sam["provenance"],
        json!({"EE": "Template/agents-std", "CJPPRM": "Template/agents-prm"})
    );
    let manny = licence_change(object(&plan, "manny"));
    assert_eq!(
        manny["add"],
        json!(["MS", "CJPPRM"]),
        "R-TPL-4: no EE from the template"
    );
    assert_eq!(
        manny["provenance"],
        json!({"MS": "Manual", "CJPPRM": "Template/agents-prm"})
    );
    assert!(
        object(&plan, "sal")["actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["type"] != "licenses")),
        "sal is not selected: {plan:#}"
    );
    // `old` existed before the templates (creation times from --live): untouched (R-TPL-2).
    assert_eq!(object(&plan, "old")["change"], "none", "{plan:#}");
    assert_eq!(object(&plan, "old")["statusFrom"], "live");
    for name in ["agents-std", "agents-prm"] {
        let t = template_plan(&plan, name);
        assert_eq!(t["createdFrom"], "live");
        assert_eq!(
            (&t["selected"], &t["matched"], &t["existing"], &t["conflictsResolved"]),
            (&json!(3), &json!(2), &json!(0), &json!(2)),
            "{name}: {t:#}"
        );
    }

    // With the opt-in, `old` gets agents-std too, and the tally counts it as existing.
    let mut docs_on = docs.clone();
    docs_on.splice(1..3, templates(true));
    let manifests_on = write(dir.path(), "opt-in.yaml", &docs_on);
    let r = run(
        &["plan", "-f", &manifests_on, "--live", &live, "--output", "json"],
        token,
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let plan = json_of(&r);
    let old_change = licence_change(object(&plan, "old"));
    assert_eq!(old_change["add"], json!(["EE", "CJPSTD"]), "{plan:#}");
    assert_eq!(
        old_change["provenance"],
        json!({"EE": "Template/agents-std", "CJPSTD": "Template/agents-std"})
    );
    let std_t = template_plan(&plan, "agents-std");
    assert_eq!(
        (&std_t["matched"], &std_t["existing"]),
        (&json!(3), &json!(1)),
        "{std_t:#}"
    );

    // Nothing was written: plan is read-only.
    let people = control.people(&seeded.org_id).await.expect("people");
    let emails: Vec<&str> = people
        .iter()
        .flat_map(|p| p.emails.iter().map(String::as_str))
        .collect();
    assert_eq!(emails.len(), 2, "only the admin and the seeded person: {emails:?}");
    assert!(emails.contains(&email("old").as_str()), "{emails:?}");
    assert!(
        people.iter().all(|p| p.licenses.is_empty()),
        "no licence assigned: {people:?}"
    );
}

#[tokio::test]
async fn a_bad_license_template_is_named_by_file_document_and_field() {
    let (sim, seeded, _) = org("bad-template").await;
    let dir = tempfile::tempdir().expect("tmp");
    let org = org_manifest(sim, "acme", json!({}));
    let token = Some(seeded.admin_token.as_str());
    let case = |file: &str, text: &str, live: bool, expected: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).expect("write");
        let path = path.display().to_string();
        let org_path = dir.path().join("org.yaml");
        std::fs::write(&org_path, &org).expect("write");
        let org_path = org_path.display().to_string();
        let args: Vec<&str> = if live {
            vec!["plan", "-f", &org_path, "--live", &path]
        } else {
            vec!["plan", "-f", &path]
        };
        let r = run(&args, token);
        assert_eq!(r.code, 1, "{file}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{file}: nothing on stdout: {}", r.stdout);
        assert!(
            r.stderr.contains(expected),
            "{file}: expected {expected:?} in {}",
            r.stderr
        );
    };
    let tpl = |spec: &str| {
        format!(
            "apiVersion: webex.operator.io/v1alpha1\nkind: LicenseTemplate\nmetadata: {{name: t, namespace: a}}\nspec:\n  orgRef: {{name: acme}}\n{spec}"
        )
    };
    case(
        "calling.yaml",
        &format!(
            "{org}---\n{}",
            tpl("  licenses: [{offerCode: EE}, {offerCode: BCPRO}]\n")
        ),
        false,
        "calling.yaml#2 (line 12): spec.licenses[1].offerCode: \"BCPRO\": a template cannot assign Calling licences",
    );
    case(
        "cc.yaml",
        &format!("{org}---\n{}", tpl("  contactCenter: Gold\n")),
        false,
        "cc.yaml#2 (line 12): spec.contactCenter: unknown variant `Gold`",
    );
    case(
        "selector.yaml",
        &format!(
            "{org}---\n{}",
            tpl("  selector: {matchExpressions: [{key: team, operator: Sideways, values: [a]}]}\n")
        ),
        false,
        "selector.yaml#2 (line 12): spec.selector: not a usable label selector",
    );
    case(
        "twice.yaml",
        &format!("{org}---\n{}---\n{}", tpl(""), tpl("")),
        false,
        "twice.yaml#3 (line 18): metadata.name: LicenseTemplate a/t appears twice in the inputs",
    );
    // `--live` is read with the same checks.
    case(
        "live.yaml",
        &format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            "{apiVersion: webex.operator.io/v1alpha1, kind: LicenseTemplate, metadata: {name: t, namespace: a}, spec: {orgRef: {name: acme}, licenses: [{offerCode: CJPPRM}]}}\n"
        ),
        true,
        "live.yaml#1 (line 1) item 1: spec.licenses[0].offerCode: \"CJPPRM\"",
    );
}
