//! Store URLs: a path or `file:///…` for a folder, `s3://bucket/prefix` for S3.

use std::path::PathBuf;
use std::sync::Arc;

use super::{DynStore, LocalStore, S3Options, S3Store};
use crate::error::{Error, Result};

/// Options that apply when the URL names an S3 store; the URL's query parameters
/// (`endpoint`, `region`, `path_style`) override them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StoreOptions {
    /// S3 settings.
    pub s3: S3Options,
}

impl StoreOptions {
    /// Options with the given S3 settings.
    pub fn with_s3(s3: S3Options) -> Self {
        Self { s3 }
    }
}

/// Opens the store a URL names.
///
/// - `/var/lib/postgresql/backups`, `./backups`, `file:///var/backups` — a folder;
/// - `s3://bucket`, `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true` — S3.
///
/// Credentials never go in the URL (it is printed in logs and errors): they come from the
/// options or the `AWS_*` variables, and a URL holding `user:password@` is refused.
pub fn open_store(url: &str, options: &StoreOptions) -> Result<DynStore> {
    let invalid = |reason: &str| Error::InvalidStoreUrl {
        url: redact_userinfo(url),
        reason: reason.to_string(),
    };
    if url.is_empty() {
        return Err(invalid(
            "empty store URL, expected a folder path or `s3://bucket/prefix`",
        ));
    }
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(invalid(
                "a `file://` URL needs an absolute path (`file:///…`)",
            ));
        }
        return Ok(Arc::new(LocalStore::new(PathBuf::from(path))));
    }
    if url.starts_with("s3://") {
        let parsed = url::Url::parse(url).map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid(
                "credentials are not allowed in the URL; use the S3 options or AWS_* variables",
            ));
        }
        let bucket = parsed.host_str().unwrap_or_default().to_string();
        let prefix = parsed.path().trim_matches('/').to_string();
        let mut s3 = options.s3.clone();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "endpoint" => s3.endpoint = Some(value.into_owned()),
                "region" => s3.region = Some(value.into_owned()),
                "path_style" => {
                    s3.path_style = parse_bool(&value)
                        .ok_or_else(|| invalid("`path_style` must be true or false"))?;
                }
                other => {
                    return Err(invalid(&format!(
                        "unknown option `{other}`, expected endpoint, region or path_style"
                    )));
                }
            }
        }
        if let Some(endpoint) = &s3.endpoint {
            // An endpoint's own `user:password@` would reach the client's errors and Debug.
            let holds_credentials = url::Url::parse(endpoint)
                .map(|e| !e.username().is_empty() || e.password().is_some())
                .map_err(|e| invalid(&format!("the S3 endpoint is not a URL: {e}")))?;
            if holds_credentials {
                return Err(invalid(
                    "credentials are not allowed in the S3 endpoint; use the S3 options or AWS_* variables",
                ));
            }
        }
        return Ok(Arc::new(S3Store::open(&bucket, &prefix, &s3)?));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(invalid(&format!(
            "unsupported scheme `{scheme}`, expected a path, `file://` or `s3://`"
        )));
    }
    Ok(Arc::new(LocalStore::new(PathBuf::from(url))))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Drops any `user:password@` part of a URL (up to its last `@`: a password may hold one)
/// and the values of its query before it is shown.
fn redact_userinfo(url: &str) -> String {
    let without_userinfo = match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!(
            "{}://***@{}",
            url.get(..scheme_end).unwrap_or_default(),
            url.get(at + 1..).unwrap_or_default()
        ),
        _ => url.to_string(),
    };
    match without_userinfo.split_once('?') {
        Some((base, query)) => {
            let keys: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) => format!("{key}=***"),
                    None => pair.to_string(),
                })
                .collect();
            format!("{base}?{}", keys.join("&"))
        }
        None => without_userinfo,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hold_no_credentials_nor_query_values() {
        assert_eq!(
            redact_userinfo("s3://KEY:se@cr?et@bucket/p?region=x&secret_access_key=SECRET"),
            "s3://***@bucket/p?region=***&secret_access_key=***"
        );
        let o = StoreOptions::default();
        let e = open_store("s3://b/p?aws_secret=TOPSECRET", &o).unwrap_err();
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        let e = open_store("s3://b/p?endpoint=http://AK:S3CRET%2Fx@127.0.0.1:9", &o).unwrap_err();
        assert!(
            !e.to_string().contains("S3CRET") && e.to_string().contains("endpoint"),
            "{e}"
        );
    }

    #[test]
    fn folder_urls() {
        let s = open_store("/tmp/x", &StoreOptions::default()).unwrap();
        assert_eq!(s.url(), "file:///tmp/x");
        let s = open_store("file:///tmp/y", &StoreOptions::default()).unwrap();
        assert_eq!(s.url(), "file:///tmp/y");
        assert!(open_store("file://relative", &StoreOptions::default()).is_err());
    }

    #[test]
    fn refuses_bad_urls_without_leaking() {
        let e = open_store(
            "s3://AKIAEXAMPLE:supersecret@bucket/p",
            &StoreOptions::default(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("credentials are not allowed"), "{msg}");
        assert!(
            !msg.contains("supersecret") && !msg.contains("AKIAEXAMPLE"),
            "{msg}"
        );
        let e = open_store("s3://b/p?colour=red", &StoreOptions::default()).unwrap_err();
        assert!(e.to_string().contains("unknown option `colour`"), "{e}");
        let e = open_store("gs://b/p", &StoreOptions::default()).unwrap_err();
        assert!(e.to_string().contains("unsupported scheme `gs`"), "{e}");
        assert!(open_store("", &StoreOptions::default()).is_err());
    }

    #[test]
    fn s3_url_options() {
        let s = open_store(
            "s3://bucket/some/prefix?endpoint=http://127.0.0.1:1&region=eu-west-1&path_style=true",
            &StoreOptions::default(),
        )
        .unwrap();
        assert_eq!(s.url(), "s3://bucket/some/prefix");
        let debug = format!("{s:?}");
        assert!(debug.contains("127.0.0.1"), "{debug}");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let o = S3Options {
            secret_access_key: Some("hunter2-secret".into()),
            access_key_id: Some("AKIAHUNTER".into()),
            ..S3Options::default()
        };
        let text = format!("{:?}", StoreOptions::with_s3(o));
        assert!(
            !text.contains("hunter2") && !text.contains("AKIAHUNTER"),
            "{text}"
        );
    }
}
