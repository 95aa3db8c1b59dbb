/** jest wiring as the cdktf TypeScript template does it, with ts-jest compiling tests on the fly. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/__tests__/**/*.test.ts"],
  // Prefer the TypeScript sources (a .js beside one is a build output, such as templates/precompiled.js).
  moduleFileExtensions: ["ts", "js", "json", "node"],
  transform: {
    // Type checking is done once by `npm test` (tsc over sources and tests, before jest); ts-jest
    // only transpiles each file (tsconfig's isolatedModules).
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  setupFilesAfterEnv: ["<rootDir>/setup.js"],
  // Precompiles the templates (tests always render the current .hbs files) and names the log of the
  // Terraform commands the tests run, which the reporter below counts at the end.
  globalSetup: "<rootDir>/__tests__/helpers/global-setup.js",
  reporters: ["default", "<rootDir>/__tests__/helpers/terraform-reporter.js"],
  testTimeout: 240000,
  // Every core: jest's default leaves one idle, which on a 2-core machine means one test file at a time.
  maxWorkers: "100%",
};
