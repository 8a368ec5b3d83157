//! Writing files so that nothing is ever half-written: a file with no name yet (Linux's
//! `O_TMPFILE`; elsewhere, or where the file system lacks it, a temporary name in the same
//! folder), fsync, then a link (never replaces) or a rename (replaces) into place, then fsync
//! the folder. A process killed while writing leaves nothing behind on Linux: a file with no
//! name is freed with its last descriptor.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

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
    let mut pending = PendingFile::create_in(&dir)?;
    let written = write_temp(&mut pending, data, options.expected_sha256, path)?;
    pending.persist(path, options.replace)?;
    Ok(written)
}

/// A file being written in a folder, with no name yet (or a temporary one, removed when the
/// file is dropped without [`PendingFile::persist`]).
#[derive(Debug)]
pub struct PendingFile {
    file: File,
    dir: PathBuf,
    /// The temporary name, when the file has one.
    temp: Option<PathBuf>,
}

impl PendingFile {
    /// A new, empty file in `dir` (which must exist), with no name where the system allows.
    pub fn create_in(dir: &Path) -> Result<Self> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
            match rustix::fs::openat(rustix::fs::CWD, dir, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => {
                    return Ok(Self {
                        file: File::from(fd),
                        dir: dir.to_path_buf(),
                        temp: None,
                    });
                }
                // The file system cannot (EOPNOTSUPP, EISDIR on old kernels, EINVAL): a name.
                Err(e)
                    if [
                        rustix::io::Errno::OPNOTSUPP,
                        rustix::io::Errno::ISDIR,
                        rustix::io::Errno::INVAL,
                    ]
                    .contains(&e) => {}
                Err(e) => return Err(Error::io("create a file in", dir, e.into())),
            }
        }
        let temp = dir.join(format!("{TEMP_MARKER}{:016x}", rand::random::<u64>()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| Error::io("create", &temp, e))?;
        Ok(Self {
            file,
            dir: dir.to_path_buf(),
            temp: Some(temp),
        })
    }

    /// The file, to write.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Flushes the file to disk, gives it the name `path` (in the folder it was made in) and
    /// flushes the folder. Never replaces an existing file unless `replace`
    /// ([`Error::FileExists`]).
    pub fn persist(mut self, path: &Path, replace: bool) -> Result<()> {
        self.file
            .sync_all()
            .map_err(|e| Error::io("sync", self.temp.as_deref().unwrap_or(path), e))?;
        let placed = match (&self.temp, replace) {
            (Some(temp), false) => fs::hard_link(temp, path),
            (Some(temp), true) => fs::rename(temp, path),
            (None, false) => self.link(path),
            (None, true) => {
                // A name first (a link cannot replace), then a rename over the target.
                let temp = self
                    .dir
                    .join(format!("{TEMP_MARKER}{:016x}", rand::random::<u64>()));
                self.link(&temp)
                    .map_err(|e| Error::io("move into place", path, e))?;
                self.temp = Some(temp.clone());
                fs::rename(&temp, path)
            }
        };
        match placed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::FileExists {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(Error::io("move into place", path, e)),
        }
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("sync", &self.dir, e))
    }

    /// Gives the nameless file the name `path` (`linkat` through `/proc/self/fd`, which needs
    /// no privilege, unlike `AT_EMPTY_PATH`).
    #[cfg(target_os = "linux")]
    fn link(&self, path: &Path) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let proc_path = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        rustix::fs::linkat(
            rustix::fs::CWD,
            proc_path.as_str(),
            rustix::fs::CWD,
            path,
            rustix::fs::AtFlags::SYMLINK_FOLLOW,
        )
        .map_err(io::Error::from)
    }

    #[cfg(not(target_os = "linux"))]
    fn link(&self, _path: &Path) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// A writer that starts the disk writing behind itself: after every `step` bytes, a thread of
/// its own flushes what the file holds so far (`fdatasync` on a second descriptor) while the
/// writing goes on, so that the final fsync finds little left to write. Without it, a stream
/// slower than the disk (one being hashed, say) fills the page cache first and waits for the
/// disk only at the end: the two one after the other instead of side by side.
#[derive(Debug)]
pub struct WriteBehind<W> {
    inner: W,
    step: u64,
    since: u64,
    /// The second descriptor, until the first step starts the flushing thread with it (a
    /// file smaller than a step never starts one).
    file: Option<File>,
    flusher: Option<(SyncSender<()>, JoinHandle<()>)>,
}

impl<W: io::Write> WriteBehind<W> {
    /// Writes into `inner`, which ends in `file` (flushed through a second descriptor).
    /// Where no second descriptor or thread can be had, it only writes.
    pub fn new(inner: W, file: &File, step: u64) -> Self {
        Self {
            inner,
            step: step.max(1),
            since: 0,
            file: file.try_clone().ok(),
            flusher: None,
        }
    }

