//! `tripline coverage` (being written).

use super::CoverageArgs;

pub fn run(_args: &CoverageArgs) -> u8 {
    eprintln!("error: `coverage` is not available yet");
    2
}
