// The Tripline extension: starts `tripline lsp` for `.trip` files. The
// language server does the work (diagnostics, completion, hover,
// navigation, rename, formatting, quick fixes, semantic tokens).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("tripline").get("path") || "tripline";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "tripline",
    "Tripline",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "trip" }, { scheme: "untitled", language: "trip" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
