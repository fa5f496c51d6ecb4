/**
 * `npm run cluster`: the whole shop as a local cluster, one OS process per node type (products ×2 by
 * default), each running the launcher (scripts/start.ts) with SERVICES=<type>, joined over NATS, caching in
 * Redis and storing in MongoDB: MONGO_URI, or a throwaway Mongo-wire server when it is unset. Prints the
 * gateway URL once the gateway reports every service; Ctrl-C or SIGTERM stops every child (each in a process
 * group of its own, so a terminal's Ctrl-C reaches this script alone and each node gets exactly one SIGTERM).
 *
 * Options: `--<type>=<count>` per node type (e.g. `--products=3`), `--port=<gateway port>` (default PORT or
 * 3000; api replica i listens on port + i), `--store=nedb` (each node keeps its entities in NeDB files of its
 * own under a temporary directory instead of MongoDB: no Mongo-wire server, so every node type that stores
 * something runs exactly once; for measuring the cluster without the test server's limits, see BENCHMARKS.md). Node k (0, 1, …) serves /live and /ready on port + 1000 + k and
 * /metrics on port + 2000 + k. Environment: TRANSPORTER (default nats://127.0.0.1:4222),
 * CACHER (default redis://127.0.0.1:6379), NAMESPACE (default "dev"), and everything the nodes read.
 */
import { redisAddress } from "../lib/cacher";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { startMongoWire, type MongoWireServer } from "./mongo-wire";
import { exited, freePort, freePorts, reachable } from "./net";
import { NODE_FLAGS } from "./node-flags";

/** The node types, in start order (stores first, the gateway last). */
export const NODE_TYPES = ["products", "customers", "payments", "carts", "notifications", "orders", "api"] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The node types that keep entities (with `store: "nedb"` each must run once). */
export const STORE_TYPES: readonly NodeType[] = ["products", "customers", "payments", "carts", "orders"];

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
	/**
	 * Health ports: a number n gives node k port n + k; "free" gives each node a port that is free at spawn
	 * (and starts a node again, at most twice, on fresh ports if another process took its port meanwhile).
	 * Default: HEALTH_PORT of the env, shared (0 = off).
	 */
	healthPortBase?: number | "free";
	/** Metrics ports, like `healthPortBase` (default: METRICS_PORT of the env). */
	metricsPortBase?: number | "free";
	/**
	 * Where nodes store entities: "mongo" (default; MONGO_URI or a throwaway Mongo-wire server) or "nedb"
	 * (NeDB files per node under a temporary directory, removed on stop; store node types must run once).
	 */
	store?: "mongo" | "nedb";
	/** Extra environment for the nodes of one type (e.g. `{ orders: { ORDER_RECOVERY_AFTER: "5" } }`). */
	nodeEnv?: Partial<Record<NodeType, NodeJS.ProcessEnv>>;
}

export interface ClusterNode {
	nodeID: string;
	type: NodeType;
	process: ChildProcess;
	/** Port of the node's /live and /ready (0 = none). */
	healthPort: number;
	/** Port of the node's Prometheus /metrics (0 = none). */
	metricsPort: number;
}

export interface Cluster {
	/** Base URL of the first gateway, e.g. http://localhost:3000/api. */
	url: string;
	nodes: ClusterNode[];
	/** The MongoDB the nodes share ("" with `store: "nedb"`). */
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
		const health = await fetch(`${url}/health`).then(r => r.json() as Promise<{ status?: string; services?: string[] }>).catch(() => null);
		if (health?.status === "ok" && health.services?.length === NODE_TYPES.length) return;
		await new Promise(resolve => setTimeout(resolve, 250));
	}
	throw new Error(`The gateway at ${url} did not see all ${NODE_TYPES.length} services within ${timeoutMs} ms`);
}

/** A port that was free a moment ago on 127.0.0.1 and is not one `taken` names. */
async function freePortOutside(taken: (port: number) => boolean): Promise<number> {
	for (;;) {
		const port = await freePort();
		if (!taken(port)) return port;
	}
}

