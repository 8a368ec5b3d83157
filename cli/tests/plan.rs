//! `plan`, run as a user runs it: the table names every component with its reason, `--json`
//! parses, `--graph` writes the file (and keeps an existing one unless `--force`), secrets
//! never appear.
#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CONF: &str = r#"
machines: {
  central: { hosts: ["10.0.0.11", "10.0.0.12"], suitable_tags: ["component-database", "auditlog-database", "api-server"] }
  monitoring: { hosts: ["10.0.0.21"], suitable_tags: [monitoring] }
  im: { hosts: ["10.0.1.1"], suitable_tags: ["instance-manager", "redis-server"] }
}
components: { component-database: 2, auditlog-database: 2, monitoring: 1, instance-manager: 1 }
chef: { continuum: { cluster_name: demo,
  database_backups: { access_key: AKIATESTKEY123, secret_key: "secret/value+1", endpoint: eu-west-1, bucket: demo-backups }
} }
"#;

const SECRETS: [&str; 2] = ["AKIATESTKEY123", "secret/value+1"];

const COMPONENTS: [(&str, &str); 14] = [
    ("component-database", "backed up"),
    ("auditlog-database", "backed up"),
    ("monitoring", "backed up"),
    ("orchestrator", "backed up"),
    ("installation-files", "backed up"),
    ("policy", "backed up"),
    ("job-data", "optional"),
    ("splunk-server", "optional"),
    ("graphite-server", "optional"),
    ("redis-server", "not backed up"),
    ("nats-server", "not backed up"),
    ("health-manager", "not backed up"),
    ("api-server", "not backed up"),
    ("instance-manager", "not backed up"),
];

fn write_conf(dir: &Path) -> String {
    let conf = dir.join("cluster.conf");
    std::fs::write(&conf, CONF).unwrap();
    conf.to_str().unwrap().to_string()
}

fn assert_no_secret(o: &Output) {
    let all = text(&o.stdout) + &text(&o.stderr);
    for secret in SECRETS {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[test]
fn table_names_every_component_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(dir.path());
    let o = run(&["plan", "--config", &conf]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_no_secret(&o);
    let out = text(&o.stdout);
    for (component, coverage) in COMPONENTS {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{component} ")))
            .unwrap_or_else(|| panic!("no line for {component}:\n{out}"));
        assert!(line.contains(coverage), "{line}");
    }
    for reason in [
        "job data belongs to its owner: opt in with --with-job-data",
        "a purged job-log buffer: use a log drain",
        "no persistence",
        "no state",
        "compliance",
        "stateless: rebuilt from the release and cluster.conf",
    ] {
        assert!(out.contains(reason), "{reason} missing:\n{out}");
    }
    assert!(out.contains("database backups per host:"), "{out}");
    assert!(
        out.contains("secrets: cluster.conf's 2 secret value(s)"),
        "{out}"
    );
    assert!(out.contains("redacted"), "{out}");

    // opting in and encrypting change the plan
    let o = run(&["plan", "--config", &conf, "--with-job-data", "--encrypt"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let job = out.lines().find(|l| l.starts_with("job-data ")).unwrap();
    assert!(job.contains("backed up"), "{job}");
    assert!(out.contains("which is encrypted"), "{out}");
    assert_no_secret(&o);
}

#[test]
fn json_parses_and_honours_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(dir.path());
    let o = run(&[
        "plan",
        "--config",
        &conf,
        "--json",
        "--host",
        "10.0.0.12",
        "--database",
        "component-database=cdb",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_no_secret(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cluster_name"], "demo");
    assert_eq!(v["components"].as_array().unwrap().len(), COMPONENTS.len());
    assert_eq!(
        v["components"][0]["artifacts"][0]["source"]["database"],
        "cdb"
    );
    let placements = v["placements"].as_array().unwrap();
    assert_eq!(placements.len(), 1);
    assert_eq!(placements[0]["host"], "10.0.0.12");
    assert_eq!(placements[0]["keep_local"], false);

    // bad input is exit code 2, with the value named
    for (args, message) in [
        (
            vec!["--database", "nonsense"],
            "invalid --database `nonsense`: expected COMPONENT=DB",
        ),
        (
            vec!["--database", "router=r"],
            "`router` is not a database component",
        ),
        (vec!["--host", "10.9.9.9"], "invalid host `10.9.9.9`"),
    ] {
        let mut all = vec!["plan", "--config", conf.as_str()];
        all.extend(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains(message), "{}", text(&o.stderr));
    }
}

#[test]
fn graph_is_written_and_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(dir.path());
    let svg = dir.path().join("plan.svg");
    let svg_arg = svg.to_str().unwrap();
    let o = run(&["plan", "--config", &conf, "--graph", svg_arg]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("graph written to"));
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("<svg"), "{drawn}");
    for secret in SECRETS {
        assert!(!drawn.contains(secret), "{secret} leaked into the graph");
    }

    let o = run(&["plan", "--config", &conf, "--graph", svg_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["plan", "--config", &conf, "--graph", svg_arg, "--force"]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    let dot = dir.path().join("plan.dot");
    let o = run(&[
        "plan",
        "--config",
        &conf,
        "--json",
        "--graph",
        dot.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    assert!(
        std::fs::read_to_string(&dot)
            .unwrap()
            .starts_with("digraph backup_plan {")
    );

    // without Graphviz, an image cannot be drawn, and the error says what is missing
    let empty = tempfile::tempdir().unwrap();
    let png = dir.path().join("plan.png");
    let o = Command::new(env!("CARGO_BIN_EXE_continuum-backup"))
        .args(["plan", "--config", &conf, "--graph", png.to_str().unwrap()])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("cannot run `dot`") && err.contains("Graphviz is not installed"),
        "{err}"
    );
    assert!(!png.exists());
}
