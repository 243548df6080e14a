//! Writing manifests (and CSV) for `import` and the CSV conversions. Called only once every
//! input was read and checked, so bad input writes nothing; each file is written to a temporary
//! file beside it and renamed into place, all of them only after every one was written.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::GitopsError;

/// Where output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    /// One file (`*.yaml`, `*.yml`, `*.csv`): every document in it.
    File(PathBuf),
    /// A folder: one `<name>.yaml` per object.
    Dir(PathBuf),
}

impl Destination {
    /// `-` or nothing: stdout; a path with a file extension: that file; else a folder.
    pub fn parse(out: Option<&Path>) -> Self {
        match out {
            None => Self::Stdout,
            Some(p) if p.as_os_str() == "-" => Self::Stdout,
            Some(p) if p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "csv") => Self::File(p.into()),
            Some(p) => Self::Dir(p.into()),
        }
    }
}

/// One manifest to write: a file stem (the object name) and the object.
#[derive(Debug, Clone)]
pub struct Document {
    pub stem: String,
    pub value: serde_json::Value,
}

impl Document {
    /// A typed object as a manifest: `status` and other nulls left out.
    pub fn new(stem: impl Into<String>, object: &impl Serialize) -> Result<Self, GitopsError> {
        let mut value = serde_json::to_value(object).map_err(|e| GitopsError::Render {
            what: "a manifest",
            message: e.to_string(),
        })?;
        if let Some(map) = value.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        Ok(Self {
            stem: stem.into(),
            value,
        })
    }
}

/// A multi-document YAML stream, with `header` as a leading comment.
pub fn to_yaml(docs: &[Document], header: &str) -> Result<String, GitopsError> {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&doc.value).map_err(|e| GitopsError::Render {
            what: "a manifest as YAML",
            message: e.to_string(),
        })?);
    }
    Ok(out)
}

/// Writes `docs` to `dest`; returns the files written (none for stdout).
pub fn write_manifests(dest: &Destination, docs: &[Document], header: &str) -> Result<Vec<PathBuf>, GitopsError> {
    match dest {
        Destination::Stdout => {
            let text = to_yaml(docs, header)?;
            print!("{text}");
            Ok(vec![])
        }
        Destination::File(path) => {
            write_all(&[(path.clone(), to_yaml(docs, header)?)])?;
            Ok(vec![path.clone()])
        }
        Destination::Dir(dir) => {
            let mut files = Vec::new();
            for doc in docs {
                let text = to_yaml(std::slice::from_ref(doc), header)?;
                files.push((dir.join(format!("{}.yaml", doc.stem)), text));
            }
            write_all(&files)?;
            Ok(files.into_iter().map(|(p, _)| p).collect())
        }
    }
}

/// Writes text to `dest` (stdout, or one file).
pub fn write_text(dest: &Destination, text: &str) -> Result<Vec<PathBuf>, GitopsError> {
    match dest {
        Destination::Stdout => {
            print!("{text}");
            Ok(vec![])
        }
        Destination::File(path) | Destination::Dir(path) => {
            write_all(&[(path.clone(), text.to_string())])?;
            Ok(vec![path.clone()])
        }
    }
}

/// Writes every file to a temporary sibling first, then renames them all into place.
fn write_all(files: &[(PathBuf, String)]) -> Result<(), GitopsError> {
    let mut staged = Vec::new();
    for (path, text) in files {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let err = |source| GitopsError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
        tmp.write_all(text.as_bytes()).map_err(err)?;
        staged.push((tmp, path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| GitopsError::Write {
            path: path.clone(),
            source: e.error,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(Destination::parse(None), Destination::Stdout);
        assert_eq!(Destination::parse(Some(Path::new("-"))), Destination::Stdout);
        assert_eq!(
            Destination::parse(Some(Path::new("a/users.yaml"))),
            Destination::File("a/users.yaml".into())
        );
        assert_eq!(
            Destination::parse(Some(Path::new("a/users"))),
            Destination::Dir("a/users".into())
        );
    }

    #[test]
    fn writes_one_file_per_object_into_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let docs = vec![
            Document::new("a", &serde_json::json!({"kind": "X", "status": null})).unwrap(),
            Document::new("b", &serde_json::json!({"kind": "Y"})).unwrap(),
        ];
        let files = write_manifests(&Destination::Dir(dir.path().join("out")), &docs, "generated").unwrap();
        assert_eq!(files.len(), 2);
        let a = std::fs::read_to_string(&files[0]).unwrap();
        assert_eq!(a, "# generated\n---\nkind: X\n");
    }
}
