/**
 * The Node options every shop node runs with: `npm start` and `npm run repl` (package.json), the image's CMD
 * (Dockerfile) and the cluster's nodes (scripts/cluster.ts) pass them, and a test checks that they agree.
 * V8's young generation is kept at 1 MB per semi-space, which holds an idle node under 90 MB without a
 * measurable loss of throughput (BENCHMARKS.md).
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
