/**
 * The Node options every shop node runs with: `npm start` and `npm run repl` (package.json), the image's CMD
 * (Dockerfile) and the cluster's nodes (scripts/cluster.ts) pass them, and a test checks that they agree.
 *
 * V8's young generation may grow to 4 MB per semi-space (BENCHMARKS.md): at the 1 MB this project used
 * before, a checkout spent 13 % of its CPU in the garbage collector (7 % at 4 MB) and the cluster's gateway
 * answered cached reads ~40 % slower; V8's default (16 MB) was no faster than 4 MB but left a node that had
 * served load at ~255 MB instead of ~170 MB. Start-up grows the young generation too (an idle node at ~96 MB
 * with 4 MB); `--expose-gc` lets the launcher run one memory-reducing collection once the node is ready
 * (`releaseStartupMemory`), which brings it back to ~88 MB.
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--expose-gc"];

/**
 * Runs one full, memory-reducing ("last-resort") garbage collection, the kind V8 runs under memory pressure:
 * it frees what loading the code left behind and shrinks the young generation that start-up grew. The
 * launcher calls it once, when the node is ready (a pause of ~50–100 ms). Under load the young generation
 * grows again, as it should. Answers false, doing nothing, when Node runs without `--expose-gc`.
 */
export function releaseStartupMemory(): boolean {
	if (typeof globalThis.gc !== "function") return false;
	globalThis.gc({ type: "major", execution: "sync", flavor: "last-resort" });
	return true;
}
