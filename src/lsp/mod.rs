//! `tripline lsp`: a language server over stdio. Synchronous: one message
//! is read, handled and answered before the next (checking a pack takes
//! milliseconds, so nothing runs in the background). Every open file is
//! checked within its pack as `tripline check` would, with the editor's
//! unsaved text in place of the file on disk.

mod analysis;
mod complete;
mod context;
mod hover;
mod position;
mod symbols;
mod tokens;
mod transport;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use analysis::Analysis;
use position::{LineIndex, path_to_uri, uri_to_path};
use transport::Incoming;

/// Serves on stdin and stdout until `exit`: 0 after a `shutdown`, else 1
/// (as LSP asks); 1 too when the input breaks.
pub fn run() -> u8 {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut server = Server::default();
    loop {
        let incoming = match transport::read(&mut input) {
            Ok(Some(incoming)) => incoming,
            Ok(None) => return u8::from(!server.shut_down),
            Err(message) => {
                eprintln!("error: {message}");
                return 1;
            }
        };
        let written = match incoming {
            Incoming::Malformed {
                id: Some(id),
                code,
                message,
            } => transport::write(&mut output, &Response::new_err(id, code, message).into()),
            Incoming::Malformed {
                id: None,
                code,
                message,
            } => transport::write_null_id_error(&mut output, code, &message),
            Incoming::Message(message) => {
                if matches!(&message, Message::Notification(n) if n.method == "exit") {
                    return u8::from(!server.shut_down);
                }
                server
                    .handle(message)
                    .iter()
                    .try_for_each(|out| transport::write(&mut output, out))
            }
        };
        if let Err(err) = written.and_then(|()| output.flush()) {
            eprintln!("error: writing to the client: {err}");
            return 1;
        }
    }
}

/// An open document.
struct Document {
    uri: lsp::Uri,
    version: i32,
    text: String,
}

#[derive(Default)]
struct Server {
    initialized: bool,
    shut_down: bool,
    /// By URI text.
    documents: HashMap<String, Document>,
    /// The last analysis, for the URI it was made for; any edit clears it.
    cached: Option<(String, Analysis)>,
}

/// A failed request: the JSON-RPC error code and message.
type Failure = (i32, String);

fn invalid_params(message: impl Into<String>) -> Failure {
    (ErrorCode::InvalidParams as i32, message.into())
}

fn params<P: DeserializeOwned>(params: Value) -> Result<P, Failure> {
    serde_json::from_value(params).map_err(|err| invalid_params(format!("bad params: {err}")))
}

/// A notification's parameters, or `None` with a note on stderr (a
/// notification gets no answer to carry the error).
fn note<P>(method: &str, parsed: Result<P, Failure>) -> Option<P> {
    parsed
        .map_err(|(_, message)| eprintln!("tripline lsp: {method}: {message}"))
        .ok()
}

fn to_value(value: impl serde::Serialize) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|err| (ErrorCode::InternalError as i32, err.to_string()))
}

