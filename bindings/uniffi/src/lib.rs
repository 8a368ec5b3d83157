#![doc = include_str!("../README.md")]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use continuum_core::{
    ArtifactCheck as CoreArtifactCheck, CheckStatus, DataKind, DynStore, Namespace, PruneOptions,
    Reason, ResourceType, RetentionPolicy, S3Options, Secret, SetOptions, StoreOptions,
};
use serde::Serialize;

mod cntmp;
mod error;
mod orchestrator;
mod platform;
mod policy;

pub use crate::cntmp::*;
pub use crate::error::{ContinuumError, Result};
pub use crate::orchestrator::*;
pub use crate::platform::*;
pub use crate::policy::*;

uniffi::setup_scaffolding!();

/// The version of the library these bindings wrap (`0.1.0`).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

// ---------------------------------------------------------------------------------------
// Conversions shared by the modules.

/// A count as the foreign languages take it (they have no `usize`).
pub(crate) fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A path as text (lossy only for paths that are not UTF-8).
pub(crate) fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The name serde gives a unit variant (`backed_up`, `config_file` …): the names of the
/// library's JSON reports.
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// A report as the library serializes it (`{}` if it cannot be, which its types never do).
pub(crate) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

/// A timestamp in RFC 3339, UTC.
pub(crate) fn timestamp(ts: impl std::fmt::Display) -> String {
    ts.to_string()
}

// ---------------------------------------------------------------------------------------
// FQN.

/// A fully qualified name: `type::/namespace::local_name`.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Display, Eq, Hash)]
pub struct Fqn(continuum_core::Fqn);

impl std::fmt::Display for Fqn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for Fqn {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Fqn {}

impl std::hash::Hash for Fqn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

#[uniffi::export]
impl Fqn {
    /// Parses `text`; `default_type` (`package`, `job` …) is the type of an FQN without one.
    #[uniffi::constructor(default(default_type = None))]
    pub fn parse(text: String, default_type: Option<String>) -> Result<Self> {
        let parsed = match default_type {
            None => continuum_core::Fqn::parse(&text)?,
            Some(t) => continuum_core::Fqn::parse_as(&text, t.parse::<ResourceType>()?)?,
        };
        Ok(Self(parsed))
    }

    /// The resource type (`package`), if the FQN has one.
    pub fn resource_type(&self) -> Option<String> {
        self.0.resource_type().map(|t| t.as_str().to_string())
    }

    /// The namespace (`/apcera/pkg/runtimes`).
    pub fn namespace(&self) -> String {
        self.0.namespace().as_str().to_string()
    }

    /// The local name (`go-1.5.1`); none for a realm.
    pub fn local_name(&self) -> Option<String> {
        self.0.local_name().map(str::to_string)
    }

    /// True when the FQN names a realm (it has no local name).
    pub fn is_realm(&self) -> bool {
        self.0.is_realm()
    }

    /// The same type and local name in another namespace.
    pub fn with_namespace(&self, namespace: String) -> Result<Arc<Self>> {
        let namespace = Namespace::parse(&namespace)?;
        Ok(Arc::new(Self(self.0.with_namespace(namespace))))
    }

    /// The FQN as text.
    pub fn text(&self) -> String {
        self.0.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Stores and backup sets.

/// How to reach an S3 store; what is left unset comes from the standard `AWS_*` variables.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct S3Settings {
    #[uniffi(default = None)]
    pub endpoint: Option<String>,
    #[uniffi(default = None)]
    pub region: Option<String>,
    #[uniffi(default = None)]
    pub path_style: Option<bool>,
    #[uniffi(default = None)]
    pub access_key_id: Option<String>,
    #[uniffi(default = None)]
    pub secret_access_key: Option<String>,
    #[uniffi(default = None)]
    pub session_token: Option<String>,
}

impl S3Settings {
    fn store_options(self) -> StoreOptions {
        let mut s3 = S3Options::default();
        s3.endpoint = self.endpoint;
        s3.region = self.region;
        if let Some(path_style) = self.path_style {
            s3.path_style = path_style;
        }
        s3.access_key_id = self.access_key_id.map(Secret::new);
        s3.secret_access_key = self.secret_access_key.map(Secret::new);
        s3.session_token = self.session_token.map(Secret::new);
        StoreOptions::with_s3(s3)
    }
}

/// A backup store: a folder (a path or `file:///…`) or an S3 bucket (`s3://bucket/prefix`).
#[derive(Debug, uniffi::Object)]
pub struct Store(pub(crate) DynStore);

/// What `Store.create_set` files the given files under.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SetSpec {
    /// `cluster`, `policy`, `job` or `log`.
    #[uniffi(default = "cluster")]
    pub kind: String,
    /// The component (`files`, `installation-files` …).
    #[uniffi(default = "files")]
    pub component: String,
    /// `daily`, `deploy`, `manual` or `migration`.
    #[uniffi(default = "manual")]
    pub reason: String,
    #[uniffi(default = None)]
    pub cluster_name: Option<String>,
}

/// Which sets `Store.prune` keeps (a policy with no rule is refused).
#[derive(Debug, Clone, uniffi::Record)]
pub struct PruneSettings {
    #[uniffi(default = 0)]
    pub keep_last: u32,
    #[uniffi(default = 0)]
    pub keep_daily: u32,
    #[uniffi(default = 0)]
    pub keep_weekly: u32,
    #[uniffi(default = 0)]
    pub keep_monthly: u32,
    /// Never keep fewer than this many sets, whatever the rules say.
    #[uniffi(default = 0)]
    pub min_keep: u32,
    /// Report without removing anything.
    #[uniffi(default = false)]
    pub dry_run: bool,
    /// Incomplete sets (and temporaries) younger than this may still be being written.
    #[uniffi(default = 3600)]
    pub incomplete_grace_seconds: u64,
    /// Apply the policy only to the sets made for this reason.
    #[uniffi(default = None)]
    pub reason: Option<String>,
}

/// One artifact of a backup set.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Artifact {
    pub kind: String,
    pub component: String,
    pub name: String,
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub compression: String,
    pub encrypted: bool,
    pub created_at: String,
}

