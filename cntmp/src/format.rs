//! The cntmp file: a ZIP container whose package resources are stored entries named
//! `PACKAGE_RESOURCE_0001.tar.gz`, … and whose `manifest.json` (written last) lists every
//! object with its FQN, its metadata in the API's shape, and its resources by entry name,
//! SHA-256 and length.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use continuum_core::{
    Compression, Digest, Fqn, LimitedReader, Limits, MemberPath, ParallelHasher, read_full,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::error::{Error, Result};
use crate::objects::{Object, ObjectKind, PackageResource};

/// The value of the manifest's `format` field.
pub const CNTMP_FORMAT: &str = "continuum-cntmp";
/// The manifest format this build writes and reads.
pub const CNTMP_FORMAT_VERSION: u64 = 1;
/// The manifest's entry name.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// The largest manifest read (and JSON entry of a legacy file).
const MAX_MANIFEST: u64 = 64 << 20;
/// The most JSON values (arrays, objects, keys and scalars) the JSON of one file may hold: a
/// JSON tree takes 32 to 80 bytes a value, so 16 MB of `0,` — deflated to 16 KB — would take
/// gigabytes once parsed (and copied on the way to the registry). A million values is some
/// 25,000 objects.
const MAX_JSON_VALUES: usize = 1 << 20;
const CHUNK: usize = 1 << 20;

/// A resource as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with a resource's `entry`, `sha256`, `length` and `compression`")]
pub struct ResourceRef {
    /// The ZIP entry holding it.
    pub entry: String,
    /// Its SHA-256.
    pub sha256: Digest,
    /// Its length in bytes.
    pub length: u64,
    /// Its compression, sniffed from its first bytes.
    pub compression: Compression,
}

/// An object as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with an object's `kind`, `fqn` and `metadata`")]
pub struct ManifestObject {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its FQN.
    #[schemars(with = "String")]
    pub fqn: Fqn,
    /// Its metadata, in the platform API's shape.
    pub metadata: Value,
    /// Its resources, in order (packages only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceRef>,
}

impl CntmpManifest {
    /// The JSON Schema of `manifest.json`, as committed in
    /// `docs/schemas/cntmp-manifest.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(CntmpManifest);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The manifest of a cntmp file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "a cntmp manifest object")]
pub struct CntmpManifest {
    /// Always [`CNTMP_FORMAT`].
    pub format: String,
    /// Always [`CNTMP_FORMAT_VERSION`] when written by this build.
    pub format_version: u64,
    /// The writer.
    pub producer: String,
    /// The objects, sorted by FQN.
    pub objects: Vec<ManifestObject>,
}

fn entry_options(length: u64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644)
        .large_file(length >= u64::from(u32::MAX))
}

fn zip_error(file: &str, e: impl std::fmt::Display) -> Error {
    Error::NotAZip {
        file: file.to_string(),
        message: zip_message(&e.to_string()),
    }
}

/// The ZIP layer's message, without the names of its Rust types: "Unexpected end of
/// zip::format::blocks::Zip32CDEBlock" says that the file ends inside a record.
fn zip_message(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            if word.contains("::") {
                "ZIP record"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(
            "Unexpected end of ZIP record",
            "the file ends inside a ZIP record (cut short?)",
        )
}

/// The ZIP layer could not open one entry (a damaged local header, an unsupported feature).
fn entry_error(file: &str, entry: &str, e: impl std::fmt::Display) -> Error {
    Error::BadEntry {
        file: file.to_string(),
        entry: shown_name(entry),
        reason: zip_message(&e.to_string()),
    }
}

/// An entry name as a message shows it: control characters escaped, cut after 200
/// characters (a ZIP name may be 64 KiB long).
fn shown_name(name: &str) -> String {
    let escaped = name.escape_default().to_string();
    match escaped.char_indices().nth(200) {
        Some((cut, _)) => format!(
            "{}… ({} bytes)",
            escaped.get(..cut).unwrap_or_default(),
            name.len()
        ),
        None => escaped,
    }
}

/// Writes a cntmp file. Output is deterministic: the same objects and resources added in
/// the same order give the same bytes (fixed entry times and modes, no timestamps in the
/// manifest). Identical resources are stored once.
pub struct CntmpWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    name: String,
    written: BTreeMap<Digest, ResourceRef>,
    objects: Vec<ManifestObject>,
}

