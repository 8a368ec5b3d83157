//! Typed views on `cluster.conf`: the cluster's name and domain, its machine groups, its
//! component counts, and where database backups go.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use continuum_core::{S3Options, Secret, StoreOptions};
use serde::Serialize;

use crate::dconf::{Value, parse};
use crate::error::{Error, Result};

/// The database components whose data is backed up.
pub const DATABASE_COMPONENTS: [&str; 3] =
    ["component-database", "auditlog-database", "monitoring"];

/// The local backup folder when none is configured.
pub const DEFAULT_LOCAL_BACKUP_DIR: &str = "/var/lib/postgresql/backups";

/// A group of machines and the components they may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MachineGroup {
    /// The group's name (`central`, `instance-manager` …).
    pub name: String,
    /// Its hosts, in order; the first is the group's master.
    pub hosts: Vec<String>,
    /// The component tags its machines take.
    pub suitable_tags: Vec<String>,
}

/// `chef.continuum.database_backups`: the S3 bucket for database backups.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DatabaseBackups {
    /// The access key (a secret: never shown).
    pub access_key: Secret,
    /// The secret key (never shown).
    pub secret_key: Secret,
    /// The S3 region (the platform calls it `endpoint`).
    pub region: String,
    /// The bucket.
    pub bucket: String,
}

impl fmt::Debug for DatabaseBackups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseBackups")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .finish()
    }
}

impl DatabaseBackups {
    /// The store URL of the bucket.
    pub fn store_url(&self) -> String {
        format!("s3://{}/database_backups", self.bucket)
    }

    /// Store options carrying the credentials and region (an endpoint may be added for an
    /// S3-compatible server).
    pub fn store_options(&self) -> StoreOptions {
        let mut s3 = S3Options::default();
        s3.region = Some(self.region.clone());
        s3.access_key_id = Some(self.access_key.clone());
        s3.secret_access_key = Some(self.secret_key.clone());
        StoreOptions::with_s3(s3)
    }
}

/// The package manager's own S3 store (`chef.continuum.package_manager.s3_store`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackageStore {
    /// `package_store_type` (`s3`, `local` …).
    pub kind: Option<String>,
    /// The bucket, when S3.
    pub bucket: Option<String>,
    /// The endpoint, when S3.
    pub endpoint: Option<String>,
    /// The access key (never shown).
    pub access_key: Option<Secret>,
    /// The secret key (never shown).
    pub secret_key: Option<Secret>,
}

/// A parsed `cluster.conf` with typed views.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ClusterConf {
    /// The file it came from.
    pub file: String,
    /// `chef.continuum.cluster_name`.
    pub cluster_name: Option<String>,
    /// `chef.continuum.base_domain`.
    pub base_domain: Option<String>,
    /// `provisioner.type`.
    pub provisioner: Option<String>,
    /// `machines`, in order.
    pub machine_groups: Vec<MachineGroup>,
    /// `components`: how many of each.
    pub components: BTreeMap<String, u64>,
    /// `chef.continuum.database_backups`, when configured.
    pub database_backups: Option<DatabaseBackups>,
    /// `chef.continuum.package_manager`, when configured.
    pub package_store: Option<PackageStore>,
    /// The whole tree (secrets redacted when shown or serialized).
    pub tree: Value,
}

fn text_at(tree: &Value, path: &[&str], file: &str) -> Result<Option<String>> {
    match tree.path(path) {
        None => Ok(None),
        Some(v) => v.as_text().map(Some).ok_or_else(|| Error::Conf {
            file: file.to_string(),
            message: format!("`{}` must be a string", path.join(".")),
        }),
    }
}

fn strings(v: &Value, what: &str, file: &str) -> Result<Vec<String>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_text().ok_or_else(|| Error::Conf {
                    file: file.to_string(),
                    message: format!("`{what}` must be an array of strings"),
                })
            })
            .collect(),
        other => other.as_text().map(|t| vec![t]).ok_or_else(|| Error::Conf {
            file: file.to_string(),
            message: format!("`{what}` must be an array of strings"),
        }),
    }
}

