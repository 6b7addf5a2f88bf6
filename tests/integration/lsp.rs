//! `tripline lsp` driven over stdio as an editor drives it: initialize,
//! open, change, completion, hover, definition, references, rename,
//! formatting, code actions, semantic tokens, shutdown and exit, on the
//! pack `rules/` and on broken files. Responses are snapshots with the
//! pack's folder written `PACK` and fresh ids written `<uuid>`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

/// A client holding a running `tripline lsp`.
struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
    /// Folder → the word that stands for it in snapshots.
    names: Vec<(String, &'static str)>,
    open_files: usize,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("tripline"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let root = std::fs::canonicalize(root).unwrap();
        let mut client = Client {
            child,
            stdin,
            stdout,
            next_id: 0,
            notifications: Vec::new(),
            names: vec![(uri(&root), "file:///PACK")],
            open_files: 0,
        };
        let init = client.request("initialize", json!({"capabilities": {}, "processId": null}));
        assert_eq!(init["result"]["serverInfo"]["name"], "tripline", "{init}");
        client.notify("initialized", json!({}));
        client
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.send_raw(&message.to_string());
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the server hung up"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Sends a request and returns its response (with the pack's folder
    /// and fresh ids normalised).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response_to(json!(id))
    }

    fn response_to(&mut self, id: Value) -> Value {
        loop {
            let message = self.receive();
            if message.get("method").is_some() {
                self.notifications.push(message);
            } else {
                assert_eq!(message["id"], id, "{message}");
                return self.normalise(message);
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The diagnostics the server publishes after opening or changing a
    /// file: the edited file's, then each other open file's (in URI order).
    fn published(&mut self) -> Vec<Value> {
        assert!(self.notifications.is_empty());
        (0..self.open_files)
            .map(|_| {
                let message = self.receive();
                assert_eq!(
                    message["method"], "textDocument/publishDiagnostics",
                    "{message}"
                );
                self.normalise(message["params"].clone())
            })
            .collect()
    }

    fn open(&mut self, path: &Path, text: &str) -> Value {
        let params = json!({"textDocument": {
            "uri": uri(path), "languageId": "trip", "version": 1, "text": text}});
        self.notify("textDocument/didOpen", params);
        self.open_files += 1;
        self.published().swap_remove(0)
    }

    fn change(&mut self, path: &Path, version: i32, text: &str) -> Value {
        let params = json!({"textDocument": {"uri": uri(path), "version": version},
            "contentChanges": [{"text": text}]});
        self.notify("textDocument/didChange", params);
        self.published().swap_remove(0)
    }

    /// Like `change`, with the diagnostics of every open file.
    fn change_all(&mut self, path: &Path, version: i32, text: &str) -> Vec<Value> {
        let params = json!({"textDocument": {"uri": uri(path), "version": version},
            "contentChanges": [{"text": text}]});
        self.notify("textDocument/didChange", params);
        self.published()
    }

    fn at(
        &mut self,
        method: &str,
        path: &Path,
        (line, character): (u32, u32),
        extra: Value,
    ) -> Value {
        let mut params = json!({"textDocument": {"uri": uri(path)},
            "position": {"line": line, "character": character}});
        for (key, value) in extra.as_object().into_iter().flatten() {
            params[key] = value.clone();
        }
        self.request(method, params)
    }

    fn normalise(&self, value: Value) -> Value {
        let mut text = serde_json::to_string_pretty(&value).unwrap();
        for (folder, name) in &self.names {
            text = text.replace(folder.as_str(), name);
        }
        let uuid =
            regex::Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
                .unwrap();
        serde_json::from_str(&uuid.replace_all(&text, "<uuid>")).unwrap()
    }

    /// `shutdown` then `exit`: the server answers null and ends with 0.
    fn stop(mut self) {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}

fn uri(path: &Path) -> String {
    let mut text = String::from("file://");
    for byte in path.to_str().unwrap().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    text
}

/// The line and UTF-16 column of the `nth` (0-based) occurrence of
/// `needle` in `text`, plus `offset` characters.
fn position_of(text: &str, needle: &str, nth: usize, offset: usize) -> (u32, u32) {
    let at = text.match_indices(needle).nth(nth).unwrap().0;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count();
    let column = text[line_start..at].encode_utf16().count() + offset;
    (line as u32, column as u32)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

/// A completion answer as `label — detail` lines, those starting with
/// `prefix` only.
fn completion_labels(response: &Value, prefix: &str) -> String {
    let items = response["result"].as_array().unwrap();
    assert!(!items.is_empty(), "{response}");
    items
        .iter()
        .filter(|item| item["label"].as_str().unwrap().starts_with(prefix))
        .map(|item| match item["detail"].as_str() {
            Some(detail) => format!("{} — {detail}", item["label"].as_str().unwrap()),
            None => item["label"].as_str().unwrap().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const RULE: &str = "rules/t1590/recon_tool_execution_on_host.trip";

#[test]
fn lsp_on_the_pack_hovers_navigates_renames_and_completes() {
    let mut client = Client::start(Path::new("rules"));
    let path = std::fs::canonicalize(RULE).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let opened = client.open(&path, &text);
    assert_eq!(opened["diagnostics"], json!([]), "{opened}");

    let list_use = position_of(&text, "@recon_tool_process_names", 1, 3);
    let mut hovers = Vec::new();
    for (needle, nth, offset) in [
        ("process.name", 0, 2),
        ("@recon_tool_process_names", 1, 3),
        ("T1590", 0, 1),
        ("startswith", 0, 1),
        ("from process", 0, 6),
    ] {
        let at = position_of(&text, needle, nth, offset);
        let hover = client.at("textDocument/hover", &path, at, json!({}));
        hovers.push(json!({"at": needle, "hover": hover["result"]}));
    }
    insta::assert_snapshot!("lsp_pack_hover", pretty(&json!(hovers)));

    let definition = client.at("textDocument/definition", &path, list_use, json!({}));
    insta::assert_snapshot!("lsp_pack_definition", pretty(&definition));
    let references = client.at(
        "textDocument/references",
        &path,
        list_use,
        json!({"context": {"includeDeclaration": true}}),
    );
    insta::assert_snapshot!("lsp_pack_references", pretty(&references));
    let rename = client.at(
        "textDocument/rename",
        &path,
        list_use,
        json!({"newName": "recon_tools"}),
    );
    insta::assert_snapshot!("lsp_pack_rename", pretty(&rename));
    let taken = client.at(
        "textDocument/rename",
        &path,
        list_use,
        json!({"newName": "recon_tool_script_names"}),
    );
    assert_eq!(taken["error"]["code"], -32602, "{taken}");
    let reserved = client.at(
        "textDocument/rename",
        &path,
        list_use,
        json!({"newName": "where"}),
    );
    assert_eq!(reserved["error"]["code"], -32602, "{reserved}");

    // A rule's name leads to its declaration; renaming it edits that.
    let rule_name = position_of(&text, "recon_tool_execution_on_host", 0, 2);
    let rule = client.at("textDocument/definition", &path, rule_name, json!({}));
    assert_eq!(
        rule["result"][0]["uri"], "file:///PACK/t1590/recon_tool_execution_on_host.trip",
        "{rule}"
    );
    assert_eq!(
        rule["result"][0]["range"]["start"],
        json!({"line": 0, "character": 5}),
        "{rule}"
    );
    let renamed = client.at(
        "textDocument/rename",
        &path,
        rule_name,
        json!({"newName": "recon_tools_run"}),
    );
    let edits =
        &renamed["result"]["changes"]["file:///PACK/t1590/recon_tool_execution_on_host.trip"];
    assert_eq!(edits[0]["newText"], "recon_tools_run", "{renamed}");

    // The pack is formatted: no edit.
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&path)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(formatting["result"], json!([]), "{formatting}");

    // Completion after an edit that is not saved: `from`, `level`,
    // `attack`, `@`, a field, and a new statement.
    let edited = text
        .replacen(
            "  from process\n",
            "  from process\n  level \n  attack T1590\n  where process.\n  where x in @\n  \n",
            1,
        )
        .replacen("  alert {\n", "  alert {\n    \n", 1)
        .replacen("  playbook {\n", "  playbook {\n    \n", 1)
        .replacen(
            "  test \"scanners and recon tools fire, by image name and by script\" {\n",
            "  test \"scanners and recon tools fire, by image name and by script\" {\n    \n    event { \n",
            1,
        );
    client.change(&path, 2, &edited);
    let mut completions = String::new();
    for (needle, offset, prefix) in [
        ("  from ", 7, ""),
        ("  level \n", 8, ""),
        ("  status test", 9, ""),
        ("  attack T1590\n", 14, "T1590"),
        ("  where process.\n", 16, "process."),
        ("in @\n", 4, "recon"),
        ("  \n  where process.name", 2, ""),
        ("    \n    title \"Recon", 4, ""),
        ("    \n    questions \"Who ran", 4, ""),
        ("    \n    event { \n", 4, ""),
        ("    event { \n", 12, "process.c"),
    ] {
        let at = position_of(&edited, needle, 0, offset);
        let response = client.at("textDocument/completion", &path, at, json!({}));
        completions.push_str(&format!(
            "## {}\n{}\n\n",
            needle.trim(),
            completion_labels(&response, prefix)
        ));
    }
    insta::assert_snapshot!("lsp_pack_completion", completions);
    client.stop();
}

/// A scratch pack: a manifest and the given files.
fn scratch_pack(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("tripline.toml"),
        "[pack]\nname = \"scratch\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    std::fs::canonicalize(dir).unwrap()
}

const LISTS: &str = "list bad_domains = [\"evil.example\"]\n";

/// Non-ASCII text before each problem on its line: columns are UTF-16.
const BROKEN: &str = "# Règle — é𝄞\nrule broken {\n  title \"Transfert de zone — 𝄞\"\n  level hgh\n  attack T1590.002\n  description \"d\"\n  from dns\n  where dns.question.type == \"é𝄞\" and dns.question.name in @bad_domain\n}\n";

#[test]
fn lsp_on_broken_files_reports_fixes_formats_and_answers_bad_messages() {
    let dir = scratch_pack("broken", &[("lists.trip", LISTS), ("broken.trip", BROKEN)]);
    let path = dir.join("broken.trip");
    let mut client = Client::start(&dir);
    let opened = client.open(&path, BROKEN);
    insta::assert_snapshot!("lsp_broken_diagnostics", pretty(&opened));

    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}});
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&path)}, "range": whole, "context": {"diagnostics": []}}),
    );
    insta::assert_snapshot!("lsp_broken_code_actions", pretty(&actions));

    // The fixes applied (as the editor would), badly laid out: clean, and
    // formatting lays it out.
    let fixed = BROKEN
        .replace("level hgh", "level high")
        .replace("@bad_domain", "@bad_domains")
        .replace(
            "rule broken {\n",
            "rule broken {\n  id \"4d4c5b6a-1b2c-4d5e-8f90-0a1b2c3d4e5f\"\n",
        )
        .replace("  from dns", "      from     dns");
    let clean = client.change(&path, 2, &fixed);
    let codes: Vec<&Value> = clean["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("W0007")], "{clean}");
    let formatting = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&path)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    insta::assert_snapshot!("lsp_broken_formatting", pretty(&formatting));

    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri(&path)}}),
    );
    insta::assert_snapshot!("lsp_broken_semantic_tokens", decode_tokens(&fixed, &tokens));

    // An unsaved edit of another file counts: the list renamed there is
    // unknown here, and the renamed use is known again.
    let lists = dir.join("lists.trip");
    client.open(&lists, LISTS);
    let renamed = LISTS.replace("bad_domains", "evil_domains");
    let both = client.change_all(&lists, 2, &renamed);
    assert_eq!(both[0]["uri"], "file:///PACK/lists.trip");
    assert_eq!(both[0]["diagnostics"], json!([]), "{both:?}");
    let codes: Vec<&Value> = both[1]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("W0007"), &json!("E0302")], "{both:?}");
    let again = client.change_all(&path, 3, &fixed.replace("@bad_domains", "@evil_domains"));
    let codes: Vec<&Value> = again[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("W0007")], "{again:?}");

    // Closing lists.trip drops its unsaved edit: the file on disk counts.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&lists)}}),
    );
    client.open_files -= 1;
    let closed = client.receive();
    assert_eq!(closed["params"]["uri"], json!(uri(&lists)), "{closed}");
    assert_eq!(closed["params"]["diagnostics"], json!([]), "{closed}");
    let rechecked = client.published();
    let codes: Vec<&Value> = rechecked[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("W0007"), &json!("E0302")], "{rechecked:?}");

    // A syntax error: reported, and formatting refuses the file.
    let syntax = client.change(&path, 4, "rule r {\n  where é ==\n}\n");
    insta::assert_snapshot!("lsp_broken_syntax_error", pretty(&syntax));
    let refused = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&path)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(refused["error"]["code"], -32803, "{refused}");

    // An edit of a range: its columns count UTF-16 units (`é` is one).
    // `where x ==` now lacks only its value.
    let params = json!({"textDocument": {"uri": uri(&path), "version": 5},
        "contentChanges": [{"range": {"start": {"line": 1, "character": 8},
            "end": {"line": 1, "character": 9}}, "text": "x"}]});
    client.notify("textDocument/didChange", params);
    let edited = client.published().swap_remove(0);
    let codes: Vec<&Value> = edited["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("E0200")], "{edited}");
    assert_eq!(
        edited["diagnostics"][0]["range"]["start"],
        json!({"line": 2, "character": 0}),
        "{edited}"
    );

    // Bad messages get errors and the server goes on.
    let no_params = client.request("textDocument/hover", json!({}));
    assert_eq!(no_params["error"]["code"], -32602, "{no_params}");
    let unknown = client.request("textDocument/unknown", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let not_open = client.at(
        "textDocument/hover",
        &dir.join("other.trip"),
        (0, 0),
        json!({}),
    );
    assert_eq!(not_open["error"]["code"], -32602, "{not_open}");
    client.send_raw("{this is not json");
    let parse_error = client.response_to(Value::Null);
    assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
    client.send_raw(r#"{"jsonrpc":"2.0","id":99,"method":7}"#);
    let invalid = client.response_to(json!(99));
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    let far = client.at("textDocument/hover", &path, (u32::MAX, u32::MAX), json!({}));
    assert_eq!(far["result"], Value::Null, "{far}");
    client.stop();
}

#[test]
fn lsp_answers_requests_before_initialize_and_a_second_initialize_with_errors() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tripline"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut client = Client {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
        child,
        next_id: 0,
        notifications: Vec::new(),
        names: Vec::new(),
        open_files: 0,
    };
    let early = client.request("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    let init = client.request("initialize", json!({"capabilities": {}}));
    assert!(
        init["result"]["capabilities"]["hoverProvider"] == true,
        "{init}"
    );
    let again = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    client.stop();
}

#[test]
fn lsp_exits_with_1_when_exit_comes_before_shutdown() {
    let mut client = Client::start(Path::new("rules"));
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().unwrap().code(), Some(1));
}