impl<W: Write + Seek> std::fmt::Debug for CntmpWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CntmpWriter")
            .field("name", &self.name)
            .field("resources", &self.written.len())
            .field("objects", &self.objects.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write + Seek> CntmpWriter<W> {
    /// A writer over `inner`; `name` names the file in errors.
    pub fn new(inner: W, name: impl Into<String>) -> Self {
        Self {
            zip: ZipWriter::new(inner),
            name: name.into(),
            written: BTreeMap::new(),
            objects: Vec::new(),
        }
    }

    /// Streams a resource in unless one with the same digest is there already. The bytes
    /// are hashed on the way and must have `digest` and `length`.
    pub fn add_resource(
        &mut self,
        digest: Digest,
        length: u64,
        data: &mut dyn Read,
    ) -> Result<ResourceRef> {
        if let Some(existing) = self.written.get(&digest) {
            return Ok(existing.clone());
        }
        let entry = format!("PACKAGE_RESOURCE_{:04}.tar.gz", self.written.len() + 1);
        self.zip
            .start_file(entry.as_str(), entry_options(length))
            .map_err(|e| zip_error(&self.name, e))?;
        let mut hasher = ParallelHasher::new(4);
        let mut compression = None;
        let mut limited = LimitedReader::new(data, length, entry.as_str());
        loop {
            let mut buf = hasher.buffer(CHUNK);
            let n = read_full(&mut limited, &mut buf).map_err(|e| io_err(&self.name, &entry, e))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            if compression.is_none() {
                compression = Some(Compression::sniff(&buf));
            }
            self.zip
                .write_all(&buf)
                .map_err(|e| Error::io("write", &self.name, e))?;
            hasher.update(buf);
        }
        let (actual, actual_len) = hasher
            .finish()
            .map_err(|e| Error::io("hash", &self.name, e))?;
        if actual_len != length || actual != digest {
            return Err(Error::Core(continuum_core::Error::Corrupt {
                entry: digest.to_string(),
                expected: format!("{digest}, {length} bytes"),
                actual: format!("{actual}, {actual_len} bytes"),
            }));
        }
        let r = ResourceRef {
            entry,
            sha256: digest,
            length,
            compression: compression.unwrap_or(Compression::None),
        };
        self.written.insert(digest, r.clone());
        Ok(r)
    }

    /// Adds an object; a package's resources must have been added first.
    pub fn add_object(&mut self, object: &Object) -> Result<()> {
        object.check().map_err(|reason| Error::InvalidObject {
            kind: object.kind().to_string(),
            fqn: object.fqn().to_string(),
            reason,
        })?;
        let mut resources = Vec::new();
        for r in object.resources() {
            let written = self
                .written
                .get(&r.digest)
                .ok_or_else(|| Error::MissingResource {
                    fqn: object.fqn().to_string(),
                    digest: r.digest.to_string(),
                })?;
            resources.push(written.clone());
        }
        self.objects.push(ManifestObject {
            kind: object.kind(),
            fqn: object.fqn().clone(),
            metadata: object.to_api_json(),
            resources,
        });
        Ok(())
    }

    /// Writes the manifest and the ZIP directory; returns the inner writer and the manifest.
    pub fn finish(mut self) -> Result<(W, CntmpManifest)> {
        self.objects.sort_by(|a, b| a.fqn.cmp(&b.fqn));
        let manifest = CntmpManifest {
            format: CNTMP_FORMAT.to_string(),
            format_version: CNTMP_FORMAT_VERSION,
            producer: continuum_core::producer(),
            objects: self.objects,
        };
        let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::BadManifest {
            file: self.name.clone(),
            message: e.to_string(),
        })?;
        json.push(b'\n');
        self.zip
            .start_file(MANIFEST_ENTRY, entry_options(json.len() as u64))
            .map_err(|e| zip_error(&self.name, e))?;
        self.zip
            .write_all(&json)
            .map_err(|e| Error::io("write", &self.name, e))?;
        let inner = self.zip.finish().map_err(|e| zip_error(&self.name, e))?;
        Ok((inner, manifest))
    }
}

