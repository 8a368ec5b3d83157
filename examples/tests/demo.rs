//! The main job (`bash scripts/demo.sh`) as a test: the whole demo against the live
//! PostgreSQL server that `CONTINUUM_TEST_PG_URL` names, under database names of its own.

#[path = "../demo.rs"]
mod demo;

use continuum_orchestrator::PgTarget;

#[test]
fn the_demo_round_trip_comes_back_equal_twice() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("CONTINUUM_TEST_PG_URL") else {
        return Err(
            "CONTINUUM_TEST_PG_URL is not set: start PostgreSQL and set it, or run \
             `bash scripts/test.sh`"
                .into(),
        );
    };
    let target = PgTarget::parse(&url)?;
    let temp = tempfile::tempdir()?;
    let work = temp.path().join("demo");
    let prefix = format!("demo_test_{}_", std::process::id());
    // Twice into the same folder and databases: the second run clears the first's.
    for _ in 0..2 {
        let outcome = demo::run(&work, &target, &prefix)?;
        assert!(outcome.differences.is_empty(), "{:?}", outcome.differences);
        assert_eq!(
            outcome.artifacts, 14,
            "4 databases, roles, 3 installation files, 5 policy documents, job data"
        );
    }
    for database in [
        "component_database",
        "auditlog_database",
        "monitoring",
        "orchestrator",
    ] {
        target.drop_database(&format!("{prefix}{database}"))?;
        target.drop_database(&format!("{prefix}{database}_restored"))?;
    }
    Ok(())
}
