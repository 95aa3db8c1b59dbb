#!/usr/bin/env node
// `npm run build`: precompiles the Handlebars templates and packs the boot scripts (boot/files.js),
// then compiles the TypeScript of the command, the cdktf app, the synthesis worker and the benchmark
// with esbuild into dist/ (one bundle each, no type checking: `npm test` type-checks sources and
// tests with tsc). The bundles are rebuilt only when a file they were built from changed since: on an
// unchanged tree `npm run synth` costs what synthesis costs. esbuild's metafile names every input of the last build (sources, templates and
// the node_modules files bundled), so a changed dependency rebuilds too.
"use strict";
const fs = require("fs");
const path = require("path");
const compileTemplates = require("./templates/compile");
const compileBoot = require("./boot/compile");

const ROOT = __dirname;
const DIST = path.join(ROOT, "dist");
/** The build's own record: the inputs of the last build and the options they were built with. */
const RECORD = path.join(DIST, ".build.json");

/** The bundles: the command, its synthesis worker, the cdktf app (cdktf.json) and the benchmark. */
const BUNDLES = {
  entryPoints: {
    kopsform: "cli/run.ts",
    "synth-worker": "stacks/synth-worker.ts",
    main: "main.ts",
    bench: "bench/bench.ts",
  },
  bundle: true,
  platform: "node",
  target: "node20",
  outdir: DIST,
  // The HCL formatter loads a WebAssembly file beside its own code; the AWS SDK and the X.509 library
  // of the day-2 commands are loaded on use: they stay in node_modules.
  external: ["@cdktf/hcl-tools", "@aws-sdk/*", "@smithy/*", "@peculiar/*", "reflect-metadata"],
  minify: true,
  keepNames: true,
  metafile: true,
  logLevel: "warning",
  absWorkingDir: ROOT,
};

/**
 * The benchmark's floor, an empty cdktf app, is compiled but not bundled: it loads cdktf from
 * node_modules as any cdktf app does.
 */
const FLOOR = {
  entryPoints: ["bench/floor.ts"],
  outfile: path.join(DIST, "floor.js"),
  platform: "node",
  target: "node20",
  format: "cjs",
  metafile: true,
  logLevel: "warning",
  absWorkingDir: ROOT,
};

/** What the outputs depend on besides their inputs: the options and esbuild's version. */
function signature(esbuild) {
  return JSON.stringify({ esbuild: esbuild.version, bundles: BUNDLES, floor: FLOOR });
}

/** The newest modification time among `files` (Infinity when one is missing). */
function newest(files) {
  let time = 0;
  for (const file of files) {
    try {
      time = Math.max(time, fs.statSync(path.join(ROOT, file)).mtimeMs);
    } catch {
      return Infinity;
    }
  }
  return time;
}

/** True when the last build's record still holds: same options, no input newer than the outputs. */
function upToDate(esbuild) {
  let record;
  try {
    record = JSON.parse(fs.readFileSync(RECORD, "utf8"));
  } catch {
    return false;
  }
  if (record.signature !== signature(esbuild)) {
    return false;
  }
  const outputs = record.outputs.map((file) => {
    try {
      return fs.statSync(path.join(ROOT, file)).mtimeMs;
    } catch {
      return -Infinity;
    }
  });
  return newest(record.inputs) < Math.min(...outputs);
}

function main() {
  compileTemplates();
  compileBoot();
  const esbuild = require("esbuild");
  if (process.env.KOPSFORM_FORCE_BUILD !== "1" && upToDate(esbuild)) {
    return;
  }
  const results = [esbuild.buildSync(BUNDLES), esbuild.buildSync(FLOOR)];
  const relative = (file) => path.relative(ROOT, path.resolve(ROOT, file));
  const inputs = new Set();
  const outputs = new Set();
  for (const { metafile } of results) {
    Object.keys(metafile.inputs).forEach((file) => inputs.add(relative(file)));
    Object.keys(metafile.outputs).forEach((file) => outputs.add(relative(file)));
  }
  fs.writeFileSync(
    RECORD,
    JSON.stringify({ signature: signature(esbuild), inputs: [...inputs].sort(), outputs: [...outputs].sort() }, null, 1),
  );
}

main();
