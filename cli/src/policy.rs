//! `continuum-backup policy …`

use std::path::PathBuf;

use clap::Subcommand;
use continuum_core::{WriteOptions, write_atomic};
use continuum_policy::{
    Error, FolderPolicyStore, ImportOptions, ImportOutcome, check, export, format, import,
    read_document_file,
};

use crate::output::{json, say, table};
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Parse and validate documents; errors and warnings go to stderr (exit 1 on errors).
    Check {
        /// The documents.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite documents in the canonical layout (comments kept; meaning checked unchanged).
    Fmt {
        /// The documents.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write nothing; exit 1 when a document is not in the canonical layout.
        #[arg(long)]
        check: bool,
    },
    /// Export every document (or the one named) as `<name>.pol` files.
    Export {
        /// The document to export; all when left out.
        name: Option<String>,
        /// The cluster folder (its documents live in `DIR/policy/`).
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// The folder to write into.
        #[arg(long, value_name = "OUT")]
        dir: PathBuf,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Import documents from files and patterns (`*.pol`, `policy/**/*.pol`), all or nothing.
    Import {
        /// Files or glob patterns; each document is named after its file stem.
        #[arg(required = true)]
        patterns: Vec<String>,
        /// The cluster folder (its documents live in `DIR/policy/`).
        #[arg(long, value_name = "DIR")]
        cluster: PathBuf,
        /// Report what would happen without storing anything.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => Failure::from(core),
            Error::FormatterChangedMeaning { .. } => Failure {
                message: e.to_string(),
                code: 1,
            },
            other => Failure {
                message: other.to_string(),
                code: 2,
            },
        }
    }
}

pub(crate) fn run(command: PolicyCommand) -> Result<Outcome, Failure> {
    match command {
        PolicyCommand::Check { files } => {
            let mut failed = false;
            for file in &files {
                let name = file.display().to_string();
                let result = read_document_file(file).and_then(|text| check(&text, &name));
                match result {
                    Ok(warnings) => {
                        for w in &warnings {
                            eprintln!("{w}");
                        }
                        say!("{name}: ok ({} warning(s))", warnings.len());
                    }
                    Err(Error::Invalid { diagnostics, .. }) => {
                        failed = true;
                        for d in &diagnostics {
                            eprintln!("{d}");
                        }
                        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                        say!("{name}: {errors} error(s)");
                    }
                    Err(other) => {
                        failed = true;
                        eprintln!("continuum-backup: error: {other}");
                    }
                }
            }
            Ok(if failed {
                Outcome::CheckFailed
            } else {
                Outcome::Success
            })
        }
        PolicyCommand::Fmt {
            files,
            check: only_check,
        } => {
            let mut differs = false;
            for file in &files {
                let name = file.display().to_string();
                let text = read_document_file(file)?;
                let formatted = format(&text, &name)?;
                if formatted == text {
                    continue;
                }
                differs = true;
                if only_check {
                    say!("{name}: not formatted");
                } else {
                    write_atomic(
                        file,
                        &mut formatted.as_bytes(),
                        WriteOptions::replacing(true),
                    )?;
                    say!("{name}: formatted");
                }
            }
            Ok(if only_check && differs {
                Outcome::CheckFailed
            } else {
                Outcome::Success
            })
        }
        PolicyCommand::Export {
            name,
            cluster,
            dir,
            force,
        } => {
            let store = FolderPolicyStore::for_cluster(&cluster);
            let report = export(&store, name.as_deref(), &dir, force)?;
            for f in &report.files {
                say!("{}", f.display());
            }
            Ok(Outcome::Success)
        }
        PolicyCommand::Import {
            patterns,
            cluster,
            dry_run,
            json: as_json,
        } => {
            let store = FolderPolicyStore::for_cluster(&cluster);
            let mut options = ImportOptions::default();
            options.dry_run = dry_run;
            let report = import(&store, &patterns, options)?;
            if as_json {
                json(&report);
            } else {
                let mut rows = vec![vec![
                    "DOCUMENT".to_string(),
                    if dry_run { "WOULD BE" } else { "OUTCOME" }.to_string(),
                    "WARNINGS".to_string(),
                    "FILE".to_string(),
                ]];
                for d in &report.documents {
                    let outcome = match d.outcome {
                        ImportOutcome::Created => "created",
                        ImportOutcome::Updated => "updated",
                        ImportOutcome::Unchanged => "unchanged",
                        _ => "?",
                    };
                    rows.push(vec![
                        d.name.clone(),
                        outcome.to_string(),
                        d.warnings.len().to_string(),
                        d.file.display().to_string(),
                    ]);
                }
                table(&rows);
                for d in &report.documents {
                    for w in &d.warnings {
                        eprintln!("{w}");
                    }
                }
            }
            Ok(Outcome::Success)
        }
    }
}
