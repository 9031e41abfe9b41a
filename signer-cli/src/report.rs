//! The only place that prints: results as text for people or JSON for machines.

use serde_json::Value;

/// Prints a finished step: `message` for people, `data` for machines.
pub(crate) fn done(json_output: bool, message: &str, data: Value) {
    if json_output {
        println!("{data}");
    } else {
        println!("{message}");
    }
}

/// Prints the outcome of a verification.
pub(crate) fn verification(json_output: bool, valid: bool, detail: &str, data: Value) {
    if json_output {
        let mut data = data;
        if let Value::Object(m) = &mut data {
            m.insert("valid".into(), valid.into());
            m.insert("detail".into(), detail.into());
        }
        println!("{data}");
    } else if valid {
        println!("VALID: {detail}");
    } else {
        println!("INVALID: {detail}");
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