/// The manifest of a committed backup set; `json` is `manifest.json` itself.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Manifest {
    pub set_id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub producer: String,
    pub cluster_name: Option<String>,
    pub reason: String,
    /// The set is encrypted (its details are in its encrypted catalog).
    pub encrypted: bool,
    pub artifacts: Vec<Artifact>,
    pub json: String,
}

impl From<continuum_core::Manifest> for Manifest {
    fn from(m: continuum_core::Manifest) -> Self {
        Self {
            json: String::from_utf8_lossy(&m.to_json()).into_owned(),
            set_id: m.set_id,
            created_at: timestamp(m.created_at),
            producer: m.producer,
            cluster_name: m.cluster_name,
            reason: m.reason.as_str().to_string(),
            encrypted: m.catalog.is_some(),
            artifacts: m
                .artifacts
                .into_iter()
                .map(|a| Artifact {
                    kind: a.kind.as_str().to_string(),
                    encrypted: a.is_encrypted(),
                    component: a.component,
                    name: a.name,
                    path: a.path.as_str().to_string(),
                    size: a.size,
                    sha256: a.sha256.to_string(),
                    compression: a.compression.as_str().to_string(),
                    created_at: timestamp(a.created_at),
                })
                .collect(),
        }
    }
}

/// The check of one artifact: `status` is `ok`, `missing`, `size_mismatch`,
/// `digest_mismatch` or `read_error`, and `detail` says more when it is not `ok`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ArtifactCheck {
    pub name: String,
    pub path: String,
    pub status: String,
    pub detail: Option<String>,
}

impl From<CoreArtifactCheck> for ArtifactCheck {
    fn from(c: CoreArtifactCheck) -> Self {
        let detail = match &c.status {
            CheckStatus::Ok | CheckStatus::Missing => None,
            CheckStatus::SizeMismatch { expected, actual } => {
                Some(format!("expected {expected} bytes, found {actual}"))
            }
            CheckStatus::DigestMismatch { expected, actual } => {
                Some(format!("expected sha256 {expected}, found {actual}"))
            }
            CheckStatus::ReadError { message } => Some(message.clone()),
            other => Some(format!("{other:?}")),
        };
        Self {
            status: serde_json::to_value(&c.status)
                .ok()
                .and_then(|v| v.get("status")?.as_str().map(str::to_string))
                .unwrap_or_default(),
            name: c.name,
            path: c.path,
            detail,
        }
    }
}

/// The outcome of `Store.verify_set`: `ok` when every artifact checked out.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerifyReport {
    pub set_id: String,
    pub ok: bool,
    pub bytes_checked: u64,
    pub artifacts: Vec<ArtifactCheck>,
    /// Objects in the set that the manifest does not name (reported, not an error).
    pub unexpected_objects: Vec<String>,
    pub json: String,
}

/// What prune decided for one committed set, and why.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PruneDecision {
    pub set_id: String,
    pub created_at: String,
    pub keep: bool,
    pub reasons: Vec<String>,
}

/// What prune decided for an incomplete or unreadable set.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LeftoverDecision {
    pub set_id: String,
    pub objects: u64,
    pub remove: bool,
    pub reason: String,
}

/// The outcome of `Store.prune`; `json` has every detail (temporaries included).
#[derive(Debug, Clone, uniffi::Record)]
pub struct PruneReport {
    pub dry_run: bool,
    /// One per committed set, newest first.
    pub decisions: Vec<PruneDecision>,
    pub leftovers: Vec<LeftoverDecision>,
    pub removed_objects: u64,
    pub removed_bytes: u64,
    pub json: String,
}

#[uniffi::export]
impl Store {
    /// Opens the store `url` names; `s3` applies to an `s3://` URL only.
    #[uniffi::constructor(default(s3 = None))]
    pub fn open(url: String, s3: Option<S3Settings>) -> Result<Self> {
        let options = s3.unwrap_or_default().store_options();
        Ok(Self(continuum_core::open_store(&url, &options)?))
    }

