//! Component database backups, placed as the operations guide says: with an S3 bucket in
//! `database_backups`, every database server uploads and only each group's master also keeps
//! a local copy; without one, every server keeps a local copy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use continuum_core::{
    DynStore, LocalStore, PruneOptions, PruneReport, Reason, RetentionPolicy, copy_set, open_store,
    prune,
};
use serde::Serialize;

use crate::conf::{ClusterConf, DEFAULT_LOCAL_BACKUP_DIR, Placement};
use crate::db::{DbBackupOptions, backup_databases};
use crate::error::{Error, Result};
use crate::pg::PgTarget;

/// How component databases are backed up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ComponentBackupOptions {
    /// Why (daily, deploy, manual, migration); retention is applied per reason.
    pub reason: Reason,
    /// The local backup folder.
    pub local_dir: PathBuf,
    /// The databases of each component; a component not listed backs up the database named
    /// after it (`component-database` → `component_database`).
    pub databases: BTreeMap<String, Vec<String>>,
    /// An endpoint for an S3-compatible server (cluster.conf gives only the AWS region).
    pub s3_endpoint: Option<String>,
    /// Path-style S3 requests (most S3-compatible servers want them).
    pub s3_path_style: bool,
    /// Keep the roles beside the dumps (`pg_dumpall --globals-only`, a superuser's right).
    pub with_globals: bool,
    /// Retention per reason, applied to every store written after the backup.
    pub retention: BTreeMap<Reason, RetentionPolicy>,
}

impl ComponentBackupOptions {
    /// Defaults: the local folder `/var/lib/postgresql/backups`, roles kept, and retention
    /// of 7 daily sets (at least 3), 5 deploy sets, 10 manual and 3 migration sets.
    pub fn new(reason: Reason) -> Self {
        let mut retention = BTreeMap::new();
        let mut daily = RetentionPolicy::default();
        daily.keep_daily = 7;
        daily.min_keep = 3;
        retention.insert(Reason::Daily, daily);
        retention.insert(Reason::Deploy, RetentionPolicy::last(5));
        retention.insert(Reason::Manual, RetentionPolicy::last(10));
        retention.insert(Reason::Migration, RetentionPolicy::last(3));
        Self {
            reason,
            local_dir: PathBuf::from(DEFAULT_LOCAL_BACKUP_DIR),
            databases: BTreeMap::new(),
            s3_endpoint: None,
            s3_path_style: false,
            with_globals: true,
            retention,
        }
    }
}

/// What a component backup did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ComponentBackupReport {
    /// The placement decision for this host.
    pub placement: Placement,
    /// The databases backed up.
    pub databases: Vec<String>,
    /// The set's id (the same in every store).
    pub set_id: String,
    /// The stores holding the set.
    pub stores: Vec<String>,
    /// Retention applied afterwards, per store.
    pub pruned: Vec<PruneReport>,
}

/// The database a component keeps when none is configured.
pub fn default_database(component: &str) -> String {
    component.replace('-', "_")
}

/// Backs up the component databases this host serves, into the stores the placement rule
/// gives, then applies the retention of the reason to each of them.
pub fn backup_components(
    conf: &ClusterConf,
    host: &str,
    target: &PgTarget,
    options: &ComponentBackupOptions,
) -> Result<ComponentBackupReport> {
    let placement = conf.placement(host);
    if placement.databases.is_empty() {
        return Err(Error::Conf {
            file: conf.file.clone(),
            message: format!("`{host}` runs no database component: {}", placement.reason),
        });
    }
    let databases: Vec<String> = placement
        .databases
        .iter()
        .flat_map(|c| {
            options
                .databases
                .get(c)
                .cloned()
                .unwrap_or_else(|| vec![default_database(c)])
        })
        .collect();
    let local: Option<DynStore> = placement.keep_local.then(|| {
        let dir = options
            .local_dir
            .join(conf.cluster_name.as_deref().unwrap_or("cluster"));
        Arc::new(LocalStore::new(dir)) as DynStore
    });
    let s3: Option<DynStore> = match (&conf.database_backups, placement.upload_s3) {
        (Some(db), true) => {
            let mut store_options = db.store_options();
            store_options.s3.endpoint.clone_from(&options.s3_endpoint);
            store_options.s3.path_style = options.s3_path_style;
            Some(open_store(&db.store_url(), &store_options)?)
        }
        _ => None,
    };
    let mut db_options = DbBackupOptions::new(options.reason);
    db_options.cluster_name.clone_from(&conf.cluster_name);
    db_options.with_globals = options.with_globals;
    db_options.component = placement.databases.join("+");
    // Dump once: into the local store when there is one (then copied to S3), else to S3.
    let (first, second) = match (local, s3) {
        (Some(l), s) => (l, s),
        (None, Some(s)) => (s, None),
        (None, None) => {
            return Err(Error::Conf {
                file: conf.file.clone(),
                message: format!("`{host}` keeps no backup anywhere: {}", placement.reason),
            });
        }
    };
    let manifest = backup_databases(first.clone(), target, &databases, &db_options)?;
    let mut stores = vec![first.url()];
    if let Some(s3) = &second {
        copy_set(first.as_ref(), s3.as_ref(), &manifest.set_id)?;
        stores.push(s3.url());
    }
    let mut pruned = Vec::new();
    if let Some(policy) = options.retention.get(&options.reason) {
        let mut prune_options = PruneOptions::new(*policy);
        prune_options.reason = Some(options.reason);
        for store in std::iter::once(&first).chain(second.as_ref()) {
            pruned.push(prune(store.as_ref(), &prune_options)?);
        }
    }
    Ok(ComponentBackupReport {
        placement,
        databases,
        set_id: manifest.set_id,
        stores,
        pruned,
    })
}
