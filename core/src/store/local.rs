//! The local-folder store: the embedded default.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{ObjectKey, ObjectMeta, PutOptions, PutResult, Store};
use crate::error::{Error, Result};
use crate::fsutil::{TEMP_MARKER, WriteOptions, write_atomic};

/// A store in a folder. Each object is a file; keys map to paths below the root.
///
/// A put writes a temporary file in the target folder, fsyncs it, and links it into place
/// with `link(2)`, which fails when the target exists: creation is atomic and never
/// overwrites. The folder is fsynced after, so a committed object survives a power cut.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root`; the folder is created by the first put.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        key.as_path().to_path(&self.root)
    }

    fn not_found(&self, key: &ObjectKey) -> Error {
        Error::NotFound {
            key: key.to_string(),
            store: self.url(),
        }
    }
}

fn meta_of(key: String, md: &fs::Metadata) -> ObjectMeta {
    let last_modified = md
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    ObjectMeta {
        key,
        size: md.len(),
        last_modified,
        sha256: None,
    }
}

impl Store for LocalStore {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn put(&self, key: &ObjectKey, data: &mut dyn Read, options: &PutOptions) -> Result<PutResult> {
        let target = self.path_of(key);
        let write = WriteOptions {
            expected_sha256: options.expected_sha256,
            ..WriteOptions::default()
        };
        match write_atomic(&target, data, write) {
            Ok((size, sha256)) => Ok(PutResult { size, sha256 }),
            Err(Error::FileExists { .. }) => Err(Error::AlreadyExists {
                key: key.to_string(),
                store: self.url(),
            }),
            Err(Error::Corrupt {
                expected, actual, ..
            }) => Err(Error::Corrupt {
                entry: key.to_string(),
                expected,
                actual,
            }),
            Err(e) => Err(e),
        }
    }

    fn get(&self, key: &ObjectKey) -> Result<Box<dyn Read + Send>> {
        let path = self.path_of(key);
        match File::open(&path) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => Ok(Box::new(f)),
            Ok(_) => Err(self.not_found(key)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(key)),
            Err(e) => Err(Error::io("open", path, e)),
        }
    }

    fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>> {
        let path = self.path_of(key);
        match fs::symlink_metadata(&path) {
            Ok(md) if md.is_file() => Ok(Some(meta_of(key.to_string(), &md))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("stat", path, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        if !self.root.is_dir() {
            return Err(Error::InvalidStoreUrl {
                url: self.url(),
                reason: "the folder does not exist".to_string(),
            });
        }
        // Start the walk at the deepest folder the prefix names in full.
        let dir_part = prefix
            .rfind('/')
            .map_or("", |i| prefix.get(..i).unwrap_or_default());
        let start = if dir_part.is_empty() {
            self.root.clone()
        } else {
            match crate::archive::MemberPath::parse(dir_part) {
                Ok(p) => p.to_path(&self.root),
                Err(_) => return Ok(Vec::new()),
            }
        };
        let mut out = Vec::new();
        let mut stack = vec![(start, dir_part.to_string())];
        while let Some((dir, rel)) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("list", &dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with(TEMP_MARKER) || name.starts_with(".continuum-unpack-") {
                    continue;
                }
                let key = if rel.is_empty() {
                    name.to_string()
                } else {
                    format!("{rel}/{name}")
                };
                let ft = entry
                    .file_type()
                    .map_err(|e| Error::io("stat", entry.path(), e))?;
                if ft.is_dir() {
                    if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) {
                        stack.push((entry.path(), key));
                    }
                } else if ft.is_file() && key.starts_with(prefix) {
                    let md = entry
                        .metadata()
                        .map_err(|e| Error::io("stat", entry.path(), e))?;
                    out.push(meta_of(key, &md));
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &ObjectKey) -> Result<()> {
        let path = self.path_of(key);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("delete", path, e)),
        }
        // Remove folders the delete left empty, up to (not including) the root.
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }
}
