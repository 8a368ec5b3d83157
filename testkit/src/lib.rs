//! Shared by the integration tests: the live S3 server and the conformance suite that every
//! store backend must pass.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support fails loudly, with the values in the message"
)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use continuum_core::{
    Digest, DynStore, Error, LocalStore, ObjectKey, PutOptions, S3Options, S3Store, Store,
};

/// A table with every common column type (bytea, jsonb, arrays, numeric, timestamptz, large
/// text, NULLs), an index, a sequence, a view over `pgbench_accounts` and two functions: run
/// it after `pgbench -i` in a test database.
pub const EVERY_TYPE_SQL: &str = include_str!("../fixtures/every_type.sql");

/// The S3-compatible server the tests use. `scripts/test.sh` starts `moto_server` and sets
/// this; a test that needs S3 and does not find it fails, it never skips.
pub fn s3_endpoint() -> String {
    std::env::var("CONTINUUM_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "CONTINUUM_TEST_S3_ENDPOINT is not set: start an S3-compatible server \
             (`moto_server -H 127.0.0.1 -p 5000`) and set it to its URL, or run `bash scripts/test.sh`"
        )
    })
}

/// Creates a fresh bucket on the test server with a plain HTTP request.
pub fn create_bucket(endpoint: &str, bucket: &str) {
    let hostport = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = TcpStream::connect(hostport)
        .unwrap_or_else(|e| panic!("cannot reach the S3 server at {endpoint}: {e}"));
    write!(
        conn,
        "PUT /{bucket} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "create bucket {bucket}: {response}"
    );
}

pub fn unique(name: &str) -> String {
    format!("{name}-{:08x}", rand::random::<u32>())
}

pub fn s3_options(endpoint: &str) -> S3Options {
    let mut o = S3Options::default();
    o.endpoint = Some(endpoint.to_string());
    o.path_style = true;
    o.region = Some("us-east-1".to_string());
    o.access_key_id = Some("testing".into());
    o.secret_access_key = Some("testing".into());
    o.multipart_threshold = 8 << 20;
    o.part_size = 8 << 20;
    o
}

/// A new S3 store in a new bucket, below a prefix.
pub fn s3_store() -> DynStore {
    let endpoint = s3_endpoint();
    let bucket = unique("conformance");
    create_bucket(&endpoint, &bucket);
    Arc::new(S3Store::open(&bucket, "some/prefix", &s3_options(&endpoint)).unwrap())
}

/// A new folder store (the folder outlives the test only as long as the TempDir).
pub fn local_store() -> (tempfile::TempDir, DynStore) {
    let dir = tempfile::tempdir().unwrap();
    let store: DynStore = Arc::new(LocalStore::new(dir.path().join("store")));
    (dir, store)
}

/// Deterministic pseudo-random bytes, a pure function of (seed, position), generated on the
/// fly (never held whole) and the same whatever sizes the reads ask for.
#[derive(Debug)]
pub struct Pattern {
    pos: u64,
    len: u64,
    seed: u64,
}

impl Pattern {
    pub fn new(len: u64, seed: u64) -> Self {
        Self { pos: 0, len, seed }
    }

    fn block(&self, index: u64) -> [u8; 8] {
        // splitmix64 of the block index
        let mut z = index
            .wrapping_add(self.seed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.len - self.pos) as usize);
        let mut i = 0;
        while i < n {
            let offset = (self.pos % 8) as usize;
            let block = self.block(self.pos / 8);
            let take = (8 - offset).min(n - i);
            buf[i..i + take].copy_from_slice(&block[offset..offset + take]);
            i += take;
            self.pos += take as u64;
        }
        Ok(n)
    }
}

/// A reader that fails after `after` bytes, like a producer that dies.
#[derive(Debug)]
pub struct FailingReader {
    inner: Pattern,
    after: u64,
    read: u64,
}

impl FailingReader {
    pub fn new(after: u64) -> Self {
        Self {
            inner: Pattern::new(u64::MAX, 7),
            after,
            read: 0,
        }
    }
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= self.after {
            return Err(io::Error::other("the producer died"));
        }
        let max = buf.len().min((self.after - self.read) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.read += n as u64;
        Ok(n)
    }
}

pub fn key(s: &str) -> ObjectKey {
    ObjectKey::parse(s).unwrap()
}

pub fn read_all(store: &dyn Store, k: &str) -> Vec<u8> {
    let mut out = Vec::new();
    store.get(&key(k)).unwrap().read_to_end(&mut out).unwrap();
    out
}

pub fn keys(store: &dyn Store, prefix: &str) -> Vec<String> {
    store
        .list(prefix)
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect()
}

