//! The backup-set manifest: the commit marker of a set and the record of its artifacts.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::archive::{Compression, MemberPath};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fqn::Fqn;

/// The newest manifest format this build writes and reads.
///
/// Version 2 added encrypted sets (a [`CatalogRef`] in the clear manifest, [`Plaintext`]
/// digests in the encrypted catalog). A manifest is written with the lowest version that
/// holds it ([`Manifest::required_version`]), so a set in clear stays readable by builds
/// that read version 1 only; this build reads both.
pub const MANIFEST_FORMAT_VERSION: u64 = 2;

/// The oldest manifest format this build reads.
const OLDEST_READ_VERSION: u64 = 1;

/// The kind of data an artifact holds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DataKind {
    /// Operational state: installation files, databases, the orchestrator.
    Cluster,
    /// Policy documents.
    Policy,
    /// Packages and jobs.
    Job,
    /// Logs.
    Log,
}

impl DataKind {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::Policy => "policy",
            Self::Job => "job",
            Self::Log => "log",
        }
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DataKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cluster" => Ok(Self::Cluster),
            "policy" => Ok(Self::Policy),
            "job" => Ok(Self::Job),
            "log" => Ok(Self::Log),
            _ => Err(Error::InvalidInput {
                what: "data kind",
                value: s.to_string(),
                reason: "expected one of cluster, policy, job, log".to_string(),
            }),
        }
    }
}

/// Why a backup set was made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    Default,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Reason {
    /// The daily schedule.
    Daily,
    /// A platform deploy.
    Deploy,
    /// Asked for by an operator.
    #[default]
    Manual,
    /// Moving to another cluster.
    Migration,
}

impl Reason {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Deploy => "deploy",
            Self::Manual => "manual",
            Self::Migration => "migration",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "daily" => Ok(Self::Daily),
            "deploy" => Ok(Self::Deploy),
            "manual" => Ok(Self::Manual),
            "migration" => Ok(Self::Migration),
            _ => Err(Error::InvalidInput {
                what: "reason",
                value: s.to_string(),
                reason: "expected one of daily, deploy, manual, migration".to_string(),
            }),
        }
    }
}

/// How an artifact is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(tag = "scheme", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Encryption {
    /// Stored in clear.
    #[default]
    None,
    /// age, to the listed X25519 recipients (public keys only).
    Age {
        /// The recipients' public keys.
        recipients: Vec<String>,
    },
}

/// Kind-specific details of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArtifactDetails {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// A file copied as is.
    File {
        /// Where the file came from (as given by the caller; informative).
        source: String,
    },
    /// A database dump.
    Database {
        /// The database name.
        database: String,
        /// The server version, as `SHOW server_version` gives it.
        server_version: String,
        /// Rows per table at dump time (`schema.table` → rows).
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        row_counts: std::collections::BTreeMap<String, u64>,
    },
    /// Job data: the objects in a cntmp.
    Job {
        /// The FQNs of the objects.
        #[schemars(with = "Vec<String>")]
        fqns: Vec<Fqn>,
    },
    /// Policy documents.
    Policy {
        /// The document names.
        documents: Vec<String>,
    },
}

/// The size and SHA-256 of an encrypted artifact's plaintext. Recorded only in the
/// encrypted catalog of a set, never in its manifest in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an object with the plaintext's `size` and `sha256`")]
#[non_exhaustive]
pub struct Plaintext {
    /// The plaintext's size in bytes.
    pub size: u64,
    /// The plaintext's SHA-256.
    pub sha256: Digest,
}

impl Plaintext {
    /// A plaintext record.
    pub fn new(size: u64, sha256: Digest) -> Self {
        Self { size, sha256 }
    }
}

/// Where an encrypted set keeps its catalog: the full manifest (details and plaintext
/// digests included), encrypted to the set's recipients. Named in the manifest in clear,
/// which records the size and SHA-256 of the encrypted object so that a set is checked
/// whole without any secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with the catalog's `path`, `size`, `sha256` and `encryption`")]
#[non_exhaustive]
pub struct CatalogRef {
    /// Its object path inside the set (`catalog.json.age`).
    pub path: MemberPath,
    /// Its size in bytes, as stored (encrypted).
    pub size: u64,
    /// The SHA-256 of the stored (encrypted) bytes.
    pub sha256: Digest,
    /// How it is encrypted.
    pub encryption: Encryption,
}

