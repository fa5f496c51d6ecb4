/**
 * Jest for `npm run test:containers` (test/containers): the real image and the compose stack on a Docker
 * engine. Slow (about 6 minutes on a warm cache), so not part of `npm test`; `.ci/run` runs it afterwards.
 */
module.exports = {
	displayName: "containers",
	testEnvironment: "node",
	transform: { "^.+\\.ts$": "ts-jest" },
	testMatch: ["<rootDir>/test/containers/**/*.test.ts"],
	testTimeout: 900_000
};
