/**
 * Jest: TypeScript through ts-jest (type-checking is `tsc --noEmit` in `npm test`). Three projects:
 * - memory: unit, service, HTTP and security tests with in-memory NeDB stores, and the offline checks of
 *   the Dockerfile, compose, Kubernetes manifests and Terraform (test/deploy);
 * - mongo: the same service tests against MongoDB (MONGO_URI, or the Mongo-wire test server);
 * - cluster: several brokers over the real NATS and Redis, and the multi-process cluster;
 * - process: the launcher and the npm scripts as real processes (start, readiness, failures, stop).
 * The global setup checks NATS and Redis, compiles dist/ (the processes run it) and starts the Mongo-wire
 * server, once for the whole run. Coverage leaves out scripts/bench (`npm run bench` runs it). Coverage prints its summary only (the per-file table: `npx jest --coverage
 * --coverageReporters=text`).
 */
const project = (displayName, testMatch, setupFiles = [], setupFilesAfterEnv = []) => ({
	displayName,
	testEnvironment: "node",
	transform: { "^.+\\.ts$": "ts-jest" },
	testMatch: testMatch.map(glob => `<rootDir>/test/${glob}`),
	setupFiles: ["<rootDir>/test/support/setup-env.ts", ...setupFiles],
	setupFilesAfterEnv
});

module.exports = {
	globalSetup: "<rootDir>/test/support/global-setup.ts",
	globalTeardown: "<rootDir>/test/support/global-teardown.ts",
	projects: [
		project("memory", ["unit/**/*.test.ts", "services/**/*.test.ts", "http/**/*.test.ts", "security/**/*.test.ts", "deploy/**/*.test.ts"]),
		project("mongo", ["services/**/*.test.ts"], ["<rootDir>/test/support/setup-mongo.ts"], ["<rootDir>/test/support/drop-mongo.ts"]),
		project("cluster", ["cluster/**/*.test.ts"], ["<rootDir>/test/support/setup-mongo.ts"], ["<rootDir>/test/support/drop-mongo.ts"]),
		project("process", ["process/**/*.test.ts"])
	],
	collectCoverageFrom: ["services/**/*.ts", "domain/**/*.ts", "mixins/**/*.ts", "lib/**/*.ts", "scripts/**/*.ts", "!scripts/bench/**", "!**/*.d.ts"],
	coverageReporters: ["text-summary"],
	coverageThreshold: { global: { lines: 80 } },
	testTimeout: 30_000
};
