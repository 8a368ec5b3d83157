//! Safe archive I/O shared by every format: member paths that cannot escape, size limits
//! that stop bombs, compression sniffed from magic bytes, and a checked tar unpacker.
//!
//! # Security
//! Everything here assumes its input is hostile. A member path is refused when it is
//! absolute, holds `..`, a backslash, a NUL or another control character, or a Windows
//! drive prefix; a link is refused when its target resolves outside the archive root;
//! reads stop with an error as soon as a limit is crossed, before more is written.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, printable};

/// The longest member path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 4096;

/// A relative, normalized, `/`-separated path inside an archive or a store.
///
/// Construction is the check: a value of this type never holds `..`, an absolute root,
/// a backslash, a control character or an empty segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberPath(String);

impl MemberPath {
    /// Parses and normalizes (`./a/b` → `a/b`; a trailing `/` of a directory is dropped).
    pub fn parse(raw: &str) -> Result<Self> {
        let refuse = |reason| Error::UnsafePath {
            path: shown_path(raw),
            reason,
        };
        if raw.len() > MAX_PATH_LEN {
            return Err(refuse("longer than 4096 bytes"));
        }
        if raw.starts_with('/') {
            return Err(refuse("absolute paths are not allowed"));
        }
        if raw.contains('\\') {
            return Err(refuse("backslashes are not allowed"));
        }
        if raw.chars().any(char::is_control) {
            return Err(refuse("control characters are not allowed"));
        }
        let mut parts = Vec::new();
        for segment in raw.split('/') {
            match segment {
                "" | "." => continue,
                ".." => return Err(refuse("`..` is not allowed")),
                // `C:` means a drive on Windows: refused in any segment, on every platform.
                s if is_drive_prefix(s) => return Err(refuse("drive prefixes are not allowed")),
                s => parts.push(s),
            }
        }
        if parts.is_empty() {
            return Err(refuse("empty path"));
        }
        Ok(Self(parts.join("/")))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// `self` joined below `dest`.
    pub fn to_path(&self, dest: &Path) -> PathBuf {
        let mut p = dest.to_path_buf();
        for seg in self.0.split('/') {
            p.push(seg);
        }
        p
    }

    /// Joins a relative path below this one (`a` + `b/c` → `a/b/c`).
    pub fn join(&self, rest: &str) -> Result<Self> {
        Self::parse(&format!("{}/{rest}", self.0))
    }

    /// Resolves the target of a symbolic link stored at `self`, refusing any target that
    /// is absolute or leaves the archive root. Returns the resolved member path.
    pub fn resolve_link(&self, target: &str) -> Result<Self> {
        self.resolve_link_among(target, &BTreeSet::new())
    }

    /// Like [`MemberPath::resolve_link`], and also refuses a target whose resolution passes
    /// through one of `links` (links made earlier from the same archive): text alone cannot
    /// tell where `q/..` leads when `q` is itself a link.
    fn resolve_link_among(&self, target: &str, links: &BTreeSet<String>) -> Result<Self> {
        let refuse = |reason| Error::UnsafePath {
            path: format!("{} -> {}", shown_path(&self.0), shown_path(target)),
            reason,
        };
        if target.starts_with('/') {
            return Err(refuse("link target is absolute"));
        }
        if target.contains('\\') || target.chars().any(char::is_control) {
            return Err(refuse("link target holds a backslash or control character"));
        }
        if target.len() > MAX_PATH_LEN {
            return Err(refuse("link target is longer than 4096 bytes"));
        }
        let mut stack: Vec<&str> = self.0.split('/').collect();
        stack.pop(); // a link resolves relative to the folder holding it
        for seg in target.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if stack.pop().is_none() {
                        return Err(refuse("link target escapes the archive root"));
                    }
                }
                s if is_drive_prefix(s) => return Err(refuse("link target holds a drive prefix")),
                s => {
                    stack.push(s);
                    if links.contains(&stack.join("/")) {
                        return Err(refuse(
                            "link target passes through another link of the archive",
                        ));
                    }
                }
            }
        }
        if stack.is_empty() {
            return Err(refuse("link target is the archive root"));
        }
        Ok(Self(stack.join("/")))
    }
}

/// A refused path as a message shows it: control characters escaped, cut after 200
/// characters (a hostile path may be megabytes long).
fn shown_path(raw: &str) -> String {
    let text = printable(raw);
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!(
            "{}… ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            raw.len()
        ),
        None => text,
    }
}

