//! Values in the ARM template. Azure Resource Manager evaluates a string
//! that starts with `[` and ends with `]` as a template expression at
//! deployment (`[listKeys(...)]` would run with the deployer's rights); a
//! literal such string is written with `[[`
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters>).

/// `value` as a JSON string literal that ARM reads back as exactly
/// `value`: expression brackets escaped, and DEL escaped like the other
/// control characters so that no raw control byte reaches the file.
pub fn arm_string(value: &str) -> String {
    let literal = if value.starts_with('[') && value.ends_with(']') {
        format!("[{value}")
    } else {
        value.to_string()
    };
    let json = serde_json::Value::String(literal).to_string();
    json.replace('\u{7f}', "\\u007f")
}

#[cfg(test)]
mod tests {
    use super::arm_string;

    #[test]
    fn bracketed_text_is_not_an_expression() {
        assert_eq!(arm_string("[concat('a','b')]"), r#""[[concat('a','b')]""#);
        assert_eq!(arm_string("[x] y"), r#""[x] y""#);
        assert_eq!(arm_string("a\u{7f}\u{1b}\"b"), r#""a\u007f\u001b\"b""#);
    }
}
