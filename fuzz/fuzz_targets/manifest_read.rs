//! Manifests: `Manifest::from_json` must never panic on any bytes, and an accepted manifest
//! must survive `to_json` → `from_json` unchanged.
#![no_main]

use continuum_core::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::from_json("fuzz/manifest.json", data) {
        let json = manifest.to_json();
        match Manifest::from_json("fuzz/manifest.json", &json) {
            Ok(again) => assert_eq!(again, manifest, "to_json/from_json round trip differs"),
            Err(e) => panic!(
                "to_json of an accepted manifest is refused: {e}\n{}",
                String::from_utf8_lossy(&json)
            ),
        }
    }
});
