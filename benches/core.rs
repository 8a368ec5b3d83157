//! SHA-256 streaming, the folder store's put and get, and age encryption at rest, on 256 MiB
//! of data.
//! `benches/compare.sh` runs `sha256sum` and `cp` on the same amount for comparison.
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]

use std::io::Read;
use std::sync::Arc;

use continuum_core::{
    Identities, LocalStore, ObjectKey, PutOptions, Recipients, Store, digest_reader,
    generate_identity,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SIZE: usize = 256 << 20;

fn data() -> Vec<u8> {
    // Incompressible-looking bytes, made once.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(SIZE);
    while out.len() < SIZE {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out
}

fn benches(c: &mut Criterion) {
    let data = data();
    let mut group = c.benchmark_group("core");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(SIZE as u64));

    group.bench_function("sha256_stream_256MiB", |b| {
        b.iter(|| digest_reader(&data[..]).map(|(d, _)| d))
    });

    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let store = Arc::new(LocalStore::new(dir.path()));
    let mut n = 0u64;
    group.bench_function("folder_store_put_256MiB", |b| {
        b.iter(|| {
            n += 1;
            let key = ObjectKey::parse(&format!("bench/{n}")).unwrap();
            store
                .put(&key, &mut &data[..], &PutOptions::default())
                .unwrap();
            // keep the disk from filling up; deleting is not measured separately
            store.delete(&key).unwrap();
        })
    });

    let key = ObjectKey::parse("bench/read").unwrap();
    store
        .put(&key, &mut &data[..], &PutOptions::default())
        .unwrap();
    group.bench_function("folder_store_get_256MiB", |b| {
        b.iter(|| {
            let mut reader = store.get(&key).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0usize;
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    break total;
                }
                total += n;
            }
        })
    });
    group.bench_function("folder_store_get_and_verify_256MiB", |b| {
        b.iter(|| digest_reader(store.get(&key).unwrap()).map(|(d, _)| d))
    });

    // Encryption at rest: what `SetWriter::add` does to each artifact of an encrypted set,
    // and what a restore does to read it back.
    let (secret, public) = generate_identity();
    let recipients = Recipients::parse([public]).unwrap();
    let identities = Identities::parse(&secret).unwrap();
    let drain = |mut reader: Box<dyn Read>| {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break total;
            }
            total += n;
        }
    };
    group.bench_function("age_encrypt_256MiB", |b| {
        b.iter(|| drain(Box::new(recipients.encrypt(&data[..]).unwrap())))
    });
    let mut encrypted = Vec::new();
    recipients
        .encrypt(&data[..])
        .unwrap()
        .read_to_end(&mut encrypted)
        .unwrap();
    group.bench_function("age_decrypt_256MiB", |b| {
        b.iter(|| {
            drain(Box::new(
                identities.decrypt("bench", &encrypted[..]).unwrap(),
            ))
        })
    });
    group.bench_function("age_encrypt_then_decrypt_256MiB", |b| {
        b.iter(|| {
            let encrypting = recipients.encrypt(&data[..]).unwrap();
            drain(Box::new(identities.decrypt("bench", encrypting).unwrap()))
        })
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
