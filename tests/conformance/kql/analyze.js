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

// The ASIM parser functions with their parameters and defaults, as the
// Azure-Sentinel repository declares them (Parsers/ASim*/Parsers/im*.yaml;
// _Im_Dns_MicrosoftOMS and _Im_Dns_MicrosoftNXlog: Parsers/ASimDns/Parsers/
// vimDnsMicrosoftOMS.yaml and vimDnsMicrosoftNXlog.yaml).
const TIME = "starttime:datetime=datetime(null), endtime:datetime=datetime(null)";
const DNS = TIME + ", srcipaddr:string='*', domain_has_any:dynamic=dynamic([]), " +
  "responsecodename:string='*', response_has_ipv4:string='*', " +
  "response_has_any_prefix:dynamic=dynamic([])";
const PARSERS = {
  _Im_Dns: ["Dns", DNS + ", eventtype:string='lookup', pack:bool=false"],
  _Im_Dns_MicrosoftOMS: ["Dns", DNS + ", eventtype:string='Query', disabled:bool=false"],
  _Im_Dns_MicrosoftNXlog: ["Dns", DNS + ", eventtype:string='Query', disabled:bool=false"],
  _Im_NetworkSession: ["NetworkSession", TIME],
  _Im_WebSession: ["WebSession", TIME + ", srcipaddr_has_any_prefix:dynamic=dynamic([]), " +
    "ipaddr_has_any_prefix:dynamic=dynamic([]), url_has_any:dynamic=dynamic([]), " +
    "httpuseragent_has_any:dynamic=dynamic([]), eventresultdetails_in:dynamic=dynamic([]), " +
    "eventresult:string='*'"],
  _Im_Authentication: ["Authentication", TIME + ", username_has_any:dynamic=dynamic([]), " +
    "targetappname_has_any:dynamic=dynamic([]), srcipaddr_has_any_prefix:dynamic=dynamic([]), " +
    "srchostname_has_any:dynamic=dynamic([]), eventtype_in:dynamic=dynamic([]), " +
    "eventresultdetails_in:dynamic=dynamic([]), eventresult:string='*', pack:bool=false"],
  _Im_ProcessCreate: ["ProcessEvent", TIME],
  _Im_FileEvent: ["FileEvent", TIME],
  _Im_RegistryEvent: ["RegistryEvent", TIME],
};

const schema = Object.assign(
  {}, ...schemaPaths.split(",").map((p) => readSchema(fs.readFileSync(p, "utf8"))));
const members = [];
for (const [name, columns] of Object.entries(schema)) {
  members.push(new K.Symbols.TableSymbol.$ctor7(name, "(" + columns.join(", ") + ")", null));
}
for (const [parser, [table, parameters]] of Object.entries(PARSERS)) {
  members.push(new K.Symbols.FunctionSymbol.$ctor16(
    parser, "(" + parameters + ")", "{ " + table + " }", null));
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
