#![doc = include_str!("../README.md")]

/// The version of the library these bindings wrap.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_the_workspace_version() {
        assert_eq!(
            super::version(),
            continuum_core::producer().trim_start_matches("continuum-backup ")
        );
    }
}
