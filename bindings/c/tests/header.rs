//! The committed header is what cbindgen makes of the code today.

use std::path::Path;

#[test]
fn committed_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .unwrap();
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    // A `/*` or `*/` in a doc comment would end or nest a C comment.
    for (n, line) in String::from_utf8_lossy(&generated).lines().enumerate() {
        let body = line.trim_start();
        if let Some(text) = body.strip_prefix("* ") {
            assert!(
                !text.contains("/*") && !text.contains("*/"),
                "line {}: a doc comment holds `/*` or `*/`: {line}",
                n + 1
            );
        }
    }
    let header = crate_dir.join("include/continuum.h");
    if std::env::var_os("CONTINUUM_UPDATE_HEADER").is_some() {
        std::fs::write(&header, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date; regenerate it with\n  CONTINUUM_UPDATE_HEADER=1 cargo test -p continuum-c --test header\n\ngenerated:\n{}",
        header.display(),
        String::from_utf8_lossy(&generated)
    );
}
