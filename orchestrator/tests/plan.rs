//! The backup plan from cluster.conf: every component classified with its reason, placement
//! with and without S3, database overrides, job data opt-in, secrets never shown, and the
//! graph drawn by Graphviz (DOT, SVG, PNG), never overwriting a file unasked.
#![cfg(test)]

use std::process::Command;

use continuum_core::DataKind;
use continuum_orchestrator::{
    ArtifactSource, BackupPlan, ClusterConf, Coverage, ORCHESTRATOR_DATABASE, PlanOptions,
    PlannedComponent, render_graph,
};

const CONF: &str = r#"
machines: {
  central: { hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "auditlog-database", "api-server"] }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring, "graphite-server"] }
  logs: { hosts: ["10.0.0.31"], suitable_tags: ["splunk-server", "redis-server", "nats-server", "health-manager"] }
  im: { hosts: ["10.0.1.1"], suitable_tags: ["instance-manager"] }
}
components: { component-database: 2, auditlog-database: 2, monitoring: 1, instance-manager: 1, router: 2 }
chef: { continuum: { cluster_name: prod, base_domain: "prod.example.com",
  database_backups: { access_key: AKIASECRETKEYID, secret_key: "very/secret", endpoint: eu-west-1, bucket: prod-backups }
  package_manager: { package_store_type: s3, s3_store: { bucket: pkgs, endpoint: s3.amazonaws.com, access_key: AKIAPKG, secret_key: pkgsecret } }
  auth: { admin_password: "hunter2\"quoted" }
} }
"#;

const SECRETS: [&str; 5] = [
    "AKIASECRETKEYID",
    "very/secret",
    "AKIAPKG",
    "pkgsecret",
    "hunter2",
];

fn conf(text: &str) -> ClusterConf {
    ClusterConf::parse(text, "cluster.conf").unwrap()
}

fn plan(text: &str, options: &PlanOptions) -> BackupPlan {
    BackupPlan::new(&conf(text), options).unwrap()
}

fn component<'a>(plan: &'a BackupPlan, name: &str) -> &'a PlannedComponent {
    plan.components
        .iter()
        .find(|c| c.component == name)
        .unwrap_or_else(|| panic!("{name} is not in the plan"))
}

fn has_graphviz() -> bool {
    Command::new("dot").arg("-V").output().is_ok()
}

