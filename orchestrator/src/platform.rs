//! The whole platform in one backup set: every artifact of the [`BackupPlan`] produced in
//! parallel and streamed into one set whose manifest is written last; and its restore,
//! planned, applied and verified.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use continuum_cntmp::{FolderRegistry, Selection};
use continuum_core::{
    Artifact, ArtifactDetails, ArtifactSpec, DataKind, Digest, DynStore, Identities, Manifest,
    Reason, Recipients, SetOptions, SetWriter,
};
use continuum_policy::{FolderPolicyStore, PolicyStore};
use serde::{Deserialize, Serialize};

use crate::conf::ClusterConf;
use crate::db::{DbBackupOptions, Dump, dump_database, dump_globals, run_jobs};
use crate::dconf::redact_secrets;
use crate::error::{Error, Result};
use crate::install::{CLUSTER_CONF, collect_installation_files};
use crate::pg::PgTarget;
use crate::plan::{ArtifactSource, BackupPlan, PlanOptions};
use crate::progress::{Counting, ProgressFn, Tracker};

/// Folder of the set holding the database dumps.
pub const DATABASE_PREFIX: &str = "db/";
/// Folder of the set holding the installation files.
pub const INSTALLATION_PREFIX: &str = "install/";
/// Folder of the set holding the policy documents.
pub const POLICY_PREFIX: &str = "policy/";
/// The artifact holding all job data.
pub const JOB_DATA_ARTIFACT: &str = "job/all.cntmp";
/// The artifact holding roles and tablespaces in a platform set.
pub const PLATFORM_GLOBALS_ARTIFACT: &str = "db/globals.sql.zst";

/// Where the platform's data is read from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlatformSource {
    /// `cluster.conf`.
    pub config: PathBuf,
    /// The cluster folder: Terraform files, `policy/`, `jobdata/`.
    pub cluster_dir: PathBuf,
    /// The PostgreSQL server holding the component databases.
    pub target: PgTarget,
}

impl PlatformSource {
    /// A source.
    pub fn new(
        config: impl Into<PathBuf>,
        cluster_dir: impl Into<PathBuf>,
        target: PgTarget,
    ) -> Self {
        Self {
            config: config.into(),
            cluster_dir: cluster_dir.into(),
            target,
        }
    }
}

/// Options of [`backup_platform`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PlatformBackupOptions {
    /// Why the set is made.
    pub reason: Reason,
    /// Also export all job data (the platform leaves job data to its owner: opt-in).
    pub with_job_data: bool,
    /// Database name per component, where it is not the default.
    pub databases: BTreeMap<String, String>,
    /// Also save roles and tablespaces (`pg_dumpall --globals-only`, a superuser's right).
    pub with_globals: bool,
    /// Artifacts produced at once; 1 makes them one after the other; 0 means 4.
    pub parallel: usize,
    /// zstd level of the database dumps.
    pub zstd_level: i32,
    /// Encrypt every artifact and the catalog to these age recipients; `cluster.conf` then
    /// keeps its secrets (in clear sets they are replaced by a placeholder).
    #[serde(skip)]
    pub encrypt_to: Option<Recipients>,
}

impl Default for PlatformBackupOptions {
    fn default() -> Self {
        Self {
            reason: Reason::default(),
            with_job_data: false,
            databases: BTreeMap::new(),
            with_globals: true,
            parallel: 4,
            zstd_level: 3,
            encrypt_to: None,
        }
    }
}

/// One artifact a platform backup wrote.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BackedUpArtifact {
    /// Its name in the set.
    pub name: String,
    /// The component.
    pub component: String,
    /// The kind of data.
    pub kind: DataKind,
    /// Bytes stored.
    pub size: u64,
    /// Bytes read from the source.
    pub source_bytes: u64,
    /// Time it took.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

/// What [`backup_platform`] did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlatformBackupReport {
    /// The committed set.
    pub set_id: String,
    /// The store it is in.
    pub store: String,
    /// The plan it followed (what was backed up, what not and why).
    pub plan: BackupPlan,
    /// Every artifact, in name order.
    pub artifacts: Vec<BackedUpArtifact>,
    /// Bytes stored in all.
    pub bytes_stored: u64,
    /// Bytes read from the sources in all.
    pub bytes_read: u64,
    /// Artifacts produced at once.
    pub parallel: usize,
    /// Time from start to commit.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// Keys of `cluster.conf` whose values were replaced by a placeholder in the set.
    pub redacted_secrets: Vec<String>,
    /// Remarks.
    pub warnings: Vec<String>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One unit of work of a platform backup.
#[derive(Debug)]
enum Work {
    Database {
        component: String,
        database: String,
    },
    Globals,
    File {
        name: String,
        component: &'static str,
        kind: DataKind,
        path: PathBuf,
        redact: bool,
    },
    JobData,
}

