//! `pki`: the offline root ceremony and CA operations.
fn main() {}
