//! The reference semantics: evaluates checked rules over JSON events. Every
//! target is tested against this module.