/// Semantic tokens as `line:column length kind text` lines.
fn decode_tokens(text: &str, response: &Value) -> String {
    let kinds = [
        "keyword",
        "string",
        "number",
        "comment",
        "operator",
        "variable",
        "property",
        "enumMember",
        "function",
        "type",
        "class",
    ];
    let data: Vec<u64> = response["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    let lines: Vec<Vec<u16>> = text.lines().map(|l| l.encode_utf16().collect()).collect();
    let (mut line, mut column) = (0, 0);
    let mut out = String::new();
    for token in data.chunks(5) {
        if token[0] > 0 {
            column = 0;
        }
        line += token[0] as usize;
        column += token[1] as usize;
        let units = &lines[line][column..column + token[2] as usize];
        out.push_str(&format!(
            "{}:{} {} {} {}\n",
            line,
            column,
            token[2],
            kinds[token[3] as usize],
            String::from_utf16_lossy(units)
        ));
    }
    out
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The extension's manifest declares the `trip` language for `.trip` files
/// with the grammar and configuration it ships, starts the extension's
/// script, and pins every npm package.
#[test]
fn vscode_manifest_declares_the_language_its_grammar_and_pinned_packages() {
    let manifest = read_json("editors/vscode/package.json");
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "trip");
    assert_eq!(language["extensions"], json!([".trip"]));
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "trip");
    assert_eq!(grammar["scopeName"], "source.trip");
    for file in [
        grammar["path"].as_str().unwrap(),
        language["configuration"].as_str().unwrap(),
        manifest["main"].as_str().unwrap(),
    ] {
        let path = Path::new("editors/vscode").join(file);
        assert!(path.is_file(), "{} is missing", path.display());
    }
    let script = std::fs::read_to_string("editors/vscode/extension.js").unwrap();
    assert!(
        script.contains(r#"args: ["lsp"]"#),
        "the extension must start `tripline lsp`"
    );
    let lock = read_json("editors/vscode/package-lock.json");
    for group in ["dependencies", "devDependencies"] {
        for (name, version) in manifest[group].as_object().unwrap() {
            let version = version.as_str().unwrap();
            assert!(
                version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} {version} is not pinned"
            );
            let locked = &lock["packages"][format!("node_modules/{name}")]["version"];
            assert_eq!(locked, version, "{name}: package-lock.json disagrees");
        }
    }
    read_json("editors/vscode/language-configuration.json");
}

