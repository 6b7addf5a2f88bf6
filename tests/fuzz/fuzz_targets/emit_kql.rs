//! The kql target keeps adversarial rule text as data: the emitters'
//! property (tests/fuzz/property/emitters.rs) on the texts the input
//! holds, separated by the byte 0xFF.
#![no_main]

// Each target uses part of the shared module.
#[allow(dead_code)]
#[path = "../property/emitters.rs"]
mod emitters;

use libfuzzer_sys::fuzz_target;
use tripline::emit::TargetName;

fuzz_target!(|bytes: &[u8]| {
    let texts = emitters::Texts::from_bytes(bytes);
    if let Err(err) = emitters::check_targets(&texts, &[TargetName::Kql]) {
        panic!("{err}\n{texts:?}");
    }
});
