//! Encryption at rest with [age](https://age-encryption.org): a backup host writes to
//! recipients (X25519 public keys, `age1…`) and cannot read what it wrote; a restore reads
//! with identities (secret keys, `AGE-SECRET-KEY-1…`, as `age-keygen` writes them).
//!
//! Everything here is the standard binary age format, so the Go `age` tool opens what we
//! write and we open what it writes. Both directions stream in 64 KiB chunks: memory stays
//! bounded whatever the size of the data.
//!
//! # Secrets
//! Secret keys never appear in a `Debug` rendering or in an error message: errors name the
//! file and line of a bad key, never its text.
//!
//! # Security
//! age gives confidentiality and integrity against damage (every 64 KiB chunk is
//! authenticated; a reader never yields a byte that did not authenticate). It does not say
//! who wrote a file: anyone who knows the public keys can write an age file that decrypts.
//! A set's digests protect against damage, not against someone who may rewrite the store.

use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;

use crate::error::{Error, Result, printable};

/// The largest recipients or identity file read (a key is under 100 bytes).
const MAX_KEY_FILE_SIZE: u64 = 1 << 20;
/// How much plaintext the encryptor takes from its source at a time (age's chunk size).
const CHUNK: usize = 64 << 10;
/// The largest age header read: a header names its recipients in a few hundred bytes each,
/// and its parser would otherwise read a hostile object without a newline whole.
const MAX_HEADER_SIZE: u64 = 1 << 20;
/// The prefix of an age secret key, in any case.
const SECRET_PREFIX: &str = "AGE-SECRET-KEY-";

/// The public keys a backup is encrypted to: one or more X25519 age recipients (`age1…`).
/// Never empty.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipients {
    keys: Vec<x25519::Recipient>,
}

impl Recipients {
    /// Parses recipients given one by one (`age1…` each).
    pub fn parse<I, S>(keys: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for key in keys {
            let text = key.as_ref().trim();
            let recipient = parse_recipient(text).map_err(|reason| Error::InvalidInput {
                what: "age recipient",
                value: shown_key(text),
                reason,
            })?;
            push_unique(&mut out, recipient);
        }
        Self::non_empty(out, "recipient list")
    }

    /// Reads a recipients file: one `age1…` per line; blank lines and lines starting with
    /// `#` are ignored.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path)?;
        Self::from_text(&path.display().to_string(), text.expose_secret())
    }

    /// Parses the text of a recipients file; `origin` names it in errors.
    pub fn from_text(origin: &str, text: &str) -> Result<Self> {
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let recipient = parse_recipient(line).map_err(|reason| Error::InvalidDocument {
                path: origin.to_string(),
                line: index + 1,
                column: 1,
                message: reason,
            })?;
            push_unique(&mut out, recipient);
        }
        Self::non_empty(out, origin)
    }

    fn non_empty(keys: Vec<x25519::Recipient>, origin: &str) -> Result<Self> {
        if keys.is_empty() {
            return Err(Error::InvalidInput {
                what: "age recipients",
                value: origin.to_string(),
                reason: "no recipient found; expected at least one public key `age1…`".to_string(),
            });
        }
        Ok(Self { keys })
    }

    /// The public keys, as `age1…` strings, in the order given (duplicates removed).
    pub fn to_strings(&self) -> Vec<String> {
        self.keys.iter().map(ToString::to_string).collect()
    }

    /// How many recipients there are (at least one).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a recipient list is never empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Encrypts a stream: the returned reader yields a standard binary age file of what
    /// `source` yields, to every recipient. Memory stays bounded (a few chunks of 64 KiB).
    pub fn encrypt<R: Read>(&self, source: R) -> Result<EncryptingReader<R>> {
        let encryptor =
            age::Encryptor::with_recipients(self.keys.iter().map(|k| k as &dyn age::Recipient))
                .map_err(|e| Error::InvalidInput {
                    what: "age recipients",
                    value: self.to_strings().join(", "),
                    reason: e.to_string(),
                })?;
        let out = SharedBuf::default();
        let writer = encryptor
            .wrap_output(out.clone())
            .map_err(|e| Error::io("encrypt", "age header", e))?;
        Ok(EncryptingReader {
            source,
            writer: Some(writer),
            out,
            pos: 0,
            chunk: vec![0; CHUNK],
        })
    }
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_strings()).finish()
    }
}

impl FromStr for Recipients {
    type Err = Error;

    /// One recipient, or several separated by commas or white space.
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|k| !k.is_empty()),
        )
    }
}

