//! cntmp files: the input is written to a temporary file (one per process, rewritten on each
//! run) and opened with `CntmpReader::open` under small limits; an opened file is verified
//! and its objects walked. Nothing may panic, and `verify` never checks more bytes than the
//! limits let through (memory stays bounded: libFuzzer's `-rss_limit_mb` watches the rest).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use continuum_cntmp::CntmpReader;
use continuum_core::Limits;
use libfuzzer_sys::fuzz_target;

const MAX_ENTRY: u64 = 1 << 20;
const MAX_TOTAL: u64 = 8 << 20;
const MAX_ENTRIES: u64 = 1000;

/// `$TMPDIR/continuum-fuzz-cntmp-PID.cntmp`: the stem is a valid FQN part, since a legacy
/// file without package metadata is named after it.
fn input_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("continuum-fuzz-cntmp-{}.cntmp", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    if let Err(e) = std::fs::write(path, data) {
        panic!("cannot write the input to {}: {e}", path.display());
    }
    let limits = Limits::new(MAX_ENTRY, MAX_TOTAL, MAX_ENTRIES);
    let Ok(mut reader) = CntmpReader::open(path, limits) else {
        return;
    };
    let _ = format!("{reader:?}");
    assert!(
        reader.entries().len() as u64 <= MAX_ENTRIES,
        "{} entries opened, above the limit of {MAX_ENTRIES}",
        reader.entries().len()
    );
    if let Ok(bytes) = reader.verify() {
        assert!(
            bytes <= MAX_TOTAL,
            "verify checked {bytes} bytes, above the total limit of {MAX_TOTAL}"
        );
    }
    for read in reader.objects() {
        let _ = format!("{:?}", read.object);
        for r in &read.resources {
            assert!(
                r.length <= MAX_ENTRY,
                "resource {} declares {} bytes, above the entry limit of {MAX_ENTRY}",
                r.entry,
                r.length
            );
        }
    }
    let _ = reader.manifest();
    let _ = reader.notes();
});
