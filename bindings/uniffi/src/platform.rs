//! The whole platform (`continuum-orchestrator`): the backup plan of a cluster, a backup
//! of everything into one set, and its restore, with a progress listener.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};

use continuum_core::{Identities, Reason, Recipients};
use continuum_orchestrator::{
    ArtifactSource, BackupPlan as CoreBackupPlan, ClusterConf, PlanOptions, PlatformBackupOptions,
    PlatformRestoreOptions, PlatformRestorePlan as CorePlatformRestorePlan, PlatformSource,
    ProgressFn, RestoreDestination, RestoreKind,
};

use crate::orchestrator::{MachineGroup, Placement, target};
use crate::{ContinuumError, Result, Store, count, json, serde_name};

// ---------------------------------------------------------------------------------------
// Progress

/// Where a backup or a restore stands.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Progress {
    /// `backup` or `restore`.
    pub operation: String,
    pub artifacts_done: u64,
    pub artifacts_total: u64,
    pub bytes_done: u64,
    /// An estimate; it may be passed.
    pub bytes_total: u64,
    pub elapsed_seconds: f64,
    pub bytes_per_second: f64,
    /// None until there is a rate.
    pub eta_seconds: Option<f64>,
    /// The artifacts in progress, by name.
    pub current: Vec<String>,
    /// This is the last report.
    pub finished: bool,
}

impl From<&continuum_orchestrator::Progress> for Progress {
    fn from(p: &continuum_orchestrator::Progress) -> Self {
        Self {
            operation: p.operation.to_string(),
            artifacts_done: count(p.artifacts_done),
            artifacts_total: count(p.artifacts_total),
            bytes_done: p.bytes_done,
            bytes_total: p.bytes_total,
            elapsed_seconds: p.elapsed.as_secs_f64(),
            bytes_per_second: p.bytes_per_second,
            eta_seconds: p.eta.map(|d| d.as_secs_f64()),
            current: p.current.clone(),
            finished: p.finished,
        }
    }
}

/// Implemented in the foreign language to follow a platform backup or restore.
///
/// It is called on the thread that called `platform_backup` or `platform_restore`, one call
/// at a time, at most every 100 ms and at each artifact's start and end: the library's
/// worker threads hand their reports to that thread. (Called from the workers themselves,
/// a Ruby listener would deadlock: the caller holds Ruby's global lock for the whole call.)
///
/// An exception it raises does not stop the operation (the library cannot be cancelled
/// midway): the listener is simply not called again.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    fn on_progress(&self, progress: Progress) -> Result<(), ProgressListenerError>;
}

/// What a progress listener raises to say it failed; any other exception counts the same.
/// (A listener's own error, so that the one of the operations, `ContinuumError`, stays a
/// flat error: uniffi carries flat errors out of Rust only.)
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ProgressListenerError {
    #[error("progress listener failed: {reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ProgressListenerError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { reason: err.reason }
    }
}

/// Calls the foreign listener until it fails once.
struct Listener {
    inner: Arc<dyn ProgressListener>,
    failed: bool,
}

impl Listener {
    fn call(&mut self, progress: Progress) {
        if self.failed {
            return;
        }
        // A panic (a result uniffi could not read) counts as a failure of the listener and
        // not of the operation, which goes on in its worker thread.
        let inner = &self.inner;
        let outcome = catch_unwind(AssertUnwindSafe(|| inner.on_progress(progress)));
        self.failed = !matches!(outcome, Ok(Ok(())));
    }
}

