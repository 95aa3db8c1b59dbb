/**
 * The `kopsform` process: runs the command line and sets the exit code. bin/kopsform.js loads this
 * module, bundled into dist/kopsform.js by `npm run build`.
 */
import { main } from "./main";

// A closed pipe (`kopsform --help | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") {
    process.exit(process.exitCode ?? 0);
  }
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`kopsform: unexpected error (a bug; please report it):\n${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  },
);
