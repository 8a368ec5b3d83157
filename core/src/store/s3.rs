//! The S3 store, on `object_store` (maintained, multipart, retries, custom endpoints).
//!
//! `object_store` is async; this store owns a small tokio runtime and offers the same
//! blocking interface as every other store. Call it from plain threads, not from inside
//! another async runtime.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::Timestamp;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, BackoffConfig, GetOptions, ObjectStore, ObjectStoreExt, PutMode,
    PutMultipartOptions, PutPayload, RetryConfig, WriteMultipart,
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

use super::{ObjectKey, ObjectMeta, PutOptions, PutResult, Store};
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};

/// The S3 user metadata key that holds our own SHA-256 (a multipart ETag is not a hash).
pub const SHA256_METADATA: &str = "continuum-sha256";

/// A secret value: its Debug, Display and serialized forms never show it (it serializes as
/// `"***"`); only [`Secret::expose`] gives it, to the service that needs it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is handed to the service that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// Options of an S3 store. Credentials left unset come from the standard `AWS_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Options {
    /// The endpoint URL of an S3-compatible server (`http://127.0.0.1:9000`); AWS when unset.
    pub endpoint: Option<String>,
    /// The region (`us-east-1` when unset and not in the environment).
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), as most S3-compatible servers want.
    pub path_style: bool,
    /// The access key id.
    pub access_key_id: Option<Secret>,
    /// The secret access key.
    pub secret_access_key: Option<Secret>,
    /// A session token.
    pub session_token: Option<Secret>,
    /// Objects larger than this are uploaded in parts.
    pub multipart_threshold: usize,
    /// The size of one part (S3 wants at least 5 MiB).
    pub part_size: usize,
    /// Parts uploaded at once.
    pub max_concurrency: usize,
    /// Retries of one request, waiting between them from 0.5 s growing to 8 s at random
    /// (the default 8 retries ride through an outage of 4 s at least, about 20 s usually).
    pub max_retries: usize,
    /// Time after which a request is no longer retried.
    pub retry_timeout: Duration,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            path_style: false,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            multipart_threshold: 16 << 20,
            part_size: 16 << 20,
            max_concurrency: 8,
            max_retries: 8,
            retry_timeout: Duration::from_secs(60),
        }
    }
}

