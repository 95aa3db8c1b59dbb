/** jest wiring as the cdktf TypeScript template does it, with ts-jest compiling tests on the fly. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/__tests__/**/*.test.ts"],
  // Prefer the TypeScript sources: compiled .js files sit next to them (tsc compiles in place).
  moduleFileExtensions: ["ts", "js", "json", "node"],
  transform: {
    // Type checking is done once by `npm run build` (tsc over sources and tests); ts-jest only
    // transpiles each file (tsconfig's isolatedModules).
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  setupFilesAfterEnv: ["<rootDir>/setup.js"],
  testTimeout: 240000,
};