fn io_err(file: &str, entry: &str, e: io::Error) -> Error {
    match continuum_core::from_io(e) {
        Ok(ours) => Error::Core(ours),
        Err(e) => Error::BadEntry {
            file: file.to_string(),
            entry: entry.to_string(),
            reason: e.to_string(),
        },
    }
}

/// What a reader found in a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EntryInfo {
    /// The entry name.
    pub name: String,
    /// Its uncompressed size.
    pub size: u64,
    /// Its ZIP compression method (`stored`, `deflated` …).
    pub method: String,
}

/// An object read from a file, with its resources.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadObject {
    /// The object.
    pub object: Object,
    /// Its resources, in order.
    pub resources: Vec<ResourceRef>,
}

/// Reads and checks a cntmp file.
///
/// # Security
/// The file is untrusted. Entry names must be plain relative paths (no `..`, no absolute
/// path, no backslash, no control character), unique, and not links; sizes are bounded by
/// `limits`; every resource is read through a length limit and checked against its SHA-256
/// and length as it streams. Nothing is unpacked to disk by the reader.
pub struct CntmpReader {
    name: String,
    archive: ZipArchive<File>,
    entries: Vec<EntryInfo>,
    manifest: Option<CntmpManifest>,
    objects: Vec<ReadObject>,
    notes: Vec<String>,
}

impl std::fmt::Debug for CntmpReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CntmpReader")
            .field("name", &self.name)
            .field("entries", &self.entries.len())
            .field("objects", &self.objects.len())
            .finish_non_exhaustive()
    }
}

/// Is this one of the platform's resource entry names?
fn is_resource_entry(name: &str) -> bool {
    name.starts_with("PACKAGE_RESOURCE_")
}

