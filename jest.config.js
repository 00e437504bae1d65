/** Jest in ESM mode (jose 6 is ESM-only); ts-jest transpiles only, `npm test` typechecks first. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // virtual:locales: the dashboard's language files, as web/build.ts lists them for the browser.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^virtual:locales$': '<rootDir>/test/support/locales.ts' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
