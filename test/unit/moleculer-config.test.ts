/**
 * `moleculer.config.ts` as moleculer-runner uses it: the runner overwrites every broker option named by an
 * environment variable with the raw string (`mergeOptions`), so the config drops TRANSPORTER and CACHER once
 * it has built the transporter and cacher from them; a hot reload (`--hot`) builds them again from the
 * environment as the file first saw it.
 */
import path from "node:path";

interface RunnerLike {
	flags: Record<string, unknown>;
	config: { transporter?: object; cacher?: object };
	mergeOptions(config: object): void;
}
const Runner = require(path.join(path.dirname(require.resolve("moleculer")), "src/runner")) as new () => RunnerLike;

/** moleculer.config.ts evaluated afresh, as the runner's first load and its hot reloads do. */
function loadConfigFile(): object {
	let config: object = {};
	jest.isolateModules(() => {
		config = require("../../moleculer.config").default;
	});
	return config;
}

describe("moleculer.config.ts under moleculer-runner", () => {
	const saved = { ...process.env };
	afterEach(() => {
		process.env = { ...saved };
		delete (globalThis as { shopRunnerEnv?: unknown }).shopRunnerEnv;
	});

	it("keeps the transporter and cacher it builds through the runner's merge, at start and after a hot reload", () => {
		process.env.TRANSPORTER = "nats://127.0.0.1:4222";
		process.env.CACHER = "redis://127.0.0.1:6379";
		for (const load of ["start", "hot reload"]) {
			const runner = new Runner();
			runner.flags = {};
			runner.mergeOptions(loadConfigFile());
			expect({ load, transporter: runner.config.transporter?.constructor.name, cacher: runner.config.cacher?.constructor.name }).toEqual({
				load,
				transporter: "TurnBatchedNatsTransporter",
				cacher: "ResilientRedisCacher"
			});
		}
		expect(process.env.TRANSPORTER).toBeUndefined();
	});
});
