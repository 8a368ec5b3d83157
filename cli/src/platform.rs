//! `continuum-backup backup` and `continuum-backup restore`: the whole platform in one set.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use continuum_core::{Identities, Reason, Recipients, open_store};
use continuum_orchestrator::{
    PlatformAction, PlatformBackupOptions, PlatformRestoreOptions, PlatformSource, Progress,
    RestoreDestination, RestoreKind, backup_platform, plan_platform_restore,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cluster::DsnArgs;
use crate::output::{json, say, size, table};
use crate::{Failure, Outcome, S3Args};

/// `COMPONENT=DATABASE` or `FROM=TO` pairs.
fn pairs(values: &[String], what: &'static str) -> Result<BTreeMap<String, String>, Failure> {
    let mut map = BTreeMap::new();
    for value in values {
        let Some((k, v)) = value
            .split_once('=')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        else {
            return Err(continuum_core::Error::InvalidInput {
                what,
                value: value.clone(),
                reason: "expected NAME=NAME".to_string(),
            }
            .into());
        };
        map.insert(k.to_string(), v.to_string());
    }
    Ok(map)
}

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The cluster.conf file.
    #[arg(long)]
    config: PathBuf,
    /// The cluster folder: Terraform files, `policy/`, `jobdata/`.
    #[arg(long)]
    cluster: PathBuf,
    #[command(flatten)]
    dsn: DsnArgs,
    /// The store: a folder, `file:///…` or `s3://bucket/prefix`.
    #[arg(long)]
    to: String,
    /// Why: daily, deploy, manual or migration.
    #[arg(long, default_value = "manual")]
    reason: Reason,
    /// Also export all job data (it belongs to its owner: opt-in).
    #[arg(long)]
    with_job_data: bool,
    /// A component's database, where it is not the default (`component-database=cdb`).
    #[arg(long = "database", value_name = "COMPONENT=DB")]
    databases: Vec<String>,
    /// Leave out the roles (`pg_dumpall --globals-only` needs a superuser).
    #[arg(long)]
    no_globals: bool,
    /// Artifacts produced at once (1: one after the other).
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Encrypt the set to this age recipient (`age1…`); repeatable. The backup host then
    /// cannot read what it wrote, and cluster.conf keeps its secrets.
    #[arg(long = "encrypt-to", value_name = "RECIPIENT")]
    encrypt_to: Vec<String>,
    /// Encrypt the set to the recipients of this file (one `age1…` per line).
    #[arg(long, value_name = "FILE")]
    recipients_file: Option<PathBuf>,
    /// Print the report as JSON (and no progress).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    s3: S3Args,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The store.
    #[arg(long)]
    from: String,
    /// The set.
    #[arg(long = "set")]
    set_id: String,
    /// The cluster folder to restore into.
    #[arg(long)]
    cluster: PathBuf,
    #[command(flatten)]
    dsn: DsnArgs,
    /// Restore only these kinds: databases, installation-files, policy, job-data.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    only: Vec<RestoreKind>,
    /// Restore a database under another name (`component_database=cdb_copy`).
    #[arg(long = "database", value_name = "FROM=TO")]
    databases: Vec<String>,
    /// Leave out the roles and tablespaces (restored first by default, when the set has
    /// them; roles that exist are kept).
    #[arg(long)]
    no_globals: bool,
    /// Replace what exists (files with other content, databases that hold data).
    #[arg(long)]
    force: bool,
    /// Items restored at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// The age identity file that opens an encrypted set (`age-keygen` writes one).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (and no progress).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    s3: S3Args,
}

