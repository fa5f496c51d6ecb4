/** Cluster test support: the shared harness, plus starting `npm run cluster`'s cluster from a test. */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { freePort } from "../../scripts/net";
import { startCluster, type Cluster, type ClusterOptions } from "../../scripts/cluster";
import { NATS_URL, REDIS_URL, uniqueNamespace } from "../../scripts/harness";

export * from "../../scripts/harness";

/**
 * Builds the project as `npm run build` does: cluster nodes run dist/, and the gateway serves the pages Vite
 * builds into dist/web (the global setup does it once per run).
 */
export function buildDist(): void {
	const root = path.resolve(__dirname, "../..");
	execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json")], { cwd: root });
	execFileSync(process.execPath, [path.join(root, "node_modules/vite/bin/vite.js"), "build", "-c", path.join(root, "web/vite.config.mts")], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * Starts `npm run cluster`'s cluster (from dist/) on a free port with a namespace of its own, `env` on top of
 * the test settings. Node output is kept in `logs` (each line prefixed `[<type>-<i>] `) and shown if the
 * start fails.
 */
export async function startTestCluster(label: string, options: Partial<ClusterOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ cluster: Cluster; logs: string[]; namespace: string }> {
	const logs: string[] = [];
	const namespace = uniqueNamespace(label);
	const cluster = await startCluster({
		port: await freePort(),
		env: { ...process.env, NAMESPACE: namespace, TRANSPORTER: NATS_URL, CACHER: REDIS_URL, LOGLEVEL: "warn", ...env },
		log: line => logs.push(line),
		...options
	}).catch(err => {
		throw new Error(`${err.message}\n${logs.slice(-40).join("\n")}`);
	});
	return { cluster, logs, namespace };
}