impl Server {
    fn handle(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::Request(request) => {
                let id = request.id.clone();
                let response = match self.request(request) {
                    Ok(result) => Response::new_ok(id, result),
                    Err((code, message)) => Response::new_err(id, code, message),
                };
                vec![response.into()]
            }
            Message::Notification(notification) => self.notification(notification),
            // The server sends no requests, so no response is awaited.
            Message::Response(_) => Vec::new(),
        }
    }

    fn request(&mut self, request: Request) -> Result<Value, Failure> {
        if request.method == "initialize" {
            if self.initialized {
                return Err((
                    ErrorCode::InvalidRequest as i32,
                    "initialized already".into(),
                ));
            }
            self.initialized = true;
            return to_value(initialize_result());
        }
        if !self.initialized {
            return Err((
                ErrorCode::ServerNotInitialized as i32,
                "not initialized".into(),
            ));
        }
        if self.shut_down {
            return Err((ErrorCode::InvalidRequest as i32, "shut down already".into()));
        }
        let p = request.params;
        match request.method.as_str() {
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/completion" => self.completion(params(p)?),
            "textDocument/hover" => self.hover(params(p)?),
            "textDocument/definition" => self.definition(params(p)?),
            "textDocument/references" => self.references(params(p)?),
            "textDocument/rename" => self.rename(params(p)?),
            "textDocument/formatting" => self.formatting(params(p)?),
            "textDocument/codeAction" => self.code_action(params(p)?),
            "textDocument/semanticTokens/full" => self.semantic_tokens(params(p)?),
            method => Err((
                ErrorCode::MethodNotFound as i32,
                format!("tripline lsp does not handle `{method}`"),
            )),
        }
    }

    fn notification(&mut self, notification: Notification) -> Vec<Message> {
        if !self.initialized {
            return Vec::new();
        }
        let method = notification.method;
        let p = notification.params;
        let mut out = Vec::new();
        let first = match method.as_str() {
            "textDocument/didOpen" => note(&method, params::<lsp::DidOpenTextDocumentParams>(p))
                .map(|p| {
                    let document = Document {
                        uri: p.text_document.uri.clone(),
                        version: p.text_document.version,
                        text: p.text_document.text,
                    };
                    self.documents
                        .insert(p.text_document.uri.as_str().to_string(), document);
                    Some(p.text_document.uri)
                }),
            "textDocument/didChange" => {
                note(&method, params::<lsp::DidChangeTextDocumentParams>(p)).map(|p| self.change(p))
            }
            "textDocument/didClose" => note(&method, params::<lsp::DidCloseTextDocumentParams>(p))
                .map(|p| {
                    // The closed file's diagnostics go; the others are checked
                    // again against the file on disk.
                    if let Some(document) = self.documents.remove(p.text_document.uri.as_str()) {
                        out.push(publish(&document.uri, Vec::new(), None));
                    }
                    None
                }),
            // `initialized`, `didSave`, `$/cancelRequest`, ...: nothing to do.
            _ => return out,
        };
        let Some(first) = first else {
            return out;
        };
        self.cached = None;
        // The edited file first, then the other open files, in URI order:
        // a list renamed or removed in one file shows in the others.
        let mut others: Vec<lsp::Uri> = self
            .documents
            .values()
            .filter(|d| first.as_ref().is_none_or(|f| d.uri.as_str() != f.as_str()))
            .map(|d| d.uri.clone())
            .collect();
        others.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        out.extend(
            first
                .into_iter()
                .chain(others)
                .filter_map(|uri| self.diagnostics(&uri)),
        );
        out
    }

    /// Applies an edit; the edited URI when the document is open.
    fn change(&mut self, p: lsp::DidChangeTextDocumentParams) -> Option<lsp::Uri> {
        let document = self.documents.get_mut(p.text_document.uri.as_str())?;
        for change in p.content_changes {
            match change.range {
                Some(range) => {
                    let index = LineIndex::new(&document.text);
                    let start = index.offset(range.start);
                    let end = index.offset(range.end).max(start);
                    document.text.replace_range(start..end, &change.text);
                }
                None => document.text = change.text,
            }
        }
        document.version = p.text_document.version;
        Some(p.text_document.uri)
    }

    /// The analysis of an open document (made once per edit).
    fn analysis(&mut self, uri: &lsp::Uri) -> Result<&Analysis, Failure> {
        let key = uri.as_str();
        if self.cached.as_ref().is_none_or(|(cached, _)| cached != key) {
            let document = self
                .documents
                .get(key)
                .ok_or_else(|| invalid_params(format!("`{key}` is not open")))?;
            let path = uri_to_path(uri).unwrap_or_else(|| PathBuf::from(key));
            let mut open: HashMap<PathBuf, String> = self
                .documents
                .values()
                .filter_map(|d| Some((analysis::canonical(&uri_to_path(&d.uri)?), d.text.clone())))
                .collect();
            open.insert(analysis::canonical(&path), document.text.clone());
            self.cached = Some((key.to_string(), analysis::analyse(&path, &open)));
        }
        match &self.cached {
            Some((_, analysis)) => Ok(analysis),
            None => Err((ErrorCode::InternalError as i32, "no analysis".into())),
        }
    }

    fn diagnostics(&mut self, uri: &lsp::Uri) -> Option<Message> {
        let version = self.documents.get(uri.as_str()).map(|d| d.version);
        let analysis = self.analysis(uri).ok()?;
        let index = LineIndex::new(analysis.text());
        let diagnostics = analysis
            .diagnostics
            .iter()
            .map(|d| to_lsp_diagnostic(analysis, &index, d))
            .collect();
        Some(publish(uri, diagnostics, version))
    }

    /// The analysis and byte offset of a position in an open document.
    fn at(
        &mut self,
        place: &lsp::TextDocumentPositionParams,
    ) -> Result<(&Analysis, usize), Failure> {
        let analysis = self.analysis(&place.text_document.uri)?;
        let offset = LineIndex::new(analysis.text()).offset(place.position);
        Ok((analysis, offset))
    }

    fn completion(&mut self, p: lsp::CompletionParams) -> Result<Value, Failure> {
        let (analysis, offset) = self.at(&p.text_document_position)?;
        to_value(complete::complete(analysis, offset))
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Result<Value, Failure> {
        let (analysis, offset) = self.at(&p.text_document_position_params)?;
        let Some((markdown, span)) = hover::hover(analysis, offset) else {
            return Ok(Value::Null);
        };
        to_value(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(LineIndex::new(analysis.text()).range(span)),
        })
    }

    fn definition(&mut self, p: lsp::GotoDefinitionParams) -> Result<Value, Failure> {
        let (analysis, offset) = self.at(&p.text_document_position_params)?;
        let locations: Vec<lsp::Location> = occurrences_at(analysis, offset)
            .into_iter()
            .filter(|o| o.declaration)
            .filter_map(|o| location(analysis, o.file, o.span))
            .collect();
        to_value(locations)
    }

    fn references(&mut self, p: lsp::ReferenceParams) -> Result<Value, Failure> {
        let with_declaration = p.context.include_declaration;
        let (analysis, offset) = self.at(&p.text_document_position)?;
        let locations: Vec<lsp::Location> = occurrences_at(analysis, offset)
            .into_iter()
            .filter(|o| with_declaration || !o.declaration)
            .filter_map(|o| location(analysis, o.file, o.span))
            .collect();
        to_value(locations)
    }

    fn rename(&mut self, p: lsp::RenameParams) -> Result<Value, Failure> {
        let new_name = p.new_name;
        let (analysis, offset) = self.at(&p.text_document_position)?;
        let all = symbols::occurrences(&analysis.files);
        let Some(target) = symbols::at(&all, analysis.file, offset) else {
            return Err(invalid_params("no list or rule name here to rename"));
        };
        if !symbols::is_name(&new_name) {
            return Err(invalid_params(format!(
                "`{new_name}` is not a name: use letters, digits and `_`, not a reserved word"
            )));
        }
        if all
            .iter()
            .any(|o| o.kind == target.kind && o.name == new_name)
        {
            return Err(invalid_params(format!("`{new_name}` is taken already")));
        }
        let mut changes: BTreeMap<String, Vec<lsp::TextEdit>> = BTreeMap::new();
        for found in symbols::same(&all, target) {
            if let Some(place) = location(analysis, found.file, found.span) {
                changes
                    .entry(place.uri.as_str().to_string())
                    .or_default()
                    .push(lsp::TextEdit {
                        range: place.range,
                        new_text: new_name.clone(),
                    });
            }
        }
        workspace_edit(changes)
    }

    fn formatting(&mut self, p: lsp::DocumentFormattingParams) -> Result<Value, Failure> {
        let analysis = self.analysis(&p.text_document.uri)?;
        let text = analysis.text();
        let (parsed, errors) = crate::syntax::parse(analysis.file, text);
        if errors.iter().any(crate::diag::Diagnostic::is_error) {
            return Err((
                ErrorCode::RequestFailed as i32,
                "the file has syntax errors; fix them to format it".into(),
            ));
        }
        let formatted = crate::fmt::format(text, &parsed);
        if formatted == text {
            return to_value(Vec::<lsp::TextEdit>::new());
        }
        let whole = lsp::Range::new(lsp::Position::new(0, 0), LineIndex::new(text).end());
        to_value(vec![lsp::TextEdit {
            range: whole,
            new_text: formatted,
        }])
    }

    fn code_action(&mut self, p: lsp::CodeActionParams) -> Result<Value, Failure> {
        let uri = p.text_document.uri;
        let analysis = self.analysis(&uri)?;
        let text = analysis.text();
        let index = LineIndex::new(text);
        let (from, to) = (index.offset(p.range.start), index.offset(p.range.end));
        let mut actions: Vec<Value> = Vec::new();
        for diagnostic in &analysis.diagnostics {
            let span = diagnostic.primary.span;
            if span.end < from || span.start > to {
                continue;
            }
            // The fixes the diagnostic carries (`check --fix` applies the
            // safe ones, which the editor marks preferred).
            for fix in &diagnostic.fixes {
                let edits = fix
                    .edits
                    .iter()
                    .map(|edit| lsp::TextEdit {
                        range: index.range(edit.span),
                        new_text: edit.replacement.clone(),
                    })
                    .collect();
                let changes = BTreeMap::from([(uri.as_str().to_string(), edits)]);
                actions.push(json!({
                    "title": fix.message,
                    "kind": lsp::CodeActionKind::QUICKFIX,
                    "isPreferred": fix.is_safe(),
                    "diagnostics": [to_lsp_diagnostic(analysis, &index, diagnostic)],
                    "edit": workspace_edit(changes)?,
                }));
            }
        }
        to_value(actions)
    }

    fn semantic_tokens(&mut self, p: lsp::SemanticTokensParams) -> Result<Value, Failure> {
        let analysis = self.analysis(&p.text_document.uri)?;
        to_value(lsp::SemanticTokens {
            result_id: None,
            data: tokens::encode(analysis.text()),
        })
    }
}

