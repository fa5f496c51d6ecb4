/**
 * Jest for `npm run test:browser` (test/browser): the storefront and the load generator's page in Debian's
 * chromium, driven by playwright-core (no browser download; the global setup installs chromium with apt when
 * it is missing). Screenshots go to test-output/browser/. About a minute; `.ci/run` runs it.
 */
module.exports = {
	displayName: "browser",
	testEnvironment: "node",
	transform: { "^.+\\.ts$": "ts-jest" },
	testMatch: ["<rootDir>/test/browser/**/*.test.ts"],
	globalSetup: "<rootDir>/test/browser/setup.ts",
	testTimeout: 120_000
};
