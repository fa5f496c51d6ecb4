/**
 * The launcher's one memory-reducing collection (scripts/node-flags.ts): a last-resort major GC when Node
 * exposes `gc` (NODE_FLAGS has --expose-gc), nothing otherwise.
 */
import { execFileSync } from "node:child_process";
import { NODE_FLAGS, releaseStartupMemory } from "../../scripts/node-flags";

describe("releaseStartupMemory", () => {
	const original = globalThis.gc;
	afterEach(() => {
		globalThis.gc = original;
	});

	it("runs one synchronous, memory-reducing major collection when gc is exposed", () => {
		const gc = jest.fn();
		globalThis.gc = gc as unknown as typeof globalThis.gc;
		expect(releaseStartupMemory()).toBe(true);
		expect(gc).toHaveBeenCalledTimes(1);
		expect(gc).toHaveBeenCalledWith({ type: "major", execution: "sync", flavor: "last-resort" });
	});

	it("does nothing without --expose-gc", () => {
		globalThis.gc = undefined;
		expect(releaseStartupMemory()).toBe(false);
	});

	it("has a gc function to call on the project's Node when run with NODE_FLAGS", () => {
		const script = 'gc({ type: "major", execution: "sync", flavor: "last-resort" }); process.stdout.write(typeof gc)';
		expect(execFileSync(process.execPath, [...NODE_FLAGS, "-e", script], { encoding: "utf8" })).toBe("function");
	});
});
