#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ftb_fuzz::s3_port(data));