    /// The writer, once the flushing thread (if any) has finished.
    pub fn into_inner(self) -> W {
        let Self { inner, flusher, .. } = self;
        if let Some((tx, handle)) = flusher {
            drop(tx);
            let _ = handle.join();
        }
        inner
    }

    /// Asks for a flush, starting the flushing thread the first time.
    fn flush_behind(&mut self) {
        if self.flusher.is_none()
            && let Some(file) = self.file.take()
        {
            let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
            self.flusher = std::thread::Builder::new()
                .name("write-behind".to_string())
                .spawn(move || {
                    while rx.recv().is_ok() {
                        start_writeback(&file);
                    }
                })
                .ok()
                .map(|handle| (tx, handle));
        }
        if let Some((tx, _)) = &self.flusher {
            // One flush at a time: when one is under way, this step joins the next.
            let _ = tx.try_send(());
        }
    }
}

impl<W: io::Write> io::Write for WriteBehind<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.since += n as u64;
        if self.since >= self.step {
            self.since = 0;
            self.flush_behind();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: io::Seek> io::Seek for WriteBehind<W> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Starts writing what `file` holds to the disk, without waiting for it. Linux: the kernel
/// writes the dirty pages out at once, and forgets them once clean (`POSIX_FADV_DONTNEED`:
/// a backup's data is not read again soon); elsewhere `fdatasync`, which waits. Best
/// effort: the final fsync reports any error.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file.sync_data();
    }
}

/// How much a [`WriteBehind`] writes between two flushes.
pub const WRITE_BEHIND_STEP: u64 = 32 << 20;

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            // After a rename the name is gone already; otherwise it is ours to remove.
            let _ = fs::remove_file(temp);
        }
    }
}

fn write_temp(
    pending: &mut PendingFile,
    data: &mut dyn Read,
    expected: Option<Digest>,
    target: &Path,
) -> Result<(u64, Digest)> {
    // Hashing runs on its own thread while this one reads and writes.
    let mut source = ReadErrors {
        inner: data,
        failed: None,
    };
    let file = pending.file();
    let mut behind = WriteBehind::new(&*file, file, WRITE_BEHIND_STEP);
    let copied = copy_hashed(&mut source, &mut behind, COPY_BUFFER);
    behind.into_inner();
    if let Some(e) = source.failed.take() {
        return Err(
            crate::error::from_io(e).unwrap_or_else(|e| Error::io("read the data for", target, e))
        );
    }
    let (sha256, size) = copied.map_err(|e| Error::io("write", target, e))?;
    if let Some(expected) = expected
        && expected != sha256
    {
        return Err(Error::Corrupt {
            entry: target.display().to_string(),
            expected: expected.to_string(),
            actual: sha256.to_string(),
        });
    }
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_pending_file_has_no_name_until_persisted() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut pending = PendingFile::create_in(dir.path()).unwrap();
        pending.file().write_all(b"data").unwrap();
        // Linux: no name at all, so a crash here leaves nothing to clean up.
        #[cfg(target_os = "linux")]
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        drop(pending);
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

        let target = dir.path().join("a");
        let mut pending = PendingFile::create_in(dir.path()).unwrap();
        pending.file().write_all(b"one").unwrap();
        pending.persist(&target, false).unwrap();
        let mut again = PendingFile::create_in(dir.path()).unwrap();
        again.file().write_all(b"two").unwrap();
        let e = again.persist(&target, false).unwrap_err();
        assert!(matches!(e, Error::FileExists { .. }), "{e}");
        let mut forced = PendingFile::create_in(dir.path()).unwrap();
        forced.file().write_all(b"three").unwrap();
        forced.persist(&target, true).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"three");
        assert_eq!(names(dir.path()), ["a"]);
    }

    #[test]
    fn writing_behind_loses_nothing_and_starts_no_thread_below_a_step() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("f")).unwrap();
        let mut small = WriteBehind::new(&file, &file, 1 << 20);
        small.write_all(&[1u8; 1000]).unwrap();
        assert!(small.flusher.is_none());
        small.into_inner();
        let mut big = WriteBehind::new(&file, &file, 4096);
        for _ in 0..10 {
            big.write_all(&[2u8; 4096]).unwrap();
        }
        assert!(big.flusher.is_some());
        big.into_inner().sync_all().unwrap();
        let bytes = fs::read(dir.path().join("f")).unwrap();
        assert_eq!(bytes.len(), 1000 + 10 * 4096);
        assert!(bytes[1000..].iter().all(|&b| b == 2));
    }
}