impl ClusterConf {
    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::dconf::read_document(path)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let tree = parse(text, file)?;
        fn at(k: &str) -> [&str; 3] {
            ["chef", "continuum", k]
        }
        let mut machine_groups = Vec::new();
        if let Some(machines) = tree.get("machines") {
            for e in machines.entries() {
                let hosts = match e.value.get("hosts") {
                    Some(h) => strings(h, &format!("machines.{}.hosts", e.key), file)?,
                    None => Vec::new(),
                };
                let suitable_tags = match e.value.get("suitable_tags") {
                    Some(t) => strings(t, &format!("machines.{}.suitable_tags", e.key), file)?,
                    None => Vec::new(),
                };
                machine_groups.push(MachineGroup {
                    name: e.key.clone(),
                    hosts,
                    suitable_tags,
                });
            }
        }
        let mut components = BTreeMap::new();
        if let Some(c) = tree.get("components") {
            for e in c.entries() {
                let count = e
                    .value
                    .as_text()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| Error::Conf {
                        file: file.to_string(),
                        message: format!(
                            "{}: `components.{}` must be a whole number",
                            e.position, e.key
                        ),
                    })?;
                components.insert(e.key.clone(), count);
            }
        }
        let database_backups = match tree.path(&at("database_backups")) {
            None => None,
            Some(db) => {
                let field = |k: &str| -> Result<String> {
                    db.get(k)
                        .and_then(Value::as_text)
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| Error::Conf {
                            file: file.to_string(),
                            message: format!(
                                "`chef.continuum.database_backups.{k}` is missing or empty"
                            ),
                        })
                };
                Some(DatabaseBackups {
                    access_key: Secret::new(field("access_key")?),
                    secret_key: Secret::new(field("secret_key")?),
                    region: field("endpoint")?,
                    bucket: field("bucket")?,
                })
            }
        };
        let package_store = tree.path(&at("package_manager")).map(|pm| {
            let s3 = pm.get("s3_store");
            let get = |k: &str| s3.and_then(|s| s.get(k)).and_then(Value::as_text);
            PackageStore {
                kind: pm.get("package_store_type").and_then(Value::as_text),
                bucket: get("bucket"),
                endpoint: get("endpoint"),
                access_key: get("access_key").map(Secret::new),
                secret_key: get("secret_key").map(Secret::new),
            }
        });
        Ok(Self {
            file: file.to_string(),
            cluster_name: text_at(&tree, &at("cluster_name"), file)?,
            base_domain: text_at(&tree, &at("base_domain"), file)?,
            provisioner: text_at(&tree, &["provisioner", "type"], file)?,
            machine_groups,
            components,
            database_backups,
            package_store,
            tree,
        })
    }

    /// The groups whose machines run a database component.
    pub fn database_groups(&self) -> impl Iterator<Item = &MachineGroup> {
        self.machine_groups.iter().filter(|g| {
            g.suitable_tags
                .iter()
                .any(|t| DATABASE_COMPONENTS.contains(&t.as_str()))
        })
    }

    /// What a host keeps: the placement rule of the operations guide.
    pub fn placement(&self, host: &str) -> Placement {
        let groups: Vec<&MachineGroup> = self
            .database_groups()
            .filter(|g| g.hosts.iter().any(|h| h == host))
            .collect();
        let databases: Vec<String> = DATABASE_COMPONENTS
            .iter()
            .filter(|c| {
                groups
                    .iter()
                    .any(|g| g.suitable_tags.iter().any(|t| t == *c))
            })
            .map(|c| (*c).to_string())
            .collect();
        let master_of: Vec<String> = groups
            .iter()
            .filter(|g| g.hosts.first().is_some_and(|h| h == host))
            .map(|g| g.name.clone())
            .collect();
        let s3 = self.database_backups.is_some();
        let (keep_local, reason) = if groups.is_empty() {
            (false, format!("`{host}` runs no database component"))
        } else if !s3 {
            (
                true,
                "no S3 bucket is configured: every database server keeps a local copy".to_string(),
            )
        } else if !master_of.is_empty() {
            (
                true,
                format!(
                    "S3 is configured and `{host}` is the master of {}: it keeps a local copy too",
                    master_of.join(", ")
                ),
            )
        } else {
            (
                false,
                "S3 is configured: only each group's master keeps a local copy".to_string(),
            )
        };
        Placement {
            host: host.to_string(),
            databases,
            keep_local,
            upload_s3: s3 && !groups.is_empty(),
            local_dir: DEFAULT_LOCAL_BACKUP_DIR.to_string(),
            reason,
        }
    }
}