impl CntmpReader {
    /// Opens a file and checks its directory and manifest (resources are checked when read).
    pub fn open(path: &Path, limits: Limits) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        Self::from_file(file, &path.display().to_string(), limits)
    }

    /// [`CntmpReader::open`] of a file open already (one with no name, say), called `name`
    /// in errors.
    pub fn from_file(file: File, name: &str, limits: Limits) -> Result<Self> {
        let name = name.to_string();
        let mut archive = ZipArchive::new(file).map_err(|e| zip_error(&name, e))?;
        if archive.has_duplicate_names() {
            return Err(Error::BadEntry {
                file: name,
                entry: "(directory)".to_string(),
                reason: "two entries have the same name".to_string(),
            });
        }
        if archive.len() as u64 > limits.max_entries {
            return Err(Error::Core(continuum_core::Error::LimitExceeded {
                entry: name,
                limit: limits.max_entries,
                unit: "entries",
            }));
        }
        let mut entries = Vec::with_capacity(archive.len());
        let mut total = 0u64;
        for i in 0..archive.len() {
            let f = archive.by_index_raw(i).map_err(|e| zip_error(&name, e))?;
            let raw = String::from_utf8_lossy(f.name_raw()).into_owned();
            let bad = |reason: String| Error::BadEntry {
                file: name.clone(),
                entry: shown_name(&raw),
                reason,
            };
            // The platform's names are ASCII; any other byte would be read as UTF-8 here and
            // as CP437 by the ZIP layer, which then finds no entry of the name we use.
            if std::str::from_utf8(f.name_raw()).is_err() {
                return Err(bad("its name is not UTF-8".to_string()));
            }
            if f.encrypted() {
                return Err(bad("encrypted entries are not supported".to_string()));
            }
            let path = MemberPath::parse(&raw).map_err(|e| bad(e.to_string()))?;
            if path.as_str() != raw {
                return Err(bad("entry names must be plain relative paths".to_string()));
            }
            if f.is_dir() || f.is_symlink() {
                return Err(bad(
                    "folders and links are not allowed in a cntmp".to_string()
                ));
            }
            if f.size() > limits.max_entry_size {
                return Err(bad(format!(
                    "its size {} exceeds the limit of {} bytes",
                    f.size(),
                    limits.max_entry_size
                )));
            }
            total = total.saturating_add(f.size());
            if total > limits.max_total_size {
                return Err(Error::Core(continuum_core::Error::LimitExceeded {
                    entry: name.clone(),
                    limit: limits.max_total_size,
                    unit: "bytes",
                }));
            }
            let method = match f.compression() {
                CompressionMethod::Stored => "stored".to_string(),
                CompressionMethod::Deflated => "deflated".to_string(),
                other => {
                    return Err(bad(format!("unsupported compression method {other:?}")));
                }
            };
            entries.push(EntryInfo {
                name: raw,
                size: f.size(),
                method,
            });
        }
        let mut reader = Self {
            name,
            archive,
            entries,
            manifest: None,
            objects: Vec::new(),
            notes: Vec::new(),
        };
        if reader.entries.iter().any(|e| e.name == MANIFEST_ENTRY) {
            reader.read_manifest()?;
        } else {
            reader.read_legacy()?;
        }
        Ok(reader)
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every entry.
    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// The manifest; `None` for a legacy file.
    pub fn manifest(&self) -> Option<&CntmpManifest> {
        self.manifest.as_ref()
    }

    /// The objects with their resources.
    pub fn objects(&self) -> &[ReadObject] {
        &self.objects
    }

    /// What a legacy file lacked, said plainly.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn entry_size(&self, entry: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|e| e.name == entry)
            .map(|e| e.size)
    }

    fn read_entry_bytes(&mut self, entry: &str, limit: u64) -> Result<Vec<u8>> {
        let mut f = self
            .archive
            .by_name(entry)
            .map_err(|e| entry_error(&self.name, entry, e))?;
        let mut out = Vec::new();
        let mut limited = LimitedReader::new(&mut f, limit, entry);
        limited
            .read_to_end(&mut out)
            .map_err(|e| io_err(&self.name, entry, e))?;
        Ok(out)
    }

    fn bad_manifest(&self, message: impl Into<String>) -> Error {
        Error::BadManifest {
            file: self.name.clone(),
            message: message.into(),
        }
    }

    fn read_manifest(&mut self) -> Result<()> {
        let bytes = self.read_entry_bytes(MANIFEST_ENTRY, MAX_MANIFEST)?;
        let values = json_values(&bytes);
        if values > MAX_JSON_VALUES {
            return Err(self.bad_manifest(format!(
                "it holds {values} JSON values, more than the {MAX_JSON_VALUES} a manifest may hold"
            )));
        }
        #[derive(Deserialize)]
        #[serde(expecting = "a cntmp manifest object")]
        struct Probe {
            format: Option<String>,
            format_version: Option<u64>,
        }
        let probe: Probe =
            serde_json::from_slice(&bytes).map_err(|e| self.bad_manifest(json_message(&e)))?;
        if probe.format.as_deref() != Some(CNTMP_FORMAT) {
            return Err(self.bad_manifest(format!("`format` must be `{CNTMP_FORMAT}`")));
        }
        match probe.format_version {
            Some(CNTMP_FORMAT_VERSION) => {}
            Some(v) => {
                return Err(Error::Core(continuum_core::Error::UnsupportedVersion {
                    path: format!("{}:{MANIFEST_ENTRY}", self.name),
                    found: v,
                    supported: CNTMP_FORMAT_VERSION,
                }));
            }
            None => return Err(self.bad_manifest("missing field `format_version`")),
        }
        let manifest: CntmpManifest =
            serde_json::from_slice(&bytes).map_err(|e| self.bad_manifest(json_message(&e)))?;
        let mut by_entry: BTreeMap<&str, &ResourceRef> = BTreeMap::new();
        let mut objects = Vec::with_capacity(manifest.objects.len());
        for mo in &manifest.objects {
            let object = Object::from_api_json(mo.kind, mo.metadata.clone())
                .map_err(|e| self.bad_manifest(format!("{} `{}`: {e}", mo.kind, mo.fqn)))?;
            if object.fqn() != &mo.fqn {
                return Err(self.bad_manifest(format!(
                    "`{}` carries the FQN `{}` in its metadata",
                    mo.fqn,
                    object.fqn()
                )));
            }
            object.check().map_err(|r| self.bad_manifest(r))?;
            let declared = object.resources();
            if declared.len() != mo.resources.len()
                || declared
                    .iter()
                    .zip(&mo.resources)
                    .any(|(d, r)| d.digest != r.sha256 || d.length != r.length)
            {
                return Err(self.bad_manifest(format!(
                    "`{}`: its resources do not match its metadata",
                    mo.fqn
                )));
            }
            for r in &mo.resources {
                if !is_resource_entry(&r.entry) {
                    return Err(self.bad_manifest(format!(
                        "`{}` is not a resource entry name",
                        shown_name(&r.entry)
                    )));
                }
                let Some(size) = self.entry_size(&r.entry) else {
                    return Err(Error::BadEntry {
                        file: self.name.clone(),
                        entry: shown_name(&r.entry),
                        reason: "the manifest lists it but the file does not hold it".to_string(),
                    });
                };
                if size != r.length {
                    return Err(Error::BadEntry {
                        file: self.name.clone(),
                        entry: r.entry.clone(),
                        reason: format!(
                            "the manifest declares {} bytes but the entry holds {size}",
                            r.length
                        ),
                    });
                }
                if let Some(other) = by_entry.insert(r.entry.as_str(), r)
                    && other.sha256 != r.sha256
                {
                    return Err(Error::BadEntry {
                        file: self.name.clone(),
                        entry: r.entry.clone(),
                        reason: "the manifest gives it two different digests".to_string(),
                    });
                }
            }
            objects.push(ReadObject {
                object,
                resources: mo.resources.clone(),
            });
        }
        self.objects = objects;
        self.manifest = Some(manifest);
        Ok(())
    }

    /// A file made by the platform's own tool: resources without our manifest.
    fn read_legacy(&mut self) -> Result<()> {
        let resource_entries: Vec<(String, u64)> = self
            .entries
            .iter()
            .filter(|e| is_resource_entry(&e.name))
            .map(|e| (e.name.clone(), e.size))
            .collect();
        let json_entries: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.name.ends_with(".json"))
            .map(|e| e.name.clone())
            .collect();
        self.notes.push(
            "no manifest.json: a file from the platform's own tool, read in legacy mode"
                .to_string(),
        );
        // Digests are computed by reading each resource once.
        let mut resources = Vec::with_capacity(resource_entries.len());
        for (entry, size) in &resource_entries {
            let mut f = self
                .archive
                .by_name(entry)
                .map_err(|e| entry_error(&self.name, entry, e))?;
            let mut hashing = continuum_core::HashingReader::new(LimitedReader::new(
                &mut f,
                *size,
                entry.as_str(),
            ));
            let mut head = [0u8; 8];
            let n = read_full(&mut hashing, &mut head).map_err(|e| io_err(&self.name, entry, e))?;
            io::copy(&mut hashing, &mut io::sink()).map_err(|e| io_err(&self.name, entry, e))?;
            let (_, sha256, length) = hashing.finish();
            if length != *size {
                return Err(Error::BadEntry {
                    file: self.name.clone(),
                    entry: entry.clone(),
                    reason: format!(
                        "the directory declares {size} bytes but the entry holds {length}"
                    ),
                });
            }
            resources.push(ResourceRef {
                entry: entry.clone(),
                sha256,
                length,
                compression: Compression::sniff(head.get(..n).unwrap_or_default()),
            });
        }
        // Metadata from any JSON entry that is an object of the API.
        let mut found: Vec<Object> = Vec::new();
        let mut values = 0usize;
        for entry in &json_entries {
            let bytes = self.read_entry_bytes(entry, MAX_MANIFEST)?;
            values = values.saturating_add(json_values(&bytes));
            if values > MAX_JSON_VALUES {
                return Err(Error::BadEntry {
                    file: self.name.clone(),
                    entry: shown_name(entry),
                    reason: format!(
                        "the JSON entries hold more than the {MAX_JSON_VALUES} values a file may hold"
                    ),
                });
            }
            let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
                self.notes.push(format!("`{entry}` is not JSON; ignored"));
                continue;
            };
            let kind = value
                .get("fqn")
                .and_then(Value::as_str)
                .and_then(|f| Fqn::parse(f).ok())
                .and_then(|f| f.resource_type())
                .and_then(ObjectKind::from_resource_type);
            match kind.map(|k| Object::from_api_json(k, legacy_metadata(value.clone()))) {
                Some(Ok(o)) if o.check().is_ok() => found.push(o),
                _ => self.notes.push(format!(
                    "`{entry}` holds no object the import understands; ignored"
                )),
            }
        }
        let packages: Vec<usize> = (0..found.len())
            .filter(|&i| matches!(found.get(i), Some(Object::Package(_))))
            .collect();
        let layers: Vec<PackageResource> = resources
            .iter()
            .map(|r| PackageResource {
                uuid: None,
                digest: r.sha256,
                length: r.length,
                extra: BTreeMap::new(),
            })
            .collect();
        match packages.as_slice() {
            [only] => {
                if let Some(Object::Package(p)) = found.get_mut(*only) {
                    p.resources = layers;
                }
            }
            [] if !resources.is_empty() => {
                let stem = Path::new(&self.name)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("package")
                    .to_string();
                let local: String = stem
                    .chars()
                    .map(|c| {
                        if c.is_whitespace() || c == ':' {
                            '-'
                        } else {
                            c
                        }
                    })
                    .collect();
                let fqn = Fqn::parse(&format!("package::/apcera/pkg/packages::{local}"))?;
                self.notes.push(format!(
                    "no package metadata: the {} resource(s) become `{fqn}`, with no dependencies, provides or environment",
                    resources.len()
                ));
                found.push(Object::Package(crate::objects::Package {
                    fqn,
                    uuid: None,
                    name: local,
                    resources: layers,
                    dependencies: Vec::new(),
                    provides: Vec::new(),
                    environment: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    extra: BTreeMap::new(),
                }));
            }
            [] => {}
            _ => {
                self.notes.push(
                    "several packages and no manifest: which resource belongs to which package is unknown; the packages are imported without resources".to_string(),
                );
                for &i in &packages {
                    if let Some(Object::Package(p)) = found.get_mut(i) {
                        p.resources.clear();
                    }
                }
            }
        }
        self.objects = found
            .into_iter()
            .map(|object| {
                let refs = object
                    .resources()
                    .iter()
                    .filter_map(|d| resources.iter().find(|r| r.sha256 == d.digest).cloned())
                    .collect();
                ReadObject {
                    object,
                    resources: refs,
                }
            })
            .collect();
        Ok(())
    }

    /// Streams a resource entry, checking its length and SHA-256: the reader fails (naming
    /// the entry) as soon as it runs long, or at its end when either differs.
    pub fn open_resource(&mut self, r: &ResourceRef) -> Result<CheckedEntry<'_>> {
        let name = self.name.clone();
        let file = self
            .archive
            .by_name(&r.entry)
            .map_err(|e| entry_error(&name, &r.entry, e))?;
        Ok(CheckedEntry {
            inner: LimitedReader::new(file, r.length, r.entry.as_str()),
            hasher: continuum_core::Hasher::new(),
            expected: r.sha256,
            length: r.length,
            entry: r.entry.clone(),
            file: name,
            done: false,
        })
    }

    /// Streams a resource entry bounded by its declared length, without hashing it: for a
    /// consumer that checks the SHA-256 itself (a registry staging with an expected digest),
    /// so the bytes are not hashed twice.
    pub(crate) fn open_entry(&mut self, r: &ResourceRef) -> Result<impl Read + '_> {
        let name = self.name.clone();
        let entry = r.entry.clone();
        let file = self
            .archive
            .by_name(&r.entry)
            .map_err(|e| entry_error(&name, &r.entry, e))?;
        let limited = LimitedReader::new(file, r.length, r.entry.as_str());
        Ok(NamedErrors {
            inner: limited,
            file: name,
            entry,
        })
    }

    /// Reads every resource the objects use and checks it; returns the bytes checked.
    pub fn verify(&mut self) -> Result<u64> {
        let refs: BTreeMap<String, ResourceRef> = self
            .objects
            .iter()
            .flat_map(|o| o.resources.iter().cloned())
            .map(|r| (r.entry.clone(), r))
            .collect();
        let mut bytes = 0;
        for r in refs.values() {
            let mut reader = self.open_resource(r)?;
            bytes += io::copy(&mut reader, &mut io::sink())
                .map_err(|e| io_err(&r.entry.clone(), &r.entry, e))?;
        }
        Ok(bytes)
    }
}