/// The grammar's scope is `source.trip`, each `include` names a rule of
/// its repository, and its keyword rule names every reserved word and
/// statement of the language.
#[test]
fn vscode_grammar_includes_resolve_and_name_every_keyword() {
    let grammar = read_json("editors/vscode/syntaxes/trip.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.trip");
    let repository = grammar["repository"].as_object().unwrap();
    let mut includes = Vec::new();
    collect_includes(&grammar, &mut includes);
    assert!(!includes.is_empty());
    for name in includes {
        let name = name.strip_prefix('#').unwrap();
        assert!(
            repository.contains_key(name),
            "#{name} is not in the repository"
        );
    }
    let keywords = repository["value"]["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "keyword.other.trip")
        .and_then(|p| p["match"].as_str())
        .unwrap();
    let words: Vec<&str> = keywords
        .trim_start_matches(r"\b(?:")
        .split(')')
        .next()
        .unwrap()
        .split('|')
        .collect();
    for word in tripline::syntax::KEYWORDS
        .iter()
        .chain(tripline::syntax::STATEMENTS)
    {
        assert!(words.contains(word), "the grammar's keywords lack `{word}`");
    }
}

fn collect_includes<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("include", Value::String(name)) => out.push(name),
                    _ => collect_includes(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_includes(item, out)),
        _ => {}
    }
}