/// Runs `operation` on a worker thread with a progress callback that sends each report to
/// this thread, which hands it to the listener; without a listener, runs it here.
fn with_progress<T: Send>(
    listener: Option<Arc<dyn ProgressListener>>,
    operation: impl FnOnce(Option<&ProgressFn<'_>>) -> continuum_orchestrator::Result<T> + Send,
) -> Result<T> {
    let Some(inner) = listener else {
        return Ok(operation(None)?);
    };
    let mut listener = Listener {
        inner,
        failed: false,
    };
    let (reports, received) = mpsc::channel::<Progress>();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("continuum-uniffi".to_string())
            .spawn_scoped(scope, move || {
                let callback = move |p: &continuum_orchestrator::Progress| {
                    // The receiver outlives the operation; a send cannot fail.
                    let _ = reports.send(p.into());
                };
                operation(Some(&callback))
            })
            .map_err(|e| ContinuumError::Io {
                message: format!("cannot start a worker thread: {e}"),
            })?;
        // Ends when the operation has ended and dropped the sender.
        for progress in received {
            listener.call(progress);
        }
        match worker.join() {
            Ok(result) => Ok(result?),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

// ---------------------------------------------------------------------------------------
// The plan

/// What the plan is asked for.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlanSettings {
    /// Narrow the placements to this host, as cluster.conf lists it.
    #[uniffi(default = None)]
    pub host: Option<String>,
    /// Back up job data too (it belongs to its owner: opt-in).
    #[uniffi(default = false)]
    pub with_job_data: bool,
    /// The set will be encrypted (cluster.conf's secrets may then be kept).
    #[uniffi(default = false)]
    pub encrypted: bool,
    /// The database of a database component, where it is not the component's name with
    /// `_` for `-`.
    #[uniffi(default = None)]
    pub databases: Option<HashMap<String, String>>,
}

/// One thing the backup set will hold for a component.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlannedArtifact {
    /// `database`, `installation_files`, `policy_documents` or `job_data`.
    pub source: String,
    pub database: Option<String>,
    pub description: String,
}

/// One component of the cluster and what the plan does with its data.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlannedComponent {
    pub component: String,
    /// `cluster`, `policy`, `job` or `log`.
    pub kind: String,
    /// `backed_up`, `optional` or `not_backed_up`.
    pub coverage: String,
    /// Why, in words.
    pub reason: String,
    pub hosts: Vec<String>,
    pub destinations: Vec<String>,
    pub artifacts: Vec<PlannedArtifact>,
}

/// The backup plan of a cluster: what is backed up, what not and why; `table` is the
/// command line's table.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BackupPlan {
    pub cluster_name: Option<String>,
    pub components: Vec<PlannedComponent>,
    pub placements: Vec<Placement>,
    pub machine_groups: Vec<MachineGroup>,
    pub encrypted: bool,
    /// What happens to cluster.conf's secrets, in words.
    pub secrets: String,
    pub warnings: Vec<String>,
    pub table: String,
    /// The graph in Graphviz's language.
    pub dot: String,
    pub json: String,
}

impl From<CoreBackupPlan> for BackupPlan {
    fn from(plan: CoreBackupPlan) -> Self {
        Self {
            table: plan.to_table(),
            dot: plan.to_dot(),
            json: json(&plan),
            cluster_name: plan.cluster_name,
            components: plan
                .components
                .into_iter()
                .map(|c| PlannedComponent {
                    kind: c.kind.as_str().to_string(),
                    coverage: serde_name(&c.coverage),
                    component: c.component,
                    reason: c.reason,
                    hosts: c.hosts,
                    destinations: c.destinations,
                    artifacts: c
                        .artifacts
                        .into_iter()
                        .map(|a| PlannedArtifact {
                            source: serde_json::to_value(&a.source)
                                .ok()
                                .and_then(|v| v.get("type")?.as_str().map(str::to_string))
                                .unwrap_or_default(),
                            database: match a.source {
                                ArtifactSource::Database { database } => Some(database),
                                _ => None,
                            },
                            description: a.description,
                        })
                        .collect(),
                })
                .collect(),
            placements: plan.placements.into_iter().map(Placement::from).collect(),
            machine_groups: plan
                .machine_groups
                .into_iter()
                .map(MachineGroup::from)
                .collect(),
            encrypted: plan.encrypted,
            secrets: plan.secrets,
            warnings: plan.warnings,
        }
    }
}

/// The backup plan of the cluster the `cluster.conf` at `config` describes.
#[uniffi::export]
pub fn platform_plan(config: String, settings: PlanSettings) -> Result<BackupPlan> {
    let mut options = PlanOptions::default();
    options.host = settings.host;
    options.with_job_data = settings.with_job_data;
    options.encrypted = settings.encrypted;
    options.databases = settings.databases.unwrap_or_default().into_iter().collect();
    let conf = ClusterConf::load(std::path::Path::new(&config))?;
    Ok(CoreBackupPlan::new(&conf, &options)?.into())
}

// ---------------------------------------------------------------------------------------
// Backup

/// How `platform_backup` backs up.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformBackupSettings {
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// `daily`, `deploy`, `manual` or `migration`.
    #[uniffi(default = "manual")]
    pub reason: String,
    #[uniffi(default = false)]
    pub with_job_data: bool,
    /// Database name per component, where it is not the default.
    #[uniffi(default = None)]
    pub databases: Option<HashMap<String, String>>,
    /// Also save roles and tablespaces.
    #[uniffi(default = true)]
    pub with_globals: bool,
    /// Artifacts produced at once.
    #[uniffi(default = 4)]
    pub parallel: u32,
    /// Encrypt to these age recipients (`age1…`); cluster.conf then keeps its secrets.
    #[uniffi(default = [])]
    pub encrypt_to: Vec<String>,
}