fn is_drive_prefix(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.len() >= 2 && b.get(1) == Some(&b':') && b.first().is_some_and(u8::is_ascii_alphabetic)
}

/// The proper ancestors of a member path (`a/b/c` → `a`, `a/b`) and the path itself.
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(move |(i, _)| path.get(..i).unwrap_or(path))
        .chain(std::iter::once(path))
}

impl fmt::Display for MemberPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MemberPath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<MemberPath> for String {
    fn from(p: MemberPath) -> String {
        p.0
    }
}

impl schemars::JsonSchema for MemberPath {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MemberPath".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "relative `/`-separated path; never absolute, never `..`",
            "maxLength": 4096
        })
    }
}

/// Limits that stop size and count bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Limits {
    /// Largest uncompressed size of one entry.
    pub max_entry_size: u64,
    /// Largest uncompressed size of all entries together.
    pub max_total_size: u64,
    /// Most entries.
    pub max_entries: u64,
}

impl Default for Limits {
    /// Generous but finite: 64 GiB an entry, 1 TiB in all, 1,000,000 entries.
    fn default() -> Self {
        Self {
            max_entry_size: 64 << 30,
            max_total_size: 1 << 40,
            max_entries: 1_000_000,
        }
    }
}

impl Limits {
    /// Limits with the given sizes and entry count.
    pub fn new(max_entry_size: u64, max_total_size: u64, max_entries: u64) -> Self {
        Self {
            max_entry_size,
            max_total_size,
            max_entries,
        }
    }
}

/// A reader that fails once more than `limit` bytes come through.
#[derive(Debug)]
pub struct LimitedReader<R> {
    inner: R,
    remaining: u64,
    limit: u64,
    entry: String,
}

impl<R: Read> LimitedReader<R> {
    /// Wraps `inner`; `entry` names it in the error.
    pub fn new(inner: R, limit: u64, entry: impl Into<String>) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            entry: entry.into(),
        }
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe one byte: exactly `limit` bytes is fine, one more is not.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(Error::LimitExceeded {
                    entry: self.entry.clone(),
                    limit: self.limit,
                    unit: "bytes",
                })),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..max).unwrap_or_default())?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The most a tar reader may read on its own before it hands out an entry: the header
/// blocks, GNU long names and links, PAX records and sparse maps, and what is left of the
/// entry before (its padding). The tar library reads long names and PAX records whole into
/// memory, whatever size their header declares, so without a bound a small compressed
/// archive could make it allocate gigabytes.
pub const MAX_TAR_HEADER_BYTES: u64 = 1 << 20;

/// A reader under a tar archive that fails once the archive reads more than
/// [`MAX_TAR_HEADER_BYTES`] while its caller waits for the next entry; see
/// [`guard_tar_headers`].
#[derive(Debug)]
pub struct TarHeaderGuard<R> {
    inner: R,
    budget: TarHeaderBudget,
}

/// The other half of [`guard_tar_headers`]: arms the bound around each call for the next
/// entry.
#[derive(Debug, Clone)]
pub struct TarHeaderBudget {
    /// Bytes still allowed, or [`UNARMED`] while the caller reads an entry's content.
    remaining: std::sync::Arc<std::sync::atomic::AtomicU64>,
    name: std::sync::Arc<str>,
}

const UNARMED: u64 = u64::MAX;

/// Wraps the reader a `tar::Archive` reads from; `name` names the archive in the error.
/// Ask for every entry through [`TarHeaderBudget::next_entry`].
pub fn guard_tar_headers<R: Read>(
    inner: R,
    name: impl Into<String>,
) -> (TarHeaderGuard<R>, TarHeaderBudget) {
    let budget = TarHeaderBudget {
        remaining: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(UNARMED)),
        name: name.into().into(),
    };
    let guard = TarHeaderGuard {
        inner,
        budget: budget.clone(),
    };
    (guard, budget)
}

impl TarHeaderBudget {
    /// Runs `next` (the entries iterator's `next`) with at most [`MAX_TAR_HEADER_BYTES`] read.
    pub fn next_entry<T>(&self, next: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering;
        self.remaining
            .store(MAX_TAR_HEADER_BYTES, Ordering::Relaxed);
        let entry = next();
        self.remaining.store(UNARMED, Ordering::Relaxed);
        entry
    }
}

