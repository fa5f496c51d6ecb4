/**
 * What `npm run bench` measures, started as real processes from dist/: bare node:http, the template peer
 * (one process, or a gateway node and a products node over NATS and Redis), the shop in one process (the
 * launcher) and the shop as a cluster (`npm run cluster`'s module). Each answers its base URL, its
 * processes (for their memory) and a stop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { freePort, exited } from "../net";
import { NATS_URL, REDIS_URL, deleteStreams, uniqueNamespace, waitFor } from "../harness";
import { startCluster } from "../cluster";
import { NODE_FLAGS } from "../node-flags";

const DIST = path.resolve(__dirname, "..", "..");

/** A running target: its base URL (…/api for the shop and the peer), its processes, and how to stop it. */
export interface Target {
	url: string;
	pids: number[];
	stop(): Promise<void>;
}

/**
 * The environment every shop process of the bench gets: quiet logs, rate limits out of the load's way (still
 * on). Metrics stay on: each process gets a free METRICS_PORT where it starts.
 */
export const SHOP_ENV = { LOGLEVEL: "warn", RATE_LIMIT: "100000000", AUTH_RATE_LIMIT: "100000000", JWT_SECRET: "bench-secret-bench-secret-bench-secret", HEALTH_PORT: "0" };

async function stopProcess(child: ChildProcess): Promise<void> {
	if (child.exitCode != null || child.signalCode != null) return;
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
	await exited(child);
	clearTimeout(timer);
}

/** Spawns `node <script>` from dist with `env`; resolves once it prints READY. */
function spawnReady(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
	const child = spawn(process.execPath, [path.join(DIST, script), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
	const stderr: string[] = [];
	child.stderr!.on("data", chunk => stderr.push(String(chunk)));
	return new Promise((resolve, reject) => {
		readline.createInterface({ input: child.stdout! }).on("line", line => line === "READY" && resolve(child));
		child.once("exit", code => reject(new Error(`${script} exited (${code}): ${stderr.join("")}`)));
	});
}

/** Bare node:http answering one product as JSON. */
export async function startBare(): Promise<Target> {
	const port = await freePort();
	const child = await spawnReady("scripts/bench/bare-server.js", [], { PORT: String(port) });
	return { url: `http://127.0.0.1:${port}`, pids: [child.pid!], stop: () => stopProcess(child) };
}

/** The template peer: one process, or `cluster` = a products node and a gateway node over NATS and Redis. */
export async function startPeer(mode: "one" | "cluster"): Promise<Target> {
	const port = await freePort();
	const env = { PORT: String(port), METRICS_PORT: String(await freePort()), NAMESPACE: uniqueNamespace("peer") };
	const children =
		mode === "one"
			? [await spawnReady("scripts/bench/template-peer.js", ["all"], env)]
			: [
					await spawnReady("scripts/bench/template-peer.js", ["products"], { ...env, TRANSPORTER: NATS_URL, CACHER: REDIS_URL, METRICS_PORT: String(await freePort()) }),
					await spawnReady("scripts/bench/template-peer.js", ["api"], { ...env, TRANSPORTER: NATS_URL, CACHER: REDIS_URL })
				];
	return { url: `http://127.0.0.1:${port}/api`, pids: children.map(c => c.pid!), stop: async () => void (await Promise.all(children.map(stopProcess))) };
}

/** The shop in one process (the launcher, as `npm start` runs it) with `env` on top of SHOP_ENV. `readyMs`: spawn → first 200 of /api/health. */
export async function startShop(env: NodeJS.ProcessEnv = {}): Promise<Target & { readyMs: number }> {
	const port = await freePort();
	const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(require("node:os").tmpdir(), "shop-bench-"));
	const started = performance.now();
	const child = spawn(process.execPath, [...NODE_FLAGS, path.join(DIST, "scripts/start.js")], { env: { ...process.env, ...SHOP_ENV, DATA_DIR: dataDir, PORT: String(port), METRICS_PORT: String(await freePort()), ...env }, stdio: ["ignore", "ignore", "pipe"] });
	const stderr: string[] = [];
	child.stderr!.on("data", chunk => stderr.push(String(chunk)));
	const url = `http://127.0.0.1:${port}/api`;
	await waitFor(async () => {
		if (child.exitCode != null) throw new Error(`the shop exited: ${stderr.join("")}`);
		return (await fetch(`${url}/health`).catch(() => null))?.status === 200;
	}, "the shop to be ready", 120_000);
	const readyMs = performance.now() - started;
	return {
		url,
		pids: [child.pid!],
		readyMs,
		stop: async () => {
			await stopProcess(child);
			if (!env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

/**
 * The shop as `npm run cluster` runs it on NATS and Redis: with `store` "mongo", products ×2 and one node of
 * every other type on a throwaway Mongo-wire server; with "nedb", one node per type, each with NeDB files of
 * its own (`npm run cluster -- --store=nedb`). Metrics on, from a free range of ports. Stopping it also deletes
 * the JetStream streams of its namespace, which would otherwise stay on the NATS server for 7 days.
 */
export async function startShopCluster(store: "mongo" | "nedb"): Promise<Target> {
	const namespace = uniqueNamespace("bench");
	const cluster = await startCluster({
		store,
		port: await freePort(),
		metricsPortBase: "free",
		env: { ...process.env, ...SHOP_ENV, NAMESPACE: namespace, TRANSPORTER: NATS_URL, CACHER: REDIS_URL },
		distDir: DIST,
		log: () => undefined
	});
	return {
		url: cluster.url.replace("localhost", "127.0.0.1"),
		pids: cluster.nodes.map(n => n.process.pid!),
		stop: async () => {
			try {
				await cluster.stop();
			} finally {
				await deleteStreams(namespace);
			}
		}
	};
}

/** Resident memory (MB) of process `pid`, from /proc. */
export function rssMb(pid: number): number {
	const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
	return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
