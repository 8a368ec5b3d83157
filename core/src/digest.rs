//! SHA-256 digests and the streaming adapters that compute them on the way.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result, printable};

/// A SHA-256 digest, written `sha256:<64 lowercase hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        let mut h = Hasher::new();
        h.update(data);
        h.finish()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 hex digits, without the `sha256:` prefix (what `sha256sum` prints).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits without a prefix.
    pub fn from_hex(text: &str) -> Result<Self> {
        if text.len() != 64 {
            return Err(Error::InvalidDigest {
                input: printable(text),
                reason: "expected 64 hex digits",
            });
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(|_| Error::InvalidDigest {
            input: printable(text),
            reason: "expected 64 hex digits",
        })?;
        Ok(Self(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        let Some(hex) = text.strip_prefix("sha256:") else {
            return Err(Error::InvalidDigest {
                input: printable(text),
                reason: "expected `sha256:` followed by 64 hex digits",
            });
        };
        Self::from_hex(hex)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Digest".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
            "description": "SHA-256 of the content, as `sha256:` and 64 lowercase hex digits"
        })
    }
}

/// An incremental SHA-256 that also counts bytes.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before any byte was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        Digest(self.inner.finalize().into())
    }
}

/// A reader that hashes and counts what passes through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    /// True before any byte was read.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// Returns the inner reader, the digest and the byte count of what was read.
    pub fn finish(self) -> (R, Digest, u64) {
        let len = self.hasher.len();
        (self.inner, self.hasher.finish(), len)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

/// A writer that hashes and counts what passes through it.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    /// True before any byte was written.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// Returns the inner writer, the digest and the byte count of what was written.
    pub fn finish(self) -> (W, Digest, u64) {
        let len = self.hasher.len();
        (self.inner, self.hasher.finish(), len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A SHA-256 computed on another thread, so that hashing and I/O overlap: the caller reads
/// a chunk into a buffer from [`ParallelHasher::buffer`], writes it out, and hands it over
/// with [`ParallelHasher::update`] while it goes on with the next one. Buffers come back from
/// the hashing thread and are reused, so a long stream costs neither allocations nor page
/// faults.
///
/// Memory is bounded: at most `depth` chunks wait for the hasher.
#[derive(Debug)]
pub struct ParallelHasher {
    sender: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    returned: std::sync::mpsc::Receiver<Vec<u8>>,
    worker: Option<std::thread::JoinHandle<Hasher>>,
}

impl ParallelHasher {
    /// Starts the hashing thread; up to `depth` chunks may wait for it.
    pub fn new(depth: usize) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(depth.max(1));
        let (back, returned) = std::sync::mpsc::channel::<Vec<u8>>();
        let worker = std::thread::Builder::new()
            .name("continuum-sha256".to_string())
            .spawn(move || {
                let mut hasher = Hasher::new();
                for chunk in receiver {
                    hasher.update(&chunk);
                    // The caller may be gone already; the buffer is then simply dropped.
                    let _ = back.send(chunk);
                }
                hasher
            })
            .ok();
        Self {
            sender: Some(sender),
            returned,
            worker,
        }
    }

    /// A buffer of `size` bytes: one the hasher is done with, or a new one.
    pub fn buffer(&mut self, size: usize) -> Vec<u8> {
        let mut buf = self.returned.try_recv().unwrap_or_default();
        buf.resize(size, 0);
        buf
    }

    /// Hands a chunk to the hasher (blocks while `depth` chunks are waiting).
    pub fn update(&mut self, chunk: Vec<u8>) {
        if let Some(sender) = &self.sender {
            // The worker ends only when the sender is dropped, so a send cannot fail here.
            let _ = sender.send(chunk);
        }
    }

    /// Waits for the hasher; returns the digest and length of everything handed over.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        drop(self.sender.take());
        let hasher = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("the hashing thread could not be started"))?
            .join()
            .map_err(|_| io::Error::other("the hashing thread failed"))?;
        let len = hasher.len();
        Ok((hasher.finish(), len))
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Copies `reader` into `writer` in chunks of `chunk` bytes, hashing on another thread;
/// returns the digest and length of what was copied.
pub fn copy_hashed(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    chunk: usize,
) -> io::Result<(Digest, u64)> {
    let mut hasher = ParallelHasher::new(4);
    loop {
        let mut buf = hasher.buffer(chunk);
        let filled = read_full(reader, &mut buf)?;
        if filled == 0 {
            break;
        }
        buf.truncate(filled);
        writer.write_all(&buf)?;
        hasher.update(buf);
    }
    hasher.finish()
}

/// Hashes a whole stream; returns its digest and length.
pub fn digest_reader(mut reader: impl Read) -> io::Result<(Digest, u64)> {
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    let len = hasher.len();
    Ok((hasher.finish(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            Digest::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Digest::of(b"abc").to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = HashingReader::new(&data[..]);
        let mut sink = Vec::new();
        std::io::copy(&mut r, &mut sink).unwrap();
        let (_, d, n) = r.finish();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d, Digest::of(&data));

        let mut w = HashingWriter::new(Vec::new());
        w.write_all(&data).unwrap();
        let (out, d2, n2) = w.finish();
        assert_eq!((d2, n2), (d, n));
        assert_eq!(out, data);
        assert_eq!(digest_reader(&data[..]).unwrap(), (d, n));
        let mut copied = Vec::new();
        assert_eq!(
            copy_hashed(&mut &data[..], &mut copied, 4096).unwrap(),
            (d, n)
        );
        assert_eq!(copied, data);
        assert_eq!(
            copy_hashed(&mut std::io::empty(), &mut Vec::new(), 4096).unwrap(),
            (Digest::of(b""), 0)
        );
    }

    #[test]
    fn parse_and_display_round_trip() {
        let d = Digest::of(b"x");
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        assert!("sha256:zz".parse::<Digest>().is_err());
        let e = d.to_hex().parse::<Digest>().unwrap_err();
        assert!(e.to_string().contains("expected `sha256:`"), "{e}");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
    }
}