impl<R: Read> Read for TarHeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::sync::atomic::Ordering;
        let remaining = self.budget.remaining.load(Ordering::Relaxed);
        if remaining == UNARMED {
            return self.inner.read(buf);
        }
        if remaining == 0 && !buf.is_empty() {
            return Err(io::Error::other(Error::LimitExceeded {
                entry: format!("{} (tar headers before an entry)", self.budget.name),
                limit: MAX_TAR_HEADER_BYTES,
                unit: "bytes",
            }));
        }
        let max = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..max).unwrap_or_default())?;
        self.budget
            .remaining
            .store(remaining.saturating_sub(n as u64), Ordering::Relaxed);
        Ok(n)
    }
}

/// A compression recognized by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// Stored as is.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// bzip2.
    Bzip2,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Recognizes a compression from the first bytes of a stream (at least 4 are needed).
    pub fn sniff(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Self::Gzip,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Self::Bzip2,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Self::Zstd,
            _ => Self::None,
        }
    }

    /// The name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Bzip2 => "bzip2",
            Self::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when `head` (at least 262 bytes of an uncompressed stream) is a POSIX or GNU tar header.
pub fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Sniffs the compression of `reader` and returns it with a reader of the decompressed bytes.
pub fn decompress(
    reader: impl Read + Send + 'static,
) -> io::Result<(Compression, Box<dyn Read + Send>)> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let head = buffered.fill_buf()?;
    let compression = Compression::sniff(head);
    let out: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    Ok((compression, out))
}

/// What [`unpack_tar`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UnpackReport {
    /// Regular files written.
    pub files: u64,
    /// Folders created.
    pub dirs: u64,
    /// Links created.
    pub links: u64,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// Unpacks a tar stream (compression sniffed) into `dest`, which must not exist yet.
