#!/usr/bin/env node
// The kopsform command. The TypeScript sources are compiled in place by `npm run build`
// (run by `npm ci` through the prepare script).
// A closed pipe (`kopsform --help | head`) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
let cli;
try {
  cli = require("../cli/main.js");
} catch (e) {
  if (e && e.code === "MODULE_NOT_FOUND" && /cli[\\/]main\.js/.test(e.message)) {
    process.stderr.write("kopsform is not built yet: run `npm run build` (npm ci does it) and try again.\n");
    process.exit(2);
  }
  throw e;
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`kopsform: unexpected error (a bug; please report it):\n${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 70;
  },
);
