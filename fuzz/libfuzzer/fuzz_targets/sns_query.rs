#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ftb_fuzz::sns_query(data));
