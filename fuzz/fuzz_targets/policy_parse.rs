//! Policy documents: `check` (parse + validate) must never panic, and every document that
//! parses must format, the formatted text must format to itself (idempotence), and a
//! document that passes `check` must still pass it once formatted.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.pol";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let checked = continuum_policy::check(text, FILE);
    if continuum_policy::parse(text, FILE).is_err() {
        assert!(
            checked.is_err(),
            "check accepted a document that parse refuses"
        );
        return;
    }
    let once = match continuum_policy::format(text, FILE) {
        Ok(out) => out,
        Err(e) => panic!("format failed on a document that parses: {e}"),
    };
    let twice = match continuum_policy::format(&once, FILE) {
        Ok(out) => out,
        Err(e) => panic!("format failed on its own output: {e}\n--- output ---\n{once}"),
    };
    assert_eq!(
        once, twice,
        "format is not idempotent: format(format(x)) != format(x)"
    );
    if checked.is_ok()
        && let Err(e) = continuum_policy::check(&once, FILE)
    {
        panic!(
            "check accepts the document but refuses its formatted text: {e}\n--- output ---\n{once}"
        );
    }
});
