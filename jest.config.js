/** Jest: TypeScript through ts-jest (type-checking is `tsc --noEmit` in `npm test`). */
module.exports = {
	testEnvironment: "node",
	roots: ["<rootDir>/test"],
	transform: { "^.+\\.ts$": "ts-jest" },
	setupFiles: ["<rootDir>/test/setup-env.ts"],
	collectCoverageFrom: ["services/**/*.ts", "mixins/**/*.ts", "lib/**/*.ts", "scripts/**/*.ts", "!**/*.d.ts"],
	coverageReporters: ["text-summary", "text"],
	coverageThreshold: { global: { lines: 80 } },
	testTimeout: 30_000
};