fn push_unique(keys: &mut Vec<x25519::Recipient>, key: x25519::Recipient) {
    if !keys.contains(&key) {
        keys.push(key);
    }
}

/// Parses one recipient; the error says what was expected and never repeats a secret.
fn parse_recipient(text: &str) -> std::result::Result<x25519::Recipient, String> {
    if is_secret_key(text) {
        return Err(
            "this is a secret key (an identity), never give it as a recipient; \
                    give its public key `age1…` (`age-keygen -y` prints it)"
                .to_string(),
        );
    }
    if !text.starts_with("age1") {
        return Err(
            "expected an X25519 age recipient `age1…`; other kinds of keys are not supported"
                .to_string(),
        );
    }
    x25519::Recipient::from_str(text)
        .map_err(|e| format!("expected an X25519 age recipient `age1…` ({e})"))
}

fn is_secret_key(text: &str) -> bool {
    text.get(..SECRET_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SECRET_PREFIX))
}

/// A key as it may appear in an error: public keys in full (shortened when long), secret
/// keys never.
fn shown_key(text: &str) -> String {
    if is_secret_key(text) {
        return format!("{SECRET_PREFIX}…");
    }
    let short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        format!("{}…", printable(&short))
    } else {
        printable(&short)
    }
}

/// Secret keys that can decrypt: one or more X25519 age identities (`AGE-SECRET-KEY-1…`).
/// Never empty. `Debug` shows the public keys only.
#[derive(Clone)]
pub struct Identities {
    keys: Vec<x25519::Identity>,
}

impl Identities {
    /// Reads an identity file, as `age-keygen` writes it: one `AGE-SECRET-KEY-1…` per line;
    /// blank lines and lines starting with `#` are ignored.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path)?;
        Self::from_text(&path.display().to_string(), text.expose_secret())
    }

    /// Parses identities from text (the content of an identity file, or a single key).
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_text("identity text", text)
    }

    /// Parses the text of an identity file; `origin` names it in errors.
    pub fn from_text(origin: &str, text: &str) -> Result<Self> {
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |message: String| Error::InvalidDocument {
                path: origin.to_string(),
                line: index + 1,
                column: 1,
                message,
            };
            if !is_secret_key(line) {
                return Err(bad(if line.starts_with("age1") {
                    "this is a public key (a recipient); expected an age secret key \
                     `AGE-SECRET-KEY-1…`"
                        .to_string()
                } else {
                    "expected an age secret key `AGE-SECRET-KEY-1…`; other kinds of keys \
                     are not supported"
                        .to_string()
                }));
            }
            // age's messages name the problem ("invalid Bech32 encoding"), never the key.
            let key = x25519::Identity::from_str(line).map_err(|e| {
                bad(format!(
                    "expected an age secret key `AGE-SECRET-KEY-1…` ({e})"
                ))
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(Error::InvalidInput {
                what: "age identities",
                value: origin.to_string(),
                reason: "no identity found; expected at least one secret key \
                         `AGE-SECRET-KEY-1…`"
                    .to_string(),
            });
        }
        Ok(Self { keys })
    }

    /// The public keys of these identities (what to encrypt to so that they can read).
    pub fn recipients(&self) -> Recipients {
        let mut keys = Vec::new();
        for k in &self.keys {
            push_unique(&mut keys, k.to_public());
        }
        Recipients { keys }
    }

    /// How many identities there are (at least one).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: an identity list is never empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Starts decrypting an age stream: reads its header and finds the file key with one of
    /// these identities. The reader yields only authenticated plaintext; damaged or
    /// truncated ciphertext fails with [`Error::Decrypt`] (inside the `io::Error`; recover it
    /// with [`crate::from_io`]). `label` names the stream in errors.
    pub fn decrypt<R: Read>(&self, label: &str, source: R) -> Result<DecryptingReader<R>> {
        let header_done = Arc::new(AtomicBool::new(false));
        let capped = HeaderCap {
            inner: source,
            read: 0,
            header_done: header_done.clone(),
            label: label.to_string(),
        };
        let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(CHUNK, capped))
            .map_err(|e| decrypt_error(label, e))?;
        header_done.store(true, Ordering::Relaxed);
        let reader = decryptor
            .decrypt(self.keys.iter().map(|k| k as &dyn age::Identity))
            .map_err(|e| decrypt_error(label, e))?;
        Ok(DecryptingReader {
            inner: reader,
            label: label.to_string(),
        })
    }
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("public_keys", &self.recipients().to_strings())
            .finish_non_exhaustive()
    }
}

