//! The vendored Webex OpenAPI 3.0 documents (`tests/webex-openapi`) as JSON Schema (2020-12), to
//! validate the simulator's answers against them. One converter for every conformance test.
#![allow(dead_code, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// The path of a vendored document, e.g. `document_path("webex-admin.json")`.
pub fn document_path(file: &str) -> String {
    format!("{}/tests/webex-openapi/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// One OpenAPI document.
pub struct Spec {
    pub doc: Value,
}

impl Spec {
    /// Reads the vendored document `file` (see [`document_path`]).
    pub fn load(file: &str) -> Self {
        let path = document_path(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"));
        Self { doc }
    }

    /// The operation `method` (any case) of `path`, `Null` when the document has none.
    pub fn operation(&self, method: &str, path: &str) -> &Value {
        &self.doc["paths"][path][method.to_ascii_lowercase()]
    }

    /// The OpenAPI schema of the JSON answer with `status` of `method path` (`Null` when the
    /// document gives that answer no JSON schema).
    pub fn response_root(&self, method: &str, path: &str, status: u16) -> &Value {
        &self.operation(method, path)["responses"][status.to_string()]["content"]["application/json"]["schema"]
    }

    /// `root` (an OpenAPI schema of this document) as one JSON Schema: converted
    /// ([`to_json_schema`]), with every component schema it references, directly or not,
    /// converted under `$defs`. `relax` may edit those definitions first (documented deviations).
    pub fn json_schema(&self, root: &Value, relax: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut names = BTreeSet::new();
        self.collect_refs(root, &mut names);
        let mut defs: Map<String, Value> = names
            .into_iter()
            .map(|name| {
                let schema = to_json_schema(&self.doc["components"]["schemas"][&name]);
                (name, schema)
            })
            .collect();
        relax(&mut defs);
        let mut schema = to_json_schema(root);
        if let Value::Object(map) = &mut schema {
            map.insert("$defs".into(), Value::Object(defs));
        }
        schema
    }

    /// The names of the component schemas `v` references, directly or through others.
    fn collect_refs(&self, v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, val) in map {
                    if let ("$ref", Value::String(r)) = (k.as_str(), val) {
                        let name = r.trim_start_matches("#/components/schemas/").to_string();
                        if out.insert(name.clone()) {
                            self.collect_refs(&self.doc["components"]["schemas"][&name], out);
                        }
                    } else {
                        self.collect_refs(val, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.collect_refs(i, out)),
            _ => {}
        }
    }
}

/// OpenAPI 3.0 schema object -> JSON Schema (2020-12): `nullable` becomes a `null` type, refs
/// point into `$defs`, boolean `exclusiveMinimum/Maximum` (3.0 style) are dropped, and so are
/// the annotations JSON Schema does not know (`example`, `discriminator`, `xml`,
/// `externalDocs`). Extra properties stay allowed (no `additionalProperties` is added).
pub fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, val) in map {
                match (k.as_str(), val) {
                    ("nullable" | "example" | "examples" | "discriminator" | "xml" | "externalDocs", _) => {}
                    ("exclusiveMinimum" | "exclusiveMaximum", Value::Bool(_)) => {}
                    ("$ref", Value::String(r)) => {
                        out.insert(k.clone(), Value::String(r.replace("#/components/schemas/", "#/$defs/")));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(val));
                    }
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(out);
                        return json!({"anyOf": [inner, {"type": "null"}]});
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

/// What `body` breaks of `schema` (a JSON Schema), one line per error with where it is.
pub fn violations(schema: &Value, body: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("compile the schema: {e}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
