/**
 * `npm run cluster`: the whole shop as a local cluster, one OS process per node type (products ×2 by
 * default), joined over NATS, caching in Redis and storing in MongoDB: MONGO_URI, or a throwaway
 * Mongo-wire server when it is unset. Prints the gateway URL; Ctrl-C or SIGTERM stops every child.
 *
 * Options: `--<type>=<count>` per node type (e.g. `--products=3`), `--port=<gateway port>` (default PORT or
 * 3000; api replica i listens on port + i). Node k (0, 1, …) serves /live and /ready on port + 1000 + k and
 * /metrics on port + 2000 + k. Environment: TRANSPORTER (default nats://127.0.0.1:4222),
 * CACHER (default redis://127.0.0.1:6379), NAMESPACE (default "dev"), and everything the nodes read.
 */
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { startMongoWire, type MongoWireServer } from "./mongo-wire";
import { exited, freePort, reachable } from "./net";

/** The node types, in start order (stores first, the gateway last). */
export const NODE_TYPES = ["products", "customers", "payments", "carts", "notifications", "orders", "api"] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const DEFAULT_COUNTS: Readonly<Record<NodeType, number>> = { products: 2, customers: 1, payments: 1, carts: 1, notifications: 1, orders: 1, api: 1 };

export interface ClusterOptions {
	counts?: Partial<Record<NodeType, number>>;
	/** Gateway port of the first api replica. */
	port?: number;
	/** Environment of the children (default process.env), before the cluster's own settings. */
	env?: NodeJS.ProcessEnv;
	/** Where children's output lines go, prefixed with their node id (default stdout). */
	log?: (line: string) => void;
	/** The compiled project (dist/), holding moleculer.config.js and services/. */
	distDir?: string;
	/** How long to wait for the gateway to see every service, in ms (default 60 000). */
	readyTimeoutMs?: number;
	/** First health port: node k gets healthPortBase + k (default: HEALTH_PORT of the env, shared, 0 = off). */
	healthPortBase?: number;
	/** First metrics port: node k gets metricsPortBase + k (default: METRICS_PORT of the env). */
	metricsPortBase?: number;
	/** Extra environment for the nodes of one type (e.g. `{ orders: { ORDER_RECOVERY_AFTER: "5" } }`). */
	nodeEnv?: Partial<Record<NodeType, NodeJS.ProcessEnv>>;
}

export interface ClusterNode {
	nodeID: string;
	type: NodeType;
	process: ChildProcess;
	/** Port of the node's /live and /ready (0 = none). */
	healthPort: number;
}

export interface Cluster {
	/** Base URL of the first gateway, e.g. http://localhost:3000/api. */
	url: string;
	nodes: ClusterNode[];
	mongoUri: string;
	/** Starts one more node of `type` (the next index), with `env` on top of the cluster's. */
	addNode(type: NodeType, env?: NodeJS.ProcessEnv): ClusterNode;
	/** Stops every node (SIGTERM, then SIGKILL after 15 s) and the Mongo-wire server it started. */
	stop(): Promise<void>;
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
	if (child.exitCode != null || child.signalCode != null) return;
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
	await exited(child);
	clearTimeout(timer);
}

async function waitForGateway(url: string, timeoutMs: number, failed: () => string | null): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const failure = failed();
		if (failure) throw new Error(failure);
		const health = await fetch(`${url}/health`).then(r => r.json() as Promise<{ services?: string[] }>).catch(() => null);
		if (health?.services?.length === NODE_TYPES.length) return;
		await new Promise(resolve => setTimeout(resolve, 250));
	}
	throw new Error(`The gateway at ${url} did not see all ${NODE_TYPES.length} services within ${timeoutMs} ms`);
}

