//! The local-folder store: the embedded default.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{ObjectKey, ObjectMeta, PutOptions, PutResult, Store, Temporary, TemporaryKind};
use crate::error::{Error, Result, printable};
use crate::fsutil::{TEMP_MARKER, WriteOptions, write_atomic};

/// Tries of a put whose folder goes while it begins.
const CREATE_ATTEMPTS: u32 = 8;

/// The prefix of the staging folders of an unpack (`unpack_tar`), hidden like temporary files.
const STAGING_MARKER: &str = ".continuum-unpack-";

/// A store in a folder. Each object is a file; keys map to paths below the root.
///
/// A put writes a temporary file in the target folder, fsyncs it, and links it into place
/// with `link(2)`, which fails when the target exists: creation is atomic and never
/// overwrites. The folder is fsynced after, so a committed object survives a power cut.
///
/// A put killed before its link leaves its temporary file (`.continuum-tmp-…`, beside the
/// object it was to be) and perhaps folders with nothing else in them: [`Store::list`]
/// never shows them, [`Store::temporaries`] finds them wherever they are, and
/// [`prune`](crate::prune) removes those older than its grace period.
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

    /// The path of a temporary's `/`-separated relative path, refusing one that could leave
    /// the root (through `..` or a symbolic link) or that names the root itself.
    fn temporary_path(&self, relative: &str) -> Result<PathBuf> {
        let unsafe_path = |reason| Error::UnsafePath {
            path: printable(relative),
            reason,
        };
        let mut path = self.root.clone();
        for segment in relative.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
                return Err(unsafe_path("not a relative path inside the store"));
            }
            if path != self.root && fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
                return Err(unsafe_path("it goes through a symbolic link"));
            }
            path.push(segment);
        }
        if path == self.root {
            return Err(unsafe_path("the store's root is not a temporary"));
        }
        Ok(path)
    }

    /// Removes the folders above `path` that are left empty, up to (not including) the root.
    fn remove_empty_parents(&self, path: &Path) {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }

    /// Walks `dir` (relative path `rel`), adding the temporaries found to `out`. Says whether
    /// the folder holds anything but empty folders, and the newest time in it.
    fn scan_temporaries(
        &self,
        dir: &Path,
        rel: &str,
        out: &mut Vec<Temporary>,
    ) -> Result<(bool, Timestamp)> {
        let mut newest = fs::symlink_metadata(dir).map_or(Timestamp::UNIX_EPOCH, |m| mtime(&m));
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            // Gone meanwhile (removed by a delete): nothing to report, nothing to remove.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((true, newest)),
            Err(e) => return Err(Error::io("list", dir, e)),
        };
        let mut holds = false;
        let mut empty = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                // Not ours (keys are UTF-8), and not to be removed.
                holds = true;
                continue;
            };
            let path = entry.path();
            let child = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            let md = match fs::symlink_metadata(&path) {
                Ok(md) => md,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", &path, e)),
            };
            holds |= !md.is_dir() || name.starts_with(STAGING_MARKER);
            if name.starts_with(TEMP_MARKER) && md.is_file() {
                out.push(Temporary {
                    path: child,
                    kind: TemporaryKind::File,
                    size: md.len(),
                    last_modified: mtime(&md),
                });
            } else if name.starts_with(STAGING_MARKER) && md.is_dir() {
                let (size, last_modified) = tree_size(&path, mtime(&md));
                out.push(Temporary {
                    path: child,
                    kind: TemporaryKind::StagingFolder,
                    size,
                    last_modified,
                });
            } else if md.is_dir() {
                let (child_holds, child_newest) = self.scan_temporaries(&path, &child, out)?;
                if child_holds {
                    holds = true;
                } else {
                    newest = newest.max(child_newest);
                    empty.push(Temporary {
                        path: child,
                        kind: TemporaryKind::EmptyFolder,
                        size: 0,
                        last_modified: child_newest,
                    });
                }
            }
        }
        // A folder holding only empty folders is reported whole by its parent (the root,
        // never reported, reports its own).
        if holds || rel.is_empty() {
            out.extend(empty);
        }
        Ok((holds, newest))
    }

    /// A put of a small object that need not survive a power cut: read whole first, then a
    /// temporary file written, linked into place and removed at once, without a sync.
    fn put_volatile(
        &self,
        key: &ObjectKey,
        target: &Path,
        data: &mut dyn Read,
        options: &PutOptions,
    ) -> Result<PutResult> {
        let mut bytes = Vec::new();
        crate::archive::LimitedReader::new(data, super::MAX_VOLATILE_SIZE, key.as_str())
            .read_to_end(&mut bytes)
            .map_err(|e| super::io_error(self, key, e))?;
        let sha256 = crate::digest::Digest::of(&bytes);
        if let Some(expected) = options.expected_sha256
            && expected != sha256
        {
            return Err(Error::Corrupt {
                entry: key.to_string(),
                expected: expected.to_string(),
                actual: sha256.to_string(),
            });
        }
        let exists = || Error::AlreadyExists {
            key: key.to_string(),
            store: self.url(),
        };
        if fs::symlink_metadata(target).is_ok() {
            return Err(exists());
        }
        let dir = target.parent().unwrap_or(&self.root);
        let mut attempt = 0;
        loop {
            attempt += 1;
            fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            let temp = dir.join(format!("{TEMP_MARKER}{:016x}", rand::random::<u64>()));
            let written = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .and_then(|mut f| io::Write::write_all(&mut f, &bytes))
                .and_then(|()| fs::hard_link(&temp, target));
            let _ = fs::remove_file(&temp);
            match written {
                Ok(()) => {
                    return Ok(PutResult {
                        size: bytes.len() as u64,
                        sha256,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists()),
                // The folder or the temporary file went meanwhile (a prune sweeping): the
                // content is in memory, so the put starts again.
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < CREATE_ATTEMPTS => {}
                Err(e) => return Err(Error::io("write", target, e)),
            }
        }
    }

    fn not_found(&self, key: &ObjectKey) -> Error {
        Error::NotFound {
            key: key.to_string(),
            store: self.url(),
        }
    }
}

fn mtime(md: &fs::Metadata) -> Timestamp {
    md.modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn meta_of(key: String, md: &fs::Metadata) -> ObjectMeta {
    ObjectMeta {
        key,
        size: md.len(),
        last_modified: mtime(md),
        sha256: None,
    }
}

/// The bytes of the files below `dir` and the newest time in it (best effort: what cannot
/// be read counts for nothing).
fn tree_size(dir: &Path, mut newest: Timestamp) -> (u64, Timestamp) {
    let mut size = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(md) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            newest = newest.max(mtime(&md));
            if md.is_dir() {
                stack.push(entry.path());
            } else {
                size += md.len();
            }
        }
    }
    (size, newest)
}

