//! Orchestrator archives: the input is written to a temporary file (one per process) and
//! checked with `verify_archive_with` under small limits. Nothing may panic; a report is only
//! given for an archive whose members all match their recorded sizes and digests.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use continuum_core::Limits;
use continuum_orchestrator::verify_archive_with;
use libfuzzer_sys::fuzz_target;

fn input_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("continuum-fuzz-archive-{}.tgz", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    if let Err(e) = std::fs::write(path, data) {
        panic!("cannot write the input to {}: {e}", path.display());
    }
    let limits = Limits::new(1 << 20, 8 << 20, 500);
    if let Ok(report) = verify_archive_with(path, limits) {
        assert!(report.bytes <= 8 << 20, "{} bytes checked, above the limit", report.bytes);
        let _ = serde_json::to_string(&report.metadata);
    }
});