/// A store in an S3 bucket, below an optional prefix.
pub struct S3Store {
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
    client: Arc<AmazonS3>,
    runtime: Arc<Runtime>,
    multipart_threshold: usize,
    part_size: usize,
    max_concurrency: usize,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("url", &self.url())
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// Opens `bucket` (below `prefix`, which may be empty) with `options`.
    pub fn open(bucket: &str, prefix: &str, options: &S3Options) -> Result<Self> {
        let url = format!("s3://{bucket}/{prefix}");
        let invalid = |reason: String| Error::InvalidStoreUrl {
            url: url.clone(),
            reason,
        };
        if bucket.is_empty() {
            return Err(invalid("the bucket name is empty".to_string()));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            crate::archive::MemberPath::parse(prefix).map_err(|e| invalid(e.to_string()))?;
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(!options.path_style)
            .with_retry(RetryConfig {
                max_retries: options.max_retries,
                retry_timeout: options.retry_timeout,
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(500),
                    max_backoff: Duration::from_secs(8),
                    base: 2.0,
                },
            });
        if let Some(endpoint) = &options.endpoint {
            // Checked here, whatever way the endpoint came (options, `?endpoint=`, the
            // environment): its own `user:password@` would reach the client's errors and Debug.
            let parsed = url::Url::parse(endpoint)
                .map_err(|e| invalid(format!("the S3 endpoint is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid(
                    "the S3 endpoint must be an `http://` or `https://` URL".to_string(),
                ));
            }
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(invalid(
                    "credentials are not allowed in the S3 endpoint; use the S3 options or \
                     AWS_* variables"
                        .to_string(),
                ));
            }
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        } else if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            builder = builder.with_region("us-east-1");
        }
        if let Some(key) = &options.access_key_id {
            builder = builder.with_access_key_id(key.expose());
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        if let Some(token) = &options.session_token {
            builder = builder.with_token(token.expose());
        }
        let client = builder.build().map_err(|e| invalid(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("continuum-s3")
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the S3 runtime", "", e))?;
        if options.part_size < 5 << 20 {
            return Err(invalid("part size must be at least 5 MiB".to_string()));
        }
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            endpoint: options.endpoint.clone(),
            client: Arc::new(client),
            runtime: Arc::new(runtime),
            multipart_threshold: options.multipart_threshold,
            part_size: options.part_size,
            max_concurrency: options.max_concurrency.max(1),
        })
    }

    fn location(&self, key: &str) -> Result<ObjectPath> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|_| Error::UnsafePath {
            path: crate::error::printable(key),
            reason: "not a valid S3 key",
        })
    }

    fn backend(&self, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { path, .. } => Error::NotFound {
                key: self.strip(&path),
                store: self.url(),
            },
            object_store::Error::AlreadyExists { path, .. } => Error::AlreadyExists {
                key: self.strip(&path),
                store: self.url(),
            },
            other => Error::Store {
                store: self.url(),
                message: other.to_string(),
            },
        }
    }

    fn strip(&self, full: &str) -> String {
        if self.prefix.is_empty() {
            full.to_string()
        } else {
            full.strip_prefix(&format!("{}/", self.prefix))
                .unwrap_or(full)
                .to_string()
        }
    }

    fn attributes(digest: Option<Digest>) -> Attributes {
        let mut attributes = Attributes::new();
        if let Some(d) = digest {
            attributes.insert(
                Attribute::Metadata(SHA256_METADATA.into()),
                d.to_string().into(),
            );
        }
        attributes
    }

    fn put_multipart(
        &self,
        location: &ObjectPath,
        key: &ObjectKey,
        first: Vec<u8>,
        data: &mut dyn Read,
        options: &PutOptions,
    ) -> Result<PutResult> {
        // `WriteMultipart` spawns its part uploads onto the ambient runtime.
        let _context = self.runtime.enter();
        let opts = PutMultipartOptions {
            attributes: Self::attributes(options.expected_sha256),
            ..PutMultipartOptions::default()
        };
        let upload = self
            .runtime
            .block_on(self.client.put_multipart_opts(location, opts))
            .map_err(|e| self.backend(e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut hasher = Hasher::new();
        hasher.update(&first);
        writer.put(Bytes::from(first));
        let streamed = (|| -> Result<()> {
            loop {
                let chunk =
                    read_up_to(data, self.part_size).map_err(|e| super::io_error(self, key, e))?;
                if chunk.is_empty() {
                    return Ok(());
                }
                hasher.update(&chunk);
                self.runtime
                    .block_on(writer.wait_for_capacity(self.max_concurrency))
                    .map_err(|e| self.backend(e))?;
                writer.put(Bytes::from(chunk));
            }
        })();
        let size = hasher.len();
        let sha256 = hasher.finish();
        let checked = streamed.and_then(|()| check_expected(key, options, sha256));
        if let Err(e) = checked {
            // Abort so the parts do not linger; the object never became visible.
            let _ = self.runtime.block_on(writer.abort());
            return Err(e);
        }
        self.runtime
            .block_on(writer.finish())
            .map_err(|e| self.backend(e))?;
        Ok(PutResult { size, sha256 })
    }
}

fn check_expected(key: &ObjectKey, options: &PutOptions, actual: Digest) -> Result<()> {
    match options.expected_sha256 {
        Some(expected) if expected != actual => Err(Error::Corrupt {
            entry: key.to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Reads until `limit` bytes or the end of the stream.
fn read_up_to(data: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(limit.min(64 << 20));
    data.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn to_timestamp(t: &object_store::ObjectMeta) -> Timestamp {
    Timestamp::new(
        t.last_modified.timestamp(),
        t.last_modified.timestamp_subsec_nanos() as i32,
    )
    .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Store for S3Store {
    fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn put(&self, key: &ObjectKey, data: &mut dyn Read, options: &PutOptions) -> Result<PutResult> {
        let location = self.location(key.as_str())?;
        if self.head(key)?.is_some() {
            return Err(Error::AlreadyExists {
                key: key.to_string(),
                store: self.url(),
            });
        }
        // One byte past the threshold tells a small object from a large one.
        let first = read_up_to(data, self.multipart_threshold + 1)
            .map_err(|e| super::io_error(self, key, e))?;
        if first.len() > self.multipart_threshold {
            return self.put_multipart(&location, key, first, data, options);
        }
        let sha256 = Digest::of(&first);
        check_expected(key, options, sha256)?;
        let size = first.len() as u64;
        let opts = object_store::PutOptions {
            mode: PutMode::Create,
            attributes: Self::attributes(Some(sha256)),
            ..object_store::PutOptions::default()
        };
        self.runtime
            .block_on(
                self.client
                    .put_opts(&location, PutPayload::from(first), opts),
            )
            .map_err(|e| self.backend(e))?;
        Ok(PutResult { size, sha256 })
    }

    fn get(&self, key: &ObjectKey) -> Result<Box<dyn Read + Send>> {
        let location = self.location(key.as_str())?;
        let result = self
            .runtime
            .block_on(self.client.get(&location))
            .map_err(|e| self.backend(e))?;
        Ok(Box::new(StreamReader {
            stream: result.into_stream(),
            current: Bytes::new(),
            runtime: Arc::clone(&self.runtime),
            url: self.url(),
            key: key.to_string(),
        }))
    }

    fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>> {
        let location = self.location(key.as_str())?;
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self
            .runtime
            .block_on(self.client.get_opts(&location, options))
        {
            Ok(result) => {
                let sha256 = result
                    .attributes
                    .get(&Attribute::Metadata(SHA256_METADATA.into()))
                    .and_then(|v| v.as_ref().parse::<Digest>().ok());
                Ok(Some(ObjectMeta {
                    key: key.to_string(),
                    size: result.meta.size,
                    last_modified: to_timestamp(&result.meta),
                    sha256,
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.backend(e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // object_store lists by whole path segments; list the folder part, filter the rest.
        let dir = prefix
            .rfind('/')
            .map_or("", |i| prefix.get(..i).unwrap_or_default());
        let full_dir = match (self.prefix.is_empty(), dir.is_empty()) {
            (true, true) => None,
            (true, false) => Some(dir.to_string()),
            (false, true) => Some(self.prefix.clone()),
            (false, false) => Some(format!("{}/{dir}", self.prefix)),
        };
        let list_prefix = match &full_dir {
            Some(d) => Some(ObjectPath::parse(d).map_err(|_| Error::UnsafePath {
                path: crate::error::printable(prefix),
                reason: "not a valid S3 key prefix",
            })?),
            None => None,
        };
        let metas: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(async {
                let mut stream = self.client.list(list_prefix.as_ref());
                let mut out = Vec::new();
                while let Some(item) = stream.next().await {
                    out.push(item?);
                }
                Ok::<_, object_store::Error>(out)
            })
            .map_err(|e| self.backend(e))?;
        let mut out: Vec<ObjectMeta> = metas
            .iter()
            .map(|m| (self.strip(m.location.as_ref()), m))
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, m)| ObjectMeta {
                key,
                size: m.size,
                last_modified: to_timestamp(m),
                sha256: None,
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &ObjectKey) -> Result<()> {
        let location = self.location(key.as_str())?;
        match self.runtime.block_on(self.client.delete(&location)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.backend(e)),
        }
    }
}

/// A blocking reader over the object's byte stream.
struct StreamReader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    current: Bytes,
    runtime: Arc<Runtime>,
    url: String,
    key: String,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    return Err(io::Error::other(Error::Store {
                        store: self.url.clone(),
                        message: format!("reading `{}`: {e}", self.key),
                    }));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(&chunk);
        Ok(n)
    }
}
