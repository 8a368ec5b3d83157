//! Where policy documents live ([`PolicyStore`], a folder by default), and their export and
//! import.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use continuum_core::{WriteOptions, write_atomic};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::{MAX_DOCUMENT_SIZE, check};

/// The file extension of policy documents.
pub const EXTENSION: &str = "pol";

/// Where a cluster's policy documents live.
pub trait PolicyStore: std::fmt::Debug {
    /// A name for messages (a path, a URL).
    fn location(&self) -> String;
    /// The documents' names, sorted.
    fn names(&self) -> Result<Vec<String>>;
    /// A document's text, or `None`.
    fn read(&self, name: &str) -> Result<Option<String>>;
    /// Creates or replaces a document, atomically.
    fn write(&self, name: &str, text: &str) -> Result<()>;
}

/// The embedded default: a folder of `<name>.pol` files (`<cluster>/policy/`).
#[derive(Debug, Clone)]
pub struct FolderPolicyStore {
    dir: PathBuf,
}

impl FolderPolicyStore {
    /// A store in `dir`; the folder is created by the first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The store of a cluster folder: `<cluster>/policy/`.
    pub fn for_cluster(cluster_dir: &Path) -> Self {
        Self::new(cluster_dir.join("policy"))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Checks a document name: letters, digits, `_`, `-`, `.`; not starting with `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_string(),
            reason: "expected 1 to 200 ASCII letters, digits, `_`, `-` or `.`, not starting with `.`",
        })
    }
}

/// Reads a document file: at most 512 KB, UTF-8.
pub fn read_document_file(path: &Path) -> Result<String> {
    let md = fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if md.len() > MAX_DOCUMENT_SIZE as u64 {
        return Err(Error::TooLarge {
            file: path.display().to_string(),
            size: usize::try_from(md.len()).unwrap_or(usize::MAX),
            limit: MAX_DOCUMENT_SIZE,
        });
    }
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    String::from_utf8(bytes).map_err(|e| Error::NotText {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

impl PolicyStore for FolderPolicyStore {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn names(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &self.dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &self.dir, e))?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
                continue;
            }
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && validate_name(stem).is_ok()
            {
                names.push(stem.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    fn read(&self, name: &str) -> Result<Option<String>> {
        validate_name(name)?;
        let path = self.dir.join(format!("{name}.{EXTENSION}"));
        if !path.exists() {
            return Ok(None);
        }
        read_document_file(&path).map(Some)
    }

    fn write(&self, name: &str, text: &str) -> Result<()> {
        validate_name(name)?;
        let path = self.dir.join(format!("{name}.{EXTENSION}"));
        write_atomic(&path, &mut text.as_bytes(), WriteOptions::replacing(true))?;
        Ok(())
    }
}

/// What [`export`] wrote.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ExportReport {
    /// The files written, one per document.
    pub files: Vec<PathBuf>,
}

/// Exports every document (or the one named) into `out_dir` as `<name>.pol`.
///
/// Without `force`, nothing at all is written when any target file exists (the error names
/// it). Each file is written atomically.
pub fn export(
    store: &dyn PolicyStore,
    name: Option<&str>,
    out_dir: &Path,
    force: bool,
) -> Result<ExportReport> {
    let names = match name {
        Some(n) => {
            validate_name(n)?;
            vec![n.to_string()]
        }
        None => store.names()?,
    };
    let mut documents = Vec::with_capacity(names.len());
    for n in &names {
        let text = store.read(n)?.ok_or_else(|| Error::NotFound {
            name: n.clone(),
            store: store.location(),
        })?;
        documents.push((out_dir.join(format!("{n}.{EXTENSION}")), text));
    }
    if !force
        && let Some((path, _)) = documents
            .iter()
            .find(|(p, _)| fs::symlink_metadata(p).is_ok())
    {
        return Err(Error::Core(continuum_core::Error::FileExists {
            path: path.clone(),
        }));
    }
    let mut files = Vec::with_capacity(documents.len());
    for (path, text) in documents {
        write_atomic(&path, &mut text.as_bytes(), WriteOptions::replacing(force))?;
        files.push(path);
    }
    Ok(ExportReport { files })
}

/// Options of [`import`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Report what would happen without storing anything.
    pub dry_run: bool,
}

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImportOutcome {
    /// It did not exist.
    Created,
    /// It existed with other text.
    Updated,
    /// It existed with the same text.
    Unchanged,
}

/// One imported document.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ImportedDocument {
    /// The document name (the file stem).
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// What happened (or would, in a dry run).
    pub outcome: ImportOutcome,
    /// The validator's warnings.
    pub warnings: Vec<Diagnostic>,
}

/// What [`import`] did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ImportReport {
    /// True when nothing was stored on purpose.
    pub dry_run: bool,
    /// One entry per document, by name.
    pub documents: Vec<ImportedDocument>,
}

/// Expands files and glob patterns (`*.pol`, `policy/**/*.pol`) into files, sorted, each once.
pub fn expand_patterns(patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = std::collections::BTreeSet::new();
    for pattern in patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob {
            let path = PathBuf::from(pattern);
            if !path.exists() {
                return Err(Error::NoMatch {
                    pattern: pattern.clone(),
                });
            }
            files.insert(path);
            continue;
        }
        let matches = glob::glob(pattern).map_err(|e| Error::BadPattern {
            pattern: pattern.clone(),
            reason: e.msg.to_string(),
        })?;
        let mut any = false;
        for m in matches {
            let path = m.map_err(|e| {
                Error::io(
                    "read",
                    e.path().to_path_buf(),
                    std::io::Error::other(e.to_string()),
                )
            })?;
            if path.is_file() {
                files.insert(path);
                any = true;
            }
        }
        if !any {
            return Err(Error::NoMatch {
                pattern: pattern.clone(),
            });
        }
    }
    Ok(files.into_iter().collect())
}

/// Imports documents from files and glob patterns, each named after its file stem.
///
/// All or nothing: every file is read, parsed and validated before any is stored; one bad
/// file stores none. The report says, per document, created / updated / unchanged.
pub fn import(
    store: &dyn PolicyStore,
    patterns: &[String],
    options: ImportOptions,
) -> Result<ImportReport> {
    let files = expand_patterns(patterns)?;
    let mut planned: BTreeMap<String, (PathBuf, String, Vec<Diagnostic>)> = BTreeMap::new();
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
            .unwrap_or_default();
        validate_name(&name)?;
        let text = read_document_file(&file)?;
        let warnings = check(&text, &file.display().to_string())?;
        if let Some((first, _, _)) = planned.get(&name) {
            return Err(Error::DuplicateName {
                name,
                first: first.clone(),
                second: file,
            });
        }
        planned.insert(name, (file, text, warnings));
    }
    let mut documents = Vec::with_capacity(planned.len());
    for (name, (file, text, warnings)) in &planned {
        let outcome = match store.read(name)? {
            None => ImportOutcome::Created,
            Some(existing) if existing == *text => ImportOutcome::Unchanged,
            Some(_) => ImportOutcome::Updated,
        };
        documents.push(ImportedDocument {
            name: name.clone(),
            file: file.clone(),
            outcome,
            warnings: warnings.clone(),
        });
    }
    if !options.dry_run {
        for doc in &documents {
            if doc.outcome != ImportOutcome::Unchanged
                && let Some((_, text, _)) = planned.get(&doc.name)
            {
                store.write(&doc.name, text)?;
            }
        }
    }
    Ok(ImportReport {
        dry_run: options.dry_run,
        documents,
    })
}
