//! The backup plan: every component a cluster runs, classified as the operations guide does
//! (backed up, optional, not backed up), with the reason, the hosts that run it, where its
//! backups go and what goes into the platform backup set for it.
//!
//! The plan is computed from `cluster.conf` alone, so it can be read, checked and drawn
//! before anything is backed up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use continuum_core::{DataKind, WriteOptions, write_atomic};
use serde::{Deserialize, Serialize};

use crate::archive::ORCHESTRATOR_DATABASE;
use crate::components::default_database;
use crate::conf::{ClusterConf, DATABASE_COMPONENTS, MachineGroup, Placement};
use crate::dconf::{Value, is_secret_key};
use crate::error::{Error, Result};

/// The orchestrator's component name in the plan.
const ORCHESTRATOR: &str = "orchestrator";
/// Where every backed-up artifact goes.
const BACKUP_SET: &str = "backup set";
/// The reason given for a component the plan does not know: it keeps no state of its own.
const STATELESS: &str = "stateless: rebuilt from the release and cluster.conf";
/// PostgreSQL's limit on a name, in bytes.
const MAX_DATABASE_NAME: usize = 63;

/// Whether a component's data is backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Coverage {
    /// Its data goes into the backup set.
    BackedUp,
    /// Backed up only when someone asks for it (compliance, history, opt-in).
    Optional,
    /// Not backed up, for a reason the plan gives.
    NotBackedUp,
}

impl Coverage {
    /// The words for people: `backed up`, `optional`, `not backed up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BackedUp => "backed up",
            Self::Optional => "optional",
            Self::NotBackedUp => "not backed up",
        }
    }
}

/// Where an artifact of the backup set comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum ArtifactSource {
    /// A PostgreSQL database, dumped.
    Database {
        /// The database's name.
        database: String,
    },
    /// `cluster.conf` and the Terraform files.
    InstallationFiles,
    /// Every policy document.
    PolicyDocuments,
    /// Packages and jobs.
    JobData,
}

/// One thing the platform backup set will hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlannedArtifact {
    /// Where it comes from.
    pub source: ArtifactSource,
    /// What it is, in words.
    pub description: String,
}

/// One component of the cluster and what the plan does with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlannedComponent {
    /// The component (`component-database`, `policy`, `redis-server` …).
    pub component: String,
    /// The kind of data it keeps.
    pub kind: DataKind,
    /// Whether it is backed up.
    pub coverage: Coverage,
    /// Why, in words.
    pub reason: String,
    /// The hosts of the machine groups whose `suitable_tags` name it, in order.
    pub hosts: Vec<String>,
    /// Where its backups go: `backup set`, `local <folder> on <host>`, `s3://… (<region>)`.
    pub destinations: Vec<String>,
    /// What goes into the platform backup set for it (empty unless backed up).
    pub artifacts: Vec<PlannedArtifact>,
}

/// What the plan is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Back up job data (packages and jobs) too; it belongs to its owner, so it is opt-in.
    pub with_job_data: bool,
    /// Narrow the placements (and the local and S3 destinations that follow from them) to
    /// this host, as cluster.conf lists it.
    pub host: Option<String>,
    /// The database of a database component, when not the component's name with `_` for
    /// `-` (`component-database` → `component_database`).
    pub databases: BTreeMap<String, String>,
    /// The backup set is encrypted, so cluster.conf's secrets may be kept in it.
    pub encrypted: bool,
}

/// The backup plan of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BackupPlan {
    /// `chef.continuum.cluster_name`.
    pub cluster_name: Option<String>,
    /// Every component, the known ones first in the guide's order, then the others by name.
    pub components: Vec<PlannedComponent>,
    /// What each database host keeps of the database backups (only the asked host's, when
    /// one is asked).
    pub placements: Vec<Placement>,
    /// cluster.conf's machine groups, which the graph draws.
    pub machine_groups: Vec<MachineGroup>,
    /// The backup set is encrypted.
    pub encrypted: bool,
    /// What happens to cluster.conf's secrets, in words.
    pub secrets: String,
    /// Things a person should know before trusting the plan.
    pub warnings: Vec<String>,
}

