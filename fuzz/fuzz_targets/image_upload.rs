//! An upload's path before anything is stored: format sniffing, the header and pixel
//! checks, the JPEG completeness check and a full decode, within a small pixel limit so
//! each run stays fast. Any bytes are an image or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = media::imaging::read_header(data, 1_000_000) {
        let _ = header.decode_cost();
        let _ = media::imaging::inspect(data, 1_000_000);
    }
});