impl Work {
    fn artifact_name(&self) -> String {
        match self {
            Self::Database { database, .. } => format!("{DATABASE_PREFIX}{database}.dump.zst"),
            Self::Globals => PLATFORM_GLOBALS_ARTIFACT.to_string(),
            Self::File { name, .. } => name.clone(),
            Self::JobData => JOB_DATA_ARTIFACT.to_string(),
        }
    }
}

/// Backs up the whole platform into one new set of `store`, following the plan made from
/// `cluster.conf`: the component databases (one snapshot-consistent `pg_dump` each, zstd),
/// the roles, the installation files (`cluster.conf` with its secrets replaced by a
/// placeholder, Terraform files), every policy document, and with `with_job_data` an
/// export-all cntmp.
///
/// Everything is checked before anything is written (the databases exist, the files are
/// readable). Artifacts are produced `parallel` at once and streamed into the store; the
/// manifest is written last. Any failure fails the whole backup: the error names the
/// artifact, what was written is removed, and no set is listed.
pub fn backup_platform(
    store: DynStore,
    source: &PlatformSource,
    options: &PlatformBackupOptions,
    progress: Option<&ProgressFn<'_>>,
) -> Result<PlatformBackupReport> {
    let started = Instant::now();
    let conf = ClusterConf::load(&source.config)?;
    let plan_options = PlanOptions {
        with_job_data: options.with_job_data,
        databases: options.databases.clone(),
        encrypted: options.encrypt_to.is_some(),
        ..PlanOptions::default()
    };
    let plan = BackupPlan::new(&conf, &plan_options)?;
    let mut warnings = plan.warnings.clone();

    // Everything the plan asks for, checked before anything is written.
    let mut work = Vec::new();
    let mut estimate = 0u64;
    let server_version;
    let has_databases = plan
        .artifacts()
        .any(|(_, a)| matches!(a.source, ArtifactSource::Database { .. }));
    if has_databases {
        server_version = source.target.server_version()?;
        let present: BTreeMap<String, Option<u64>> = source
            .target
            .list_databases()?
            .into_iter()
            .map(|d| (d.name, d.size))
            .collect();
        for (component, artifact) in plan.artifacts() {
            if let ArtifactSource::Database { database } = &artifact.source {
                let Some(size) = present.get(database) else {
                    return Err(Error::Artifact {
                        artifact: format!("{DATABASE_PREFIX}{database}.dump.zst"),
                        source: Box::new(Error::Database {
                            database: database.clone(),
                            source: Box::new(Error::Conf {
                                file: source.config.display().to_string(),
                                message: format!(
                                    "component `{}` needs database `{database}`, which the \
                                     server `{}` does not have (name it with a database option)",
                                    component.component,
                                    source.target.label()
                                ),
                            }),
                        }),
                    });
                };
                estimate += size.unwrap_or(0);
                work.push(Work::Database {
                    component: component.component.clone(),
                    database: database.clone(),
                });
            }
        }
        if options.with_globals {
            work.push(Work::Globals);
        }
    } else {
        server_version = String::new();
    }
    let mut redacted_secrets = Vec::new();
    for (_, artifact) in plan.artifacts() {
        match artifact.source {
            ArtifactSource::Database { .. } => {}
            ArtifactSource::InstallationFiles => {
                let files = collect_installation_files(&[&source.config, &source.cluster_dir])?;
                for file in files {
                    estimate += file.size;
                    let redact = file.name == CLUSTER_CONF && options.encrypt_to.is_none();
                    work.push(Work::File {
                        name: format!("{INSTALLATION_PREFIX}{}", file.name),
                        component: INSTALLATION_COMPONENT,
                        kind: DataKind::Cluster,
                        path: file.path,
                        redact,
                    });
                }
            }
            ArtifactSource::PolicyDocuments => {
                let policies = FolderPolicyStore::for_cluster(&source.cluster_dir);
                for name in policies.names()? {
                    let path = policies.dir().join(format!("{name}.pol"));
                    estimate += fs::metadata(&path).map_or(0, |m| m.len());
                    work.push(Work::File {
                        name: format!("{POLICY_PREFIX}{name}.pol"),
                        component: POLICY_COMPONENT,
                        kind: DataKind::Policy,
                        path,
                        redact: false,
                    });
                }
            }
            ArtifactSource::JobData => work.push(Work::JobData),
        }
    }
    if !work
        .iter()
        .any(|w| matches!(w, Work::File { name, .. } if name.ends_with(CLUSTER_CONF)))
    {
        warnings.push(format!(
            "no `{CLUSTER_CONF}` among the installation files: the set cannot rebuild the \
             cluster's configuration"
        ));
    }

    let mut set_options = SetOptions::new(options.reason);
    set_options.cluster_name = plan.cluster_name.clone();
    set_options.encryption = options.encrypt_to.clone();
    let writer = SetWriter::begin(store.clone(), set_options)?;
    let tracker = Tracker::new("backup", progress, work.len(), estimate);
    let db_options = {
        let mut o = DbBackupOptions::new(options.reason);
        o.zstd_level = options.zstd_level;
        // zstd workers shared between the dumps running at once.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        o.threads = u32::try_from((cpus / options.parallel.max(1)).max(1)).unwrap_or(1);
        o
    };
    let parallel = if options.parallel == 0 {
        4
    } else {
        options.parallel
    };
    let registry = if work.iter().any(|w| matches!(w, Work::JobData)) {
        Some(FolderRegistry::for_cluster(&source.cluster_dir)?)
    } else {
        None
    };
    let ctx = Context {
        writer: &writer,
        source,
        server_version: &server_version,
        db_options: &db_options,
        tracker: &tracker,
        registry: registry.as_ref(),
    };
    let produced = run_jobs(&work, parallel, "backup worker", |w| {
        let name = w.artifact_name();
        tracker.started(&name);
        let begun = Instant::now();
        match ctx.produce(w, &name) {
            Ok((artifact, source_bytes, redacted)) => {
                tracker.finished(&name);
                Ok((
                    BackedUpArtifact {
                        name: artifact.name,
                        component: artifact.component,
                        kind: artifact.kind,
                        size: artifact.size,
                        source_bytes,
                        duration: begun.elapsed(),
                    },
                    redacted,
                ))
            }
            Err(e) => {
                tracker.abandoned(&name);
                Err(Error::Artifact {
                    artifact: name,
                    source: Box::new(e),
                })
            }
        }
    });
    let produced = match produced {
        Ok(p) => p,
        Err(e) => {
            // Best effort: the error to report is the artifact's; `prune` removes the rest.
            let _ = writer.abort();
            return Err(e);
        }
    };
    let manifest = writer.commit()?;
    let mut artifacts = Vec::with_capacity(produced.len());
    for (artifact, redacted) in produced {
        redacted_secrets.extend(redacted);
        artifacts.push(artifact);
    }
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    if !redacted_secrets.is_empty() {
        warnings.push(format!(
            "`{CLUSTER_CONF}` is stored with {} secret value(s) replaced by a placeholder ({}): \
             fill them in after a restore, or encrypt the set to keep them",
            redacted_secrets.len(),
            redacted_secrets.join(", ")
        ));
    }
    Ok(PlatformBackupReport {
        set_id: manifest.set_id.clone(),
        store: store.url(),
        bytes_stored: manifest.total_size(),
        bytes_read: artifacts.iter().map(|a| a.source_bytes).sum(),
        plan,
        artifacts,
        parallel,
        duration: started.elapsed(),
        redacted_secrets,
        warnings,
    })
}