/// How the plan treats a component it knows.
struct Rule {
    component: &'static str,
    kind: DataKind,
    coverage: Coverage,
    reason: &'static str,
}

/// The components that are not databases of the cluster and not backed up by default, in the
/// order the plan lists them.
const OTHER_RULES: [Rule; 5] = [
    Rule {
        component: "splunk-server",
        kind: DataKind::Log,
        coverage: Coverage::Optional,
        reason: "compliance: back up with Splunk's own tools when compliance asks",
    },
    Rule {
        component: "graphite-server",
        kind: DataKind::Log,
        coverage: Coverage::Optional,
        reason: "metrics history: optional, copy Graphite's whisper files when the history matters",
    },
    Rule {
        component: "redis-server",
        kind: DataKind::Log,
        coverage: Coverage::NotBackedUp,
        reason: "a purged job-log buffer: use a log drain to keep job logs",
    },
    Rule {
        component: "nats-server",
        kind: DataKind::Cluster,
        coverage: Coverage::NotBackedUp,
        reason: "no persistence: messages in flight are not state",
    },
    Rule {
        component: "health-manager",
        kind: DataKind::Cluster,
        coverage: Coverage::NotBackedUp,
        reason: "no state: health is recomputed from the running cluster",
    },
];

/// What a database component holds, and its kind.
fn database_rule(component: &str) -> (DataKind, &'static str) {
    match component {
        "component-database" => (
            DataKind::Cluster,
            "the components' state, the auth server's data included",
        ),
        "auditlog-database" => (DataKind::Cluster, "the audit log: who did what, and when"),
        "monitoring" => (
            DataKind::Log,
            "the Zabbix database: monitoring setup and history",
        ),
        _ => (DataKind::Cluster, "a component database"),
    }
}

