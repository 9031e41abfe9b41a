//! PDFs signed (PAdES B-B: read, update, sign, finish) and verified per second,
//! for a one-page and a 200-page document. Signing a PDF reads the whole file
//! (every object, to update the form and the page) and hashes all of it.
//!
//! `cargo bench -p identity-core --bench pades`

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark set-up")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use identity_core::cms::{DigestAlgorithm, VerifyOptions};
use identity_core::pades::{self, PdfSignOptions};
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
        // Where signing's time goes: reading and updating the PDF, and hashing
        // what the signature covers.
        let room = PdfSignOptions {
            reserve: pades::reserve_for(&cert, &chain, false),
            ..PdfSignOptions::at(NOW)
        };
        group.bench_function("prepare", |b| {
            b.iter(|| pades::prepare(black_box(&pdf), &room).unwrap());
        });
        let prepared = pades::prepare(&pdf, &room).unwrap();
        let covered = prepared.signed_bytes();
        group.bench_function("sha256", |b| {
            b.iter(|| DigestAlgorithm::Sha256.digest(black_box(&covered)));
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
