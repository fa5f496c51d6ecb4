/**
 * The Node options every shop node runs with: `npm start` and `npm run repl` (package.json), the image's CMD
 * (Dockerfile) and the cluster's nodes (scripts/cluster.ts) pass them, and a test checks that they agree.
 *
 * V8 keeps its default young generation (up to 16 MB per semi-space): a 1 MB semi-space, which this project
 * used before, made a checkout spend 13 % of its CPU in the garbage collector instead of 3 %, and the
 * cluster's gateway answer cached reads ~40 % slower (BENCHMARKS.md). Start-up grows the young generation
 * too, which left an idle node at ~104 MB; `--expose-gc` lets the launcher run one memory-reducing
 * collection once the node is ready (`releaseStartupMemory`), which brings it back to ~87 MB.
 */
export const NODE_FLAGS: readonly string[] = ["--expose-gc"];

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