impl BackupPlan {
    /// Computes the plan of a cluster.
    ///
    /// Fails when `options.host` is in none of cluster.conf's machine groups, or when a
    /// database override names something other than a database component or an unusable
    /// database name.
    pub fn new(conf: &ClusterConf, options: &PlanOptions) -> Result<Self> {
        check_overrides(&options.databases)?;
        let mut warnings = Vec::new();
        let placements = match &options.host {
            Some(host) => {
                if !conf
                    .machine_groups
                    .iter()
                    .any(|g| g.hosts.iter().any(|h| h == host))
                {
                    return Err(continuum_core::Error::InvalidInput {
                        what: "host",
                        value: host.clone(),
                        reason: "it is in none of cluster.conf's machine groups".to_string(),
                    }
                    .into());
                }
                vec![conf.placement(host)]
            }
            None => database_hosts(conf)
                .iter()
                .map(|h| conf.placement(h))
                .collect(),
        };
        if conf.database_backups.is_none() {
            warnings.push(
                "no S3 bucket is configured (`chef.continuum.database_backups`): database \
                 backups stay on the database servers' own disks"
                    .to_string(),
            );
        }

        let mut components = Vec::new();
        for component in DATABASE_COMPONENTS {
            let hosts = hosts_of(conf, component);
            let (kind, holds) = database_rule(component);
            let present = conf.components.get(component).is_some_and(|n| *n > 0);
            if !present {
                if !hosts.is_empty() {
                    warnings.push(format!(
                        "`{component}` is in machine groups' `suitable_tags` but not in \
                         `components`: it is not backed up"
                    ));
                }
                if options.databases.contains_key(component) {
                    warnings.push(format!(
                        "a database is named for `{component}`, which this cluster does not run"
                    ));
                }
                components.push(PlannedComponent {
                    component: component.to_string(),
                    kind,
                    coverage: Coverage::NotBackedUp,
                    reason: "not in this cluster's components".to_string(),
                    hosts,
                    destinations: Vec::new(),
                    artifacts: Vec::new(),
                });
                continue;
            }
            if hosts.is_empty() {
                warnings.push(format!(
                    "`{component}` is in `components` but in no machine group's \
                     `suitable_tags`: its local and S3 copies cannot be placed"
                ));
            }
            let database = options
                .databases
                .get(component)
                .cloned()
                .unwrap_or_else(|| default_database(component));
            components.push(PlannedComponent {
                component: component.to_string(),
                kind,
                coverage: Coverage::BackedUp,
                reason: format!("{holds}; dumped daily and at every deploy"),
                hosts,
                destinations: database_destinations(conf, component, &placements),
                artifacts: vec![database_artifact(&database)],
            });
        }

        components.push(PlannedComponent {
            component: ORCHESTRATOR.to_string(),
            kind: DataKind::Cluster,
            coverage: Coverage::BackedUp,
            reason: "the orchestrator's own database, always present; `orchestrator backup` \
                     archives it too, with the orchestrator's files"
                .to_string(),
            hosts: hosts_of(conf, ORCHESTRATOR),
            destinations: vec![BACKUP_SET.to_string()],
            artifacts: vec![database_artifact(
                options
                    .databases
                    .get(ORCHESTRATOR)
                    .map_or(ORCHESTRATOR_DATABASE, String::as_str),
            )],
        });
        components.push(PlannedComponent {
            component: "installation-files".to_string(),
            kind: DataKind::Cluster,
            coverage: Coverage::BackedUp,
            reason: "cluster.conf and the Terraform files: without them the cluster cannot be \
                     rebuilt"
                .to_string(),
            hosts: Vec::new(),
            destinations: vec![BACKUP_SET.to_string()],
            artifacts: vec![PlannedArtifact {
                source: ArtifactSource::InstallationFiles,
                description: if options.encrypted {
                    "cluster.conf and the Terraform files (`*.tf`, `*.tfvars`) with their \
                     SHA-256, secrets kept (the set is encrypted)"
                } else {
                    "cluster.conf and the Terraform files (`*.tf`, `*.tfvars`) with their \
                     SHA-256, cluster.conf's secrets redacted"
                }
                .to_string(),
            }],
        });
        components.push(PlannedComponent {
            component: "policy".to_string(),
            kind: DataKind::Policy,
            coverage: Coverage::BackedUp,
            reason: "every policy document, exported as text".to_string(),
            hosts: Vec::new(),
            destinations: vec![BACKUP_SET.to_string()],
            artifacts: vec![PlannedArtifact {
                source: ArtifactSource::PolicyDocuments,
                description: "every policy document, one `.pol` text file each".to_string(),
            }],
        });
        components.push(if options.with_job_data {
            PlannedComponent {
                component: "job-data".to_string(),
                kind: DataKind::Job,
                coverage: Coverage::BackedUp,
                reason: "packages and jobs, opted in with the job data".to_string(),
                hosts: Vec::new(),
                destinations: vec![BACKUP_SET.to_string()],
                artifacts: vec![PlannedArtifact {
                    source: ArtifactSource::JobData,
                    description: "packages and jobs, exported to `.cntmp` files".to_string(),
                }],
            }
        } else {
            PlannedComponent {
                component: "job-data".to_string(),
                kind: DataKind::Job,
                coverage: Coverage::Optional,
                reason: "job data belongs to its owner: opt in with --with-job-data".to_string(),
                hosts: Vec::new(),
                destinations: Vec::new(),
                artifacts: Vec::new(),
            }
        });
        for rule in &OTHER_RULES {
            components.push(PlannedComponent {
                component: rule.component.to_string(),
                kind: rule.kind,
                coverage: rule.coverage,
                reason: rule.reason.to_string(),
                hosts: hosts_of(conf, rule.component),
                destinations: Vec::new(),
                artifacts: Vec::new(),
            });
        }
        let mut others: Vec<&String> = conf
            .components
            .keys()
            .chain(conf.machine_groups.iter().flat_map(|g| &g.suitable_tags))
            .filter(|c| !components.iter().any(|p| &p.component == *c))
            .collect();
        others.sort();
        others.dedup();
        for component in others {
            components.push(PlannedComponent {
                component: component.clone(),
                kind: DataKind::Cluster,
                coverage: Coverage::NotBackedUp,
                reason: STATELESS.to_string(),
                hosts: hosts_of(conf, component),
                destinations: Vec::new(),
                artifacts: Vec::new(),
            });
        }

        Ok(Self {
            cluster_name: conf.cluster_name.clone(),
            components,
            placements,
            machine_groups: conf.machine_groups.clone(),
            encrypted: options.encrypted,
            secrets: secrets_sentence(&conf.tree, options.encrypted),
            warnings,
        })
    }

