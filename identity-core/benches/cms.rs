//! Benchmarks of CMS signing and verification.
//! CAdES signatures made and verified per second, for a 1 KiB and a 10 MiB document.
//!
//! `cargo bench -p identity-core --bench cms`

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark set-up")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use identity_core::cms::{self, SignOptions, VerifyOptions};
use std::hint::black_box;

mod support;

use support::NOW;

fn benches(c: &mut Criterion) {
    let support::Fixtures {
        key,
        cert,
        anchors,
        chain,
    } = support::fixtures();
    for (label, size) in [("1KiB", 1024usize), ("10MiB", 10 << 20)] {
        let document: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut group = c.benchmark_group(format!("cades_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size > 1 << 20 {
            group.sample_size(20);
        }
        group.bench_function("sign", |b| {
            b.iter(|| {
                cms::sign(
                    black_box(&document),
                    &key,
                    &cert,
                    &chain,
                    &SignOptions::detached(NOW),
                )
                .unwrap()
            })
        });
        let signature =
            cms::sign(&document, &key, &cert, &chain, &SignOptions::detached(NOW)).unwrap();
        group.bench_function("verify_with_chain", |b| {
            b.iter(|| {
                let reports = cms::verify(
                    black_box(&signature),
                    Some(&document),
                    &anchors,
                    &[],
                    &VerifyOptions::at(NOW),
                )
                .unwrap();
                assert!(reports[0].report.passed());
            })
        });
        group.finish();
    }
}

criterion_group!(cms_benches, benches);
criterion_main!(cms_benches);
