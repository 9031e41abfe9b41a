//! PDFs signed (PAdES B-B: read, update, sign, finish) and verified per second,
//! for a one-page and a 200-page document. Signing a PDF reads the whole file
//! (every object, to update the form and the page) and hashes all of it.
//!
//! `cargo bench -p identity-core --bench pades`

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark set-up")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use identity_core::SigningKey;
use identity_core::cms::VerifyOptions;
use identity_core::pades::{self, PdfSignOptions};
use identity_core::x509::Certificate;
use std::hint::black_box;

/// Within the validity of the fixtures in tests/data/cms.
const NOW: i64 = 1_800_000_000;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/cms/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let key = SigningKey::from_pkcs8_pem(&String::from_utf8(read("signer.key.pem")).unwrap(), None)
        .unwrap();
    let cert = Certificate::parse_all(&read("signer.pem"))
        .unwrap()
        .remove(0);
    let anchors = Certificate::parse_all(&read("root.pem")).unwrap();
    let chain = Certificate::parse_all(&read("ca.pem")).unwrap();
    // A page of a decision: a long line of text (about 2 KiB of content).
    let line = "Dieu 1. Phe duyet ke hoach thuc hien nhiem vu nam 2026 cua So Tu phap. ".repeat(30);
    for (label, pages) in [("1page", 1usize), ("200pages", 200)] {
        let texts: Vec<&str> = (0..pages).map(|_| line.as_str()).collect();
        let pdf = pades::sample(&texts);
        let mut group = c.benchmark_group(format!("pades_{label}"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("sign", |b| {
            b.iter(|| {
                pades::sign(
                    black_box(&pdf),
                    &key,
                    &cert,
                    &chain,
                    &PdfSignOptions::at(NOW),
                )
                .unwrap()
            });
        });
        let signed = pades::sign(&pdf, &key, &cert, &chain, &PdfSignOptions::at(NOW)).unwrap();
        group.bench_function("verify", |b| {
            b.iter(|| {
                let reports = pades::verify(
                    black_box(&signed),
                    &anchors,
                    &[],
                    &VerifyOptions::at(NOW + 60),
                )
                .unwrap();
                assert!(reports[0].signer.report.passed());
            });
        });
        group.finish();
        eprintln!("{label}: {} bytes", pdf.len());
    }
}

criterion_group!(pades_benches, benches);
criterion_main!(pades_benches);