/// The component installation files are filed under.
pub const INSTALLATION_COMPONENT: &str = "installation-files";
/// The component policy documents are filed under.
pub const POLICY_COMPONENT: &str = "policy";
/// The component job data is filed under.
pub const JOB_DATA_COMPONENT: &str = "job-data";

struct Context<'a> {
    writer: &'a SetWriter,
    source: &'a PlatformSource,
    server_version: &'a str,
    db_options: &'a DbBackupOptions,
    tracker: &'a Tracker<'a>,
    registry: Option<&'a FolderRegistry>,
}

impl Context<'_> {
    /// Produces one artifact: returns it, the bytes read from its source, and the secrets
    /// it left out.
    fn produce(&self, work: &Work, name: &str) -> Result<(Artifact, u64, Vec<String>)> {
        let counted = AtomicUsize::new(0);
        let on_bytes = |n: u64| {
            counted.fetch_add(usize::try_from(n).unwrap_or(usize::MAX), Ordering::Relaxed);
            self.tracker.bytes(n);
        };
        match work {
            Work::Database {
                component,
                database,
            } => {
                let mut dump = Dump::new(name, component);
                dump.on_bytes = Some(&on_bytes);
                let a = dump_database(
                    self.writer,
                    &self.source.target,
                    database,
                    self.server_version,
                    self.db_options,
                    &dump,
                )?;
                Ok((a, counted.load(Ordering::Relaxed) as u64, Vec::new()))
            }
            Work::Globals => {
                let mut dump = Dump::new(name, crate::db::DEFAULT_DB_COMPONENT);
                dump.on_bytes = Some(&on_bytes);
                let a = dump_globals(self.writer, &self.source.target, self.db_options, &dump)?;
                Ok((a, counted.load(Ordering::Relaxed) as u64, Vec::new()))
            }
            Work::File {
                component,
                kind,
                path,
                redact,
                ..
            } => {
                let spec =
                    ArtifactSpec::new(*kind, *component, name).details(ArtifactDetails::File {
                        source: path.display().to_string(),
                    });
                if *redact {
                    let text = fs::read_to_string(path)
                        .map_err(|e| continuum_core::Error::io("read", path, e))?;
                    let redacted = redact_secrets(&text, &path.display().to_string())?;
                    let mut data = Counting::new(redacted.text.as_bytes(), self.tracker);
                    let a = self.writer.add(spec, &mut data)?;
                    Ok((a, text.len() as u64, redacted.redacted))
                } else {
                    let file =
                        File::open(path).map_err(|e| continuum_core::Error::io("open", path, e))?;
                    let mut data = Counting::new(file, self.tracker);
                    let a = self.writer.add(spec, &mut data)?;
                    let size = a.size;
                    Ok((a, size, Vec::new()))
                }
            }
            Work::JobData => {
                let registry = self.registry.ok_or_else(|| Error::Conf {
                    file: self.source.cluster_dir.display().to_string(),
                    message: "no job-data registry".to_string(),
                })?;
                self.job_data(registry, name)
            }
        }
    }

    /// Exports all job data into a temporary cntmp (a ZIP needs to seek), then streams it
    /// into the set.
    fn job_data(
        &self,
        registry: &FolderRegistry,
        name: &str,
    ) -> Result<(Artifact, u64, Vec<String>)> {
        // An unnamed file: nothing is left behind, even by a killed process.
        let scratch = Path::new("a temporary file for the job data");
        let file =
            tempfile::tempfile().map_err(|e| continuum_core::Error::io("create", scratch, e))?;
        let (objects, _notes) = continuum_cntmp::select(registry, &Selection::everything())?;
        let (file, _manifest, bytes) = continuum_cntmp::write_cntmp(
            registry,
            &objects,
            io::BufWriter::with_capacity(1 << 20, file),
            "all",
        )?;
        let mut file = file
            .into_inner()
            .map_err(|e| continuum_core::Error::io("write", scratch, e.into_error()))?;
        io::Seek::rewind(&mut file).map_err(|e| continuum_core::Error::io("read", scratch, e))?;
        let fqns = objects.iter().map(|o| o.fqn().clone()).collect();
        let spec = ArtifactSpec::new(DataKind::Job, JOB_DATA_COMPONENT, name)
            .details(ArtifactDetails::Job { fqns });
        let mut data = Counting::new(io::BufReader::with_capacity(1 << 20, file), self.tracker);
        let a = self.writer.add(spec, &mut data)?;
        Ok((a, bytes, Vec::new()))
    }
}

