//! The registry of diagnostic codes. Numbers are explicit and never reused:
//! a retired code stays here, marked retired, so old reports keep meaning.
//! `docs/errors.md` documents every code (a test keeps the two in step).
//!
//! Ranges: E01xx lexical, E02xx syntax, E03xx names, E04xx types, E05xx
//! values, E06xx tests, E07xx target refusals, E08xx target folders, E090x
//! packs (manifest, site, versions), E091x taxonomy extensions;
//! W0xxx warnings.

use serde::Serialize;

/// A stable diagnostic code and the one-line title `docs/errors.md` lists it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Code {
    pub id: &'static str,
    pub title: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $title:literal;)*) => {
        $(pub const $name: Code = Code { id: $id, title: $title };)*
        /// Every code, in registry order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    // Lexical: the text cannot be cut into tokens.
    INVALID_UTF8 = "E0100", "file is not valid UTF-8";
    UNEXPECTED_CHARACTER = "E0101", "character not allowed here";
    UNTERMINATED_STRING = "E0102", "unterminated string";
    INVALID_ESCAPE = "E0103", "invalid escape in a string";
    INTEGER_OUT_OF_RANGE = "E0104", "integer out of the 64-bit range";
    INVALID_DURATION = "E0105", "invalid duration";
    INVALID_UNICODE_ESCAPE = "E0106", "invalid `\\u{...}` escape";

    // Syntax: the tokens do not form a program.
    UNEXPECTED_TOKEN = "E0200", "unexpected token";
    UNCLOSED_DELIMITER = "E0201", "unclosed delimiter";
    NESTED_TOO_DEEPLY = "E0202", "nested too deeply";
    UNKNOWN_STATEMENT = "E0203", "unknown statement";
    NEGATED_STRING_OPERATOR = "E0204", "`not` before a string operator";
    EXPRESSION_TOO_LONG = "E0205", "expression too long";
    FOREIGN_OPERATOR = "E0206", "operator of another language (`=`, `<>`, `&&`, `||`, `!`)";
    NULL_COMPARISON = "E0207", "comparison with `null`";
    BARE_WORD_VALUE = "E0208", "bare word where a value is expected";

    // Names: what a name refers to.
    UNKNOWN_SOURCE = "E0300", "unknown source";
    UNKNOWN_FIELD = "E0301", "unknown field";
    UNKNOWN_LIST = "E0302", "unknown list";
    DUPLICATE_RULE = "E0303", "rule declared twice";
    DUPLICATE_LIST = "E0304", "list declared twice";
    DUPLICATE_ID = "E0305", "rule id used twice";
    DUPLICATE_STATEMENT = "E0306", "statement given twice";
    MISSING_STATEMENT = "E0307", "required statement missing";
    UNKNOWN_TECHNIQUE = "E0308", "unknown ATT&CK technique";
    UNKNOWN_PLAYBOOK_KEY = "E0309", "unknown playbook key";
    DUPLICATE_TEST = "E0310", "test name used twice in a rule";
    UNKNOWN_WORD = "E0311", "value not allowed for this statement";
    QUOTED_WORD = "E0312", "quoted value where a bare word is expected";
    RULE_NAME_CASE_COLLISION = "E0313", "rule names differ only in case";
    ALERT_FIELD_NOT_GROUPED_BY = "E0314", "alert field without a value on a threshold alert's row";

    // Types: operators and literals against field types.
    OPERATOR_TYPE_MISMATCH = "E0400", "operator does not suit the field's type";
    LITERAL_TYPE_MISMATCH = "E0401", "value does not suit the field's type";
    LIST_TYPE_MISMATCH = "E0402", "list does not suit the operator";
    LIST_ELEMENT_TYPE = "E0403", "list element does not suit the list's type";
    UNKNOWN_LIST_TYPE = "E0404", "unknown list type";
    TIMESTAMP_PREDICATE = "E0405", "`@timestamp` tested other than with `exists()`";
    TIMESTAMP_GROUP = "E0406", "`@timestamp` in `by` or `distinct`";
    ALERT_TIMESTAMP = "E0407", "`@timestamp` in an `alert` block";
    THREAT_TYPE_MISMATCH = "E0408", "threat object type does not suit the field";
    // Version 2 (from E0420, clear of the codes other work adds after E0406).
    AGGREGATE_TYPE = "E0420", "`sum`, `min` or `max` of a field that is not `int`";
    CASED_WITHOUT_CASE = "E0421", "`cased` where no case is compared";
    LENGTH_OF_INT = "E0422", "`len()` of an `int` field";
    SOURCE_TYPE_MISMATCH = "E0423", "field of different types in the rule's sources";
    DETECTION_CONFLICT = "E0424", "`threshold`, `sequence` and `first seen` together";

    // Values: a literal that its statement or operator cannot take.
    INVALID_UUID = "E0500", "invalid rule id";
    INVALID_DATE = "E0501", "invalid date";
    MODIFIED_BEFORE_DATE = "E0502", "`modified` is before `date`";
    EMPTY_STRING = "E0503", "empty string";
    INVALID_CIDR = "E0504", "invalid CIDR block";
    INVALID_REGEX = "E0505", "invalid regular expression";
    UNSUPPORTED_REGEX = "E0506", "regular expression construct not supported by every target";
    INVALID_GLOB = "E0507", "invalid glob escape";
    LOOKBACK_TOO_SHORT = "E0508", "`lookback` too short for the window, `every` and `delay`";
    EMPTY_INLINE_LIST = "E0509", "empty inline list";
    EMPTY_ATTACK = "E0510", "`attack []` names no technique";
    DELAY_TOO_LONG = "E0511", "`delay` longer than `lookback` allows";
    INVALID_VERSION = "E0512", "invalid rule version";
    RISK_SCORE_RANGE = "E0513", "risk score outside 1..100";
    MALFORMED_TITLE = "E0514", "malformed alert title";
    ALERT_RAISES_NOTHING = "E0515", "alert with neither a risk object nor a notable";
    // Version 2 (from E0520, clear of the codes other work adds after E0512).
    STEP_NOT_DIVIDING = "E0520", "`step` does not divide the window";
    STEP_COUNT_RANGE = "E0521", "sequence step count outside 1..10000";
    ONE_STEP_SEQUENCE = "E0522", "sequence with one step";

    // Tests.
    EXPECT_KIND_MISMATCH = "E0600", "expectation does not suit the rule";
    TEST_WITHOUT_EXPECT = "E0601", "test without `expect`";
    MISSING_EVENTS_FILE = "E0602", "events file not found";
    ALERT_FIELD_NOT_GROUPED = "E0603", "`expect alert` names a field that is not a `by` field";
    REPEAT_COUNT = "E0604", "`repeat` count out of range";
    DUPLICATE_EVENT_FIELD = "E0605", "field given twice in one event";
    UNUSABLE_TIMESTAMP = "E0606", "unusable `@timestamp` in a threshold rule's test";
    MALFORMED_EVENTS_LINE = "E0607", "malformed line in an events file";
    ALERT_COUNT = "E0608", "`expect alert` count below zero";
    TOO_MANY_TEST_EVENTS = "E0609", "too many events in one test";
    EVENTS_FILE_OUTSIDE = "E0610", "events file outside the rule's folder";
    EVENT_NESTED_TOO_DEEPLY = "E0611", "test event nested too deeply";
    EVENTS_FILE_TOO_LARGE = "E0612", "events file larger than the limit";

    // `eval` inputs and routing.
    MALFORMED_RECORD = "E0620", "malformed record in an `eval` input";
    UNKNOWN_ROUTE_SOURCE = "E0621", "route to a source the taxonomy does not have";
    EVTX_INPUT_TOO_LARGE = "E0622", "EVTX input on stdin larger than the limit";

    // Targets: what a target cannot express, and broken target folders.
    TARGET_REFUSED = "E0700", "construct a target cannot express exactly";
    UNMAPPED_FIELD = "E0701", "field not mapped for a target";

    // Packs: the manifest, the site overlay, the versions lock.
    INVALID_MANIFEST = "E0900", "manifest is not valid TOML";
    UNKNOWN_MANIFEST_KEY = "E0901", "unknown key in a manifest";
    MANIFEST_VALUE = "E0902", "manifest value of the wrong type or form";
    RULE_IN_SITE = "E0904", "rule in a site folder";
    STALE_LOCK = "E0905", "content changed without a version change";
    SITE_FILTER_UNKNOWN_RULE = "E0906", "site filter for a rule the pack lacks";
    SITE_FILTER_DEFINITION = "E0907", "site filter definition that is not one macro line";

    // Taxonomy extensions: a pack's own sources and fields.
    TAXONOMY_YAML = "E0910", "taxonomy extension is not valid YAML";
    TAXONOMY_UNKNOWN_KEY = "E0911", "unknown key in a taxonomy extension";
    TAXONOMY_WRONG_TYPE = "E0912", "value of the wrong kind in a taxonomy extension";
    TAXONOMY_UNKNOWN_TYPE = "E0913", "unknown field type";
    TAXONOMY_DUPLICATE = "E0914", "source or field defined twice";
    TAXONOMY_UNKNOWN_TARGET = "E0915", "unknown target or mapping in a taxonomy extension";
    TAXONOMY_UNKNOWN_FIELD = "E0916", "target names a field the source lacks";
    TAXONOMY_UNKNOWN_COLUMN = "E0917", "column the target's schema lacks";
    TAXONOMY_MISSING_SETTING = "E0918", "new source without the settings a target needs";

    // Warnings.
    DEPRECATED_TECHNIQUE = "W0001", "revoked or deprecated ATT&CK technique";
    CIDR_HOST_BITS = "W0002", "CIDR block has host bits set";
    UNUSUAL_OUTCOME = "W0003", "unusual `event.outcome` value";
    EMPTY_LIST = "W0004", "empty list";
    EMPTY_TEXT = "W0005", "empty string in metadata";
    TEST_WITHOUT_EVENTS = "W0006", "test without events";
    RULE_WITHOUT_TESTS = "W0007", "rule without tests";
    EVENT_FIELD_TYPO = "W0008", "test event field close to a field of the source";
    RULE_WITHOUT_PLAYBOOK = "W0009", "rule without a playbook";
    LONE_CR = "W0010", "lines end with CR alone";
    SITE_LIST_UNUSED = "W0011", "site list the pack does not declare";
    LIKE_SQL_WILDCARD = "W0012", "`like` pattern with the SQL wildcard `%`";
    CIDR_AS_TEXT = "W0013", "CIDR block compared as text";
    ALWAYS_HOLDS = "W0014", "comparison that always holds";
    SCHEDULE_CANNOT_HONOUR = "W0015", "`delay` or `lookback` the schedule cannot honour";
}

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn every_code_is_unique_and_documented() {
        let docs = include_str!("../../docs/errors.md");
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code.id), "{} is registered twice", code.id);
            assert!(
                docs.contains(&format!("## {}: ", code.id)),
                "docs/errors.md lacks {}",
                code.id
            );
        }
    }
}