    /// The artifacts of the backup set, with the component each belongs to; only backed-up
    /// components have any.
    pub fn artifacts(&self) -> impl Iterator<Item = (&PlannedComponent, &PlannedArtifact)> {
        self.components
            .iter()
            .filter(|c| c.coverage == Coverage::BackedUp)
            .flat_map(|c| c.artifacts.iter().map(move |a| (c, a)))
    }

    /// The plan as a table a person reads at a glance: component, kind, coverage, where its
    /// backups go and why; then what each database host keeps; then the secrets; then the
    /// warnings.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        match &self.cluster_name {
            Some(name) => {
                let _ = writeln!(out, "backup plan of cluster `{name}`");
            }
            None => out.push_str("backup plan (cluster.conf names no cluster)\n"),
        }
        out.push('\n');
        let mut rows = vec![["COMPONENT", "KIND", "COVERAGE", "WHERE", "WHY"].map(str::to_string)];
        for c in &self.components {
            rows.push([
                c.component.clone(),
                c.kind.to_string(),
                c.coverage.as_str().to_string(),
                where_summary(c),
                c.reason.clone(),
            ]);
        }
        aligned(&rows, &mut out);

        out.push_str("\ndatabase backups per host:\n");
        if self.placements.is_empty() {
            out.push_str("  no host runs a database component\n");
        } else {
            let mut rows = vec![["HOST", "DATABASES", "LOCAL COPY", "S3", "WHY"].map(String::from)];
            for p in &self.placements {
                rows.push([
                    p.host.clone(),
                    if p.databases.is_empty() {
                        "-".to_string()
                    } else {
                        p.databases.join(", ")
                    },
                    if p.keep_local {
                        format!("yes, {}", p.local_dir)
                    } else {
                        "no".to_string()
                    },
                    if p.upload_s3 { "yes" } else { "no" }.to_string(),
                    p.reason.clone(),
                ]);
            }
            aligned(&rows, &mut out);
        }
        let _ = writeln!(out, "\nsecrets: {}", self.secrets);
        if !self.warnings.is_empty() {
            out.push_str("\nwarnings:\n");
            for w in &self.warnings {
                let _ = writeln!(out, "  - {w}");
            }
        }
        out
    }

    /// The plan as a Graphviz graph: a cluster per machine group, a box per host, a node per
    /// component the host runs (green when backed up, yellow and dashed when optional, grey and
    /// dotted when not), and an edge from each backed-up node to where its backups go (the
    /// backup set, a local folder, the S3 bucket). Components no machine group names (the
    /// installation files, policy, job data …) sit in a `cluster-wide` box. The same plan
    /// always gives the same text; every label is quoted and escaped.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let title = match &self.cluster_name {
            Some(name) => format!("backup plan of cluster {name}"),
            None => "backup plan".to_string(),
        };
        out.push_str("digraph backup_plan {\n");
        let _ = writeln!(
            out,
            "  graph [label={}, labelloc=t, rankdir=LR, fontname=\"Helvetica\", fontsize=14];",
            quote(&title)
        );
        out.push_str(
            "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\"];\n",
        );
        out.push_str("  edge [color=\"#555555\", arrowsize=0.7];\n");

        let mut edges: Vec<(String, String)> = Vec::new();
        for (gi, group) in self.machine_groups.iter().enumerate() {
            let _ = writeln!(out, "  subgraph cluster_g{gi} {{");
            let _ = writeln!(
                out,
                "    label={}; style=\"rounded\"; color=\"#888888\";",
                quote(&group.name)
            );
            for (hi, host) in group.hosts.iter().enumerate() {
                let _ = writeln!(out, "    subgraph cluster_g{gi}_h{hi} {{");
                let _ = writeln!(
                    out,
                    "      label={}; style=\"dashed\"; color=\"#bbbbbb\";",
                    quote(host)
                );
                let tags = group
                    .suitable_tags
                    .iter()
                    .filter_map(|t| self.components.iter().find(|c| c.component == *t));
                for (ci, c) in tags.enumerate() {
                    let id = format!("g{gi}_h{hi}_c{ci}");
                    let _ = writeln!(out, "      {id} [{}];", node_attributes(c));
                    if c.coverage == Coverage::BackedUp {
                        for d in self.host_destinations(c, host) {
                            edges.push((id.clone(), d));
                        }
                    }
                }
                out.push_str("    }\n");
            }
            out.push_str("  }\n");
        }
        let unplaced = self.components.iter().filter(|c| c.hosts.is_empty());
        out.push_str("  subgraph cluster_wide {\n");
        out.push_str("    label=\"cluster-wide\"; style=\"rounded\"; color=\"#888888\";\n");
        for (ci, c) in unplaced.enumerate() {
            let id = format!("w_c{ci}");
            let _ = writeln!(out, "    {id} [{}];", node_attributes(c));
            if c.coverage == Coverage::BackedUp {
                for d in &c.destinations {
                    edges.push((id.clone(), d.clone()));
                }
            }
        }
        out.push_str("  }\n");

        // Destinations, in the order they are first reached.
        let mut destinations: Vec<&str> = Vec::new();
        for (_, d) in &edges {
            if !destinations.contains(&d.as_str()) {
                destinations.push(d);
            }
        }
        for (di, d) in destinations.iter().enumerate() {
            let shape = if *d == BACKUP_SET {
                "folder"
            } else {
                "cylinder"
            };
            let _ = writeln!(
                out,
                "  d{di} [label={}, shape={shape}, style=\"filled\", fillcolor=\"#dbe9f6\"];",
                quote(d)
            );
        }
        for (from, to) in &edges {
            if let Some(di) = destinations.iter().position(|d| d == to) {
                let style = if to == BACKUP_SET { "solid" } else { "dashed" };
                let _ = writeln!(out, "  {from} -> d{di} [style={style}];");
            }
        }

        out.push_str("  subgraph cluster_legend {\n");
        out.push_str("    label=\"legend\"; style=\"rounded\"; color=\"#bbbbbb\";\n");
        for (i, coverage) in [
            Coverage::BackedUp,
            Coverage::Optional,
            Coverage::NotBackedUp,
        ]
        .into_iter()
        .enumerate()
        {
            let (fill, style) = coverage_style(coverage);
            let _ = writeln!(
                out,
                "    legend{i} [label={}, fillcolor=\"{fill}\", style=\"{style}\"];",
                quote(coverage.as_str())
            );
        }
        out.push_str("  }\n");
        out.push_str("}\n");
        out
    }

    /// Where the backups of a backed-up component go from one host: a database component
    /// goes to the backup set, and to the local folder and the bucket when the host's
    /// placement says so; anything else goes where the component's destinations say.
    fn host_destinations(&self, c: &PlannedComponent, host: &str) -> Vec<String> {
        if !DATABASE_COMPONENTS.contains(&c.component.as_str()) {
            return c.destinations.clone();
        }
        let mut out = vec![BACKUP_SET.to_string()];
        if let Some(p) = self
            .placements
            .iter()
            .find(|p| p.host == host && p.databases.contains(&c.component))
        {
            if p.keep_local {
                out.push(local_destination(p));
            }
            if p.upload_s3 {
                out.extend(
                    c.destinations
                        .iter()
                        .filter(|d| d.starts_with("s3://"))
                        .cloned(),
                );
            }
        }
        out
    }
}

