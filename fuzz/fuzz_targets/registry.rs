#![no_main]
//! The registry import's reading of a national register's export: any bytes,
//! as CSV and as JSON Lines. Every row read or refused is placed on a line of
//! the file (a CSV row the reader cannot place gets the line after the last).

use idp_server::registry::{Format, parse};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let lines = u64::try_from(data.iter().filter(|b| **b == b'\n').count()).unwrap_or(u64::MAX) + 1;
    for format in [Format::Csv, Format::JsonLines] {
        let Ok(parsed) = parse(data, format) else {
            continue;
        };
        for (line, _) in &parsed.records {
            assert!(
                (1..=lines).contains(line),
                "{format:?} row on line {line} of {lines}"
            );
        }
        for rejected in &parsed.rejected {
            assert!(
                (1..=lines + 1).contains(&rejected.line),
                "{format:?} refusal on line {} of {lines}",
                rejected.line
            );
        }
    }
});