/// What a platform restore restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestoreKind {
    /// The component databases (and the roles).
    Databases,
    /// `cluster.conf` and the Terraform files.
    InstallationFiles,
    /// The policy documents.
    Policy,
    /// Packages, jobs and the rest of the job data.
    JobData,
}

impl RestoreKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [
        Self::Databases,
        Self::InstallationFiles,
        Self::Policy,
        Self::JobData,
    ];

    /// The name used on command lines and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Databases => "databases",
            Self::InstallationFiles => "installation-files",
            Self::Policy => "policy",
            Self::JobData => "job-data",
        }
    }

    /// The kind an artifact of a platform set belongs to.
    fn of(artifact: &Artifact) -> Option<Self> {
        let name = artifact.name.as_str();
        if name.starts_with(DATABASE_PREFIX) {
            Some(Self::Databases)
        } else if name.starts_with(INSTALLATION_PREFIX) {
            Some(Self::InstallationFiles)
        } else if name.starts_with(POLICY_PREFIX) {
            Some(Self::Policy)
        } else if name == JOB_DATA_ARTIFACT {
            Some(Self::JobData)
        } else {
            None
        }
    }
}

impl std::str::FromStr for RestoreKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let k = match s {
            "databases" | "database" | "db" => Self::Databases,
            "installation-files" | "installation" | "install" => Self::InstallationFiles,
            "policy" | "policies" => Self::Policy,
            "job-data" | "job" | "jobs" => Self::JobData,
            other => {
                return Err(continuum_core::Error::InvalidInput {
                    what: "restore kind",
                    value: other.to_string(),
                    reason: "expected one of databases, installation-files, policy, job-data"
                        .to_string(),
                }
                .into());
            }
        };
        Ok(k)
    }
}

impl std::fmt::Display for RestoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of [`plan_platform_restore`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PlatformRestoreOptions {
    /// Restore only these kinds; empty restores everything the set holds.
    pub only: Vec<RestoreKind>,
    /// Target database per database of the set, where it is not the same name.
    pub databases: BTreeMap<String, String>,
    /// Replace what exists (files that differ, databases that hold data).
    pub force: bool,
    /// Restore the roles and tablespaces first, when the set has them (roles that exist
    /// are kept); on by default, as the backup saves them by default.
    pub with_globals: bool,
    /// Items restored at once (databases, files, job data); 0 means 1.
    pub parallel: usize,
    /// The age identities that open an encrypted set (never serialized).
    #[serde(skip)]
    pub identities: Option<Identities>,
}

impl Default for PlatformRestoreOptions {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            databases: BTreeMap::new(),
            force: false,
            with_globals: true,
            parallel: 4,
            identities: None,
        }
    }
}

/// What the restore does with one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlatformAction {
    /// Nothing there: created.
    Create,
    /// An empty database: filled.
    Fill,
    /// There with the same content: skipped.
    Skip,
    /// There with other content, and force was given: replaced.
    Replace,
    /// There with other content: refused unless forced.
    Conflict,
}