/// One artifact of a backup set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(expecting = "an artifact object")]
#[non_exhaustive]
pub struct Artifact {
    /// The kind of data.
    pub kind: DataKind,
    /// The component it belongs to (`component-database`, `installation-files` …).
    pub component: String,
    /// Its name, unique in the set.
    pub name: String,
    /// Its object path inside the set.
    pub path: MemberPath,
    /// Its size in bytes, as stored.
    pub size: u64,
    /// The SHA-256 of the stored bytes.
    pub sha256: Digest,
    /// How the stored bytes are compressed.
    pub compression: Compression,
    /// How the stored bytes are encrypted.
    #[serde(default)]
    pub encryption: Encryption,
    /// When it was written.
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    /// Kind-specific details (`none` in the manifest in clear of an encrypted set: they are
    /// in its catalog).
    #[serde(default)]
    pub details: ArtifactDetails,
    /// The size and SHA-256 of the plaintext of an encrypted artifact: present in the
    /// encrypted catalog only (format version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<Plaintext>,
}

impl Artifact {
    /// True when the stored bytes are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encryption != Encryption::None
    }
}

/// The manifest of a backup set; written last, it commits the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "a manifest object")]
#[non_exhaustive]
pub struct Manifest {
    /// The format version: the lowest that holds this manifest when written by this build
    /// (1 for a set in clear, 2 for an encrypted set; see [`MANIFEST_FORMAT_VERSION`]).
    pub format_version: u64,
    /// The set's id.
    pub set_id: String,
    /// When the set was started (UTC).
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    /// The writer: `continuum-backup <version>`.
    pub producer: String,
    /// The cluster backed up, when known.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// Why the set was made.
    pub reason: Reason,
    /// The artifacts.
    pub artifacts: Vec<Artifact>,
    /// The encrypted catalog of an encrypted set (format version 2); absent for a set in
    /// clear, and in the catalog itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogRef>,
}

impl Manifest {
    /// Serializes as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parses and checks a manifest: its version first, then its shape, then its consistency.
    pub fn from_json(path: &str, bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(expecting = "a manifest object")]
        struct VersionOnly {
            format_version: Option<u64>,
        }
        // Anything but an object would be read as a list of the fields in order (serde's
        // other form of a struct) and end in a puzzling message.
        if let Some(at) = bytes.iter().position(|b| !b.is_ascii_whitespace())
            && bytes.get(at) != Some(&b'{')
        {
            let before = bytes.get(..at).unwrap_or_default();
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            return Err(Error::InvalidDocument {
                path: path.to_string(),
                line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
                column: 1 + at - line_start,
                message: "expected a manifest object, starting with `{`".to_string(),
            });
        }
        let probe: VersionOnly =
            serde_json::from_slice(bytes).map_err(|e| Error::json(path, &e))?;
        match probe.format_version {
            Some(OLDEST_READ_VERSION..=MANIFEST_FORMAT_VERSION) => {}
            Some(found) => {
                return Err(Error::UnsupportedVersion {
                    path: path.to_string(),
                    found,
                    supported: MANIFEST_FORMAT_VERSION,
                });
            }
            None => {
                return Err(Error::InvalidDocument {
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    message: "missing field `format_version`".to_string(),
                });
            }
        }
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| Error::json(path, &e))?;
        manifest.check(path)?;
        Ok(manifest)
    }

    fn check(&self, path: &str) -> Result<()> {
        validate_set_id(&self.set_id)?;
        let invalid = |message: String| Error::InvalidDocument {
            path: path.to_string(),
            line: 1,
            column: 1,
            message,
        };
        if self.format_version < self.required_version() {
            return Err(invalid(format!(
                "an encrypted set (fields `catalog`, `plaintext`) needs format version {}, \
                 found {}",
                self.required_version(),
                self.format_version
            )));
        }
        if self.catalog.is_some() {
            // The manifest in clear of an encrypted set tells nothing of the content.
            if let Some(a) = self.artifacts.iter().find(|a| {
                !a.is_encrypted() || a.plaintext.is_some() || a.details != ArtifactDetails::None
            }) {
                return Err(invalid(format!(
                    "artifact `{}` of an encrypted set must be encrypted and have no details \
                     or plaintext digest in clear",
                    a.name
                )));
            }
        }
        let mut names = BTreeSet::new();
        let mut paths = BTreeSet::new();
        for a in &self.artifacts {
            if !names.insert(a.name.as_str()) || !paths.insert(a.path.as_str()) {
                return Err(Error::InvalidDocument {
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    message: format!("artifact `{}` appears twice", a.name),
                });
            }
        }
        Ok(())
    }

    /// The JSON Schema of the manifest, as committed in `docs/schemas/manifest.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Manifest);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The lowest format version that holds this manifest: 2 when it has a catalog or
    /// plaintext digests, else 1.
    pub fn required_version(&self) -> u64 {
        if self.catalog.is_some() || self.artifacts.iter().any(|a| a.plaintext.is_some()) {
            2
        } else {
            1
        }
    }

    /// True when the set is encrypted (its details are in an encrypted catalog).
    pub fn is_encrypted(&self) -> bool {
        self.catalog.is_some()
    }

    /// Total stored bytes of all artifacts.
    pub fn total_size(&self) -> u64 {
        self.artifacts.iter().map(|a| a.size).sum()
    }
}

