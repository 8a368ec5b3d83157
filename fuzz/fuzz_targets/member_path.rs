//! Archive member paths: the input is `PATH` or `PATH\nLINK-TARGET`. `MemberPath::parse` and
//! `resolve_link` must never panic, and whatever they return must hold no `..`, no root, no
//! backslash, no control character and no empty or `.` segment, and must read back unchanged.
#![no_main]

use continuum_core::MemberPath;
use libfuzzer_sys::fuzz_target;

fn assert_safe(p: &MemberPath, what: &str) {
    let s = p.as_str();
    assert!(!s.is_empty(), "{what}: empty path");
    assert!(!s.starts_with('/'), "{what}: absolute path {s:?}");
    assert!(!s.contains('\\'), "{what}: backslash in {s:?}");
    assert!(
        !s.chars().any(char::is_control),
        "{what}: control character in {s:?}"
    );
    for seg in s.split('/') {
        assert!(
            !matches!(seg, "" | "." | ".."),
            "{what}: segment {seg:?} in {s:?}"
        );
    }
    let dest = std::path::Path::new("/dest");
    let joined = p.to_path(dest);
    assert!(
        joined.starts_with(dest) && joined != dest,
        "{what}: {s:?} lands at {joined:?}, not below {dest:?}"
    );
}

/// Known divergences: none left (the drive-prefix and length checks now apply to the
/// normalized path and to link targets too).
fn known_divergence(_normalized: &str) -> bool {
    false
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, target) = match text.split_once('\n') {
        Some((p, t)) => (p, Some(t)),
        None => (text, None),
    };
    let Ok(member) = MemberPath::parse(path) else {
        return;
    };
    assert_safe(&member, "parse");
    match MemberPath::parse(member.as_str()) {
        Ok(again) => assert_eq!(again, member, "parse is not idempotent"),
        Err(_) if known_divergence(member.as_str()) => {}
        Err(e) => panic!(
            "a parsed path {:?} does not parse again: {e}",
            member.as_str()
        ),
    }
    let Some(target) = target else {
        return;
    };
    if let Ok(resolved) = member.resolve_link(target) {
        assert_safe(&resolved, "resolve_link");
        if let Err(e) = MemberPath::parse(resolved.as_str())
            && !known_divergence(resolved.as_str())
        {
            panic!(
                "resolve_link({:?}, {target:?}) = {:?}, which MemberPath::parse refuses: {e}",
                member.as_str(),
                resolved.as_str()
            );
        }
    }
});