/// One artifact a platform backup wrote.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BackedUpArtifact {
    pub name: String,
    pub component: String,
    pub kind: String,
    pub size: u64,
    pub source_bytes: u64,
    pub duration_seconds: f64,
}

/// What `platform_backup` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformBackupReport {
    pub set_id: String,
    pub store: String,
    /// The plan it followed.
    pub plan: BackupPlan,
    pub artifacts: Vec<BackedUpArtifact>,
    pub bytes_stored: u64,
    pub bytes_read: u64,
    pub parallel: u64,
    pub duration_seconds: f64,
    /// Keys of cluster.conf whose values were replaced by a placeholder in the set.
    pub redacted_secrets: Vec<String>,
    pub warnings: Vec<String>,
    pub json: String,
}

/// Backs up the whole platform into one new set of `store`: the component databases, the
/// roles, the installation files, the policy documents, and job data when asked. All or
/// nothing: on failure nothing is committed.
#[uniffi::export(default(progress = None))]
pub fn platform_backup(
    store: Arc<Store>,
    config: String,
    cluster_dir: String,
    settings: PlatformBackupSettings,
    progress: Option<Arc<dyn ProgressListener>>,
) -> Result<PlatformBackupReport> {
    let mut options = PlatformBackupOptions::default();
    options.reason = settings.reason.parse::<Reason>()?;
    options.with_job_data = settings.with_job_data;
    options.databases = settings.databases.unwrap_or_default().into_iter().collect();
    options.with_globals = settings.with_globals;
    options.parallel = usize::try_from(settings.parallel).unwrap_or(usize::MAX);
    if options.parallel == 0 {
        return Err(ContinuumError::invalid(
            "invalid parallel `0`: at least one artifact is produced at a time",
        ));
    }
    if !settings.encrypt_to.is_empty() {
        options.encrypt_to = Some(Recipients::parse(&settings.encrypt_to)?);
    }
    let source = PlatformSource::new(config, cluster_dir, target(settings.dsn.as_deref())?);
    let report = with_progress(progress, |callback| {
        continuum_orchestrator::backup_platform(store.0.clone(), &source, &options, callback)
    })?;
    Ok(PlatformBackupReport {
        json: json(&report),
        set_id: report.set_id,
        store: report.store,
        plan: report.plan.into(),
        artifacts: report
            .artifacts
            .into_iter()
            .map(|a| BackedUpArtifact {
                kind: a.kind.as_str().to_string(),
                name: a.name,
                component: a.component,
                size: a.size,
                source_bytes: a.source_bytes,
                duration_seconds: a.duration.as_secs_f64(),
            })
            .collect(),
        bytes_stored: report.bytes_stored,
        bytes_read: report.bytes_read,
        parallel: count(report.parallel),
        duration_seconds: report.duration.as_secs_f64(),
        redacted_secrets: report.redacted_secrets,
        warnings: report.warnings,
    })
}

// ---------------------------------------------------------------------------------------
// Restore

/// How a platform restore restores.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformRestoreSettings {
    /// The server the databases go to (needed only when databases are restored).
    #[uniffi(default = None)]
    pub dsn: Option<String>,
    /// Restore only these kinds: `databases`, `installation-files`, `policy`, `job-data`;
    /// empty restores everything the set holds.
    #[uniffi(default = [])]
    pub only: Vec<String>,
    /// Target database per database of the set, where it is not the same name.
    #[uniffi(default = None)]
    pub databases: Option<HashMap<String, String>>,
    /// Replace what exists (files that differ, databases that hold data).
    #[uniffi(default = false)]
    pub force: bool,
    /// Restore the roles and tablespaces first, when the set has them.
    #[uniffi(default = true)]
    pub with_globals: bool,
    /// An age identity file (`AGE-SECRET-KEY-1…`) that opens an encrypted set.
    #[uniffi(default = None)]
    pub identity_file: Option<String>,
}

impl PlatformRestoreSettings {
    fn options(&self) -> Result<PlatformRestoreOptions> {
        let mut options = PlatformRestoreOptions::default();
        for name in &self.only {
            let kind = name.replace('_', "-").parse::<RestoreKind>()?;
            if !options.only.contains(&kind) {
                options.only.push(kind);
            }
        }
        options.databases = self
            .databases
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        options.force = self.force;
        options.with_globals = self.with_globals;
        options.identities = self
            .identity_file
            .as_ref()
            .map(Identities::from_file)
            .transpose()?;
        Ok(options)
    }

