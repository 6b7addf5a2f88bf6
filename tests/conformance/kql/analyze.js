// Analyzes every query given on the command line (files) with Microsoft's
// Kusto language service (@kusto/language-service-next), against the ASIM
// tables and parser functions declared from targets/kql/schema/asim.txt.
// Prints each error with its position; exits 1 when there is any.
"use strict";
const fs = require("fs");
const path = require("path");

// Usage: analyze.js SCHEMA[,SCHEMA...] QUERY.kql...
const [schemaPaths, ...queries] = process.argv.slice(2);
const modules = process.env.KUSTO_MODULES;
const dir = path.join(modules, "@kusto/language-service-next");
// The bridge scripts define globals (Bridge.NET); load them as scripts.
global.window = global;
for (const file of ["bridge.min.js", "Kusto.Language.Bridge.min.js"]) {
  require("vm").runInThisContext(fs.readFileSync(path.join(dir, file), "utf8"), { filename: file });
}
const K = global.Kusto.Language;

// "[Schema]" sections of "Column:type" items, separated by commas or newlines.
function readSchema(text) {
  const sections = {};
  let current = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) { current = sections[header[1]] = []; continue; }
    if (!current) continue;
    for (const item of line.split(",").map((s) => s.trim()).filter(Boolean)) current.push(item);
  }
  return sections;
}

const PARSERS = {
  _Im_Dns: "Dns",
  _Im_NetworkSession: "NetworkSession",
  _Im_WebSession: "WebSession",
  _Im_Authentication: "Authentication",
  _Im_ProcessCreate: "ProcessEvent",
};

const schema = Object.assign(
  {}, ...schemaPaths.split(",").map((p) => readSchema(fs.readFileSync(p, "utf8"))));
const members = [];
for (const [name, columns] of Object.entries(schema)) {
  members.push(new K.Symbols.TableSymbol.$ctor7(name, "(" + columns.join(", ") + ")", null));
}
for (const [parser, table] of Object.entries(PARSERS)) {
  members.push(new K.Symbols.FunctionSymbol.$ctor16(
    parser, "(starttime:datetime=datetime(null), endtime:datetime=datetime(null))", "{ " + table + " }", null));
}
const db = new K.Symbols.DatabaseSymbol.$ctor1("db", members, false);
const globals = K.GlobalState.Default.WithDatabase(db);

let failures = 0;
for (const file of queries) {
  const query = fs.readFileSync(file, "utf8");
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const diagnostics = code.GetDiagnostics();
  const errors = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === "Error") errors.push(d);
  }
  if (errors.length) {
    failures++;
    for (const d of errors) {
      console.log(`${file}:${d.Start}: ${d.Message} [${query.substr(d.Start, Math.max(d.Length, 1))}]`);
    }
  } else {
    console.log(`${file}: ok`);
  }
}
console.log(`${queries.length - failures} of ${queries.length} queries analyze without errors`);
process.exit(failures ? 1 : 0);