#[test]
fn every_component_is_classified_with_a_reason() {
    let p = plan(CONF, &PlanOptions::default());
    let expected = [
        ("component-database", DataKind::Cluster, Coverage::BackedUp),
        ("auditlog-database", DataKind::Cluster, Coverage::BackedUp),
        ("monitoring", DataKind::Log, Coverage::BackedUp),
        ("orchestrator", DataKind::Cluster, Coverage::BackedUp),
        ("installation-files", DataKind::Cluster, Coverage::BackedUp),
        ("policy", DataKind::Policy, Coverage::BackedUp),
        ("job-data", DataKind::Job, Coverage::Optional),
        ("splunk-server", DataKind::Log, Coverage::Optional),
        ("graphite-server", DataKind::Log, Coverage::Optional),
        ("redis-server", DataKind::Log, Coverage::NotBackedUp),
        ("nats-server", DataKind::Cluster, Coverage::NotBackedUp),
        ("health-manager", DataKind::Cluster, Coverage::NotBackedUp),
        ("api-server", DataKind::Cluster, Coverage::NotBackedUp),
        ("instance-manager", DataKind::Cluster, Coverage::NotBackedUp),
        ("router", DataKind::Cluster, Coverage::NotBackedUp),
    ];
    let names: Vec<&str> = p.components.iter().map(|c| c.component.as_str()).collect();
    assert_eq!(names, expected.map(|e| e.0), "order and completeness");
    for (name, kind, coverage) in expected {
        let c = component(&p, name);
        assert_eq!((c.kind, c.coverage), (kind, coverage), "{name}");
        assert!(!c.reason.is_empty(), "{name} has no reason");
        assert_eq!(
            c.artifacts.is_empty(),
            coverage != Coverage::BackedUp,
            "{name}: artifacts only when backed up"
        );
        assert_eq!(
            c.destinations.is_empty(),
            coverage != Coverage::BackedUp,
            "{name}: destinations only when backed up"
        );
    }
    assert!(component(&p, "redis-server").reason.contains("log drain"));
    assert!(
        component(&p, "nats-server")
            .reason
            .contains("no persistence")
    );
    assert!(component(&p, "health-manager").reason.contains("no state"));
    assert!(component(&p, "splunk-server").reason.contains("compliance"));
    assert!(component(&p, "router").reason.contains("stateless"));
    assert_eq!(
        component(&p, "job-data").reason,
        "job data belongs to its owner: opt in with --with-job-data"
    );
    assert_eq!(
        component(&p, "component-database").hosts,
        ["10.0.0.11", "10.0.0.12"]
    );
    assert_eq!(component(&p, "splunk-server").hosts, ["10.0.0.31"]);
    assert!(component(&p, "policy").hosts.is_empty());

    // what goes into the backup set
    let sources: Vec<(&str, &ArtifactSource)> = p
        .artifacts()
        .map(|(c, a)| (c.component.as_str(), &a.source))
        .collect();
    let db = |d: &str| ArtifactSource::Database {
        database: d.to_string(),
    };
    assert_eq!(
        sources,
        [
            ("component-database", &db("component_database")),
            ("auditlog-database", &db("auditlog_database")),
            ("monitoring", &db("monitoring")),
            ("orchestrator", &db(ORCHESTRATOR_DATABASE)),
            ("installation-files", &ArtifactSource::InstallationFiles),
            ("policy", &ArtifactSource::PolicyDocuments),
        ]
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn placement_with_s3() {
    let p = plan(CONF, &PlanOptions::default());
    let hosts: Vec<&str> = p.placements.iter().map(|p| p.host.as_str()).collect();
    assert_eq!(hosts, ["10.0.0.11", "10.0.0.12", "10.0.0.21"]);
    let s3 = "s3://prod-backups/database_backups (eu-west-1)";
    assert_eq!(
        component(&p, "component-database").destinations,
        [
            "backup set",
            "local /var/lib/postgresql/backups on 10.0.0.11",
            s3
        ]
    );
    assert_eq!(
        component(&p, "monitoring").destinations,
        [
            "backup set",
            "local /var/lib/postgresql/backups on 10.0.0.21",
            s3
        ]
    );
    assert_eq!(component(&p, "orchestrator").destinations, ["backup set"]);
    assert_eq!(component(&p, "policy").destinations, ["backup set"]);

    // narrowed to one host: only its placement, and the destinations that follow from it
    let mut options = PlanOptions::default();
    options.host = Some("10.0.0.12".to_string());
    let p = plan(CONF, &options);
    assert_eq!(p.placements.len(), 1);
    assert!(!p.placements[0].keep_local && p.placements[0].upload_s3);
    assert_eq!(
        component(&p, "component-database").destinations,
        ["backup set", s3]
    );
    assert_eq!(component(&p, "monitoring").destinations, ["backup set"]);

    // a host that runs no database gets its placement saying so
    options.host = Some("10.0.1.1".to_string());
    let p = plan(CONF, &options);
    assert!(p.placements[0].databases.is_empty());
    assert!(p.placements[0].reason.contains("runs no database"));

    options.host = Some("10.9.9.9".to_string());
    let e = BackupPlan::new(&conf(CONF), &options).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid host `10.9.9.9`: it is in none of cluster.conf's machine groups"
    );
}

#[test]
fn placement_without_s3() {
    let text = CONF.replace("database_backups", "not_configured");
    let p = plan(&text, &PlanOptions::default());
    assert!(p.placements.iter().all(|p| p.keep_local && !p.upload_s3));
    assert_eq!(
        component(&p, "component-database").destinations,
        [
            "backup set",
            "local /var/lib/postgresql/backups on 10.0.0.11",
            "local /var/lib/postgresql/backups on 10.0.0.12",
        ]
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("no S3 bucket")),
        "{:?}",
        p.warnings
    );
    assert!(p.to_table().contains("local on 10.0.0.11, 10.0.0.12"));
}

