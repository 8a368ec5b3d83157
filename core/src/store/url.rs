//! Store URLs: a path or `file:///…` for a folder, `s3://bucket/prefix` for S3.

use std::path::PathBuf;
use std::sync::Arc;

use super::{DynStore, LocalStore, S3Options, S3Store};
use crate::archive::{MAX_PATH_LEN, MemberPath};
use crate::error::{Error, Result, printable};

/// The longest store URL accepted, in bytes: a path of [`MAX_PATH_LEN`] and its options.
const MAX_URL_LEN: usize = 2 * MAX_PATH_LEN;
/// How much of a URL an error shows.
const SHOWN_URL_LEN: usize = 200;

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
        url: shown(url),
        reason: reason.to_string(),
    };
    if url.is_empty() {
        return Err(invalid(
            "empty store URL, expected a folder path or `s3://bucket/prefix`",
        ));
    }
    // The URL parser would drop tabs and line breaks silently, and a path keeps them: either
    // way the store is not the one the text seems to name.
    if url.chars().any(char::is_control) {
        return Err(invalid("control characters are not allowed"));
    }
    if url.len() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "{} bytes long, longer than {MAX_URL_LEN} bytes",
            url.len()
        )));
    }
    let folder = |path: &str| -> Result<DynStore> {
        if path.len() > MAX_PATH_LEN {
            return Err(invalid(&format!(
                "the path is longer than {MAX_PATH_LEN} bytes"
            )));
        }
        Ok(Arc::new(LocalStore::new(PathBuf::from(path))))
    };
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(invalid(
                "a `file://` URL needs an absolute path (`file:///…`)",
            ));
        }
        return folder(path);
    }
    if url.starts_with("s3://") {
        let parsed = url::Url::parse(url).map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid(
                "credentials are not allowed in the URL; use the S3 options or AWS_* variables",
            ));
        }
        if parsed.fragment().is_some() {
            return Err(invalid("a fragment (`#…`) is not allowed"));
        }
        // The parser resolves `..` (also written `%2e%2e`) away: the prefix is checked as
        // written, decoded, so that `s3://bucket/a/../..` is refused rather than moved.
        let written = raw_path(url).trim_matches('/');
        if !written.is_empty() {
            MemberPath::parse(&percent_decode(written)).map_err(|e| invalid(&e.to_string()))?;
        }
        let bucket = parsed.host_str().unwrap_or_default().to_string();
        let prefix = parsed.path().trim_matches('/').to_string();
        let mut s3 = options.s3.clone();
        let mut given = std::collections::BTreeSet::new();
        for (key, value) in parsed.query_pairs() {
            if !given.insert(key.clone()) {
                return Err(invalid(&format!(
                    "the option `{}` is given twice",
                    printable(&key)
                )));
            }
            match key.as_ref() {
                "endpoint" => s3.endpoint = Some(value.into_owned()),
                "region" => s3.region = Some(value.into_owned()),
                "path_style" => {
                    s3.path_style = parse_bool(&value)
                        .ok_or_else(|| invalid("`path_style` must be true or false"))?;
                }
                other => {
                    return Err(invalid(&format!(
                        "unknown option `{}`, expected endpoint, region or path_style",
                        printable(other)
                    )));
                }
            }
        }
        return Ok(Arc::new(S3Store::open(&bucket, &prefix, &s3)?));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(invalid(&format!(
            "unsupported scheme `{}`, expected a path, `file://` or `s3://`",
            shown(scheme)
        )));
    }
    folder(url)
}

/// A URL as an error shows it: without credentials or query values, control characters
/// escaped, cut after [`SHOWN_URL_LEN`] characters.
fn shown(url: &str) -> String {
    let text = printable(&redact_userinfo(url));
    match text.char_indices().nth(SHOWN_URL_LEN) {
        Some((cut, _)) => format!(
            "{}… ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            url.len()
        ),
        None => text,
    }
}

/// The path of an `s3://` URL as written: after the bucket, before any `?` or `#`.
fn raw_path(url: &str) -> &str {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    rest.find('/')
        .and_then(|i| rest.get(i..))
        .unwrap_or_default()
}

/// Decodes `%XX` escapes (anything else, a malformed escape included, stays as is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn refuses_hostile_urls() {
        let o = StoreOptions::default();
        for (url, expected) in [
            ("s3://b/a/../../etc", "`..` is not allowed"),
            ("s3://b/a/%2e%2E/x", "`..` is not allowed"),
            ("s3://b/a%2F..%2Fx", "`..` is not allowed"),
            ("s3://b/p\nq", "control characters"),
            ("/tmp/a\u{0}b", "control characters"),
            ("s3://b/p?region=a&region=b", "`region` is given twice"),
            ("s3://b/p#x", "fragment"),
            ("s3://b/p?endpoint=file:///etc", "`http://` or `https://`"),
        ] {
            let e = open_store(url, &o).unwrap_err().to_string();
            assert!(e.contains(expected), "{url:?}: {e}");
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
        let long = format!("s3://b/{}", "p".repeat(1 << 20));
        let e = open_store(&long, &o).unwrap_err().to_string();
        assert!(e.contains("longer than 8192 bytes") && e.len() < 400, "{e}");
        let e = open_store(&"d".repeat(5000), &o).unwrap_err().to_string();
        assert!(e.contains("longer than 4096 bytes") && e.len() < 400, "{e}");
        assert_eq!(percent_decode("a%2f%zz%4"), "a/%zz%4");
        // What stays accepted.
        open_store("s3://b/a/./b/?region=x", &o).unwrap();
        open_store("s3://b/", &o).unwrap();
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
