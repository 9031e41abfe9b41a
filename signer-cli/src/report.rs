//! The only place that prints: results as text for people or JSON for machines.

use serde_json::Value;

use crate::cmd::Outcome;

/// Prints a finished step: `message` for people, `data` for machines.
pub(crate) fn done(json_output: bool, message: &str, data: Value) {
    if json_output {
        println!("{data}");
    } else {
        println!("{message}");
    }
}

/// Prints the outcome of a verification: `VALID`, `INVALID` or `INDETERMINATE`.
pub(crate) fn verification(json_output: bool, outcome: Outcome, detail: &str, data: Value) {
    let word = match outcome {
        Outcome::Valid => "VALID",
        Outcome::Invalid => "INVALID",
        Outcome::Indeterminate => "INDETERMINATE",
    };
    if json_output {
        let mut data = data;
        if let Value::Object(m) = &mut data {
            m.insert("valid".into(), (outcome == Outcome::Valid).into());
            m.insert("outcome".into(), word.into());
            m.insert("detail".into(), detail.into());
        }
        println!("{data}");
    } else {
        println!("{word}: {detail}");
    }
}

/// Prints text as it is (a key, a JWK).
pub(crate) fn text(text: &str) {
    println!("{}", text.trim_end());
}

/// Prints an error that stopped the command, with its chain of causes.
pub(crate) fn error(error: &anyhow::Error) {
    eprintln!("error: {error:#}");
}

/// Reports a demo step.
pub(crate) fn step(json_output: bool, n: usize, message: &str) {
    if !json_output {
        println!("{n}. {message}");
    }
}
