// The TextMate grammar gives each token the scope its kind calls for. The
// kinds are those `tripline lsp` reports as semantic tokens, so the grammar
// and the server colour the same way. Usage: node grammar.test.js FOLDER...
// (every .trip file under them; the environment's TRIPLINE names the
// program). Exits 1 on any mismatch, or when a kind never occurs.
"use strict";

const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

// Semantic token kind -> scopes that may stand for it.
const EXPECTED = {
  keyword: ["keyword.other.trip"],
  string: ["string.quoted.double.trip", "string.quoted.raw.trip"],
  number: ["constant.numeric.trip"],
  comment: ["comment.line.number-sign.trip"],
  operator: ["keyword.operator.trip"],
  variable: ["variable.other.list.trip"],
  property: ["variable.other.property.trip"],
  enumMember: ["constant.language.trip", "constant.other.technique.trip"],
  function: ["support.function.trip"],
  type: ["entity.name.type.trip"],
  class: ["entity.name.rule.trip"],
};

function tripFiles(folder) {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return tripFiles(full);
    return entry.name.endsWith(".trip") ? [full] : [];
  });
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => {
      const file = path.join(__dirname, "..", "syntaxes", "trip.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  return registry.loadGrammar("source.trip");
}

// A minimal LSP client over the server's stdio.
class Server {
  constructor(program) {
    this.child = spawn(program, ["lsp"], { stdio: ["pipe", "pipe", "inherit"] });
    this.buffer = Buffer.alloc(0);
    this.waiting = new Map();
    this.nextId = 1;
    this.child.stdout.on("data", (chunk) => this.receive(chunk));
  }
  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.slice(0, headerEnd).toString())[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = JSON.parse(this.buffer.slice(headerEnd + 4, headerEnd + 4 + length).toString("utf8"));
      this.buffer = this.buffer.slice(headerEnd + 4 + length);
      if (body.id !== undefined && this.waiting.has(body.id)) {
        this.waiting.get(body.id)(body);
        this.waiting.delete(body.id);
      }
    }
  }
  send(message) {
    const text = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
    this.child.stdin.write(`Content-Length: ${text.length}\r\n\r\n`);
    this.child.stdin.write(text);
  }
  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ id, method, params });
    });
  }
  notify(method, params) {
    this.send({ method, params });
  }
}

async function main() {
  const folders = process.argv.slice(2);
  const files = folders.flatMap(tripFiles).sort();
  const grammar = await loadGrammar();
  const server = new Server(process.env.TRIPLINE || "tripline");
  const init = await server.request("initialize", { capabilities: {}, processId: null });
  const legend = init.result.capabilities.semanticTokensProvider.legend.tokenTypes;
  server.notify("initialized", {});
  const seen = Object.fromEntries(Object.keys(EXPECTED).map((kind) => [kind, 0]));
  const failures = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const uri = "file://" + file.split("/").map(encodeURIComponent).join("/");
    server.notify("textDocument/didOpen", { textDocument: { uri, languageId: "trip", version: 1, text } });
    const answer = await server.request("textDocument/semanticTokens/full", { textDocument: { uri } });
    const lines = text.split("\n");
    let stack = vsctm.INITIAL;
    const scopes = lines.map((line) => {
      const result = grammar.tokenizeLine(line, stack);
      stack = result.ruleStack;
      return result.tokens;
    });
    const data = answer.result.data;
    let line = 0;
    let column = 0;
    for (let i = 0; i < data.length; i += 5) {
      if (data[i] > 0) column = 0;
      line += data[i];
      column += data[i + 1];
      const kind = legend[data[i + 3]];
      const end = column + data[i + 2];
      seen[kind] += 1;
      const wanted = EXPECTED[kind];
      for (const token of scopes[line]) {
        if (token.endIndex <= column || token.startIndex >= end) continue;
        if (!token.scopes.some((scope) => wanted.includes(scope))) {
          failures.push(`${path.relative(process.cwd(), file)}:${line + 1}:${column + 1} ` +
            `\`${lines[line].slice(column, end)}\` is ${kind}, the grammar says ${token.scopes.join(" ")}`);
        }
      }
    }
  }
  await server.request("shutdown", null);
  server.notify("exit", null);
  for (const [kind, count] of Object.entries(seen)) {
    if (count === 0) failures.push(`no ${kind} token in ${folders.join(", ")}`);
  }
  if (failures.length > 0) {
    console.error(failures.slice(0, 40).join("\n"));
    console.error(`${failures.length} mismatches`);
    process.exit(1);
  }
  const counts = Object.entries(seen).map(([kind, count]) => `${kind} ${count}`).join(", ");
  console.log(`grammar agrees with tripline lsp on ${files.length} files: ${counts}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
