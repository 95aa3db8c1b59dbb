// jest's globalSetup: precompile the templates and pack the boot scripts (so tests always use the
// current .hbs and boot/ files) and
// name the file where the Terraform harness records every command it runs, for the summary that
// __tests__/helpers/terraform-reporter.js prints at the end of the run.
const fs = require("fs");
const os = require("os");
const path = require("path");
const compileTemplates = require("../../templates/compile");
const compileBoot = require("../../boot/compile");

module.exports = async function globalSetup() {
  compileTemplates();
  compileBoot();
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-jest-")), "terraform-commands.log");
  fs.writeFileSync(log, "");
  process.env.KOPSFORM_TERRAFORM_LOG = log;
};
