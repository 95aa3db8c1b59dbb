#!/usr/bin/env node
// The kopsform command. `npm run build` (run by `npm ci` through the prepare script) compiles the
// TypeScript and bundles the command into dist/kopsform.js: one file instead of some 650 modules.
//
// The bundle is compiled through a V8 code cache kept in node_modules/.cache/kopsform/: after the
// first run, V8 reuses the bytecode of every function that run compiled, instead of parsing and
// compiling a 4 MB file again. A missing, stale or unwritable cache only costs that time.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const Module = require("module");

const bundle = path.join(__dirname, "..", "dist", "kopsform.js");
let source;
try {
  source = fs.readFileSync(bundle, "utf8");
} catch {
  process.stderr.write("kopsform is not built yet: run `npm run build` (npm ci does it) and try again.\n");
  process.exit(2);
}

const stat = fs.statSync(bundle);
const cacheDir = path.join(__dirname, "..", "node_modules", ".cache", "kopsform");
const cacheFile = path.join(cacheDir, `kopsform-${process.version}-${stat.size}-${Math.floor(stat.mtimeMs)}.v8cache`);
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  // Written at exit, so that the cache holds the functions this run compiled lazily.
  process.once("exit", () => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      for (const old of fs.readdirSync(cacheDir)) {
        fs.rmSync(path.join(cacheDir, old), { force: true });
      }
      fs.writeFileSync(cacheFile, script.createCachedData());
    } catch {
      // A read-only installation runs without the cache.
    }
  });
}
const bundled = new Module(bundle, module);
bundled.filename = bundle;
bundled.paths = Module._nodeModulePaths(path.dirname(bundle));
script.runInThisContext().call(bundled.exports, bundled.exports, (id) => bundled.require(id), bundled, bundle, path.dirname(bundle));
