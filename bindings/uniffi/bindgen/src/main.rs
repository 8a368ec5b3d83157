//! `uniffi-bindgen`, pinned to the workspace's uniffi version so that the generated code
//! always matches the scaffolding in `continuum-uniffi`.
//!
//! ```sh
//! cargo run -p continuum-uniffi-bindgen -- generate --library target/debug/libcontinuum_uniffi.so \
//!     --language python --out-dir target/uniffi-generated/python
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}