/// The behaviour every store must have.
pub fn conformance(store: &dyn Store, keeps_sha256: bool) {
    // put, get, head
    let r = store
        .put(&key("a/b1"), &mut &b"hello"[..], &PutOptions::default())
        .unwrap();
    assert_eq!(r.size, 5);
    assert_eq!(r.sha256, Digest::of(b"hello"));
    assert_eq!(read_all(store, "a/b1"), b"hello");
    let meta = store.head(&key("a/b1")).unwrap().unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.key, "a/b1");
    if keeps_sha256 {
        assert_eq!(meta.sha256, Some(Digest::of(b"hello")));
    }

    // never overwrite
    let e = store
        .put(&key("a/b1"), &mut &b"other"[..], &PutOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
    assert_eq!(read_all(store, "a/b1"), b"hello");

    // missing objects
    assert!(store.head(&key("nope")).unwrap().is_none());
    assert!(matches!(
        store.get(&key("nope")),
        Err(Error::NotFound { .. })
    ));
    store.delete(&key("nope")).unwrap();

    // list is a string prefix, sorted
    for k in ["a/b2", "a/c", "ab/x", "z"] {
        store
            .put(&key(k), &mut &k.as_bytes()[..], &PutOptions::default())
            .unwrap();
    }
    assert_eq!(keys(store, "a/b"), ["a/b1", "a/b2"]);
    assert_eq!(keys(store, "a/"), ["a/b1", "a/b2", "a/c"]);
    assert_eq!(keys(store, "a"), ["a/b1", "a/b2", "a/c", "ab/x"]);
    assert_eq!(keys(store, ""), ["a/b1", "a/b2", "a/c", "ab/x", "z"]);
    assert!(keys(store, "q/").is_empty());

    // empty object
    store
        .put(&key("empty"), &mut io::empty(), &PutOptions::default())
        .unwrap();
    assert_eq!(read_all(store, "empty"), b"");
    assert_eq!(store.head(&key("empty")).unwrap().unwrap().size, 0);

    // a wrong expected digest makes nothing visible
    let e = store
        .put(
            &key("wrong"),
            &mut &b"data"[..],
            &PutOptions::expecting(Digest::of(b"other")),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    assert!(store.head(&key("wrong")).unwrap().is_none());

    // a producer that fails makes nothing visible, small or multipart
    for size in [1000u64, 20 << 20] {
        let e = store
            .put(
                &key("broken"),
                &mut FailingReader::new(size),
                &PutOptions::default(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("the producer died"), "{e}");
        assert!(store.head(&key("broken")).unwrap().is_none());
        assert!(!keys(store, "").contains(&"broken".to_string()));
    }

    // delete
    store.delete(&key("a/b1")).unwrap();
    assert!(store.head(&key("a/b1")).unwrap().is_none());
    assert_eq!(keys(store, "a/"), ["a/b2", "a/c"]);

    // keys are checked
    assert!(ObjectKey::parse("../x").is_err());
    assert!(ObjectKey::parse("a/.continuum-tmp-x").is_err());
}

/// A large object streamed in and out: multipart on S3, bounded memory everywhere.
pub fn large_object(store: &dyn Store, len: u64) {
    let (expected, _) = continuum_core::digest_reader(Pattern::new(len, 42)).unwrap();
    let r = store
        .put(
            &key("large/object.bin"),
            &mut Pattern::new(len, 42),
            &PutOptions::expecting(expected),
        )
        .unwrap();
    assert_eq!((r.size, r.sha256), (len, expected));
    assert_eq!(
        store.head(&key("large/object.bin")).unwrap().unwrap().size,
        len
    );
    let (digest, n) =
        continuum_core::digest_reader(store.get(&key("large/object.bin")).unwrap()).unwrap();
    assert_eq!((digest, n), (expected, len));
}

/// The PostgreSQL server the tests use (`CONTINUUM_TEST_PG_URL`, set by `scripts/test.sh`);
/// a test that needs it and does not find it fails, it never skips.
pub fn pg_url() -> String {
    std::env::var("CONTINUUM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "CONTINUUM_TEST_PG_URL is not set: start a PostgreSQL server and set it to its URL \
             (postgresql://postgres@127.0.0.1:PORT/postgres), or run `bash scripts/test.sh`, \
             which starts a throwaway cluster"
        )
    })
}

/// `url` with its database replaced by `database`.
pub fn pg_url_for(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{database}{query}")
}

/// Runs SQL statements (several, `;`-separated) in `database` of the server at `url`.
pub fn pg_execute(url: &str, database: &str, sql: &str) {
    let mut client = postgres::Client::connect(&pg_url_for(url, database), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to `{database}`: {e}"));
    client
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("run SQL in `{database}`: {e}"));
}

/// Every user table's content as one digest per `schema.table`, computed by the server: two
/// databases with equal maps hold the same rows.
pub fn table_digests(url: &str, database: &str) -> std::collections::BTreeMap<String, String> {
    let mut client = postgres::Client::connect(&pg_url_for(url, database), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to `{database}`: {e}"));
    let tables: Vec<(String, String)> = client
        .query(
            "SELECT schemaname::text, tablename::text FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    tables
        .into_iter()
        .map(|(schema, name)| {
            let q = format!(
                "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM \"{}\".\"{}\" t",
                schema.replace('"', "\"\""),
                name.replace('"', "\"\"")
            );
            let digest: String = client.query_one(&q, &[]).unwrap().get(0);
            (format!("{schema}.{name}"), digest)
        })
        .collect()
}

/// Everything under `root` as paths relative to it, `/`-separated (folders end in `/`),
/// sorted; what cannot be read is left out.
pub fn walk(root: &std::path::Path) -> Vec<String> {
    fn go(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(rel) = entry
                .path()
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
            else {
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(format!("{rel}/"));
                go(root, &entry.path(), out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    go(root, root, &mut out);
    out.sort();
    out
}