    /// As the command line: a server is needed only when databases are restored.
    fn destination(
        &self,
        cluster_dir: &str,
        options: &PlatformRestoreOptions,
    ) -> Result<RestoreDestination> {
        let needs_db = options.only.is_empty() || options.only.contains(&RestoreKind::Databases);
        let target = if needs_db {
            Some(target(self.dsn.as_deref())?)
        } else {
            None
        };
        Ok(RestoreDestination::new(cluster_dir, target))
    }
}

/// One artifact of a platform restore plan and what would happen to it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformRestoreItem {
    /// `databases`, `installation-files`, `policy` or `job-data`.
    pub kind: String,
    pub artifact: String,
    pub destination: String,
    /// `create`, `fill`, `skip`, `replace` or `conflict`.
    pub action: String,
    pub size: u64,
    pub note: Option<String>,
}

/// A platform restore worked out, with nothing changed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformRestorePlan {
    pub set_id: String,
    pub cluster_name: Option<String>,
    pub items: Vec<PlatformRestoreItem>,
    /// True when an item conflicts (the restore would change nothing without `force`).
    pub has_conflicts: bool,
    pub notes: Vec<String>,
    pub json: String,
}

impl From<CorePlatformRestorePlan> for PlatformRestorePlan {
    fn from(plan: CorePlatformRestorePlan) -> Self {
        Self {
            json: json(&plan),
            has_conflicts: plan.conflicts().next().is_some(),
            set_id: plan.set_id.clone(),
            cluster_name: plan.cluster_name.clone(),
            items: plan
                .items
                .iter()
                .map(|i| PlatformRestoreItem {
                    kind: i.kind.as_str().to_string(),
                    artifact: i.artifact.clone(),
                    destination: i.destination.clone(),
                    action: i.action.as_str().to_string(),
                    size: i.size,
                    note: i.note.clone(),
                })
                .collect(),
            notes: plan.notes.clone(),
        }
    }
}

/// What one restored artifact came to.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RestoredItem {
    pub kind: String,
    pub artifact: String,
    pub destination: String,
    pub action: String,
    /// How it was verified, in words.
    pub verified: String,
}

/// What `platform_restore` did and found.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlatformRestoreReport {
    pub set_id: String,
    pub items: Vec<RestoredItem>,
    pub bytes_read: u64,
    pub duration_seconds: f64,
    pub notes: Vec<String>,
    pub json: String,
}

/// Plans the restore of a platform set into a cluster folder (and a server) and changes
/// nothing: every artifact with its destination and what would happen to it.
#[uniffi::export]
pub fn platform_plan_restore(
    store: Arc<Store>,
    set_id: String,
    cluster_dir: String,
    settings: PlatformRestoreSettings,
) -> Result<PlatformRestorePlan> {
    let options = settings.options()?;
    let destination = settings.destination(&cluster_dir, &options)?;
    let plan = continuum_orchestrator::plan_platform_restore(
        store.0.as_ref(),
        &set_id,
        &destination,
        &options,
    )?;
    Ok(plan.into())
}

/// Restores a platform set: planned (a conflict changes nothing unless `force`), applied,
/// and every item verified.
#[uniffi::export(default(progress = None))]
pub fn platform_restore(
    store: Arc<Store>,
    set_id: String,
    cluster_dir: String,
    settings: PlatformRestoreSettings,
    progress: Option<Arc<dyn ProgressListener>>,
) -> Result<PlatformRestoreReport> {
    let options = settings.options()?;
    let destination = settings.destination(&cluster_dir, &options)?;
    let report = with_progress(progress, |callback| {
        continuum_orchestrator::plan_platform_restore(
            store.0.as_ref(),
            &set_id,
            &destination,
            &options,
        )?
        .apply(store.0.as_ref(), callback)
    })?;
    Ok(PlatformRestoreReport {
        json: json(&report),
        set_id: report.set_id,
        items: report
            .items
            .into_iter()
            .map(|i| RestoredItem {
                kind: i.kind.as_str().to_string(),
                action: i.action.as_str().to_string(),
                artifact: i.artifact,
                destination: i.destination,
                verified: i.verified,
            })
            .collect(),
        bytes_read: report.bytes_read,
        duration_seconds: report.duration.as_secs_f64(),
        notes: report.notes,
    })
}