/// A new X25519 identity, for tests and demonstrations: `(secret key, public key)` as
/// `AGE-SECRET-KEY-1…` and `age1…`. Real keys are better made with `age-keygen`, kept
/// offline, and only their public key given to the backup host.
pub fn generate_identity() -> (String, String) {
    let identity = x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    (secret, identity.to_public().to_string())
}

/// Reads a small key file into memory that is wiped when dropped.
fn read_key_file(path: &Path) -> Result<SecretString> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut text = String::new();
    let read =
        crate::archive::LimitedReader::new(file, MAX_KEY_FILE_SIZE, path.display().to_string())
            .read_to_string(&mut text);
    // Wrap first, so the text is wiped even when the read failed half-way.
    let secret = SecretString::from(text);
    read.map_err(|e| crate::error::from_io(e).unwrap_or_else(|e| Error::io("read", path, e)))?;
    Ok(secret)
}

fn decrypt_error(label: &str, e: age::DecryptError) -> Error {
    let reason = match e {
        age::DecryptError::NoMatchingKeys => {
            "none of the identities given can decrypt it (it was encrypted to other \
             recipients: wrong identity file?)"
                .to_string()
        }
        age::DecryptError::Io(io) => return stream_error(label, io),
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            "not an age file, or its header is damaged".to_string()
        }
        age::DecryptError::InvalidMac => {
            "its header fails authentication: it is damaged or was tampered with".to_string()
        }
        other => other.to_string(),
    };
    Error::Decrypt {
        entry: label.to_string(),
        reason,
    }
}

/// Keeps our own errors (from the reader below) as they are; anything else met while
/// decrypting means the ciphertext does not authenticate.
fn stream_error(label: &str, e: io::Error) -> Error {
    match crate::error::from_io(e) {
        Ok(ours) => ours,
        Err(e) => Error::Decrypt {
            entry: label.to_string(),
            reason: format!("the encrypted data is damaged, truncated or was tampered with ({e})"),
        },
    }
}

/// What [`Recipients::encrypt`] returns: reads plaintext from its source on demand and
/// yields the age file, header first.
pub struct EncryptingReader<R> {
    source: R,
    writer: Option<age::stream::StreamWriter<SharedBuf>>,
    out: SharedBuf,
    /// How much of `out` was handed out already.
    pos: usize,
    chunk: Vec<u8>,
}

impl<R> fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingReader")
            .field("finished", &self.writer.is_none())
            .finish_non_exhaustive()
    }
}

impl<R> EncryptingReader<R> {
    /// Gives the source back (whatever it has left unread).
    pub fn into_inner(self) -> R {
        self.source
    }
}

impl<R: Read> Read for EncryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut out = self.out.lock();
                if let Some(pending) = out.get(self.pos..).filter(|p| !p.is_empty()) {
                    let n = pending.len().min(buf.len());
                    if let (Some(dst), Some(src)) = (buf.get_mut(..n), pending.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    self.pos += n;
                    if self.pos == out.len() {
                        out.clear();
                        self.pos = 0;
                    }
                    return Ok(n);
                }
            }
            let Some(writer) = self.writer.as_mut() else {
                return Ok(0);
            };
            let n = loop {
                match self.source.read(&mut self.chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            match self.chunk.get(..n) {
                Some(data) if n > 0 => writer.write_all(data)?,
                _ => {
                    if let Some(writer) = self.writer.take() {
                        writer.finish()?;
                    }
                }
            }
        }
    }
}

/// Where the age writer puts ciphertext for the reader to hand out.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Bounds what the age header parser may read.
struct HeaderCap<R> {
    inner: R,
    read: u64,
    header_done: Arc<AtomicBool>,
    label: String,
}

impl<R: Read> Read for HeaderCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read > MAX_HEADER_SIZE && !self.header_done.load(Ordering::Relaxed) {
            return Err(io::Error::other(Error::Decrypt {
                entry: self.label.clone(),
                reason: format!(
                    "no age header in its first {MAX_HEADER_SIZE} bytes: not an age file"
                ),
            }));
        }
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        Ok(n)
    }
}

/// What [`Identities::decrypt`] returns: yields authenticated plaintext only.
pub struct DecryptingReader<R> {
    inner: age::stream::StreamReader<BufReader<HeaderCap<R>>>,
    label: String,
}