/// A workspace edit whose files come in URI order (`lsp_types` holds
/// them in a hash map, whose order changes from run to run).
fn workspace_edit(changes: BTreeMap<String, Vec<lsp::TextEdit>>) -> Result<Value, Failure> {
    let mut files = serde_json::Map::new();
    for (uri, edits) in changes {
        files.insert(uri, to_value(edits)?);
    }
    Ok(json!({ "changes": files }))
}

fn initialize_result() -> lsp::InitializeResult {
    let capabilities = lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::INCREMENTAL,
        )),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["@".into(), ".".into(), " ".into()]),
            ..lsp::CompletionOptions::default()
        }),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(
            lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: tokens::legend(),
                    full: Some(lsp::SemanticTokensFullOptions::Bool(true)),
                    ..lsp::SemanticTokensOptions::default()
                },
            ),
        ),
        ..lsp::ServerCapabilities::default()
    };
    lsp::InitializeResult {
        capabilities,
        server_info: Some(lsp::ServerInfo {
            name: "tripline".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    }
}

fn publish(uri: &lsp::Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) -> Message {
    let params = lsp::PublishDiagnosticsParams {
        uri: uri.clone(),
        diagnostics,
        version,
    };
    Notification {
        method: "textDocument/publishDiagnostics".into(),
        params: serde_json::to_value(params).unwrap_or(json!({})),
    }
    .into()
}

/// A diagnostic as LSP has it: the help after the message, the secondary
/// labels as related places.
fn to_lsp_diagnostic(
    analysis: &Analysis,
    index: &LineIndex,
    d: &crate::diag::Diagnostic,
) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(analysis, label.file, label.span)?,
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: index.range(d.primary.span),
        severity: Some(if d.is_error() {
            lsp::DiagnosticSeverity::ERROR
        } else {
            lsp::DiagnosticSeverity::WARNING
        }),
        code: Some(lsp::NumberOrString::String(d.code.id.to_string())),
        source: Some("tripline".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}

/// Where a span of a file of the analysis is, as a URI and a range.
fn location(
    analysis: &Analysis,
    file: crate::source::FileId,
    span: crate::syntax::Span,
) -> Option<lsp::Location> {
    let source = analysis.map.get(file);
    let uri = path_to_uri(&analysis::canonical(&source.path))?;
    Some(lsp::Location::new(
        uri,
        LineIndex::new(&source.text).range(span),
    ))
}

/// Every occurrence of the list or rule name at `offset` of the open file.
fn occurrences_at(analysis: &Analysis, offset: usize) -> Vec<symbols::Occurrence> {
    let all = symbols::occurrences(&analysis.files);
    match symbols::at(&all, analysis.file, offset) {
        Some(target) => symbols::same(&all, target).into_iter().cloned().collect(),
        None => Vec::new(),
    }
}
