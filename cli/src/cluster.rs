//! `continuum-backup conf …` and `continuum-backup db …`: cluster.conf and PostgreSQL.

use std::path::PathBuf;

use clap::Subcommand;
use continuum_core::{Reason, open_store};
use continuum_orchestrator::{
    ClusterConf, ComponentBackupOptions, DbBackupOptions, DbRestoreOptions, Error, PgTarget,
    RestoreAction, backup_components, backup_databases, collect_installation_files, list_databases,
    plan_database_restore, snapshot_to_git,
};

use crate::output::{json, say, size, table};
use crate::{Failure, Outcome, S3Args};

#[derive(Debug, Subcommand)]
pub(crate) enum ConfCommand {
    /// Show a cluster.conf: name, domain, machine groups, components, backup bucket
    /// (secrets are never shown).
    Show {
        /// The cluster.conf file.
        file: PathBuf,
        /// Print JSON (secrets redacted).
        #[arg(long)]
        json: bool,
    },
    /// Check that a cluster.conf parses and has the expected shapes.
    Check {
        /// The cluster.conf file.
        file: PathBuf,
    },
    /// Commit the installation files (cluster.conf, Terraform `*.tf`, `*.tfvars`) to a git
    /// repository; refused when its branch is behind its upstream.
    Snapshot {
        /// Files or folders holding them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The git repository (created when missing).
        #[arg(long)]
        repo: PathBuf,
        /// The commit message.
        #[arg(long, default_value = "continuum-backup: installation files")]
        message: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// What a host keeps of the database backups (the placement rule).
    Placement {
        /// The cluster.conf file.
        file: PathBuf,
        /// The host's address, as cluster.conf lists it.
        #[arg(long)]
        host: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// How to reach PostgreSQL: `--dsn`, or the standard `PG*` / `DATABASE_URL` variables.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DsnArgs {
    /// `postgresql://user@host:port/db` (a password is better given in PGPASSWORD).
    #[arg(long)]
    dsn: Option<String>,
}

impl DsnArgs {
    pub(crate) fn target(&self) -> Result<PgTarget, Failure> {
        Ok(match &self.dsn {
            Some(url) => PgTarget::parse(url)?,
            None => PgTarget::from_env()?,
        })
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Back up databases into one set: `pg_dump` streamed through zstd into the store,
    /// row counts recorded from the same snapshot, the roles beside.
    Backup {
        #[command(flatten)]
        dsn: DsnArgs,
        /// The databases.
        #[arg(long = "database", required = true, value_name = "NAME")]
        databases: Vec<String>,
        /// The store: a folder, `file:///…` or `s3://bucket/prefix`.
        #[arg(long)]
        to: String,
        /// Why: daily, deploy, manual or migration.
        #[arg(long, default_value = "manual")]
        reason: Reason,
        /// Leave out the roles (`pg_dumpall --globals-only` needs a superuser).
        #[arg(long)]
        no_globals: bool,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Restore one database of a set (plan, apply, verify the row counts).
    Restore {
        /// The store.
        #[arg(long)]
        from: String,
        /// The set.
        #[arg(long = "set")]
        set_id: String,
        /// The database, as backed up.
        #[arg(long)]
        database: String,
        /// Restore under another name.
        #[arg(long = "as", value_name = "NEW_NAME")]
        as_name: Option<String>,
        #[command(flatten)]
        dsn: DsnArgs,
        /// Replace a database that holds data.
        #[arg(long)]
        force: bool,
        /// Restore the roles first.
        #[arg(long)]
        with_globals: bool,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Back up the component databases this host serves, where cluster.conf says (the
    /// local folder and/or the `database_backups` bucket), then apply the reason's retention.
    ComponentBackup {
        /// The cluster.conf file.
        #[arg(long)]
        config: PathBuf,
        /// This host's address, as cluster.conf lists it.
        #[arg(long)]
        host: String,
        #[command(flatten)]
        dsn: DsnArgs,
        /// Why: daily, deploy, manual or migration.
        #[arg(long, default_value = "daily")]
        reason: Reason,
        /// The local backup folder.
        #[arg(long, default_value = continuum_orchestrator::DEFAULT_LOCAL_BACKUP_DIR)]
        local_dir: PathBuf,
        /// A component's databases, `COMPONENT=DB[,DB…]` (default: the component's name with
        /// `_` for `-`).
        #[arg(long = "databases", value_name = "COMPONENT=DB,…")]
        databases: Vec<String>,
        /// Leave out the roles.
        #[arg(long)]
        no_globals: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// List the server's databases (what `psql -l` shows).
    List {
        #[command(flatten)]
        dsn: DsnArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => Failure::from(core),
            // The exit code of the cause; the message keeps the artifact's name.
            Error::Artifact { artifact, source } => {
                let cause = Failure::from(*source);
                Failure {
                    message: format!("artifact `{artifact}`: {}", cause.message),
                    code: cause.code,
                }
            }
            Error::RowCountMismatch { .. }
            | Error::ChildFailed { .. }
            | Error::Postgres { .. }
            | Error::Stream { .. } => Failure {
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

pub(crate) fn run_conf(command: ConfCommand) -> Result<Outcome, Failure> {
    match command {
        ConfCommand::Show {
            file,
            json: as_json,
        } => {
            let conf = ClusterConf::load(&file)?;
            if as_json {
                json(&conf);
                return Ok(Outcome::Success);
            }
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
            say!("cluster:      {}", or_dash(&conf.cluster_name));
            say!("base domain:  {}", or_dash(&conf.base_domain));
            say!("provisioner:  {}", or_dash(&conf.provisioner));
            match &conf.database_backups {
                Some(db) => say!(
                    "db backups:   s3://{} in {} (keys set, not shown)",
                    db.bucket,
                    db.region
                ),
                None => say!("db backups:   local folders only (no S3 bucket configured)"),
            }
            let mut rows = vec![vec![
                "GROUP".to_string(),
                "HOSTS".to_string(),
                "COMPONENTS".to_string(),
            ]];
            for g in &conf.machine_groups {
                rows.push(vec![
                    g.name.clone(),
                    g.hosts.join(", "),
                    g.suitable_tags.join(", "),
                ]);
            }
            say!("");
            table(&rows);
            let mut rows = vec![vec!["COMPONENT".to_string(), "COUNT".to_string()]];
            for (c, n) in &conf.components {
                rows.push(vec![c.clone(), n.to_string()]);
            }
            say!("");
            table(&rows);
            Ok(Outcome::Success)
        }
        ConfCommand::Check { file } => {
            let conf = ClusterConf::load(&file)?;
            say!(
                "{}: ok ({} machine group(s), {} component(s){})",
                file.display(),
                conf.machine_groups.len(),
                conf.components.len(),
                if conf.database_backups.is_some() {
                    ", database backups to S3"
                } else {
                    ""
                }
            );
            Ok(Outcome::Success)
        }
        ConfCommand::Snapshot {
            paths,
            repo,
            message,
            json: as_json,
        } => {
            let files = collect_installation_files(&paths)?;
            let snapshot = snapshot_to_git(&files, &repo, &message)?;
            if as_json {
                json(&snapshot);
            } else {
                for f in &files {
                    say!("{}  {}  {}", f.sha256, size(f.size), f.name);
                }
                match &snapshot.commit {
                    Some(c) => say!(
                        "committed {} changed file(s) as {c}",
                        snapshot.changed.len()
                    ),
                    None => say!("nothing changed since the last snapshot"),
                }
            }
            Ok(Outcome::Success)
        }
        ConfCommand::Placement {
            file,
            host,
            json: as_json,
        } => {
            let conf = ClusterConf::load(&file)?;
            let p = conf.placement(&host);
            if as_json {
                json(&p);
            } else {
                say!(
                    "{host}: databases {}",
                    if p.databases.is_empty() {
                        "none".to_string()
                    } else {
                        p.databases.join(", ")
                    }
                );
                say!(
                    "  local copy in {}: {}",
                    p.local_dir,
                    if p.keep_local { "yes" } else { "no" }
                );
                say!("  upload to S3: {}", if p.upload_s3 { "yes" } else { "no" });
                say!("  why: {}", p.reason);
            }
            Ok(Outcome::Success)
        }
    }
}

pub(crate) fn run_db(command: DbCommand) -> Result<Outcome, Failure> {
    match command {
        DbCommand::Backup {
            dsn,
            databases,
            to,
            reason,
            no_globals,
            json: as_json,
            s3,
        } => {
            let target = dsn.target()?;
            let store = open_store(&to, &s3.store_options())?;
            let mut options = DbBackupOptions::new(reason);
            options.with_globals = !no_globals;
            let manifest = backup_databases(store, &target, &databases, &options)?;
            if as_json {
                json(&manifest);
            } else {
                say!("{}", manifest.set_id);
            }
            Ok(Outcome::Success)
        }
        DbCommand::Restore {
            from,
            set_id,
            database,
            as_name,
            dsn,
            force,
            with_globals,
            dry_run,
            json: as_json,
            s3,
        } => {
            let target = dsn.target()?;
            let store = open_store(&from, &s3.store_options())?;
            let mut options = DbRestoreOptions::default();
            options.as_name = as_name;
            options.force = force;
            options.with_globals = with_globals;
            let plan =
                plan_database_restore(store.as_ref(), &set_id, &database, &target, &options)?;
            if dry_run {
                if as_json {
                    json(&plan);
                } else {
                    let action = match plan.action {
                        RestoreAction::Create => {
                            "restore into a staging database, then rename it into place"
                        }
                        RestoreAction::Fill => {
                            "restore into a staging database, then swap it with the empty one"
                        }
                        RestoreAction::Replace => {
                            "restore into a staging database, then swap it with this one and DROP this one (forced)"
                        }
                        _ => "restore",
                    };
                    say!(
                        "would restore `{}` from set {} into `{}`: {action}",
                        plan.database,
                        plan.set_id,
                        plan.target_database
                    );
                    say!(
                        "  dump {} ({}), {} table(s) to verify",
                        plan.artifact,
                        size(plan.artifact_size),
                        plan.expected_rows.len()
                    );
                }
                return Ok(Outcome::Success);
            }
            let report = plan.apply(store.as_ref())?;
            if as_json {
                json(&report);
            } else {
                say!(
                    "restored `{}` into `{}`: {} table(s), {} row(s), every count verified",
                    report.database,
                    report.target_database,
                    report.tables.len(),
                    report.total_rows
                );
                for w in &report.warnings {
                    say!("warning: {w}");
                }
            }
            Ok(Outcome::Success)
        }
        DbCommand::ComponentBackup {
            config,
            host,
            dsn,
            reason,
            local_dir,
            databases,
            no_globals,
            json: as_json,
            s3,
        } => {
            let conf = ClusterConf::load(&config)?;
            let target = dsn.target()?;
            let mut options = ComponentBackupOptions::new(reason);
            options.local_dir = local_dir;
            options.with_globals = !no_globals;
            options.s3_endpoint = s3.s3_endpoint.clone();
            options.s3_path_style = s3.s3_path_style;
            for spec in &databases {
                let Some((component, names)) = spec.split_once('=') else {
                    return Err(Failure {
                        message: format!(
                            "invalid --databases `{spec}`: expected COMPONENT=DB[,DB…]"
                        ),
                        code: 2,
                    });
                };
                options.databases.insert(
                    component.to_string(),
                    names.split(',').map(str::to_string).collect(),
                );
            }
            let report = backup_components(&conf, &host, &target, &options)?;
            if as_json {
                json(&report);
            } else {
                say!("{}", report.set_id);
                say!("  databases: {}", report.databases.join(", "));
                for store in &report.stores {
                    say!("  stored in: {store}");
                }
                say!("  placement: {}", report.placement.reason);
            }
            Ok(Outcome::Success)
        }
        DbCommand::List { dsn, json: as_json } => {
            let target = dsn.target()?;
            let dbs = list_databases(&target)?;
            if as_json {
                json(&dbs);
            } else {
                let mut rows = vec![vec![
                    "NAME".to_string(),
                    "OWNER".to_string(),
                    "ENCODING".to_string(),
                    "SIZE".to_string(),
                ]];
                for d in &dbs {
                    rows.push(vec![
                        d.name.clone(),
                        d.owner.clone(),
                        d.encoding.clone(),
                        d.size.map_or("-".to_string(), size),
                    ]);
                }
                table(&rows);
            }
            Ok(Outcome::Success)
        }
    }
}