/// Writes a plan's graph to `path`: the DOT text itself for `.dot` and `.gv`, an image drawn
/// by Graphviz's `dot` program for `.svg` and `.png`.
///
/// The file appears complete or not at all (written under a temporary name, then moved into
/// place); an existing file is replaced only when `force` is true.
pub fn render_graph(dot: &str, path: &Path, force: bool) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("dot" | "gv") => None,
        Some("svg") => Some("svg"),
        Some("png") => Some("png"),
        _ => {
            return Err(continuum_core::Error::InvalidInput {
                what: "graph file",
                value: path.display().to_string(),
                reason: "its name must end in `.dot`, `.gv`, `.svg` or `.png`".to_string(),
            }
            .into());
        }
    };
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(continuum_core::Error::FileExists {
            path: path.to_path_buf(),
        }
        .into());
    }
    let bytes = match format {
        None => dot.as_bytes().to_vec(),
        Some(format) => run_dot(dot, format)?,
    };
    write_atomic(path, &mut bytes.as_slice(), WriteOptions::replacing(force))?;
    Ok(())
}

/// Runs `dot -T<format>` over the text and returns what it drew, once it has exited well.
fn run_dot(dot: &str, format: &str) -> Result<Vec<u8>> {
    let program = "dot";
    let mut child = Command::new(program)
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.to_string(),
            source: if source.kind() == std::io::ErrorKind::NotFound {
                std::io::Error::new(
                    source.kind(),
                    "Graphviz is not installed (install the `graphviz` package, or write the \
                     graph to a `.dot` file)",
                )
            } else {
                source
            },
        })?;
    let stdin = child.stdin.take();
    // Feed the text from another thread so that `dot` can never block on a full pipe.
    let output = std::thread::scope(|scope| {
        let feeder = scope.spawn(move || match stdin {
            Some(mut stdin) => stdin.write_all(dot.as_bytes()),
            None => Ok(()),
        });
        let output = child.wait_with_output();
        let fed = feeder
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the thread feeding `dot` failed")));
        (output, fed)
    });
    let (output, fed) = output;
    let output = output.map_err(|source| Error::Stream {
        action: format!("run `{program}`"),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::ChildFailed {
            program: program.to_string(),
            status: output.status.to_string(),
            stderr: tail(&output.stderr),
        });
    }
    fed.map_err(|source| Error::Stream {
        action: format!("write the graph to `{program}`"),
        source,
    })?;
    if output.stdout.is_empty() {
        return Err(Error::ChildFailed {
            program: program.to_string(),
            status: "no output".to_string(),
            stderr: tail(&output.stderr),
        });
    }
    Ok(output.stdout)
}

