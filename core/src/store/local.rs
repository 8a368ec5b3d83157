//! The local-folder store: the embedded default.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{ObjectKey, ObjectMeta, PutOptions, PutResult, Store, TEMP_MARKER};
use crate::digest::Hasher;
use crate::error::{Error, Result};

/// A store in a folder. Each object is a file; keys map to paths below the root.
///
/// A put writes a temporary file in the target folder, fsyncs it, and links it into place
/// with `link(2)`, which fails when the target exists: creation is atomic and never
/// overwrites. The folder is fsynced after, so a committed object survives a power cut.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

const COPY_BUFFER: usize = 1 << 20;

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

    fn write_temp(
        &self,
        temp: &Path,
        data: &mut dyn Read,
        options: &PutOptions,
        key: &ObjectKey,
    ) -> Result<PutResult> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(temp)
            .map_err(|e| Error::io("create", temp, e))?;
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; COPY_BUFFER];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(super::io_error(self, key, e)),
            };
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            file.write_all(chunk)
                .map_err(|e| Error::io("write", temp, e))?;
        }
        let size = hasher.len();
        let sha256 = hasher.finish();
        if let Some(expected) = options.expected_sha256
            && expected != sha256
        {
            return Err(Error::Corrupt {
                entry: key.to_string(),
                expected: expected.to_string(),
                actual: sha256.to_string(),
            });
        }
        file.sync_all().map_err(|e| Error::io("sync", temp, e))?;
        Ok(PutResult { size, sha256 })
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", dir, e))
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
        if fs::symlink_metadata(&target).is_ok() {
            return Err(Error::AlreadyExists {
                key: key.to_string(),
                store: self.url(),
            });
        }
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let temp = dir.join(format!("{TEMP_MARKER}{:016x}", rand::random::<u64>()));
        let result = self
            .write_temp(&temp, data, options, key)
            .and_then(|written| match fs::hard_link(&temp, &target) {
                Ok(()) => Ok(written),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists {
                    key: key.to_string(),
                    store: self.url(),
                }),
                Err(e) => Err(Error::io("link into place", &target, e)),
            });
        let _ = fs::remove_file(&temp);
        let written = result?;
        sync_dir(&dir)?;
        Ok(written)
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
