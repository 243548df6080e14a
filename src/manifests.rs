//! Reading Kubernetes manifests from files and folders (multi-document YAML), and applying them
//! with server-side apply. Used by the demo, the tests, and later `plan -f`.

use std::path::{Path, PathBuf};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};

/// One document of a manifest file.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// `file` or `file#N` (1-based document number) for messages.
    pub source: String,
    pub object: DynamicObject,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: not a valid Kubernetes object: {message}")]
    Parse { source_name: String, message: String },
    #[error("{source_name}: unknown kind {api_version}/{kind}: is its CRD installed?")]
    UnknownKind {
        source_name: String,
        api_version: String,
        kind: String,
    },
    #[error("{source_name}: the API server refused {kind} {name}")]
    Apply {
        source_name: String,
        kind: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("the CRD {0} did not become established")]
    NotEstablished(String),
    #[error("API discovery failed")]
    Discovery(#[source] Box<kube::Error>),
}

/// Reads every `.yaml` / `.yml` file under `path` (sorted by name), or the file itself.
pub fn read_path(path: &Path) -> Result<Vec<Manifest>, ManifestError> {
    let mut files = Vec::new();
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ManifestError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
            path: file.clone(),
            source,
        })?;
        out.extend(parse_documents(&file.display().to_string(), &text)?);
    }
    Ok(out)
}

/// Parses a multi-document YAML stream; empty documents are skipped.
pub fn parse_documents(source_name: &str, text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).map_err(|e| ManifestError::Parse {
        source_name: source_name.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        let name = format!("{source_name}#{}", i + 1);
        let object: DynamicObject = serde_json::from_value(doc).map_err(|e| ManifestError::Parse {
            source_name: name.clone(),
            message: e.to_string(),
        })?;
        if object.types.is_none() {
            return Err(ManifestError::Parse {
                source_name: name,
                message: "apiVersion and kind are required".into(),
            });
        }
        out.push(Manifest { source: name, object });
    }
    Ok(out)
}

/// Applies the manifests in order with server-side apply under `field_manager`.
pub async fn apply(client: &kube::Client, manifests: &[Manifest], field_manager: &str) -> Result<(), ManifestError> {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| ManifestError::Discovery(Box::new(e)))?;
    let params = PatchParams::apply(field_manager).force();
    for manifest in manifests {
        let types = manifest.object.types.clone().unwrap_or_default();
        let name = manifest.object.metadata.name.clone().unwrap_or_default();
        let (resource, caps) =
            find(&discovery, &types.api_version, &types.kind).ok_or_else(|| ManifestError::UnknownKind {
                source_name: manifest.source.clone(),
                api_version: types.api_version.clone(),
                kind: types.kind.clone(),
            })?;
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Cluster => Api::all_with(client.clone(), &resource),
            Scope::Namespaced => {
                let ns = manifest
                    .object
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_string());
                Api::namespaced_with(client.clone(), &ns, &resource)
            }
        };
        api.patch(&name, &params, &Patch::Apply(&manifest.object))
            .await
            .map_err(|source| ManifestError::Apply {
                source_name: manifest.source.clone(),
                kind: types.kind.clone(),
                name: name.clone(),
                source: Box::new(source),
            })?;
    }
    Ok(())
}

/// Installs (server-side applies) the operator's CRDs and waits until each is established.
pub async fn install_crds(client: &kube::Client, field_manager: &str) -> Result<(), ManifestError> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(field_manager).force();
    for crd in crate::api::crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .map_err(|source| ManifestError::Apply {
                source_name: "crds".into(),
                kind: "CustomResourceDefinition".into(),
                name: name.clone(),
                source: Box::new(source),
            })?;
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        match tokio::time::timeout(std::time::Duration::from_secs(30), established).await {
            Ok(Ok(_)) => {}
            _ => return Err(ManifestError::NotEstablished(name)),
        }
    }
    Ok(())
}

fn find(discovery: &Discovery, api_version: &str, kind: &str) -> Option<(ApiResource, ApiCapabilities)> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    discovery
        .groups()
        .filter(|g| g.name() == group)
        .flat_map(|g| g.versioned_resources(version))
        .find(|(r, _)| r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_document_streams_and_names_the_document() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n";
        let docs = parse_documents("x.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].object.metadata.name.as_deref(), Some("b"));
        let bad = parse_documents("y.yaml", "metadata:\n  name: a\n").unwrap_err();
        assert!(bad.to_string().contains("y.yaml#1"), "{bad}");
    }
}
