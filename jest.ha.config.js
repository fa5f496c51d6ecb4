/**
 * Jest for `npm run test:ha` (test/ha): the shop's nodes on clustered stores on loopback (a 3-server NATS
 * cluster, Redis with Sentinels), with servers killed mid-load or while a node starts. A minute or two;
 * `.ci/run` runs it.
 */
module.exports = {
	displayName: "ha",
	testEnvironment: "node",
	transform: { "^.+\\.ts$": "ts-jest" },
	testMatch: ["<rootDir>/test/ha/**/*.test.ts"],
	testTimeout: 300_000
};