/// Draws a progress bar on a terminal's stderr; nothing otherwise.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>7} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        )
        .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        Self(Some(bar))
    }

    fn update(&self, p: &Progress) {
        let Some(bar) = &self.0 else { return };
        bar.set_prefix(format!("{}/{}", p.artifacts_done, p.artifacts_total));
        bar.set_length(p.bytes_total);
        bar.set_position(p.bytes_done);
        bar.set_message(p.current.join(", "));
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

pub(crate) fn backup(args: BackupArgs) -> Result<Outcome, Failure> {
    let target = args.dsn.target()?;
    let store = open_store(&args.to, &args.s3.store_options())?;
    let mut options = PlatformBackupOptions::default();
    options.reason = args.reason;
    options.with_job_data = args.with_job_data;
    options.databases = pairs(&args.databases, "database")?;
    options.with_globals = !args.no_globals;
    options.parallel = args.parallel.max(1);
    let mut recipients: Vec<String> = args.encrypt_to.clone();
    if let Some(file) = &args.recipients_file {
        recipients.extend(Recipients::from_file(file)?.to_strings());
    }
    if !recipients.is_empty() {
        options.encrypt_to = Some(Recipients::parse(&recipients)?);
    }
    let source = PlatformSource::new(&args.config, &args.cluster, target);
    let bar = Bar::new(args.json);
    let callback = |p: &Progress| bar.update(p);
    let result = backup_platform(store, &source, &options, Some(&callback));
    bar.finish();
    let report = result?;
    if args.json {
        json(&report);
        return Ok(Outcome::Success);
    }
    say!(
        "set {} committed to {} ({} artifacts, {} stored from {} read, {:.1} s, {} at once)",
        report.set_id,
        report.store,
        report.artifacts.len(),
        size(report.bytes_stored),
        size(report.bytes_read),
        report.duration.as_secs_f64(),
        report.parallel
    );
    let mut rows = vec![vec![
        "ARTIFACT".to_string(),
        "COMPONENT".to_string(),
        "KIND".to_string(),
        "STORED".to_string(),
        "SECONDS".to_string(),
    ]];
    for a in &report.artifacts {
        rows.push(vec![
            a.name.clone(),
            a.component.clone(),
            a.kind.as_str().to_string(),
            size(a.size),
            format!("{:.2}", a.duration.as_secs_f64()),
        ]);
    }
    table(&rows);
    let left_out: Vec<String> = report
        .plan
        .components
        .iter()
        .filter(|c| {
            c.artifacts.is_empty()
                || !matches!(c.coverage, continuum_orchestrator::Coverage::BackedUp)
        })
        .map(|c| format!("{} ({})", c.component, c.reason))
        .collect();
    if !left_out.is_empty() {
        say!("not in the set: {}", left_out.join("; "));
    }
    for w in &report.warnings {
        say!("warning: {w}");
    }
    Ok(Outcome::Success)
}

pub(crate) fn restore(args: RestoreArgs) -> Result<Outcome, Failure> {
    let store = open_store(&args.from, &args.s3.store_options())?;
    let needs_db = args.only.is_empty() || args.only.contains(&RestoreKind::Databases);
    let target = if needs_db {
        Some(args.dsn.target()?)
    } else {
        None
    };
    let destination = RestoreDestination::new(&args.cluster, target);
    let mut options = PlatformRestoreOptions::default();
    options.only = args.only.clone();
    options.databases = pairs(&args.databases, "database")?;
    options.force = args.force;
    options.with_globals = !args.no_globals;
    options.parallel = args.parallel.max(1);
    if let Some(file) = &args.identity {
        options.identities = Some(Identities::from_file(file)?);
    }
    let plan = plan_platform_restore(store.as_ref(), &args.set_id, &destination, &options)?;
    if args.dry_run {
        if args.json {
            json(&plan);
        } else {
            let mut rows = vec![vec![
                "ARTIFACT".to_string(),
                "ACTION".to_string(),
                "DESTINATION".to_string(),
                "NOTE".to_string(),
            ]];
            for i in &plan.items {
                rows.push(vec![
                    i.artifact.clone(),
                    i.action.as_str().to_string(),
                    i.destination.clone(),
                    i.note.clone().unwrap_or_default(),
                ]);
            }
            table(&rows);
            for n in &plan.notes {
                say!("note: {n}");
            }
            say!("dry run: nothing was changed");
        }
        return Ok(if plan.conflicts().next().is_some() {
            Outcome::CheckFailed
        } else {
            Outcome::Success
        });
    }
    let bar = Bar::new(args.json);
    let callback = |p: &Progress| bar.update(p);
    let result = plan.apply(store.as_ref(), Some(&callback));
    bar.finish();
    let report = result?;
    if args.json {
        json(&report);
        return Ok(Outcome::Success);
    }
    say!(
        "set {} restored ({} artifacts, {}, {:.1} s)",
        report.set_id,
        report.items.len(),
        size(report.bytes_read),
        report.duration.as_secs_f64()
    );
    let mut rows = vec![vec![
        "ARTIFACT".to_string(),
        "ACTION".to_string(),
        "VERIFIED".to_string(),
    ]];
    for i in &report.items {
        let action = if i.action == PlatformAction::Skip {
            "skip (identical)".to_string()
        } else {
            i.action.as_str().to_string()
        };
        rows.push(vec![i.artifact.clone(), action, i.verified.clone()]);
    }
    table(&rows);
    for n in &report.notes {
        say!("note: {n}");
    }
    Ok(Outcome::Success)
}
