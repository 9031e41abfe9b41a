#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = s.parse::<identity_core::PersonalNumber>();
    let _ = s.parse::<identity_core::EnterpriseCode>();
    let _ = s.parse::<identity_core::CalendarDate>();
    let _ = serde_json::from_str::<identity_core::Official>(s);
    let _ = serde_json::from_str::<identity_core::Business>(s);
});