/// The last 64 KiB of a program's stderr, as text.
fn tail(stderr: &[u8]) -> String {
    let start = stderr.len().saturating_sub(64 * 1024);
    String::from_utf8_lossy(stderr.get(start..).unwrap_or_default()).into_owned()
}

/// The hosts of the machine groups that name `component` in their `suitable_tags`, each once,
/// in order.
fn hosts_of(conf: &ClusterConf, component: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for g in &conf.machine_groups {
        if g.suitable_tags.iter().any(|t| t == component) {
            for h in &g.hosts {
                if !hosts.contains(h) {
                    hosts.push(h.clone());
                }
            }
        }
    }
    hosts
}

/// The hosts that run a database component, each once, in order.
fn database_hosts(conf: &ClusterConf) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for g in conf.database_groups() {
        for h in &g.hosts {
            if !hosts.contains(h) {
                hosts.push(h.clone());
            }
        }
    }
    hosts
}

/// Where a database component's backups go: the backup set, the local folders of the hosts
/// that keep a copy, the bucket when any host uploads.
fn database_destinations(
    conf: &ClusterConf,
    component: &str,
    placements: &[Placement],
) -> Vec<String> {
    let serving = placements
        .iter()
        .filter(|p| p.databases.iter().any(|d| d == component));
    let mut out = vec![BACKUP_SET.to_string()];
    let mut upload = false;
    for p in serving {
        if p.keep_local {
            out.push(local_destination(p));
        }
        upload |= p.upload_s3;
    }
    if let (true, Some(db)) = (upload, &conf.database_backups) {
        out.push(format!("{} ({})", db.store_url(), db.region));
    }
    out
}

/// Where a component's backups go, short: the local folders become one `local on <hosts>`
/// (`backup set, local on 10.0.0.11, 10.0.0.12, s3://…`).
fn where_summary(c: &PlannedComponent) -> String {
    if c.destinations.is_empty() {
        return "-".to_string();
    }
    let local_hosts: Vec<&str> = c
        .destinations
        .iter()
        .filter_map(|d| local_host(d))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut local_said = false;
    for d in &c.destinations {
        if local_host(d).is_none() {
            out.push(d.clone());
        } else if !local_said {
            out.push(format!("local on {}", local_hosts.join(", ")));
            local_said = true;
        }
    }
    out.join(", ")
}

const LOCAL_PREFIX: &str = "local ";
const LOCAL_HOST_SEPARATOR: &str = " on ";

fn local_destination(p: &Placement) -> String {
    format!(
        "{LOCAL_PREFIX}{}{LOCAL_HOST_SEPARATOR}{}",
        p.local_dir, p.host
    )
}