impl PlatformAction {
    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Fill => "fill",
            Self::Skip => "skip",
            Self::Replace => "replace",
            Self::Conflict => "conflict",
        }
    }
}

/// One artifact of a platform restore plan.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlatformRestoreItem {
    /// The kind.
    pub kind: RestoreKind,
    /// The artifact in the set.
    pub artifact: String,
    /// Where it goes: a file, a database, the job-data registry.
    pub destination: String,
    /// What happens.
    pub action: PlatformAction,
    /// Bytes stored.
    pub size: u64,
    /// Why, or what to know.
    pub note: Option<String>,
}

/// Where a platform restore writes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RestoreDestination {
    /// The cluster folder: installation files at its top, `policy/`, `jobdata/`.
    pub cluster_dir: PathBuf,
    /// The PostgreSQL server the databases go to (needed when databases are restored).
    pub target: Option<PgTarget>,
}

impl RestoreDestination {
    /// A destination.
    pub fn new(cluster_dir: impl Into<PathBuf>, target: Option<PgTarget>) -> Self {
        Self {
            cluster_dir: cluster_dir.into(),
            target,
        }
    }
}

/// A platform restore worked out, with nothing changed: [`PlatformRestorePlan::apply`]
/// carries it out and verifies it. Serializes for `--dry-run`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlatformRestorePlan {
    /// The set.
    pub set_id: String,
    /// The cluster it came from.
    pub cluster_name: Option<String>,
    /// One item per artifact restored, in name order.
    pub items: Vec<PlatformRestoreItem>,
    /// Artifacts of the set left out (by `only`), and other remarks.
    pub notes: Vec<String>,
    #[serde(skip)]
    manifest: Manifest,
    #[serde(skip)]
    destination: RestoreDestination,
    #[serde(skip)]
    options: PlatformRestoreOptions,
}