/// Counts the values of a JSON text without parsing it (an upper bound for valid JSON: every
/// `{`, `[`, `,` and `:` outside strings, plus one), so that a tree is built only for text
/// of a bounded number of values.
fn json_values(bytes: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (1usize, false, false);
    for &b in bytes {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'{' | b'[' | b',' | b':') => count += 1,
            (false, _, _) => {}
        }
    }
    count
}

/// Legacy metadata may carry the API's resource list with sha1 digests only: those are
/// dropped (the resources are taken from the entries).
fn legacy_metadata(mut value: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.remove("resources");
        map.remove("resource");
    }
    value
}

/// serde_json's message, with what it repeats of the document (unknown names and variants)
/// escaped and cut: a hostile manifest could put an escape sequence or megabytes there.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let (text, place) = full.split_at(full.rfind(" at line ").unwrap_or(full.len()));
    let mut shown = String::new();
    for c in text.chars().take(400) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if text.chars().nth(400).is_some() {
        shown.push('…');
    }
    shown + place
}

/// A resource entry read with its length and SHA-256 checked.
pub struct CheckedEntry<'a> {
    inner: LimitedReader<zip::read::ZipFile<'a, File>>,
    hasher: continuum_core::Hasher,
    expected: Digest,
    length: u64,
    entry: String,
    file: String,
    done: bool,
}