impl<R> fmt::Debug for DecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptingReader")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| io::Error::other(stream_error(&self.label, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_small_and_odd_reads() {
        let (secret, public) = generate_identity();
        let recipients = Recipients::parse([&public]).unwrap();
        let identities = Identities::parse(&secret).unwrap();
        for len in [0usize, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut encrypted = Vec::new();
            let mut reader = recipients.encrypt(&data[..]).unwrap();
            let mut small = [0u8; 1000];
            loop {
                let n = reader.read(&mut small).unwrap();
                if n == 0 {
                    break;
                }
                encrypted.extend_from_slice(&small[..n]);
            }
            assert!(encrypted.starts_with(b"age-encryption.org/v1\n"));
            let mut plain = Vec::new();
            identities
                .decrypt("x", &encrypted[..])
                .unwrap()
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain, data, "length {len}");
        }
    }

    #[test]
    fn recipients_files_and_their_errors() {
        let (_, a) = generate_identity();
        let (_, b) = generate_identity();
        let text = format!("# backup keys\n\n{a}\n  {b}  \n{a}\n");
        let r = Recipients::from_text("keys.txt", &text).unwrap();
        assert_eq!(r.to_strings(), [a.clone(), b.clone()]);
        assert_eq!(format!("{r:?}"), format!("[\"{a}\", \"{b}\"]"));
        assert_eq!(format!("{a}, {b}").parse::<Recipients>().unwrap().len(), 2);

        let e = Recipients::from_text("keys.txt", &format!("{a}\nage1nope\n")).unwrap_err();
        assert!(e.to_string().starts_with("`keys.txt` line 2"), "{e}");
        assert!(e.to_string().contains("`age1…`"), "{e}");
        let e = Recipients::from_text("keys.txt", "# nothing\n").unwrap_err();
        assert!(e.to_string().contains("no recipient found"), "{e}");
        let e = Recipients::parse(Vec::<String>::new()).unwrap_err();
        assert!(e.to_string().contains("no recipient found"), "{e}");
        let e = Recipients::parse(["ssh-ed25519 AAAA"]).unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
    }

    #[test]
    fn secrets_never_show() {
        let (secret, public) = generate_identity();
        let ids = Identities::parse(&format!(
            "# created: now\n# public key: {public}\n{secret}\n"
        ))
        .unwrap();
        let debug = format!("{ids:?}");
        assert!(!debug.contains(&secret[15..]), "{debug}");
        assert!(debug.contains(&public), "{debug}");
        assert_eq!(ids.recipients().to_strings(), [public.as_str()]);

        // a secret key given as a recipient is refused without being echoed
        let e = Recipients::parse([&secret]).unwrap_err();
        assert!(!e.to_string().contains(&secret[15..]), "{e}");
        assert!(e.to_string().contains("secret key"), "{e}");
        let e = Recipients::from_text("r.txt", &secret).unwrap_err();
        assert!(!e.to_string().contains(&secret[15..]), "{e}");

        // a damaged secret key is named by line, never shown
        let mut damaged = secret.clone();
        damaged.pop();
        damaged.push(if secret.ends_with('Q') { 'P' } else { 'Q' });
        let e = Identities::from_text("id.txt", &format!("# c\n{damaged}\n")).unwrap_err();
        assert!(e.to_string().starts_with("`id.txt` line 2"), "{e}");
        assert!(!e.to_string().contains(&damaged[15..]), "{e}");
        assert!(!format!("{e:?}").contains(&damaged[15..]), "{e:?}");

        let e = Identities::parse(&public).unwrap_err();
        assert!(e.to_string().contains("public key"), "{e}");
        let e = Identities::parse("# only a comment\n").unwrap_err();
        assert!(e.to_string().contains("no identity found"), "{e}");
    }

    #[test]
    fn wrong_identity_and_damage_are_errors() {
        let (_, public) = generate_identity();
        let (other, _) = generate_identity();
        let data = vec![42u8; 3 * CHUNK];
        let mut encrypted = Vec::new();
        Recipients::parse([&public])
            .unwrap()
            .encrypt(&data[..])
            .unwrap()
            .read_to_end(&mut encrypted)
            .unwrap();
        let e = Identities::parse(&other)
            .unwrap()
            .decrypt("a.bin", &encrypted[..])
            .unwrap_err();
        assert!(matches!(e, Error::Decrypt { .. }), "{e}");
        assert!(e.to_string().contains("none of the identities"), "{e}");

        let e = Identities::parse(&other)
            .unwrap()
            .decrypt("a.bin", &b"plain text"[..])
            .unwrap_err();
        assert!(matches!(e, Error::Decrypt { .. }), "{e}");
    }
}