/// The host of a `local <folder> on <host>` destination.
fn local_host(destination: &str) -> Option<&str> {
    destination
        .strip_prefix(LOCAL_PREFIX)
        .and_then(|rest| rest.rsplit_once(LOCAL_HOST_SEPARATOR))
        .map(|(_, host)| host)
}

fn database_artifact(database: &str) -> PlannedArtifact {
    PlannedArtifact {
        source: ArtifactSource::Database {
            database: database.to_string(),
        },
        description: format!(
            "PostgreSQL dump of `{database}`, with its row counts to verify a restore"
        ),
    }
}

/// Refuses overrides for anything but a database component, and names PostgreSQL cannot take.
fn check_overrides(databases: &BTreeMap<String, String>) -> Result<()> {
    for (component, database) in databases {
        if component != ORCHESTRATOR && !DATABASE_COMPONENTS.contains(&component.as_str()) {
            return Err(continuum_core::Error::InvalidInput {
                what: "database override",
                value: format!("{component}={database}"),
                reason: format!(
                    "`{component}` is not a database component (those are {})",
                    DATABASE_COMPONENTS.join(", ")
                ),
            }
            .into());
        }
        if database.is_empty()
            || database.len() > MAX_DATABASE_NAME
            || database.chars().any(char::is_control)
        {
            return Err(continuum_core::Error::InvalidInput {
                what: "database override",
                value: format!("{component}={}", database.escape_debug()),
                reason: format!(
                    "a database name has 1 to {MAX_DATABASE_NAME} bytes and no control characters"
                ),
            }
            .into());
        }
    }
    Ok(())
}

/// What happens to cluster.conf's secrets, in words (their places are named, never their
/// values).
fn secrets_sentence(tree: &Value, encrypted: bool) -> String {
    let mut places = Vec::new();
    secret_places(tree, "", &mut places);
    if places.is_empty() {
        return "cluster.conf holds no secret (no key, password or token): it is kept whole"
            .to_string();
    }
    let named = places
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let count = places.len();
    if encrypted {
        format!(
            "cluster.conf's {count} secret value(s) ({named}) are kept in the backup set, which \
             is encrypted: whoever holds its key can read them"
        )
    } else {
        format!(
            "cluster.conf's {count} secret value(s) ({named}) are redacted in the backup set, \
             which is not encrypted: keep them in a secret store, or encrypt the set to keep them"
        )
    }
}

/// The dotted paths of the values under secret keys.
fn secret_places(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Map(entries) => {
            for e in entries {
                let path = if prefix.is_empty() {
                    e.key.clone()
                } else {
                    format!("{prefix}.{}", e.key)
                };
                if is_secret_key(&e.key) {
                    if !out.contains(&path) {
                        out.push(path);
                    }
                } else {
                    secret_places(&e.value, &path, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                secret_places(item, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The fill colour and style of a node, by coverage.
fn coverage_style(coverage: Coverage) -> (&'static str, &'static str) {
    match coverage {
        Coverage::BackedUp => ("#b9e4b0", "rounded,filled"),
        Coverage::Optional => ("#fbe7a1", "rounded,filled,dashed"),
        Coverage::NotBackedUp => ("#e4e4e4", "rounded,filled,dotted"),
    }
}

fn node_attributes(c: &PlannedComponent) -> String {
    let (fill, style) = coverage_style(c.coverage);
    format!(
        "label={}, tooltip={}, fillcolor=\"{fill}\", style=\"{style}\"",
        quote(&c.component),
        quote(&format!("{}: {}", c.coverage.as_str(), c.reason))
    )
}

/// A DOT quoted string: `"` and `\` escaped, line breaks as `\n`, other control characters
/// dropped, so that no label can end the string or inject attributes.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends rows as a table with aligned columns; the first row is the header.
fn aligned<const N: usize>(rows: &[[String; N]], out: &mut String) {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_cannot_break_out() {
        assert_eq!(quote("a\"b\\c\nd\u{7}"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(local_host("local /var/lib/x on 10.0.0.1"), Some("10.0.0.1"));
        assert_eq!(local_host("backup set"), None);
    }
}
