//! `continuum-backup sets …`

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use continuum_core::{
    CheckStatus, DataKind, PruneOptions, Reason, RetentionPolicy, SetOptions, SetState,
    create_set_from_files, list_sets, open_store, prune, scan_sets, verify_set,
};
use serde::Serialize;

use crate::output::{json, say, size, table};
use crate::{Failure, Outcome, S3Args};

#[derive(Debug, Subcommand)]
pub(crate) enum SetsCommand {
    /// Commit files as one backup set (each artifact named after its file); prints the set id.
    Create {
        /// The store: a folder, `file:///…` or `s3://bucket/prefix`.
        store: String,
        /// The files (pipes and FIFOs too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The kind of data: cluster, policy, job or log.
        #[arg(long, default_value = "cluster")]
        kind: DataKind,
        /// The component the files belong to.
        #[arg(long, default_value = "files")]
        component: String,
        /// Why the set is made: daily, deploy, manual or migration.
        #[arg(long, default_value = "manual")]
        reason: Reason,
        /// The cluster's name, recorded in the manifest.
        #[arg(long)]
        cluster_name: Option<String>,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// List the committed sets, newest first.
    List {
        /// The store.
        store: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Check every artifact's size and SHA-256 (of one set, or of every set).
    Verify {
        /// The store.
        store: String,
        /// The set to check; every committed set when left out.
        set_id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Remove the sets no retention rule keeps, and incomplete sets.
    Prune {
        /// The store.
        store: String,
        /// Keep the newest N sets.
        #[arg(long, default_value_t = 0)]
        keep_last: u32,
        /// Keep the newest set of each of the last N days.
        #[arg(long, default_value_t = 0)]
        keep_daily: u32,
        /// Keep the newest set of each of the last N weeks.
        #[arg(long, default_value_t = 0)]
        keep_weekly: u32,
        /// Keep the newest set of each of the last N months.
        #[arg(long, default_value_t = 0)]
        keep_monthly: u32,
        /// Never keep fewer than N sets.
        #[arg(long, default_value_t = 0)]
        min_keep: u32,
        /// Leave incomplete sets and temporary files written less than this many seconds ago
        /// (they may still be being written); older ones, left by a killed writer, are removed.
        #[arg(long, default_value_t = 3600)]
        incomplete_grace: u64,
        /// Apply the rules only to the sets made for this reason (daily, deploy, manual,
        /// migration); other sets are left alone.
        #[arg(long)]
        reason: Option<Reason>,
        /// Say what would be removed, and why, without removing anything.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
}

pub(crate) fn run(command: SetsCommand) -> Result<Outcome, Failure> {
    match command {
        SetsCommand::Create {
            store,
            files,
            kind,
            component,
            reason,
            cluster_name,
            json: as_json,
            s3,
        } => {
            let store = open_store(&store, &s3.store_options())?;
            let mut options = SetOptions::new(reason);
            options.cluster_name = cluster_name;
            let manifest = create_set_from_files(store, &files, kind, &component, options)?;
            if as_json {
                json(&manifest);
            } else {
                say!("{}", manifest.set_id);
            }
            Ok(Outcome::Success)
        }
        SetsCommand::List {
            store,
            json: as_json,
            s3,
        } => {
            let store = open_store(&store, &s3.store_options())?;
            let entries = scan_sets(store.as_ref())?;
            let sets = list_sets(store.as_ref())?;
            let incomplete: Vec<&str> = entries
                .iter()
                .filter(|e| matches!(e.state, SetState::Incomplete))
                .map(|e| e.set_id.as_str())
                .collect();
            let unreadable: Vec<(&str, &str)> = entries
                .iter()
                .filter_map(|e| match &e.state {
                    SetState::Unreadable { error } => Some((e.set_id.as_str(), error.as_str())),
                    _ => None,
                })
                .collect();
            if as_json {
                #[derive(Serialize)]
                struct Listing<'a> {
                    sets: &'a [continuum_core::Manifest],
                    incomplete: &'a [&'a str],
                    unreadable: Vec<serde_json::Value>,
                }
                json(&Listing {
                    sets: &sets,
                    incomplete: &incomplete,
                    unreadable: unreadable
                        .iter()
                        .map(|(id, e)| serde_json::json!({"set_id": id, "error": e}))
                        .collect(),
                });
            } else {
                let mut rows = vec![vec![
                    "SET ID".to_string(),
                    "CREATED (UTC)".to_string(),
                    "REASON".to_string(),
                    "CLUSTER".to_string(),
                    "ARTIFACTS".to_string(),
                    "SIZE".to_string(),
                ]];
                for m in &sets {
                    rows.push(vec![
                        m.set_id.clone(),
                        m.created_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        m.reason.to_string(),
                        m.cluster_name.clone().unwrap_or_else(|| "-".to_string()),
                        m.artifacts.len().to_string(),
                        size(m.total_size()),
                    ]);
                }
                table(&rows);
                if !incomplete.is_empty() {
                    eprintln!(
                        "{} incomplete set(s) not listed (no manifest; `sets prune` removes them): {}",
                        incomplete.len(),
                        incomplete.join(", ")
                    );
                }
                for (id, error) in &unreadable {
                    eprintln!("set {id} has an unreadable manifest: {error}");
                }
            }
            Ok(Outcome::Success)
        }
        SetsCommand::Verify {
            store,
            set_id,
            json: as_json,
            s3,
        } => {
            let store = open_store(&store, &s3.store_options())?;
            let ids: Vec<String> = match set_id {
                Some(id) => vec![id],
                None => list_sets(store.as_ref())?
                    .into_iter()
                    .map(|m| m.set_id)
                    .collect(),
            };
            let mut reports = Vec::with_capacity(ids.len());
            for id in &ids {
                reports.push(verify_set(store.as_ref(), id)?);
            }
            let ok = reports.iter().all(|r| r.ok);
            if as_json {
                json(&reports);
            } else {
                for r in &reports {
                    if r.ok {
                        say!(
                            "{}: ok ({} artifacts, {} checked)",
                            r.set_id,
                            r.artifacts.len(),
                            size(r.bytes_checked)
                        );
                    } else {
                        say!("{}: DAMAGED", r.set_id);
                    }
                    for check in r.failures() {
                        let what = match &check.status {
                            CheckStatus::Missing => "missing".to_string(),
                            CheckStatus::SizeMismatch { expected, actual } => {
                                format!("size {actual} bytes, expected {expected}")
                            }
                            CheckStatus::DigestMismatch { expected, actual } => {
                                format!("content changed: {actual}, expected {expected}")
                            }
                            CheckStatus::ReadError { message } => format!("unreadable: {message}"),
                            _ => "failed".to_string(),
                        };
                        say!("  artifact `{}` ({}): {what}", check.name, check.path);
                    }
                    for extra in &r.unexpected_objects {
                        say!("  note: `{extra}` is in the set but not in its manifest");
                    }
                }
                if ids.is_empty() {
                    say!("no committed sets");
                }
            }
            Ok(if ok {
                Outcome::Success
            } else {
                Outcome::CheckFailed
            })
        }
        SetsCommand::Prune {
            store,
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            min_keep,
            incomplete_grace,
            reason,
            dry_run,
            json: as_json,
            s3,
        } => {
            let store = open_store(&store, &s3.store_options())?;
            let mut policy = RetentionPolicy::default();
            policy.keep_last = keep_last;
            policy.keep_daily = keep_daily;
            policy.keep_weekly = keep_weekly;
            policy.keep_monthly = keep_monthly;
            policy.min_keep = min_keep;
            let mut options = PruneOptions::new(policy);
            options.dry_run = dry_run;
            options.incomplete_grace = Duration::from_secs(incomplete_grace);
            options.reason = reason;
            let report = prune(store.as_ref(), &options)?;
            if as_json {
                json(&report);
            } else {
                let verb = if dry_run { "would remove" } else { "removed" };
                let mut rows = vec![vec![
                    "SET ID".to_string(),
                    "CREATED (UTC)".to_string(),
                    "DECISION".to_string(),
                    "WHY".to_string(),
                ]];
                for d in &report.decisions {
                    rows.push(vec![
                        d.set_id.clone(),
                        d.created_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        if d.keep {
                            "keep".to_string()
                        } else {
                            verb.to_string()
                        },
                        d.reasons.join("; "),
                    ]);
                }
                for l in &report.leftovers {
                    rows.push(vec![
                        l.set_id.clone(),
                        "-".to_string(),
                        if l.remove {
                            verb.to_string()
                        } else {
                            "keep".to_string()
                        },
                        l.reason.clone(),
                    ]);
                }
                for t in &report.temporaries {
                    rows.push(vec![
                        t.path.clone(),
                        "-".to_string(),
                        if t.remove {
                            verb.to_string()
                        } else {
                            "keep".to_string()
                        },
                        t.reason.clone(),
                    ]);
                }
                table(&rows);
                let removed = report.decisions.iter().filter(|d| !d.keep).count()
                    + report.leftovers.iter().filter(|l| l.remove).count();
                let temporaries = report.temporaries.iter().filter(|t| t.remove).count();
                say!(
                    "{verb} {removed} set(s) and {temporaries} temporary file(s), {}",
                    size(report.removed_bytes)
                );
            }
            Ok(Outcome::Success)
        }
    }
}