/// Removes a tree of empty folders, deepest first; what holds anything stays.
fn remove_empty_tree(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_tree(&entry.path())?;
        }
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        // Something was written into it meanwhile: not empty any more, and not ours to remove.
        Err(_) if fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}

impl Store for LocalStore {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn put(&self, key: &ObjectKey, data: &mut dyn Read, options: &PutOptions) -> Result<PutResult> {
        let target = self.path_of(key);
        if options.volatile {
            return self.put_volatile(key, &target, data, options);
        }
        let write = WriteOptions {
            expected_sha256: options.expected_sha256,
            ..WriteOptions::default()
        };
        let mut attempt = 0;
        let written = loop {
            attempt += 1;
            match write_atomic(&target, data, write) {
                // A folder on the way went between its creation and that of the temporary
                // file (a prune sweeping empty folders while this put began): nothing was
                // read yet, so the put starts again.
                Err(Error::Io {
                    action: "create",
                    path,
                    source,
                }) if source.kind() == io::ErrorKind::NotFound
                    && attempt < CREATE_ATTEMPTS
                    && (Some(path.as_path()) == target.parent()
                        || path.parent() == target.parent()) => {}
                other => break other,
            }
        };
        match written {
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
        // Objects are regular files inside the root: a symbolic link on the way (which could
        // lead out of the store) or a FIFO or device in place of the object (whose opening
        // or reading could block forever) is not one.
        let mut at = self.root.clone();
        for segment in key.as_str().split('/') {
            at.push(segment);
            match fs::symlink_metadata(&at) {
                Ok(md) if md.file_type().is_symlink() => {
                    return Err(Error::UnsafePath {
                        path: printable(key.as_str()),
                        reason: "it goes through a symbolic link",
                    });
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(self.not_found(key)),
                Err(e) => return Err(Error::io("stat", &at, e)),
            }
        }
        let mut options = fs::OpenOptions::new();
        options.read(true);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
            options.custom_flags(flags.bits().cast_signed());
        }
        match options.open(&path) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => Ok(Box::new(f)),
            Ok(_) => Err(Error::UnsafePath {
                path: printable(key.as_str()),
                reason: "it is not a regular file",
            }),
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
                // An entry removed between the reading of its folder and its own (a
                // concurrent delete) is not listed.
                let ft = match entry.file_type() {
                    Ok(ft) => ft,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io("stat", entry.path(), e)),
                };
                if ft.is_dir() {
                    if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) {
                        stack.push((entry.path(), key));
                    }
                } else if ft.is_file() && key.starts_with(prefix) {
                    let md = match entry.metadata() {
                        Ok(md) => md,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(Error::io("stat", entry.path(), e)),
                    };
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
            // Gone already (or never written: a put that failed made its folders first):
            // the folders left empty go all the same.
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("delete", path, e)),
        }
        self.remove_empty_parents(&path);
        Ok(())
    }

    fn temporaries(&self) -> Result<Vec<Temporary>> {
        if !self.root.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        self.scan_temporaries(&self.root, "", &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn remove_temporary(&self, temporary: &Temporary) -> Result<()> {
        let path = self.temporary_path(&temporary.path)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let refuse = |reason| Error::UnsafePath {
            path: printable(&temporary.path),
            reason,
        };
        let removed = match temporary.kind {
            TemporaryKind::File if name.starts_with(TEMP_MARKER) => fs::remove_file(&path),
            TemporaryKind::StagingFolder if name.starts_with(STAGING_MARKER) => {
                fs::remove_dir_all(&path)
            }
            // Only empty folders go, whatever the name.
            TemporaryKind::EmptyFolder => {
                remove_empty_tree(&path)?;
                Ok(())
            }
            _ => return Err(refuse("not the name of a temporary")),
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", path, e)),
        }
        self.remove_empty_parents(&path);
        Ok(())
    }
}