/**
 * Starts the cluster and resolves once the gateway sees every service.
 * @throws Error naming the server to start when NATS or Redis is unreachable, or when a node exits early.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
	const baseEnv = options.env ?? process.env;
	const store = options.store ?? "mongo";
	// With a store per node, products run once unless asked otherwise (and then refused below).
	const counts = { ...DEFAULT_COUNTS, ...(store === "nedb" && { products: 1 }), ...options.counts };
	// PORT=0 means a free port here too; the gateway's URL must name the real one.
	const port = (options.port ?? Number(baseEnv.PORT || 3000)) || (await freePort());
	const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
	const distDir = options.distDir ?? (__filename.endsWith(".ts") ? path.resolve(__dirname, "../dist") : path.resolve(__dirname, ".."));
	const transporter = baseEnv.TRANSPORTER || "nats://127.0.0.1:4222";
	const cacher = baseEnv.CACHER || "redis://127.0.0.1:6379";
	const namespace = baseEnv.NAMESPACE || "dev";

	// TRANSPORTER may list several NATS servers (a cluster): one answering is enough.
	if (!(await Promise.all(transporter.split(",").map(url => reachable(url)))).some(Boolean)) throw new Error(`NATS is not reachable at ${transporter}: start it (nats-server -js) or set TRANSPORTER.`);
	if (/^redis/.test(cacher) && !(await reachable(`tcp://${redisAddress(cacher).split(",")[0]}`))) throw new Error(`Redis is not reachable at ${cacher}: start it (redis-server) or set CACHER.`);

	if (store === "nedb") {
		const shared = STORE_TYPES.filter(type => counts[type] > 1);
		if (shared.length) throw new Error(`--store=nedb keeps one store per node: ${shared.join(", ")} must run once (they would not share entities).`);
	}
	let mongo: MongoWireServer | null = null;
	// Not on a gateway port: a caller may have drawn `port` free a moment ago (as the tests do) and not bound it yet.
	const gatewayPort = (p: number) => p >= port && p < port + counts.api;
	const mongoUri = store === "nedb" ? "" : baseEnv.MONGO_URI || (mongo = await startMongoWire({ port: await freePortOutside(gatewayPort) })).uri;
	const dataRoot = store === "nedb" ? fs.mkdtempSync(path.join(os.tmpdir(), "shop-cluster-")) : "";
	if (mongo) log(`[cluster] MONGO_URI is unset: started a throwaway Mongo-wire server at ${mongoUri} (data lives until the cluster stops)`);

	const launcher = path.join(distDir, "scripts", "start.js");
	const nodes: ClusterNode[] = [];
	let failure: string | null = null;
	let phase: "starting" | "running" | "stopping" = "starting";
	const stop = async () => {
		phase = "stopping";
		await Promise.all(nodes.map(node => stopChild(node.process, 15_000)));
		await mongo?.stop();
		if (dataRoot) fs.rmSync(dataRoot, { recursive: true, force: true });
		process.off("exit", orphaned);
	};
	// Whatever way this process ends (even a failed start, or a signal before the cluster was up), the nodes
	// are told to stop: they run in process groups of their own and would outlive it otherwise.
	const orphaned = () => nodes.forEach(node => node.process.exitCode == null && node.process.signalCode == null && node.process.kill("SIGTERM"));
	process.once("exit", orphaned);
	const started: Partial<Record<NodeType, number>> = {};
	// Ports for "free": drawn now (addNode is synchronous), distinct, topped up when a node needs fresh ones.
	const nodeCount = NODE_TYPES.reduce((sum, type) => sum + counts[type], 0);
	const wantsFree = [options.healthPortBase, options.metricsPortBase].filter(base => base === "free").length;
	const pool = await freePorts(wantsFree * (nodeCount + 4));
	const portOf = (base: number | "free" | undefined, k: number, fallback: string | undefined): number =>
		base === "free" ? (pool.shift() ?? 0) : base ? base + k : Number(fallback ?? 0);
	const spawnNode = (node: ClusterNode, i: number, extraEnv: NodeJS.ProcessEnv, k: number, attempt: number): void => {
		const { nodeID, type } = node;
		const healthPort = (node.healthPort = portOf(options.healthPortBase, k, baseEnv.HEALTH_PORT));
		const metricsPort = (node.metricsPort = portOf(options.metricsPortBase, k, baseEnv.METRICS_PORT));
		const env = {
			...baseEnv,
			...options.nodeEnv?.[type],
			...extraEnv,
			TRANSPORTER: transporter,
			CACHER: cacher,
			NAMESPACE: namespace,
			MONGO_URI: mongoUri,
			...(dataRoot && { DATA_DIR: path.join(dataRoot, nodeID) }),
			SERVICES: type,
			NODEID: nodeID,
			PORT: String(port + i - 1),
			HEALTH_PORT: String(healthPort),
			METRICS_PORT: String(metricsPort)
		};
		const child = spawn(process.execPath, [...NODE_FLAGS, launcher], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
		let portTaken = false;
		for (const stream of [child.stdout!, child.stderr!]) {
			readline.createInterface({ input: stream }).on("line", line => {
				if (/^\[shop\] (HEALTH|METRICS)_PORT: port \d+ is in use/.test(line)) portTaken = true;
				log(`[${type}-${i}] ${line}`);
			});
		}
		child.once("exit", (code, signal) => {
			if (phase === "stopping") return;
			const freePortsGiven = options.healthPortBase === "free" || options.metricsPortBase === "free";
			if (phase === "starting" && portTaken && freePortsGiven && attempt < 3) {
				log(`[cluster] node ${nodeID}: a port it was given was taken meanwhile; starting it again on fresh ports`);
				void freePorts(2).then(ports => {
					pool.push(...ports);
					if (phase === "starting") spawnNode(node, i, extraEnv, k, attempt + 1);
				});
				return;
			}
			log(`[cluster] node ${nodeID} exited (${signal ?? `code ${code}`})`);
			if (phase === "starting") failure ??= `Node ${nodeID} exited during start (${signal ?? `code ${code}`})`;
		});
		node.process = child;
	};
	const addNode = (type: NodeType, extraEnv: NodeJS.ProcessEnv = {}): ClusterNode => {
		const i = (started[type] = (started[type] ?? 0) + 1);
		const node = { nodeID: `${os.hostname()}-${type}-${i}`, type, healthPort: 0, metricsPort: 0 } as ClusterNode;
		spawnNode(node, i, extraEnv, nodes.length, 1);
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

/** Parses `--<type>=<n>`, `--port=<n>` and `--store=mongo|nedb`. @throws Error for anything else. */
export function parseArgs(argv: readonly string[]): Pick<ClusterOptions, "counts" | "port" | "store"> {
	const counts: Partial<Record<NodeType, number>> = {};
	let port: number | undefined;
	let store: ClusterOptions["store"];
	for (const arg of argv) {
		const match = /^--([a-z]+)=(\d+)$/.exec(arg);
		if (arg === "--store=nedb" || arg === "--store=mongo") store = arg.slice("--store=".length) as ClusterOptions["store"];
		else if (match && match[1] === "port") port = Number(match[2]);
		else if (match && (NODE_TYPES as readonly string[]).includes(match[1]) && Number(match[2]) >= 1) counts[match[1] as NodeType] = Number(match[2]);
		else throw new Error(`Unknown option ${arg}. Use --<${NODE_TYPES.join("|")}>=<count ≥ 1> or --port=<port> or --store=<mongo|nedb>.`);
	}
	return { counts, port, store };
}

