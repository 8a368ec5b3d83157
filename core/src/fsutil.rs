//! Writing files so that nothing is ever half-written: a temporary name in the same folder,
//! fsync, then a link (never replaces) or a rename (replaces) into place, then fsync the folder.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use crate::digest::{Digest, copy_hashed};
use crate::error::{Error, Result};

/// The prefix of temporary files; never a name a caller may use.
pub(crate) const TEMP_MARKER: &str = ".continuum-tmp-";

const COPY_BUFFER: usize = 1 << 20;

/// Options of [`write_atomic`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Replace an existing file (atomically); by default an existing file is an error.
    pub replace: bool,
    /// The SHA-256 the content must have; a mismatch leaves nothing behind.
    pub expected_sha256: Option<Digest>,
}

impl WriteOptions {
    /// Options that replace an existing file when `replace` is true.
    pub fn replacing(replace: bool) -> Self {
        Self {
            replace,
            expected_sha256: None,
        }
    }
}

/// Streams `data` into `path`, which appears complete or not at all. Creates missing folders.
/// Returns the size and SHA-256 of what was written.
pub fn write_atomic(
    path: &Path,
    data: &mut dyn Read,
    options: WriteOptions,
) -> Result<(u64, Digest)> {
    if !options.replace && fs::symlink_metadata(path).is_ok() {
        return Err(Error::FileExists {
            path: path.to_path_buf(),
        });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let temp = dir.join(format!("{TEMP_MARKER}{:016x}", rand::random::<u64>()));
    let result = write_temp(&temp, data, options.expected_sha256, path).and_then(|written| {
        let placed = if options.replace {
            fs::rename(&temp, path)
        } else {
            fs::hard_link(&temp, path)
        };
        match placed {
            Ok(()) => Ok(written),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::FileExists {
                path: path.to_path_buf(),
            }),
            Err(e) => Err(Error::io("move into place", path, e)),
        }
    });
    let _ = fs::remove_file(&temp);
    let written = result?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", &dir, e))?;
    Ok(written)
}

fn write_temp(
    temp: &Path,
    data: &mut dyn Read,
    expected: Option<Digest>,
    target: &Path,
) -> Result<(u64, Digest)> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| Error::io("create", temp, e))?;
    // Hashing runs on its own thread while this one reads and writes.
    let mut source = ReadErrors {
        inner: data,
        failed: None,
    };
    let copied = copy_hashed(&mut source, &mut file, COPY_BUFFER);
    if let Some(e) = source.failed.take() {
        return Err(
            crate::error::from_io(e).unwrap_or_else(|e| Error::io("read the data for", target, e))
        );
    }
    let (sha256, size) = copied.map_err(|e| Error::io("write", temp, e))?;
    if let Some(expected) = expected
        && expected != sha256
    {
        return Err(Error::Corrupt {
            entry: target.display().to_string(),
            expected: expected.to_string(),
            actual: sha256.to_string(),
        });
    }
    file.sync_all().map_err(|e| Error::io("sync", temp, e))?;
    Ok((size, sha256))
}

/// Remembers a read error, so that it is told apart from a write error.
struct ReadErrors<'a> {
    inner: &'a mut dyn Read,
    failed: Option<io::Error>,
}

impl Read for ReadErrors<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let kind = e.kind();
            if kind == io::ErrorKind::Interrupted {
                return e;
            }
            self.failed = Some(e);
            io::Error::from(kind)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_replaces_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/a.txt");
        write_atomic(&p, &mut &b"one"[..], WriteOptions::default()).unwrap();
        let e = write_atomic(&p, &mut &b"two"[..], WriteOptions::default()).unwrap_err();
        assert!(e.to_string().contains("a.txt` already exists"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, &mut &b"two"[..], WriteOptions::replacing(true)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