///
/// The archive is unpacked into a temporary sibling folder that is renamed to `dest` only
/// when every entry was checked and written: a refused or broken archive leaves nothing.
///
/// # Security
/// Member paths are checked with [`MemberPath`]; symbolic and hard links must resolve inside
/// the archive; device files, FIFOs and other special entries are refused; `limits` bound the
/// size of each entry, of all entries and their count.
pub fn unpack_tar(
    reader: impl Read + Send + 'static,
    dest: &Path,
    limits: Limits,
) -> Result<UnpackReport> {
    if dest.exists() {
        return Err(Error::AlreadyExists {
            key: dest.display().to_string(),
            store: "local file system".to_string(),
        });
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = tempdir_in(parent)?;
    let result = unpack_into(reader, &staging, limits);
    match result {
        Ok(report) => {
            fs::rename(&staging, dest).map_err(|e| {
                let _ = fs::remove_dir_all(&staging);
                Error::io("rename into place", dest, e)
            })?;
            Ok(report)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn tempdir_in(parent: &Path) -> Result<PathBuf> {
    let name = format!(".continuum-unpack-{:016x}", rand::random::<u64>());
    let path = parent.join(name);
    fs::create_dir(&path).map_err(|e| Error::io("create", &path, e))?;
    Ok(path)
}

fn unpack_into(
    reader: impl Read + Send + 'static,
    root: &Path,
    limits: Limits,
) -> Result<UnpackReport> {
    let (_, plain) = decompress(reader).map_err(|e| Error::io("read", root, e))?;
    let total = LimitedReader::new(plain, limits.max_total_size, "archive");
    let (guarded, budget) = guard_tar_headers(total, "archive");
    let mut archive = tar::Archive::new(guarded);
    let mut report = UnpackReport::default();
    let mut count = 0u64;
    let mut links: BTreeSet<String> = BTreeSet::new();
    let mut files: BTreeSet<String> = BTreeSet::new();
    let mut pending_links: Vec<(MemberPath, String, std::path::PathBuf)> = Vec::new();
    let mut entries = archive
        .entries()
        .map_err(|e| Error::io("read archive", root, e))?;
    while let Some(entry) = budget.next_entry(|| entries.next()) {
        let mut entry = entry.map_err(|e| unwrap_limit(e, root))?;
        count += 1;
        if count > limits.max_entries {
            return Err(Error::LimitExceeded {
                entry: "archive".to_string(),
                limit: limits.max_entries,
                unit: "entries",
            });
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member = MemberPath::parse(&raw)?;
        // Nothing is written through a link the archive made: a chain of links (`q -> .`)
        // would otherwise lead a later entry anywhere on the disk.
        if let Some(link) = prefixes(member.as_str()).find(|p| links.contains(*p)) {
            return Err(Error::UnsafePath {
                path: format!("{} (through `{}`)", member, printable(link)),
                reason: "an entry may not pass through a link of the same archive",
            });
        }
        let target = member.to_path(root);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
            report.dirs += 1;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        if kind.is_file() {
            if entry.size() > limits.max_entry_size {
                return Err(Error::LimitExceeded {
                    entry: member.to_string(),
                    limit: limits.max_entry_size,
                    unit: "bytes",
                });
            }
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| Error::io("create", &target, e))?;
            let mut limited =
                LimitedReader::new(&mut entry, limits.max_entry_size, member.as_str());
            let n = io::copy(&mut limited, &mut out).map_err(|e| unwrap_limit(e, &target))?;
            files.insert(member.as_str().to_string());
            report.files += 1;
            report.bytes += n;
        } else if kind.is_symlink() || kind.is_hard_link() {
            let link = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            if kind.is_symlink() {
                // Made last, once every link of the archive is known: a link whose target
                // passes through a link declared later would otherwise look inside.
                links.insert(member.as_str().to_string());
                pending_links.push((member, link, target));
                report.links += 1;
                continue;
            } else {
                // A hard link may only name a regular file this archive wrote.
                let source = MemberPath::parse(&link)?;
                if !files.contains(source.as_str()) {
                    return Err(Error::UnsafePath {
                        path: format!("{member} => {}", printable(&link)),
                        reason: "a hard link must name a file written earlier by the same archive",
                    });
                }
                fs::hard_link(source.to_path(root), &target)
                    .map_err(|e| Error::io("link", &target, e))?;
            }
            report.links += 1;
        } else {
            return Err(Error::UnsafePath {
                path: member.to_string(),
                reason: "special files (devices, FIFOs) are not allowed",
            });
        }
    }
    for (member, link, _) in &pending_links {
        member.resolve_link_among(link, &links)?;
    }
    for (_, link, target) in pending_links {
        std::os::unix::fs::symlink(&link, &target).map_err(|e| Error::io("link", &target, e))?;
    }
    Ok(report)
}

/// Turns an I/O error that carries one of our errors back into it.
fn unwrap_limit(e: io::Error, path: &Path) -> Error {
    crate::error::from_io(e).unwrap_or_else(|e| Error::io("read", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_are_checked() {
        assert_eq!(MemberPath::parse("./a//b/").unwrap().as_str(), "a/b");
        for bad in [
            "/etc/passwd",
            "a/../../b",
            "..",
            "a\\b",
            "C:x",
            "./Z:a////bb/",
            "a/C:/b",
            "a\u{0}b",
            "",
            "./",
            "a/\nb",
        ] {
            assert!(MemberPath::parse(bad).is_err(), "{bad:?} accepted");
        }
        let e = MemberPath::parse(&"a".repeat(5000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("… (5000 bytes)") && e.len() < 300, "{e}");
    }

    #[test]
    fn links_must_stay_inside() {
        let p = MemberPath::parse("a/b/link").unwrap();
        assert_eq!(p.resolve_link("../c").unwrap().as_str(), "a/c");
        assert_eq!(p.resolve_link("x/./y").unwrap().as_str(), "a/b/x/y");
        assert!(p.resolve_link("../../../etc").is_err());
        assert!(p.resolve_link("/etc/passwd").is_err());
        assert!(p.resolve_link("../..").is_err());
    }

    #[test]
    fn limited_reader_allows_exactly_the_limit() {
        let data = [7u8; 100];
        let mut ok = LimitedReader::new(&data[..], 100, "e");
        assert_eq!(io::copy(&mut ok, &mut io::sink()).unwrap(), 100);
        let mut over = LimitedReader::new(&data[..], 99, "e");
        let err = io::copy(&mut over, &mut io::sink()).unwrap_err();
        assert!(
            err.to_string()
                .contains("`e` exceeds the limit of 99 bytes"),
            "{err}"
        );
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn sniffs_every_compression() {
        let tar = tar_of(&[("a.txt", b"hello")]);
        assert!(is_tar(&tar));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let bz = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            io::Write::write_all(&mut e, &tar).unwrap();
            e.finish().unwrap()
        };
        let zs = zstd::encode_all(&tar[..], 1).unwrap();
        for (data, expected) in [
            (tar.clone(), Compression::None),
            (gz, Compression::Gzip),
            (bz, Compression::Bzip2),
            (zs, Compression::Zstd),
        ] {
            let (c, mut r) = decompress(io::Cursor::new(data)).unwrap();
            assert_eq!(c, expected);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, tar);
        }
    }

    #[test]
    fn tar_headers_are_bounded() {
        // A GNU long name and a PAX header of 256 MiB: the tar library reads them whole into
        // memory, so the read must stop at the bound, long before.
        for kind in [tar::EntryType::GNULongName, tar::EntryType::XHeader] {
            let mut h = tar::Header::new_gnu();
            h.set_path("././@LongLink").unwrap();
            h.set_entry_type(kind);
            h.set_size(256 << 20);
            h.set_cksum();
            let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            struct Counting(
                Box<dyn Read + Send>,
                std::sync::Arc<std::sync::atomic::AtomicU64>,
            );
            impl Read for Counting {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let n = self.0.read(buf)?;
                    self.1
                        .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    Ok(n)
                }
            }
            let data =
                io::Cursor::new(h.as_bytes().to_vec()).chain(io::repeat(b'a').take(256 << 20));
            let dir = tempfile::tempdir().unwrap();
            let err = unpack_tar(
                Counting(Box::new(data), read.clone()),
                &dir.path().join("o"),
                Limits::default(),
            )
            .unwrap_err();
            assert!(
                err.to_string().contains(
                    "`archive (tar headers before an entry)` exceeds the limit of 1048576 bytes"
                ),
                "{err}"
            );
            let n = read.load(std::sync::atomic::Ordering::Relaxed);
            assert!(n < 4 * MAX_TAR_HEADER_BYTES, "{n} bytes read");
        }
        // A long name well below the bound is fine.
        let dir = tempfile::tempdir().unwrap();
        let long = format!("{}f.txt", "d/".repeat(1400));
        let tar = tar_of(&[(long.as_str(), b"x")]);
        unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("o"),
            Limits::default(),
        )
        .unwrap();
    }

    #[test]
    fn unpack_writes_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let tar = tar_of(&[("x/a.txt", b"hello"), ("b.txt", b"world")]);
        let report = unpack_tar(io::Cursor::new(tar), &dest, Limits::default()).unwrap();
        assert_eq!(report.files, 2);
        assert_eq!(fs::read(dest.join("x/a.txt")).unwrap(), b"hello");

        // a too-large entry after a good one leaves nothing behind
        let dest2 = dir.path().join("out2");
        let tar = tar_of(&[("ok.txt", b"fine"), ("big.bin", &[0u8; 2048])]);
        let err =
            unpack_tar(io::Cursor::new(tar), &dest2, Limits::new(1024, 1 << 20, 10)).unwrap_err();
        assert!(err.to_string().contains("big.bin"), "{err}");
        assert!(!dest2.exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "staging folder left behind");
    }

    #[test]
    fn unpack_refuses_escaping_links_and_traversal() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "evil", "../../etc/passwd").unwrap();
        let tar = b.into_inner().unwrap();
        let err = unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("o"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("escapes"), "{err}");

        // a chain of links: `p/q -> .` makes `p/q/q/…/r -> ../…/../tmp` look inside
        let dest = dir.path().join("chain");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "p/q", ".").unwrap();
        let deep = format!("p/{}r", "q/".repeat(30));
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, &deep, format!("{}tmp", "../".repeat(31)))
            .unwrap();
        let tar = b.into_inner().unwrap();
        let err = unpack_tar(io::Cursor::new(tar), &dest, Limits::default()).unwrap_err();
        assert!(err.to_string().contains("through `p/q`"), "{err}");
        assert!(!dest.exists());

        // a link whose target passes through an earlier link
        let mut b = tar::Builder::new(Vec::new());
        for (name, target) in [("p/q", "."), ("s", "p/q/../../x")] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let err = unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("chain2"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("passes through another link"),
            "{err}"
        );

        // a link whose target passes through a link declared after it
        let mut b = tar::Builder::new(Vec::new());
        for (name, target) in [("p", "d/s/../../x"), ("d/s", ".")] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let err = unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("later"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("passes through another link"),
            "{err}"
        );
        assert!(!dir.path().join("later").exists());

        // a hard link to something the archive did not write
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        b.append_link(&mut h, "stolen", "etc/passwd").unwrap();
        let tar = b.into_inner().unwrap();
        let err = unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("hard"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("hard link must name a file written earlier"),
            "{err}"
        );

        // tar-rs refuses to *write* `..`, so forge the header name bytes by hand
        let mut tar = tar_of(&[("aa/x.txt", b"data")]);
        tar[..8].copy_from_slice(b"../x.txt");
        let mut h = tar::Header::from_byte_slice(&tar[..512]).clone();
        h.set_cksum();
        tar[..512].copy_from_slice(h.as_bytes());
        let err = unpack_tar(
            io::Cursor::new(tar),
            &dir.path().join("o2"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
        assert!(!dir.path().join("x.txt").exists());
    }
}