if (require.main === module) {
	let cluster: Cluster | null = null;
	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`[cluster] ${signal}: stopping every node…`);
		(cluster?.stop() ?? Promise.resolve()).then(() => process.exit(0));
	};
	process.on("SIGINT", () => shutdown("SIGINT"));
	process.on("SIGTERM", () => shutdown("SIGTERM"));
	(async () => {
		const args = parseArgs(process.argv.slice(2));
		const port = args.port ?? Number(process.env.PORT || 3000);
		// Health and metrics ports follow the gateway's (PORT + 1000 + k, PORT + 2000 + k), unless
		// HEALTH_PORT / METRICS_PORT is 0: then the nodes open none.
		const off = (name: string) => process.env[name] === "0";
		cluster = await startCluster({ ...args, healthPortBase: off("HEALTH_PORT") ? undefined : port + 1000, metricsPortBase: off("METRICS_PORT") ? undefined : port + 2000 });
		if (stopping) return;
		const summary = NODE_TYPES.map(type => `${type}×${cluster!.nodes.filter(n => n.type === type).length}`).join(", ");
		const health = cluster.nodes.map(n => `  ${n.nodeID}: http://localhost:${n.healthPort}/ready`).join("\n");
		console.log(`\n[cluster] ${cluster.nodes.length} nodes up (${summary}). Gateway: ${cluster.url}\n[cluster] Health:\n${health}\n[cluster] Ctrl-C stops every node.\n`);
	})().catch(err => {
		console.error(`[cluster] ${err instanceof Error ? err.message : err}`);
		process.exit(1);
	});
}
