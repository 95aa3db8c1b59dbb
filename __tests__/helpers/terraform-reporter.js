// A jest reporter that says, after the results, how many real Terraform commands the tests ran
// (from the log the Terraform harness writes), so that a run's output shows that terraform validate
// and terraform plan were exercised and not skipped.
const fs = require("fs");

class TerraformReporter {
  onRunComplete() {
    const log = process.env.KOPSFORM_TERRAFORM_LOG;
    const lines = log && fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    const counts = {};
    for (const command of lines) {
      counts[command] = (counts[command] || 0) + 1;
    }
    const listed = Object.keys(counts)
      .sort()
      .map((command) => `${counts[command]} ${command}`)
      .join(", ");
    process.stdout.write(
      `\nTerraform (real CLI, aws provider from the offline mirror): ${lines.length} commands run by the tests` +
        (listed ? ` (${listed})` : "") +
        "\n",
    );
  }
}

module.exports = TerraformReporter;