impl std::fmt::Debug for CheckedEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedEntry")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl Read for CheckedEntry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self
            .inner
            .read(buf)
            .map_err(|e| match continuum_core::from_io(e) {
                Ok(ours) => io::Error::other(ours),
                // The ZIP layer's own checks (CRC-32, a cut stream) name the entry too.
                Err(e) => io::Error::other(continuum_core::Error::Corrupt {
                    entry: format!("{}:{}", self.file, self.entry),
                    expected: "an entry that reads back whole".to_string(),
                    actual: e.to_string(),
                }),
            })?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        if n == 0 && !buf.is_empty() {
            self.done = true;
            let len = self.hasher.len();
            let digest = std::mem::take(&mut self.hasher).finish();
            if len != self.length || digest != self.expected {
                return Err(io::Error::other(continuum_core::Error::Corrupt {
                    entry: format!("{}:{}", self.file, self.entry),
                    expected: format!("{}, {} bytes", self.expected, self.length),
                    actual: format!("{digest}, {len} bytes"),
                }));
            }
        }
        Ok(n)
    }
}

/// Turns the ZIP layer's own read errors (CRC-32, a cut stream) into ours, naming the entry.
struct NamedErrors<R> {
    inner: R,
    file: String,
    entry: String,
}

impl<R: Read> Read for NamedErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| match continuum_core::from_io(e) {
                Ok(ours) => io::Error::other(ours),
                Err(e) => io::Error::other(continuum_core::Error::Corrupt {
                    entry: format!("{}:{}", self.file, self.entry),
                    expected: "an entry that reads back whole".to_string(),
                    actual: e.to_string(),
                }),
            })
    }
}

#[cfg(test)]
mod json_tests {
    #[test]
    fn zip_messages_name_no_rust_type() {
        assert_eq!(
            super::zip_message(
                "invalid Zip archive: Unexpected end of zip::format::blocks::Zip32CDEBlock"
            ),
            "invalid Zip archive: the file ends inside a ZIP record (cut short?)"
        );
        assert_eq!(super::zip_message("Invalid checksum"), "Invalid checksum");
    }

    #[test]
    fn counts_json_values_outside_strings() {
        assert_eq!(super::json_values(b"0"), 1);
        assert_eq!(super::json_values(b"[0,0,0]"), 4);
        assert_eq!(super::json_values(br#"{"a":[1,2],"b,:[{":"\",{"}"#), 7);
        let bomb = format!("[{}0]", "0,".repeat(1 << 21));
        assert!(super::json_values(bomb.as_bytes()) > super::MAX_JSON_VALUES);
    }
}

#[cfg(test)]
mod schema_tests {
    #[test]
    fn committed_schema_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/schemas/cntmp-manifest.schema.json"
        );
        let generated = super::CntmpManifest::json_schema();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, generated,
            "run with UPDATE_SCHEMAS=1 to refresh docs/schemas"
        );
    }
}