/**
 * Starts the cluster and resolves once the gateway sees every service.
 * @throws Error naming the server to start when NATS or Redis is unreachable, or when a node exits early.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
	const baseEnv = options.env ?? process.env;
	const counts = { ...DEFAULT_COUNTS, ...options.counts };
	// PORT=0 means a free port here too; the gateway's URL must name the real one.
	const port = (options.port ?? Number(baseEnv.PORT || 3000)) || (await freePort());
	const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
	const distDir = options.distDir ?? (__filename.endsWith(".ts") ? path.resolve(__dirname, "../dist") : path.resolve(__dirname, ".."));
	const transporter = baseEnv.TRANSPORTER || "nats://127.0.0.1:4222";
	const cacher = baseEnv.CACHER || "redis://127.0.0.1:6379";
	const namespace = baseEnv.NAMESPACE || "dev";

	if (!(await reachable(transporter))) throw new Error(`NATS is not reachable at ${transporter}: start it (nats-server -js) or set TRANSPORTER.`);
	if (/^redis/.test(cacher) && !(await reachable(cacher))) throw new Error(`Redis is not reachable at ${cacher}: start it (redis-server) or set CACHER.`);

	let mongo: MongoWireServer | null = null;
	const mongoUri = baseEnv.MONGO_URI || (mongo = await startMongoWire()).uri;
	if (mongo) log(`[cluster] MONGO_URI is unset: started a throwaway Mongo-wire server at ${mongoUri} (data lives until the cluster stops)`);

	const runner = path.join(path.dirname(require.resolve("moleculer")), "bin", "moleculer-runner.js");
	const nodes: ClusterNode[] = [];
	let failure: string | null = null;
	let phase: "starting" | "running" | "stopping" = "starting";
	const stop = async () => {
		phase = "stopping";
		await Promise.all(nodes.map(node => stopChild(node.process, 15_000)));
		await mongo?.stop();
	};
	const started: Partial<Record<NodeType, number>> = {};
	const addNode = (type: NodeType, extraEnv: NodeJS.ProcessEnv = {}): ClusterNode => {
		const i = (started[type] = (started[type] ?? 0) + 1);
		const nodeID = `${os.hostname()}-${type}-${i}`;
		const k = nodes.length;
		const healthPort = options.healthPortBase ? options.healthPortBase + k : Number(baseEnv.HEALTH_PORT ?? 0);
		const metricsPort = options.metricsPortBase ? options.metricsPortBase + k : Number(baseEnv.METRICS_PORT ?? 0);
		const env = {
			...baseEnv,
			...options.nodeEnv?.[type],
			...extraEnv,
			TRANSPORTER: transporter,
			CACHER: cacher,
			NAMESPACE: namespace,
			MONGO_URI: mongoUri,
			SERVICES: type,
			SERVICEDIR: path.join(distDir, "services"),
			NODEID: nodeID,
			PORT: String(port + i - 1),
			HEALTH_PORT: String(healthPort),
			METRICS_PORT: String(metricsPort)
		};
		const child = spawn(process.execPath, [runner, "--config", path.join(distDir, "moleculer.config.js")], { env, stdio: ["ignore", "pipe", "pipe"] });
		for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on("line", line => log(`[${type}-${i}] ${line}`));
		child.once("exit", (code, signal) => {
			if (phase === "stopping") return;
			log(`[cluster] node ${nodeID} exited (${signal ?? `code ${code}`})`);
			if (phase === "starting") failure ??= `Node ${nodeID} exited during start (${signal ?? `code ${code}`})`;
		});
		const node = { nodeID, type, process: child, healthPort };
		nodes.push(node);
		return node;
	};
	for (const type of NODE_TYPES) for (let i = 1; i <= counts[type]; i++) addNode(type);

	const url = `http://localhost:${port}/api`;
	try {
		await waitForGateway(url, options.readyTimeoutMs ?? 60_000, () => failure);
	} catch (err) {
		await stop();
		throw err;
	}
	phase = "running";
	return { url, nodes, mongoUri, addNode, stop };
}

/** Parses `--<type>=<n>` and `--port=<n>`. @throws Error for anything else. */
export function parseArgs(argv: readonly string[]): Pick<ClusterOptions, "counts" | "port"> {
	const counts: Partial<Record<NodeType, number>> = {};
	let port: number | undefined;
	for (const arg of argv) {
		const match = /^--([a-z]+)=(\d+)$/.exec(arg);
		if (match && match[1] === "port") port = Number(match[2]);
		else if (match && (NODE_TYPES as readonly string[]).includes(match[1]) && Number(match[2]) >= 1) counts[match[1] as NodeType] = Number(match[2]);
		else throw new Error(`Unknown option ${arg}. Use --<${NODE_TYPES.join("|")}>=<count ≥ 1> or --port=<port>.`);
	}
	return { counts, port };
}

if (require.main === module) {
	(async () => {
		const args = parseArgs(process.argv.slice(2));
		const port = args.port ?? Number(process.env.PORT || 3000);
		const cluster = await startCluster({ ...args, healthPortBase: port + 1000, metricsPortBase: port + 2000 });
		const summary = NODE_TYPES.map(type => `${type}×${cluster.nodes.filter(n => n.type === type).length}`).join(", ");
		const health = cluster.nodes.map(n => `  ${n.nodeID}: http://localhost:${n.healthPort}/ready`).join("\n");
		console.log(`\n[cluster] ${cluster.nodes.length} nodes up (${summary}). Gateway: ${cluster.url}\n[cluster] Health:\n${health}\n[cluster] Ctrl-C stops every node.\n`);
		let stopping = false;
		const shutdown = (signal: string) => {
			if (stopping) return;
			stopping = true;
			console.log(`[cluster] ${signal}: stopping every node…`);
			cluster.stop().then(() => process.exit(0));
		};
		process.on("SIGINT", () => shutdown("SIGINT"));
		process.on("SIGTERM", () => shutdown("SIGTERM"));
	})().catch(err => {
		console.error(`[cluster] ${err instanceof Error ? err.message : err}`);
		process.exit(1);
	});
}
