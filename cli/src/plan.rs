//! `continuum-backup plan`: what a cluster's backup covers, where it goes and why.

use std::path::PathBuf;

use clap::Args;
use continuum_orchestrator::{BackupPlan, ClusterConf, PlanOptions, render_graph};

use crate::output::{json, say};
use crate::{Failure, Outcome};

/// Options of `continuum-backup plan`.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The cluster.conf file.
    #[arg(long)]
    config: PathBuf,
    /// Narrow the database placement to this host, as cluster.conf lists it.
    #[arg(long)]
    host: Option<String>,
    /// Back up job data (packages and jobs) too.
    #[arg(long)]
    with_job_data: bool,
    /// Plan an encrypted backup set (cluster.conf's secrets are then kept, not redacted).
    #[arg(long)]
    encrypt: bool,
    /// A database component's database, when not the component's name with `_` for `-`.
    #[arg(long = "database", value_name = "COMPONENT=DB")]
    databases: Vec<String>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Also draw the plan: `.dot`/`.gv` (Graphviz text), `.svg` or `.png` (needs Graphviz).
    #[arg(long, value_name = "FILE")]
    graph: Option<PathBuf>,
    /// Replace an existing graph file.
    #[arg(long)]
    force: bool,
}

/// Prints the plan (a table, or JSON) and writes its graph when asked.
pub(crate) fn run(args: PlanArgs) -> Result<Outcome, Failure> {
    let conf = ClusterConf::load(&args.config)?;
    let mut options = PlanOptions::default();
    options.host = args.host;
    options.with_job_data = args.with_job_data;
    options.encrypted = args.encrypt;
    for spec in &args.databases {
        let Some((component, database)) = spec.split_once('=') else {
            return Err(Failure {
                message: format!("invalid --database `{spec}`: expected COMPONENT=DB"),
                code: 2,
            });
        };
        options
            .databases
            .insert(component.to_string(), database.to_string());
    }
    let plan = BackupPlan::new(&conf, &options)?;
    if let Some(path) = &args.graph {
        render_graph(&plan.to_dot(), path, args.force)?;
    }
    if args.json {
        json(&plan);
    } else {
        say!("{}", plan.to_table().trim_end());
        if let Some(path) = &args.graph {
            say!("\ngraph written to {}", path.display());
        }
    }
    Ok(Outcome::Success)
}