/// What one host keeps of the database backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Placement {
    /// The host.
    pub host: String,
    /// The database components it serves.
    pub databases: Vec<String>,
    /// It keeps a copy in its local backup folder.
    pub keep_local: bool,
    /// Its backups go to the S3 bucket.
    pub upload_s3: bool,
    /// The local backup folder.
    pub local_dir: String,
    /// Why, in words.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = r#"
machines: {
  central: { hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "auditlog-database", "api-server"] }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring] }
  im: { hosts: ["10.0.1.1"], suitable_tags: ["instance-manager"] }
}
components: { component-database: 2, auditlog-database: 2, monitoring: 1, instance-manager: 1 }
chef: { continuum: { cluster_name: prod, base_domain: "prod.example.com",
  database_backups: { access_key: AKIASECRETKEYID, secret_key: "very/secret", endpoint: eu-west-1, bucket: prod-backups }
  package_manager: { package_store_type: s3, s3_store: { bucket: pkgs, endpoint: s3.amazonaws.com, access_key: AKIAPKG, secret_key: pkgsecret } }
} }
"#;

    #[test]
    fn typed_views() {
        let c = ClusterConf::parse(CONF, "cluster.conf").unwrap();
        assert_eq!(c.cluster_name.as_deref(), Some("prod"));
        assert_eq!(c.base_domain.as_deref(), Some("prod.example.com"));
        assert_eq!(c.machine_groups.len(), 3);
        assert_eq!(c.components["component-database"], 2);
        let db = c.database_backups.as_ref().unwrap();
        assert_eq!(
            (db.region.as_str(), db.bucket.as_str()),
            ("eu-west-1", "prod-backups")
        );
        assert_eq!(db.access_key.expose(), "AKIASECRETKEYID");
        assert_eq!(
            c.package_store.as_ref().unwrap().bucket.as_deref(),
            Some("pkgs")
        );
        assert_eq!(c.database_groups().count(), 2);
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let c = ClusterConf::parse(CONF, "cluster.conf").unwrap();
        let shown = [format!("{c:?}"), serde_json::to_string(&c).unwrap()];
        for s in &shown {
            for secret in ["AKIASECRETKEYID", "very/secret", "AKIAPKG", "pkgsecret"] {
                assert!(!s.contains(secret), "{secret} leaked");
            }
        }
    }

    #[test]
    fn placement_rule() {
        let c = ClusterConf::parse(CONF, "cluster.conf").unwrap();
        let master = c.placement("10.0.0.11");
        assert!(master.keep_local && master.upload_s3);
        assert_eq!(
            master.databases,
            ["component-database", "auditlog-database"]
        );
        let replica = c.placement("10.0.0.12");
        assert!(!replica.keep_local && replica.upload_s3);
        assert!(c.placement("10.0.0.21").keep_local);
        let im = c.placement("10.0.1.1");
        assert!(!im.keep_local && !im.upload_s3);
        // without S3, every database server keeps a local copy
        let no_s3 = CONF.replace("database_backups", "not_configured");
        let c = ClusterConf::parse(&no_s3, "cluster.conf").unwrap();
        assert!(c.database_backups.is_none());
        let replica = c.placement("10.0.0.12");
        assert!(replica.keep_local && !replica.upload_s3);
    }

    #[test]
    fn wrong_shapes_are_named() {
        let e = ClusterConf::parse("components: { a: many }", "c.conf").unwrap_err();
        assert!(
            e.to_string()
                .contains("`components.a` must be a whole number"),
            "{e}"
        );
        let e = ClusterConf::parse(
            "chef: { continuum: { database_backups: { bucket: b } } }",
            "c.conf",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("database_backups.access_key` is missing"),
            "{e}"
        );
        let e = ClusterConf::parse("machines: { g: { hosts: { a: 1 } } }", "c.conf").unwrap_err();
        assert!(
            e.to_string()
                .contains("`machines.g.hosts` must be an array of strings"),
            "{e}"
        );
    }
}