#[test]
fn absent_database_components_are_not_backed_up() {
    let text = CONF.replace("monitoring: 1, ", "");
    let p = plan(&text, &PlanOptions::default());
    let m = component(&p, "monitoring");
    assert_eq!(m.coverage, Coverage::NotBackedUp);
    assert_eq!(m.reason, "not in this cluster's components");
    assert!(m.artifacts.is_empty() && m.destinations.is_empty());
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("`monitoring`") && w.contains("not in `components`")),
        "{:?}",
        p.warnings
    );
    // the orchestrator database is always in
    let minimal = plan("components: { router: 1 }", &PlanOptions::default());
    let databases: Vec<&ArtifactSource> = minimal
        .artifacts()
        .filter(|(c, _)| c.component != "installation-files" && c.component != "policy")
        .map(|(_, a)| &a.source)
        .collect();
    assert_eq!(
        databases,
        [&ArtifactSource::Database {
            database: ORCHESTRATOR_DATABASE.to_string()
        }]
    );
    assert!(minimal.placements.is_empty());
    assert_eq!(minimal.cluster_name, None);
    assert!(
        minimal
            .to_table()
            .contains("no host runs a database component")
    );
}

#[test]
fn database_overrides() {
    let mut options = PlanOptions::default();
    options
        .databases
        .insert("component-database".to_string(), "cdb".to_string());
    options
        .databases
        .insert("monitoring".to_string(), "zabbix".to_string());
    let p = plan(CONF, &options);
    let names: Vec<String> = p
        .artifacts()
        .filter_map(|(_, a)| match &a.source {
            ArtifactSource::Database { database } => Some(database.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        ["cdb", "auditlog_database", "zabbix", ORCHESTRATOR_DATABASE]
    );

    for (component, database, message) in [
        ("router", "r", "`router` is not a database component"),
        ("monitoring", "", "1 to 63 bytes"),
        ("monitoring", "a\nb", "no control characters"),
    ] {
        let mut options = PlanOptions::default();
        options
            .databases
            .insert(component.to_string(), database.to_string());
        let e = BackupPlan::new(&conf(CONF), &options).unwrap_err();
        assert!(e.to_string().contains(message), "{e}");
        assert!(
            e.to_string().starts_with("invalid database override `"),
            "{e}"
        );
    }
}

#[test]
fn the_orchestrator_database_may_be_named() {
    let mut options = PlanOptions::default();
    options
        .databases
        .insert("orchestrator".to_string(), "orch_main".to_string());
    let p = plan(CONF, &options);
    assert!(p.artifacts().any(|(c, a)| c.component == "orchestrator"
        && a.source
            == ArtifactSource::Database {
                database: "orch_main".to_string()
            }));
}

#[test]
fn job_data_is_opt_in() {
    let mut options = PlanOptions::default();
    options.with_job_data = true;
    let p = plan(CONF, &options);
    let j = component(&p, "job-data");
    assert_eq!(j.coverage, Coverage::BackedUp);
    assert_eq!(j.destinations, ["backup set"]);
    assert!(
        p.artifacts()
            .any(|(_, a)| a.source == ArtifactSource::JobData)
    );
}

#[test]
fn secrets_never_appear_and_their_fate_is_said() {
    for encrypted in [false, true] {
        let mut options = PlanOptions::default();
        options.encrypted = encrypted;
        options.with_job_data = true;
        let p = plan(CONF, &options);
        let shown = [
            p.to_table(),
            p.to_dot(),
            serde_json::to_string(&p).unwrap(),
            format!("{p:?}"),
        ];
        for text in &shown {
            for secret in SECRETS {
                assert!(!text.contains(secret), "{secret} leaked");
            }
        }
        assert!(
            p.secrets
                .contains("`chef.continuum.database_backups.access_key`")
        );
        assert!(p.secrets.contains("`chef.continuum.auth.admin_password`"));
        assert!(p.secrets.contains("5 secret value(s)"), "{}", p.secrets);
        if encrypted {
            assert!(p.secrets.contains("kept") && p.secrets.contains("encrypted"));
        } else {
            assert!(p.secrets.contains("redacted") && p.secrets.contains("not encrypted"));
        }
        assert!(p.to_table().contains(&format!("secrets: {}", p.secrets)));
    }
}

#[test]
fn table_reads_at_a_glance() {
    let p = plan(CONF, &PlanOptions::default());
    let table = p.to_table();
    assert!(
        table.starts_with("backup plan of cluster `prod`\n"),
        "{table}"
    );
    let header = table.lines().nth(2).unwrap();
    for column in ["COMPONENT", "KIND", "COVERAGE", "WHERE", "WHY"] {
        assert!(header.contains(column), "{header}");
    }
    for c in &p.components {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{} ", c.component)))
            .unwrap_or_else(|| panic!("no line for {}: {table}", c.component));
        assert!(line.contains(&c.reason), "{line}");
        assert!(line.contains(c.coverage.as_str()), "{line}");
    }
    assert!(table.contains(
        "backup set, local on 10.0.0.11, s3://prod-backups/database_backups (eu-west-1)"
    ));
    assert!(table.contains("database backups per host:"));
}

#[test]
fn json_has_the_documented_shape() {
    let p = plan(CONF, &PlanOptions::default());
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["cluster_name"], "prod");
    let c = &v["components"][0];
    assert_eq!(c["component"], "component-database");
    assert_eq!(c["kind"], "cluster");
    assert_eq!(c["coverage"], "backed_up");
    assert_eq!(
        c["artifacts"][0]["source"],
        serde_json::json!({"type": "database", "database": "component_database"})
    );
    assert_eq!(v["components"][6]["coverage"], "optional");
    assert_eq!(v["components"][9]["coverage"], "not_backed_up");
    assert_eq!(
        v["components"][4]["artifacts"][0]["source"]["type"],
        "installation_files"
    );
    assert_eq!(v["placements"].as_array().unwrap().len(), 3);
}

#[test]
fn dot_is_deterministic_escaped_and_valid() {
    // names that would break a careless DOT writer
    let text = CONF
        .replace("central:", "\"cen\\\"tral\\\\ {x}\":")
        .replace(
            "cluster_name: prod",
            "cluster_name: \"prod \\\"x\\\" -> y\"",
        );
    let p = plan(&text, &PlanOptions::default());
    assert_eq!(p.machine_groups[0].name, "cen\"tral\\ {x}");
    let dot = p.to_dot();
    assert_eq!(dot, plan(&text, &PlanOptions::default()).to_dot());
    assert!(dot.contains("label=\"cen\\\"tral\\\\ {x}\""), "{dot}");
    assert!(dot.contains("subgraph cluster_g0 {"));
    assert!(dot.contains("label=\"backup set\", shape=folder"));
    assert!(dot.contains("label=\"s3://prod-backups/database_backups (eu-west-1)\""));
    assert!(dot.contains("label=\"local /var/lib/postgresql/backups on 10.0.0.11\""));
    assert!(
        has_graphviz(),
        "Graphviz's `dot` is missing: install `graphviz`"
    );
    let o = Command::new("dot")
        .args(["-Tcanon"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(dot.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}\n{dot}",
        String::from_utf8_lossy(&o.stderr)
    );
    // every component node and every edge survives Graphviz's reading
    let canon = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        canon.matches(" -> ").count(),
        dot.matches(" -> ").count(),
        "{canon}"
    );
}

#[test]
fn graph_files_svg_png_dot_and_no_overwrite() {
    assert!(
        has_graphviz(),
        "Graphviz's `dot` is missing: install `graphviz`"
    );
    let dir = tempfile::tempdir().unwrap();
    let dot = plan(CONF, &PlanOptions::default()).to_dot();

    let svg = dir.path().join("plan.svg");
    render_graph(&dot, &svg, false).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("component&#45;database"),
        "{text}"
    );

    let png = dir.path().join("plan.PNG");
    render_graph(&dot, &png, false).unwrap();
    assert!(
        std::fs::read(&png)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );

    for name in ["plan.dot", "plan.gv"] {
        let file = dir.path().join(name);
        render_graph(&dot, &file, false).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), dot);
    }

    // an existing file is kept unless forced
    std::fs::write(&svg, "mine").unwrap();
    let e = render_graph(&dot, &svg, false).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), "mine");
    render_graph(&dot, &svg, true).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    // nothing but the files asked for is left behind
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["plan.PNG", "plan.dot", "plan.gv", "plan.svg"]);

    let e = render_graph(&dot, &dir.path().join("plan.pdf"), false).unwrap_err();
    assert!(
        e.to_string().contains("`.dot`, `.gv`, `.svg` or `.png`"),
        "{e}"
    );

    // a graph Graphviz refuses is an error naming `dot`, and nothing is written
    let bad = dir.path().join("bad.svg");
    let e = render_graph("digraph {", &bad, false).unwrap_err();
    assert!(e.to_string().starts_with("`dot` failed"), "{e}");
    assert!(!bad.exists());
}