    /// The store's URL, without credentials.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// A new backup set holding `files`, committed.
    pub fn create_set(&self, files: Vec<String>, spec: SetSpec) -> Result<Manifest> {
        let kind: DataKind = spec.kind.parse()?;
        let mut options = SetOptions::new(spec.reason.parse::<Reason>()?);
        options.cluster_name = spec.cluster_name;
        let files: Vec<PathBuf> = files.into_iter().map(PathBuf::from).collect();
        let manifest = continuum_core::create_set_from_files(
            self.0.clone(),
            &files,
            kind,
            &spec.component,
            options,
        )?;
        Ok(manifest.into())
    }

    /// The committed sets, oldest first.
    pub fn list_sets(&self) -> Result<Vec<Manifest>> {
        let sets = continuum_core::list_sets(&*self.0)?;
        Ok(sets.into_iter().map(Manifest::from).collect())
    }

    /// Reads every artifact of a set and checks its size and SHA-256.
    pub fn verify_set(&self, set_id: String) -> Result<VerifyReport> {
        let report = continuum_core::verify_set(&*self.0, &set_id)?;
        Ok(VerifyReport {
            json: json(&report),
            set_id: report.set_id,
            ok: report.ok,
            bytes_checked: report.bytes_checked,
            artifacts: report
                .artifacts
                .into_iter()
                .map(ArtifactCheck::from)
                .collect(),
            unexpected_objects: report.unexpected_objects,
        })
    }

    /// Applies a retention policy: removes the sets no rule keeps and old leftovers.
    pub fn prune(&self, settings: PruneSettings) -> Result<PruneReport> {
        let mut policy = RetentionPolicy::default();
        policy.keep_last = settings.keep_last;
        policy.keep_daily = settings.keep_daily;
        policy.keep_weekly = settings.keep_weekly;
        policy.keep_monthly = settings.keep_monthly;
        policy.min_keep = settings.min_keep;
        let mut options = PruneOptions::new(policy);
        options.dry_run = settings.dry_run;
        options.incomplete_grace = Duration::from_secs(settings.incomplete_grace_seconds);
        options.reason = settings.reason.map(|r| r.parse::<Reason>()).transpose()?;
        let report = continuum_core::prune(&*self.0, &options)?;
        Ok(PruneReport {
            json: json(&report),
            dry_run: report.dry_run,
            decisions: report
                .decisions
                .into_iter()
                .map(|d| PruneDecision {
                    set_id: d.set_id,
                    created_at: timestamp(d.created_at),
                    keep: d.keep,
                    reasons: d.reasons,
                })
                .collect(),
            leftovers: report
                .leftovers
                .into_iter()
                .map(|l| LeftoverDecision {
                    set_id: l.set_id,
                    objects: count(l.objects),
                    remove: l.remove,
                    reason: l.reason,
                })
                .collect(),
            removed_objects: report.removed_objects,
            removed_bytes: report.removed_bytes,
        })
    }
}

/// An age key pair for encrypted backups: give `public_key` to `encrypt_to`, keep
/// `secret_key` (in an identity file) to restore.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AgeKeyPair {
    pub secret_key: String,
    pub public_key: String,
}

/// A new age key pair.
#[uniffi::export]
pub fn generate_identity() -> AgeKeyPair {
    let (secret_key, public_key) = continuum_core::generate_identity();
    AgeKeyPair {
        secret_key,
        public_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_workspace_version() {
        assert_eq!(
            version(),
            continuum_core::producer().trim_start_matches("continuum-backup ")
        );
    }

    #[test]
    fn an_fqn_parses_and_a_bad_one_is_invalid_input() {
        let fqn = Fqn::parse("package::/apcera/pkg::go".to_string(), None).unwrap();
        assert_eq!(fqn.resource_type().as_deref(), Some("package"));
        assert_eq!(fqn.namespace(), "/apcera/pkg");
        assert_eq!(fqn.local_name().as_deref(), Some("go"));
        let typed = Fqn::parse("/apcera::tool".to_string(), Some("job".to_string())).unwrap();
        assert_eq!(typed.text(), "job::/apcera::tool");
        assert!(matches!(
            Fqn::parse("package::no-slash::x".to_string(), None),
            Err(ContinuumError::InvalidInput { .. })
        ));
    }

    #[test]
    fn a_folder_store_round_trips_a_set() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cluster.conf");
        std::fs::write(&file, "a: 1\n").unwrap();
        let store = Store::open(path_text(&dir.path().join("store")), None).unwrap();
        let spec = SetSpec {
            kind: "cluster".to_string(),
            component: "files".to_string(),
            reason: "manual".to_string(),
            cluster_name: Some("t".to_string()),
        };
        let manifest = store.create_set(vec![path_text(&file)], spec).unwrap();
        let sets = store.list_sets().unwrap();
        assert_eq!(sets.len(), 1);
        let report = store.verify_set(manifest.set_id).unwrap();
        assert!(report.ok);
        assert_eq!(report.artifacts[0].status, "ok");
    }
}
