//! The `splunk` target (not written yet: it emits nothing).

use super::{EmitError, Emitted, Input};

pub fn emit(_input: &Input) -> Result<Emitted, EmitError> {
    Ok(Emitted::default())
}
