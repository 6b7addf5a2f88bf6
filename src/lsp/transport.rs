//! The wire: JSON-RPC messages framed by `Content-Length` headers on stdin
//! and stdout. The framing is read here (not by `lsp-server`'s reader
//! thread) so that a body that is not JSON, or not a message, gets an error
//! response and the server goes on with the next one.

use std::io::{BufRead, Write};

use lsp_server::{Message, RequestId};
use serde_json::{Value, json};

/// JSON-RPC error codes.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;

/// What one frame held.
pub enum Incoming {
    Message(Message),
    /// A frame whose body was not a message: the answer is this error
    /// (sent with the request's id when one could be read, else null).
    Malformed {
        id: Option<RequestId>,
        code: i32,
        message: String,
    },
}

/// The largest body accepted; a longer one is refused without being held.
const MAX_BODY: usize = 64 << 20;

/// Reads the next frame; `Ok(None)` at the end of the input. An error means
/// the stream itself is broken (bad headers), and the server stops.
pub fn read(input: &mut impl BufRead) -> Result<Option<Incoming>, String> {
    let mut length = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .map_err(|err| format!("reading a header: {err}"))?;
        if read == 0 {
            return if saw_header {
                Err("the input ended inside a message's headers".to_string())
            } else {
                Ok(None)
            };
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
            if length.is_none() {
                return Err(format!("bad Content-Length header `{line}`"));
            }
        }
    }
    let length = length.ok_or("a message without a Content-Length header")?;
    if length > MAX_BODY {
        return Err(format!("a message of {length} bytes, more than {MAX_BODY}"));
    }
    let mut body = vec![0; length];
    input
        .read_exact(&mut body)
        .map_err(|err| format!("reading a message body: {err}"))?;
    Ok(Some(decode(&body)))
}

/// The message in a body, or the error to answer it with.
fn decode(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return Incoming::Malformed {
                id: None,
                code: PARSE_ERROR,
                message: format!("the message is not JSON: {err}"),
            };
        }
    };
    let id = match value.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Some(Value::String(s)) => Some(RequestId::from(s.clone())),
        _ => None,
    };
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(err) => Incoming::Malformed {
            id,
            code: INVALID_REQUEST,
            message: format!("not a JSON-RPC request, response or notification: {err}"),
        },
    }
}

/// Writes one message (or a raw JSON-RPC value) in its frame and flushes.
pub fn write(output: &mut impl Write, message: &Message) -> std::io::Result<()> {
    message.write(output)
}

/// Writes an error response whose id is null (the request's could not be
/// read), which `lsp_server::Response` cannot hold.
pub fn write_null_id_error(
    output: &mut impl Write,
    code: i32,
    message: &str,
) -> std::io::Result<()> {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    let text = body.to_string();
    write!(output, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[test]
    fn a_body_that_is_not_json_is_a_parse_error_and_the_next_frame_still_reads() {
        let mut bytes = frame("{not json");
        bytes.extend(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#));
        let mut input = bytes.as_slice();
        assert!(matches!(
            read(&mut input),
            Ok(Some(Incoming::Malformed {
                code: PARSE_ERROR,
                id: None,
                ..
            }))
        ));
        assert!(matches!(
            read(&mut input),
            Ok(Some(Incoming::Message(Message::Notification(n)))) if n.method == "exit"
        ));
        assert!(matches!(read(&mut input), Ok(None)));
    }

    #[test]
    fn json_that_is_no_message_is_an_invalid_request_with_its_id() {
        let bytes = frame(r#"{"jsonrpc":"2.0","id":7,"params":{}}"#);
        let mut input = bytes.as_slice();
        assert!(matches!(
            read(&mut input),
            Ok(Some(Incoming::Malformed { code: INVALID_REQUEST, id: Some(id), .. })) if id == RequestId::from(7)
        ));
    }

    #[test]
    fn broken_headers_stop_the_stream() {
        let mut input: &[u8] = b"Content-Length: many\r\n\r\n{}";
        assert!(read(&mut input).is_err());
        let mut input: &[u8] = b"Content-Length: 99\r\n\r\n{}";
        assert!(read(&mut input).is_err());
    }
}
