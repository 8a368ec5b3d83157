//! The policy language on one realistic document just under the 512 KB limit: `check`
//! (parse + validate) and `parse` alone; and `format` (parse, write, parse again, compare)
//! on a document whose formatted text is just under the limit (the canonical layout is
//! larger than the corpus text, and `format` refuses output over the limit).
//!
//! The document is the corpus `policy/tests/fixtures/corpus/*.pol` repeated, each copy moved
//! into realms of its own (`job::/team{i}/…`) so it stays valid and free of duplicate rules.
//! Goal: `check` above 100 MB/s, i.e. under 5 ms per 512 KB document.
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]

use std::hint::black_box;
use std::path::Path;

use continuum_policy::{MAX_DOCUMENT_SIZE, check, format, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FILE: &str = "bench.pol";

/// The corpus, sorted by name, each without its `<continuum-policy …>` header line (only
/// the first line of a document may hold one).
fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/tests/fixtures/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let body = match text.trim_start().strip_prefix("<continuum-policy") {
                Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
                None => text.as_str(),
            };
            body.to_string()
        })
        .collect()
}

/// Copies of the corpus with distinct realms (`job::/team{i}/…`), in order, without end.
fn copies(corpus: &[String]) -> impl Iterator<Item = String> + '_ {
    (0..).flat_map(move |i| {
        corpus
            .iter()
            .map(move |text| text.replace("::/", &format!("::/team{i}/")) + "\n")
    })
}

const HEADER: &str = "<continuum-policy description=\"benchmark: the corpus, repeated\">\n\n";

/// Copies of the corpus until the next one would cross the limit.
fn document() -> String {
    let mut doc = String::from(HEADER);
    for copy in copies(&corpus()) {
        if doc.len() + copy.len() > MAX_DOCUMENT_SIZE {
            break;
        }
        doc.push_str(&copy);
    }
    doc
}

/// Copies of the corpus until the next one would take the *formatted* text over the limit:
/// `format` parses its output again, so it refuses a document whose canonical layout is
/// larger than 512 KB, and the canonical layout of the corpus is larger than the corpus.
fn document_for_format() -> String {
    let mut doc = String::from(HEADER);
    let mut formatted = HEADER.len();
    for copy in copies(&corpus()) {
        let grown = format(&copy, FILE).unwrap().len() + 1;
        if formatted + grown > MAX_DOCUMENT_SIZE - 1024 {
            break;
        }
        formatted += grown;
        doc.push_str(&copy);
    }
    doc
}

fn benches(c: &mut Criterion) {
    let doc = document();
    let warnings = check(&doc, FILE).unwrap();
    let parsed = parse(&doc, FILE).unwrap();
    eprintln!(
        "policy document: {} bytes ({:.1}% of the limit), {} lines, {} policies, {} warnings",
        doc.len(),
        100.0 * doc.len() as f64 / MAX_DOCUMENT_SIZE as f64,
        doc.lines().count(),
        parsed.document.policies.len(),
        warnings.len()
    );

    let canonical = continuum_policy::format_document(&parsed.document).len();
    if canonical > MAX_DOCUMENT_SIZE {
        eprintln!(
            "note: its canonical layout is {canonical} bytes, over the limit: format() refuses it"
        );
    }
    let for_format = document_for_format();
    let formatted = format(&for_format, FILE).unwrap();
    eprintln!(
        "format input: {} bytes, {} bytes once formatted",
        for_format.len(),
        formatted.len()
    );

    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    group.bench_function("check_512KB", |b| {
        b.iter(|| check(black_box(&doc), FILE).unwrap())
    });
    group.bench_function("parse_512KB", |b| {
        b.iter(|| parse(black_box(&doc), FILE).unwrap())
    });
    group.finish();

    // Throughput counts the input bytes.
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Bytes(for_format.len() as u64));
    group.bench_function("format_to_512KB", |b| {
        b.iter(|| format(black_box(&for_format), FILE).unwrap())
    });
    group.finish();
}

criterion_group!(policy, benches);
criterion_main!(policy);