/// Checks a set id: `YYYYMMDDTHHMMSSZ-` and 8 lowercase hex digits, or any other id made of
/// ASCII letters, digits, `-`, `_` and `.`, 1 to 64 long, not starting with `.`.
pub fn validate_set_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        // A hostile id may be megabytes long: the message shows its start.
        let shown: String = id.chars().take(80).collect();
        let value = if shown.len() < id.len() {
            format!("{}… ({} bytes)", crate::error::printable(&shown), id.len())
        } else {
            crate::error::printable(id)
        };
        Err(Error::InvalidInput {
            what: "set id",
            value,
            reason: "expected 1 to 64 ASCII letters, digits, `-`, `_` or `.`".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let ts: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        Manifest {
            format_version: 1,
            set_id: "20261125T120000Z-0a1b2c3d".to_string(),
            created_at: ts,
            producer: "continuum-backup 0.1.0".to_string(),
            cluster_name: Some("prod".to_string()),
            reason: Reason::Daily,
            artifacts: vec![
                Artifact {
                    kind: DataKind::Cluster,
                    component: "component-database".to_string(),
                    name: "component-database.sql.zst".to_string(),
                    path: MemberPath::parse("artifacts/component-database.sql.zst").unwrap(),
                    size: 1234,
                    sha256: Digest::of(b"dump"),
                    compression: Compression::Zstd,
                    encryption: Encryption::None,
                    created_at: ts,
                    details: ArtifactDetails::Database {
                        database: "component".to_string(),
                        server_version: "15.18".to_string(),
                        row_counts: [("public.jobs".to_string(), 42)].into(),
                    },
                    plaintext: None,
                },
                Artifact {
                    kind: DataKind::Job,
                    component: "job-data".to_string(),
                    name: "all.cntmp".to_string(),
                    path: MemberPath::parse("artifacts/all.cntmp").unwrap(),
                    size: 99,
                    sha256: Digest::of(b"cntmp"),
                    compression: Compression::None,
                    encryption: Encryption::Age {
                        recipients: vec!["age1example".to_string()],
                    },
                    created_at: ts,
                    details: ArtifactDetails::Job {
                        fqns: vec![Fqn::parse("package::/apcera/pkg/runtimes::go-1.5.1").unwrap()],
                    },
                    plaintext: None,
                },
            ],
            catalog: None,
        }
    }

    /// An encrypted set: its manifest in clear and its catalog.
    fn encrypted_sample() -> (Manifest, Manifest) {
        let age = Encryption::Age {
            recipients: vec![
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".to_string(),
            ],
        };
        let mut catalog = sample();
        catalog.format_version = 2;
        for (i, a) in catalog.artifacts.iter_mut().enumerate() {
            a.encryption = age.clone();
            a.plaintext = Some(Plaintext::new(
                1000 + i as u64,
                Digest::of(a.name.as_bytes()),
            ));
        }
        let mut clear = catalog.clone();
        for a in &mut clear.artifacts {
            a.details = ArtifactDetails::None;
            a.plaintext = None;
        }
        clear.catalog = Some(CatalogRef {
            path: MemberPath::parse("catalog.json.age").unwrap(),
            size: 777,
            sha256: Digest::of(b"catalog"),
            encryption: age,
        });
        (clear, catalog)
    }

    #[test]
    fn snapshot_of_an_encrypted_set() {
        let (clear, catalog) = encrypted_sample();
        assert_eq!(clear.required_version(), 2);
        assert_eq!(catalog.required_version(), 2);
        insta::assert_snapshot!(
            "encrypted_manifest_in_clear",
            String::from_utf8(clear.to_json()).unwrap()
        );
        insta::assert_snapshot!(
            "encrypted_catalog",
            String::from_utf8(catalog.to_json()).unwrap()
        );
        for m in [&clear, &catalog] {
            assert_eq!(&Manifest::from_json("m.json", &m.to_json()).unwrap(), m);
        }
        let text = String::from_utf8(clear.to_json()).unwrap();
        for secret in [
            "plaintext",
            "row_counts",
            "server_version",
            "fqns",
            "apcera",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn encrypted_sets_keep_their_rules() {
        let (clear, catalog) = encrypted_sample();

        // version 2 fields in a version 1 document
        for m in [&clear, &catalog] {
            let mut v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
            v["format_version"] = 1.into();
            let e = Manifest::from_json("m.json", v.to_string().as_bytes()).unwrap_err();
            assert!(e.to_string().contains("needs format version 2"), "{e}");
        }

        // an encrypted set's manifest in clear must not tell details or plaintext digests
        let mut leaky = clear.clone();
        leaky.artifacts[0].details = catalog.artifacts[0].details.clone();
        let e = Manifest::from_json("m.json", &leaky.to_json()).unwrap_err();
        assert!(e.to_string().contains("no details"), "{e}");
        let mut leaky = clear.clone();
        leaky.artifacts[1].plaintext = catalog.artifacts[1].plaintext;
        assert!(Manifest::from_json("m.json", &leaky.to_json()).is_err());
        let mut leaky = clear.clone();
        leaky.artifacts[1].encryption = Encryption::None;
        assert!(Manifest::from_json("m.json", &leaky.to_json()).is_err());

        // a set in clear is still written as version 1, byte for byte
        assert_eq!(sample().required_version(), 1);
        assert!(!sample().is_encrypted() && clear.is_encrypted());
    }

    #[test]
    fn snapshot_of_the_format() {
        let m = sample();
        insta::assert_snapshot!(String::from_utf8(m.to_json()).unwrap());
        assert_eq!(
            Manifest::from_json("manifest.json", &m.to_json()).unwrap(),
            m
        );
    }

    #[test]
    fn committed_schema_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/schemas/manifest.schema.json"
        );
        let generated = Manifest::json_schema();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, generated,
            "run with UPDATE_SCHEMAS=1 to refresh docs/schemas"
        );
    }

    #[test]
    fn refuses_other_versions_and_bad_shapes() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["format_version"] = 3.into();
        let e = Manifest::from_json("m.json", v.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::UnsupportedVersion {
                    found: 3,
                    supported: 2,
                    ..
                }
            ),
            "{e}"
        );
        v["format_version"] = 0.into();
        assert!(Manifest::from_json("m.json", v.to_string().as_bytes()).is_err());

        let e = Manifest::from_json("m.json", b"{\"set_id\": 1}").unwrap_err();
        assert!(
            e.to_string().contains("missing field `format_version`"),
            "{e}"
        );

        let e = Manifest::from_json("m.json", b"{\n  \"format_version\": 1,\n  \"set_id\": 5\n}")
            .unwrap_err();
        assert!(e.to_string().starts_with("`m.json` line 3"), "{e}");

        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["artifacts"][1]["path"] = "../escape".into();
        let e = Manifest::from_json("m.json", v.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("`..`"), "{e}");

        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["artifacts"][1]["name"] = v["artifacts"][0]["name"].clone();
        let e = Manifest::from_json("m.json", v.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");

        // Messages name no Rust type and do not repeat a megabyte-long value.
        for (doc, expected) in [
            (
                "\n  [1]",
                "`m.json` line 2 column 3: expected a manifest object",
            ),
            (
                r#"{"format_version": 1, "artifacts": [1]}"#,
                "expected an artifact object",
            ),
        ] {
            let e = Manifest::from_json("m.json", doc.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(expected), "{e}");
        }
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        v["set_id"] = "i".repeat(1 << 20).into();
        let e = Manifest::from_json("m.json", v.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().len() < 300, "{e}");
        assert!(e.to_string().contains("… (1048576 bytes)`"), "{e}");
    }
}
