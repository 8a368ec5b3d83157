#![doc = include_str!("../README.md")]

mod archive;
mod components;
mod conf;
mod db;
mod dconf;
mod error;
mod install;
mod pg;
mod plan;
mod platform;
mod progress;

pub use crate::archive::{
    ARCHIVE_FORMAT_VERSION, ARCHIVE_METADATA, ArchiveMember, ArchiveMetadata, ArchiveReport,
    ArchivedDatabase, ArchivedRelease, DatabaseCheck, ItemAction, ItemKind, MAX_METADATA_SIZE,
    MIN_RESTORE_RELEASE, ORCHESTRATOR_ARCHIVE_DATABASE, ORCHESTRATOR_DATABASE, OrchestratorArchive,
    OrchestratorBackupOptions, OrchestratorRestoreOptions, OrchestratorRestorePlan,
    OrchestratorRestoreReport, PlanItem, ReleaseVersion, RestoredFile, archive_file_name,
    backup_orchestrator, local_host_addresses, local_host_name, meets_release_gate,
    plan_orchestrator_restore, restore_orchestrator, verify_archive, verify_archive_with,
};
pub use crate::components::{
    ComponentBackupOptions, ComponentBackupReport, backup_components, default_database,
};
pub use crate::conf::{
    ClusterConf, DATABASE_COMPONENTS, DEFAULT_LOCAL_BACKUP_DIR, DatabaseBackups, MachineGroup,
    PackageStore, Placement,
};
pub use crate::db::{
    DEFAULT_DB_COMPONENT, DbBackupOptions, DbRestoreOptions, DbRestorePlan, GLOBALS_ARTIFACT,
    RestoreAction, RestoreReport, TableCheck, backup_databases, dump_artifact_name, list_databases,
    plan_database_restore, restore_database,
};
pub use crate::dconf::{
    Entry as DconfEntry, ParseError as DconfError, Position, REDACTED_PLACEHOLDER,
    Redacted as DconfRedacted, Value as DconfValue, is_secret_key, parse as parse_dconf,
    redact_secrets,
};
pub use crate::error::{Error, Result};
pub use crate::install::{
    CLUSTER_CONF, GitSnapshot, InstallationFile, collect_installation_files, is_installation_file,
    snapshot_to_git,
};
pub use crate::pg::{ChildReader, DEFAULT_PG_PORT, DatabaseInfo, PgTarget, pg_program};
pub use crate::plan::{
    ArtifactSource, BackupPlan, Coverage, PlanOptions, PlannedArtifact, PlannedComponent,
    render_graph,
};
pub use crate::platform::{
    BackedUpArtifact, DATABASE_PREFIX, INSTALLATION_COMPONENT, INSTALLATION_PREFIX,
    JOB_DATA_ARTIFACT, JOB_DATA_COMPONENT, PLATFORM_GLOBALS_ARTIFACT, POLICY_COMPONENT,
    POLICY_PREFIX, PlatformAction, PlatformBackupOptions, PlatformBackupReport,
    PlatformRestoreItem, PlatformRestoreOptions, PlatformRestorePlan, PlatformRestoreReport,
    PlatformSource, RestoreDestination, RestoreKind, RestoredItem, backup_platform,
    plan_platform_restore, restore_platform,
};
pub use crate::progress::{Progress, ProgressFn, REPORT_EVERY};