/// Plans the restore of a platform set and changes nothing: every artifact chosen is
/// matched with its destination and what would happen to it. Existing files with other
/// content and databases that hold data are conflicts unless `force`.
pub fn plan_platform_restore(
    store: &dyn continuum_core::Store,
    set_id: &str,
    destination: &RestoreDestination,
    options: &PlatformRestoreOptions,
) -> Result<PlatformRestorePlan> {
    let clear = continuum_core::load_manifest(store, set_id)?;
    // An encrypted set's details (database names, row counts, objects) are in its catalog.
    let manifest = match (&clear.catalog, &options.identities) {
        (None, _) => clear,
        (Some(_), Some(ids)) => continuum_core::load_catalog(store, set_id, ids)?,
        (Some(_), None) => {
            return Err(continuum_core::Error::IdentityRequired {
                entry: format!("backup set `{set_id}`"),
            }
            .into());
        }
    };
    let wanted = |k: RestoreKind| options.only.is_empty() || options.only.contains(&k);
    let mut items = Vec::new();
    let mut notes = Vec::new();
    for artifact in &manifest.artifacts {
        let Some(kind) = RestoreKind::of(artifact) else {
            notes.push(format!(
                "`{}` is not an artifact of a platform set: left out",
                artifact.name
            ));
            continue;
        };
        if !wanted(kind) {
            continue;
        }
        if artifact.name == PLATFORM_GLOBALS_ARTIFACT && !options.with_globals {
            notes.push(format!(
                "`{PLATFORM_GLOBALS_ARTIFACT}` (roles and tablespaces) left out: ask for the globals to restore it"
            ));
            continue;
        }
        items.push(plan_item(
            store,
            &manifest,
            artifact,
            kind,
            destination,
            options,
        )?);
    }
    for kind in &options.only {
        if !items.iter().any(|i| i.kind == *kind) {
            notes.push(format!("the set holds no {kind}"));
        }
    }
    for from in options.databases.keys() {
        let name = format!("{DATABASE_PREFIX}{from}.dump.zst");
        if !manifest.artifacts.iter().any(|a| a.name == name) {
            return Err(Error::ArtifactMissing {
                set_id: set_id.to_string(),
                artifact: name,
                available: manifest
                    .artifacts
                    .iter()
                    .filter(|a| a.name.starts_with(DATABASE_PREFIX))
                    .map(|a| format!("`{}`", a.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(PlatformRestorePlan {
        set_id: manifest.set_id.clone(),
        cluster_name: manifest.cluster_name.clone(),
        items,
        notes,
        manifest,
        destination: destination.clone(),
        options: options.clone(),
    })
}

fn plan_item(
    store: &dyn continuum_core::Store,
    manifest: &Manifest,
    artifact: &Artifact,
    kind: RestoreKind,
    destination: &RestoreDestination,
    options: &PlatformRestoreOptions,
) -> Result<PlatformRestoreItem> {
    let mut item = PlatformRestoreItem {
        kind,
        artifact: artifact.name.clone(),
        destination: String::new(),
        action: PlatformAction::Create,
        size: artifact.size,
        note: None,
    };
    match kind {
        RestoreKind::Databases if artifact.name == PLATFORM_GLOBALS_ARTIFACT => {
            let target = need_target(destination)?;
            item.destination = format!("roles and tablespaces of {}", target.label());
            item.action = PlatformAction::Fill;
            item.note = Some("roles that exist already are kept".to_string());
        }
        RestoreKind::Databases => {
            let target = need_target(destination)?;
            let database = database_of(artifact);
            let target_db = options
                .databases
                .get(&database)
                .cloned()
                .unwrap_or_else(|| database.clone());
            item.destination = format!("database `{target_db}` on {}", target.label());
            item.action = if !target.database_exists(&target_db)? {
                PlatformAction::Create
            } else if target.is_empty(&target_db)? {
                PlatformAction::Fill
            } else if options.force {
                PlatformAction::Replace
            } else {
                item.note = Some("the database holds data".to_string());
                PlatformAction::Conflict
            };
            let _ = store;
        }
        RestoreKind::InstallationFiles | RestoreKind::Policy => {
            let path = file_destination(&destination.cluster_dir, &artifact.name)?;
            item.destination = path.display().to_string();
            item.action = match fs::symlink_metadata(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => PlatformAction::Create,
                Err(e) => return Err(continuum_core::Error::io("read", &path, e).into()),
                Ok(meta) if !meta.is_file() => {
                    item.note = Some("not a regular file".to_string());
                    PlatformAction::Conflict
                }
                Ok(_) => {
                    let file = File::open(&path)
                        .map_err(|e| continuum_core::Error::io("open", &path, e))?;
                    let (digest, _) = continuum_core::digest_reader(file)
                        .map_err(|e| continuum_core::Error::io("read", &path, e))?;
                    if digest == recorded_digest(artifact) {
                        item.note = Some("identical".to_string());
                        PlatformAction::Skip
                    } else if options.force {
                        PlatformAction::Replace
                    } else {
                        item.note = Some("exists with other content".to_string());
                        PlatformAction::Conflict
                    }
                }
            };
            if artifact.name == format!("{INSTALLATION_PREFIX}{CLUSTER_CONF}") {
                item.note = Some(match item.note {
                    Some(n) => format!("{n}; secrets may be redacted (see the report)"),
                    None => "secrets may be redacted (see the report)".to_string(),
                });
            }
        }
        RestoreKind::JobData => {
            let registry = FolderRegistry::for_cluster(&destination.cluster_dir)?;
            item.destination = registry.root().display().to_string();
            let fqns = match &artifact.details {
                ArtifactDetails::Job { fqns } => fqns.clone(),
                _ => Vec::new(),
            };
            let existing: Vec<String> = fqns
                .iter()
                .filter_map(|f| match continuum_cntmp::Registry::get(&registry, f) {
                    Ok(Some(_)) => Some(Ok(f.to_string())),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<std::result::Result<_, _>>()?;
            if existing.is_empty() {
                item.action = PlatformAction::Create;
            } else {
                item.action = if options.force {
                    PlatformAction::Replace
                } else {
                    PlatformAction::Conflict
                };
                item.note = Some(format!(
                    "{} of {} objects exist already; with force, identical ones are skipped and \
                     differing ones kept as they are",
                    existing.len(),
                    fqns.len()
                ));
            }
            let _ = manifest;
        }
    }
    Ok(item)
}

fn need_target(destination: &RestoreDestination) -> Result<&PgTarget> {
    destination.target.as_ref().ok_or_else(|| {
        continuum_core::Error::InvalidInput {
            what: "restore destination",
            value: String::new(),
            reason:
                "the set holds databases: give a PostgreSQL server (or restore only other kinds)"
                    .to_string(),
        }
        .into()
    })
}

/// The database a dump artifact of a platform set holds.
fn database_of(artifact: &Artifact) -> String {
    match &artifact.details {
        ArtifactDetails::Database { database, .. } => database.clone(),
        _ => artifact
            .name
            .trim_start_matches(DATABASE_PREFIX)
            .trim_end_matches(".dump.zst")
            .to_string(),
    }
}

/// Where a file artifact goes below the cluster folder: installation files at its top (as
/// they were below the folder they were found in), policy documents in `policy/`.
fn file_destination(cluster_dir: &Path, name: &str) -> Result<PathBuf> {
    let relative = if let Some(rest) = name.strip_prefix(INSTALLATION_PREFIX) {
        rest.to_string()
    } else {
        name.to_string()
    };
    // Artifact names are checked member paths: no `..`, no root.
    let member = continuum_core::MemberPath::parse(&relative)?;
    Ok(cluster_dir.join(member.as_str()))
}

/// What one restored artifact came to.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoredItem {
    /// The kind.
    pub kind: RestoreKind,
    /// The artifact.
    pub artifact: String,
    /// Where it went.
    pub destination: String,
    /// What was done.
    pub action: PlatformAction,
    /// How it was verified, in words.
    pub verified: String,
}

/// What [`PlatformRestorePlan::apply`] did and found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlatformRestoreReport {
    /// The set.
    pub set_id: String,
    /// Every item, in plan order.
    pub items: Vec<RestoredItem>,
    /// Bytes read from the store.
    pub bytes_read: u64,
    /// Time it took.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    /// What to do next, and other remarks.
    pub notes: Vec<String>,
}

impl PlatformRestorePlan {
    /// The items that conflict.
    pub fn conflicts(&self) -> impl Iterator<Item = &PlatformRestoreItem> {
        self.items
            .iter()
            .filter(|i| i.action == PlatformAction::Conflict)
    }

    /// Carries the plan out and verifies every item: files are written under a temporary
    /// name and moved into place, and re-read against the recorded SHA-256; databases are
    /// restored with `pg_restore --exit-on-error` and their tables counted against the
    /// counts recorded at dump time; job data is imported all or nothing and every object
    /// of the set checked present. A plan with conflicts changes nothing.
    pub fn apply(
        self,
        store: &dyn continuum_core::Store,
        progress: Option<&ProgressFn<'_>>,
    ) -> Result<PlatformRestoreReport> {
        let conflicts: Vec<String> = self
            .conflicts()
            .map(|i| {
                format!(
                    "`{}` → {}{}",
                    i.artifact,
                    i.destination,
                    i.note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        if !conflicts.is_empty() {
            return Err(Error::RestoreConflicts { conflicts });
        }
        let started = Instant::now();
        let total: u64 = self.items.iter().map(|i| i.size).sum();
        let tracker = Tracker::new("restore", progress, self.items.len(), total);
        let mut notes = self.notes.clone();
        let restore_one = |item: &PlatformRestoreItem| {
            tracker.started(&item.artifact);
            match self.apply_item(store, item, &tracker) {
                Ok((verified, note)) => {
                    tracker.finished(&item.artifact);
                    Ok((
                        RestoredItem {
                            kind: item.kind,
                            artifact: item.artifact.clone(),
                            destination: item.destination.clone(),
                            action: item.action,
                            verified,
                        },
                        note,
                    ))
                }
                Err(e) => {
                    tracker.abandoned(&item.artifact);
                    Err(Error::Artifact {
                        artifact: item.artifact.clone(),
                        source: Box::new(e),
                    })
                }
            }
        };
        // The roles first, alone: the databases' objects may belong to them. Then the
        // rest, `parallel` at once (each item has its own destination).
        let (globals, rest): (Vec<&PlatformRestoreItem>, Vec<&PlatformRestoreItem>) = self
            .items
            .iter()
            .partition(|i| i.artifact == PLATFORM_GLOBALS_ARTIFACT);
        let mut done = run_jobs(&globals, 1, "restore worker", |i| restore_one(i))?;
        done.extend(run_jobs(
            &rest,
            self.options.parallel.max(1),
            "restore worker",
            |i| restore_one(i),
        )?);
        let mut restored = Vec::with_capacity(done.len());
        for (item, note) in done {
            notes.extend(note);
            restored.push(item);
        }
        Ok(PlatformRestoreReport {
            set_id: self.set_id.clone(),
            items: restored,
            bytes_read: total,
            duration: started.elapsed(),
            notes,
        })
    }

    /// Restores one item; returns how it was verified and a note for the report.
    fn apply_item<'s>(
        &'s self,
        store: &'s dyn continuum_core::Store,
        item: &PlatformRestoreItem,
        tracker: &'s Tracker<'_>,
    ) -> Result<(String, Option<String>)> {
        let manifest = &self.manifest;
        let identities = self.options.identities.as_ref();
        let open = move |name: &str| -> Result<Box<dyn Read + Send + 's>> {
            Ok(continuum_core::open_artifact_decrypted(
                store, manifest, name, identities,
            )?)
        };
        let artifact = manifest
            .artifacts
            .iter()
            .find(|a| a.name == item.artifact)
            .ok_or_else(|| Error::ArtifactMissing {
                set_id: self.set_id.clone(),
                artifact: item.artifact.clone(),
                available: String::new(),
            })?;
        match item.kind {
            RestoreKind::Databases if item.artifact == PLATFORM_GLOBALS_ARTIFACT => {
                let target = need_target(&self.destination)?;
                crate::db::restore_globals_from(target, &open, &item.artifact)?;
                tracker.bytes(item.size);
                Ok(("roles restored".to_string(), None))
            }
            RestoreKind::Databases => {
                let target = need_target(&self.destination)?;
                let database = database_of(artifact);
                let db_options = crate::db::DbRestoreOptions {
                    as_name: self.options.databases.get(&database).cloned(),
                    force: self.options.force,
                    ..crate::db::DbRestoreOptions::default()
                };
                let plan = crate::db::plan_restore_in(
                    manifest.clone(),
                    &item.artifact,
                    None,
                    &database,
                    target,
                    &db_options,
                )?;
                let counting = move |name: &str| -> Result<Box<dyn Read + Send + 's>> {
                    let inner =
                        continuum_core::open_artifact_decrypted(store, manifest, name, identities)?;
                    Ok(Box::new(Counting::new(inner, tracker)))
                };
                let report = plan.apply_with(&counting)?;
                Ok((
                    format!(
                        "{} tables, {} rows, as recorded",
                        report.tables.len(),
                        report.total_rows
                    ),
                    None,
                ))
            }
            RestoreKind::InstallationFiles | RestoreKind::Policy => {
                let path = file_destination(&self.destination.cluster_dir, &item.artifact)?;
                if item.action == PlatformAction::Skip {
                    tracker.bytes(item.size);
                    return Ok(("identical file kept".to_string(), None));
                }
                let mut data = Counting::new(open(&item.artifact)?, tracker);
                let mut write =
                    continuum_core::WriteOptions::replacing(item.action == PlatformAction::Replace);
                write.expected_sha256 = Some(recorded_digest(artifact));
                continuum_core::write_atomic(&path, &mut data, write)?;
                // Verify what landed, not what was sent.
                let file =
                    File::open(&path).map_err(|e| continuum_core::Error::io("open", &path, e))?;
                let (digest, size) = continuum_core::digest_reader(file)
                    .map_err(|e| continuum_core::Error::io("read", &path, e))?;
                if digest != recorded_digest(artifact) {
                    return Err(continuum_core::Error::Corrupt {
                        entry: path.display().to_string(),
                        expected: recorded_digest(artifact).to_string(),
                        actual: digest.to_string(),
                    }
                    .into());
                }
                let note = if item.artifact.ends_with(CLUSTER_CONF) {
                    let text = fs::read_to_string(&path)
                        .map_err(|e| continuum_core::Error::io("read", &path, e))?;
                    text.contains(crate::dconf::REDACTED_PLACEHOLDER).then(|| {
                        format!(
                            "`{}` holds secrets redacted at backup (`{}`): fill them in",
                            path.display(),
                            crate::dconf::REDACTED_PLACEHOLDER
                        )
                    })
                } else {
                    None
                };
                Ok((format!("{size} bytes, {digest}"), note))
            }
            RestoreKind::JobData => {
                let registry = FolderRegistry::for_cluster(&self.destination.cluster_dir)?;
                // The file is read with random access: a copy with no name (freed however
                // this ends) beside the registry, whose folder the import makes if need be.
                let scratch = &self.destination.cluster_dir;
                fs::create_dir_all(scratch)
                    .map_err(|e| continuum_core::Error::io("create", scratch, e))?;
                let mut file = tempfile::tempfile_in(scratch)
                    .map_err(|e| continuum_core::Error::io("create a file in", scratch, e))?;
                let mut data = Counting::new(open(&item.artifact)?, tracker);
                io::copy(&mut data, &mut file).map_err(|e| Error::Stream {
                    action: format!(
                        "copy `{}` into a file in {}",
                        item.artifact,
                        scratch.display()
                    ),
                    source: e,
                })?;
                io::Seek::rewind(&mut file)
                    .map_err(|e| continuum_core::Error::io("read", scratch, e))?;
                let mut import = continuum_cntmp::ImportOptions::default();
                import.skip_existing = self.options.force;
                let reader =
                    continuum_cntmp::CntmpReader::from_file(file, &item.artifact, import.limits)?;
                let report = continuum_cntmp::import_readers(&registry, vec![reader], &import)?;
                let fqns = match &artifact.details {
                    ArtifactDetails::Job { fqns } => fqns.clone(),
                    _ => Vec::new(),
                };
                for fqn in &fqns {
                    if continuum_cntmp::Registry::get(&registry, fqn)?.is_none() {
                        return Err(continuum_core::Error::NotFound {
                            key: fqn.to_string(),
                            store: registry.root().display().to_string(),
                        }
                        .into());
                    }
                }
                let differing = report
                    .objects
                    .iter()
                    .filter(|o| o.action == continuum_cntmp::ImportAction::SkippedDiffers)
                    .count();
                let note = (differing > 0).then(|| {
                    format!(
                        "{differing} job-data object(s) existed with other content and were kept"
                    )
                });
                Ok((
                    format!(
                        "{} objects present, every resource's SHA-256 checked",
                        fqns.len()
                    ),
                    note,
                ))
            }
        }
    }
}

/// Restores a platform set in one call
/// ([`plan_platform_restore`] then [`PlatformRestorePlan::apply`]).
pub fn restore_platform(
    store: &dyn continuum_core::Store,
    set_id: &str,
    destination: &RestoreDestination,
    options: &PlatformRestoreOptions,
    progress: Option<&ProgressFn<'_>>,
) -> Result<PlatformRestoreReport> {
    plan_platform_restore(store, set_id, destination, options)?.apply(store, progress)
}

/// The plaintext digest of an artifact as recorded (for a set in clear, the stored one).
pub(crate) fn recorded_digest(artifact: &Artifact) -> Digest {
    artifact
        .plaintext
        .as_ref()
        .map_or(artifact.sha256, |p| p.sha256)
}
