//! `continuum-backup orchestrator …`: the orchestrator archive.

use std::path::PathBuf;

use clap::Subcommand;
use continuum_orchestrator::{
    OrchestratorBackupOptions, OrchestratorRestoreOptions, backup_orchestrator,
    plan_orchestrator_restore, verify_archive,
};

use crate::cluster::DsnArgs;
use crate::output::{json, say, size};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum OrchestratorCommand {
    /// Write `orchestrator_backup_<TIMESTAMP>.tgz`: release, orchestrator databases as plain
    /// SQL, roles, configuration files, and metadata with every member's SHA-256.
    Backup {
        /// The cluster.conf file.
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        dsn: DsnArgs,
        /// The current platform release (`2.6.1`).
        #[arg(long)]
        release: String,
        /// The current release's bundle file.
        #[arg(long)]
        release_bundle: Option<PathBuf>,
        /// More configuration files or folders (Terraform `*.tf`, `*.tfvars`).
        #[arg(long = "config-file", value_name = "FILE")]
        config_files: Vec<PathBuf>,
        /// The folder to write the archive into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore an archive onto this host: check every digest and the release gate (2.4.0
    /// or later) before changing anything, then the databases and the configuration files,
    /// then verify.
    Restore {
        /// The archive.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        dsn: DsnArgs,
        /// Where the configuration files go.
        #[arg(long)]
        config_dir: PathBuf,
        /// Replace databases that hold data and files that differ.
        #[arg(long)]
        force: bool,
        /// Show the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check an archive (every member's size and SHA-256, the release gate) without restoring.
    Verify {
        /// The archive.
        #[arg(long)]
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(command: OrchestratorCommand) -> Result<Outcome, Failure> {
    match command {
        OrchestratorCommand::Backup {
            config,
            dsn,
            release,
            release_bundle,
            config_files,
            out,
            json: as_json,
        } => {
            let target = dsn.target()?;
            let mut options = OrchestratorBackupOptions::new(release);
            options.release_bundle = release_bundle;
            options.config_files = config_files;
            let archive = backup_orchestrator(&config, &target, &out, &options)?;
            if as_json {
                json(&archive);
            } else {
                say!("{}", archive.path.display());
            }
            Ok(Outcome::Success)
        }
        OrchestratorCommand::Restore {
            file,
            dsn,
            config_dir,
            force,
            dry_run,
            json: as_json,
        } => {
            let target = dsn.target()?;
            let mut options = OrchestratorRestoreOptions::default();
            options.force = force;
            options.dry_run = dry_run;
            let plan = plan_orchestrator_restore(&file, &target, &config_dir, &options)?;
            if dry_run && !as_json {
                say!("{plan}");
            }
            let report = plan.apply()?;
            if as_json {
                json(&report);
            } else if !dry_run {
                say!(
                    "restored {} database(s) and {} file(s) from {}; every row count and digest verified",
                    report.databases.len(),
                    report.files.len(),
                    report.archive.display()
                );
            }
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            Ok(Outcome::Success)
        }
        OrchestratorCommand::Verify {
            file,
            json: as_json,
        } => {
            let report = verify_archive(&file)?;
            if as_json {
                json(&report);
            } else {
                say!(
                    "{}: ok ({} members, {} checked; release {}{})",
                    report.archive.display(),
                    report.members,
                    size(report.bytes),
                    report.metadata.release.version,
                    if report.restorable {
                        ""
                    } else {
                        ", older than 2.4.0: restore by hand"
                    }
                );
            }
            Ok(Outcome::Success)
        }
    }
}
