//! `crds/` must be exactly what `webex-operator crds` prints.
//! Regenerate with: `cargo run -- crds > crds/webex-operator.yaml`.

#[test]
fn crds_in_the_repository_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/webex-operator.yaml");
    let generated = webex_operator::api::crds_yaml().expect("CRDs serialise");
    if std::env::var("WEBEX_UPDATE_CRDS").as_deref() == Ok("1") {
        std::fs::write(path, &generated).expect("write crds");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "crds/webex-operator.yaml is stale: run `cargo run -- crds > crds/webex-operator.yaml`"
    );
}

#[test]
fn every_kind_is_in_the_webex_category_with_a_short_name() {
    for crd in webex_operator::api::crds() {
        let names = &crd.spec.names;
        assert_eq!(
            names.categories.as_deref(),
            Some(&["webex".to_string()][..]),
            "{}",
            names.kind
        );
        assert!(
            names.short_names.as_ref().is_some_and(|s| !s.is_empty()),
            "{}",
            names.kind
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        assert!(
            version.subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(),
            "{} has a status subresource",
            names.kind
        );
        let columns = version.additional_printer_columns.as_deref().unwrap_or_default();
        assert!(columns.iter().any(|c| c.name == "Ready"), "{} shows Ready", names.kind);
    }
}

#[test]
fn every_field_has_a_description() {
    fn walk(kind: &str, path: &str, schema: &serde_json::Value, missing: &mut Vec<String>) {
        if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
            for (name, sub) in props {
                let here = format!("{path}.{name}");
                let is_meta = path.is_empty() && matches!(name.as_str(), "apiVersion" | "kind" | "metadata");
                // Condition and LabelSelector come documented from k8s-openapi.
                if !is_meta && sub.get("description").is_none() {
                    missing.push(format!("{kind}{here}"));
                }
                walk(kind, &here, sub, missing);
            }
        }
        if let Some(items) = schema.get("items") {
            walk(kind, &format!("{path}[]"), items, missing);
        }
    }
    let mut missing = Vec::new();
    for crd in webex_operator::api::crds() {
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
        walk(&crd.spec.names.kind, "", &schema["openAPIV3Schema"], &mut missing);
    }
    assert!(missing.is_empty(), "fields without a description: {missing:#?}");
}
