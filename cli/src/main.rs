//! `continuum-backup`: thin commands over the continuum-backup library crates.
//!
//! Exit codes: 0 success, 1 a failed check or operation (verify found damage, a store
//! could not be reached), 2 bad usage or bad input.

mod cluster;
mod jobdata;
mod orch;
mod output;
mod plan;
mod platform;
mod policy;
mod sets;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use continuum_core::{Error, S3Options, StoreOptions};

/// Backs up and restores every kind of data of a continuum platform cluster.
#[derive(Debug, Parser)]
#[command(name = "continuum-backup", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Back up the whole platform into one set: databases, installation files, policy
    /// documents, and job data when asked.
    Backup(platform::BackupArgs),
    /// Restore a whole-platform set: plan, apply, verify.
    Restore(platform::RestoreArgs),
    /// The backup plan from cluster.conf: what is backed up, where, and why (and what is not).
    Plan(plan::PlanArgs),
    /// Backup sets in a store: create, list, verify, prune.
    #[command(subcommand)]
    Sets(sets::SetsCommand),
    /// Policy documents: check, format, export, import.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// cluster.conf: show, check, placement of database backups.
    #[command(subcommand)]
    Conf(cluster::ConfCommand),
    /// PostgreSQL databases: backup, restore, list.
    #[command(subcommand)]
    Db(cluster::DbCommand),
    /// The orchestrator archive: backup, restore onto a new host, verify.
    #[command(subcommand)]
    Orchestrator(orch::OrchestratorCommand),
    /// Packages: make from files, list, export, import.
    #[command(subcommand)]
    Package(jobdata::PackageCommand),
    /// Jobs: create from JSON, list, export.
    #[command(subcommand)]
    Job(jobdata::JobCommand),
    /// Import cntmp files (objects of every kind), all or nothing.
    Import(jobdata::ImportArgs),
    /// Export job data into a cntmp file.
    #[command(subcommand)]
    Export(jobdata::ExportCommand),
    /// cntmp files: inspect, verify.
    #[command(subcommand)]
    Cntmp(jobdata::CntmpCommand),
}

/// How to reach an S3 store; credentials come from the standard `AWS_*` variables.
#[derive(Debug, Clone, Args)]
struct S3Args {
    /// S3 endpoint URL, for S3-compatible servers (`http://127.0.0.1:9000`).
    // The variable's value is not shown in `--help`: a URL may hold credentials.
    #[arg(
        long,
        env = "CONTINUUM_S3_ENDPOINT",
        hide_env_values = true,
        global = true
    )]
    pub(crate) s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, global = true)]
    s3_region: Option<String>,
    /// Use path-style requests (`endpoint/bucket/key`), as most S3-compatible servers want.
    #[arg(long, global = true)]
    pub(crate) s3_path_style: bool,
    /// Retries of one S3 request, waiting 0.5 s to 8 s between them (the default rides
    /// through an outage of 4 s at least, about 20 s usually).
    #[arg(long, env = "CONTINUUM_S3_RETRIES", global = true, value_name = "N")]
    s3_retries: Option<usize>,
}

impl S3Args {
    fn store_options(&self) -> StoreOptions {
        let mut s3 = S3Options::default();
        s3.endpoint.clone_from(&self.s3_endpoint);
        s3.region.clone_from(&self.s3_region);
        s3.path_style = self.s3_path_style;
        if let Some(n) = self.s3_retries {
            s3.max_retries = n;
        }
        StoreOptions::with_s3(s3)
    }
}

/// What a command reports back to `main`.
#[derive(Debug)]
enum Outcome {
    /// Everything went well.
    Success,
    /// A check found a problem (already reported).
    CheckFailed,
}

/// An error, with the exit code it deserves.
#[derive(Debug)]
struct Failure {
    message: String,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e {
            Error::InvalidFqn { .. }
            | Error::InvalidDigest { .. }
            | Error::UnsafePath { .. }
            | Error::InvalidStoreUrl { .. }
            | Error::InvalidInput { .. }
            | Error::NotFound { .. }
            | Error::SetNotFound { .. }
            | Error::AlreadyExists { .. }
            | Error::FileExists { .. } => 2,
            _ => 1,
        };
        Self {
            message: e.to_string(),
            code,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backup(args) => platform::backup(args),
        Command::Restore(args) => platform::restore(args),
        Command::Plan(args) => plan::run(args),
        Command::Sets(command) => sets::run(command),
        Command::Policy(command) => policy::run(command),
        Command::Conf(command) => cluster::run_conf(command),
        Command::Db(command) => cluster::run_db(command),
        Command::Orchestrator(command) => orch::run(command),
        Command::Package(command) => jobdata::run_package(command),
        Command::Job(command) => jobdata::run_job(command),
        Command::Import(args) => jobdata::import(args),
        Command::Export(command) => jobdata::run_export(command),
        Command::Cntmp(command) => jobdata::run_cntmp(command),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(failure) => {
            eprintln!("continuum-backup: error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
