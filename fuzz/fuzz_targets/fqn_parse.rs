//! FQNs: `Fqn::parse` must never panic, and a parsed FQN must read back from its display.
#![no_main]

use continuum_core::{Fqn, Namespace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fqn) = Fqn::parse(text) {
        let shown = fqn.to_string();
        match Fqn::parse(&shown) {
            Ok(again) => assert_eq!(again, fqn, "parse(display) differs; display {shown:?}"),
            Err(e) => panic!("the display {shown:?} of a parsed FQN does not parse: {e}"),
        }
        let ns = fqn.namespace();
        match Namespace::parse(ns.as_str()) {
            Ok(again) => assert_eq!(&again, ns, "namespace parse(display) differs"),
            Err(e) => panic!(
                "the namespace {:?} of a parsed FQN does not parse: {e}",
                ns.as_str()
            ),
        }
    }
    if let Ok(ns) = Namespace::parse(text) {
        match Namespace::parse(ns.as_str()) {
            Ok(again) => assert_eq!(again, ns, "namespace parse(display) differs"),
            Err(e) => panic!(
                "the display {:?} of a parsed namespace does not parse: {e}",
                ns.as_str()
            ),
        }
    }
});
