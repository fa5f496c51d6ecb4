/**
 * The health endpoints every node serves on HEALTH_PORT (the Kubernetes probes use them), apart from the
 * gateway's port. The launcher (`scripts/start.ts`) opens them before anything else, so they answer from
 * the first moment the process can answer anything:
 * - `GET /live`: 200 while the process and its event loop answer (the event-loop delay is reported);
 * - `GET /ready`: 503 `{ status: "starting" }` until the node has started, 503 `{ status: "stopping" }` once
 *   it stops; in between 200 `{ status: "ready" }` when the transporter answers a round trip, this node's
 *   own dependencies answer (each local store, the cacher) and, on a gateway node, every service its routes
 *   call has a node; otherwise 503 `{ status: "degraded" }` with the reasons. The gateway's
 *   `GET /api/health` answers from the same routed-service check (`missingServices`).
 */
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ServiceBroker } from "moleculer";

/** How long (ms) one dependency may take to answer a readiness check. */
const CHECK_TIMEOUT_MS = 1000;

/** Where a node is in its life, as `/ready` reports it. */
export type Phase = "starting" | "running" | "stopping";

export interface Readiness {
	ready: boolean;
	checks: Record<string, "ok" | string>;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
	let timer: NodeJS.Timeout;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)))
	]);
}

async function check(run: () => Promise<unknown> | unknown, what: string): Promise<"ok" | string> {
	try {
		await withTimeout(Promise.resolve(run()), what);
		return "ok";
	} catch (err) {
		return (err as Error).message || String(err);
	}
}

/** The services of `wanted` that no node of the cluster offers right now (this one included). */
export function missingServices(broker: ServiceBroker, wanted: readonly string[]): string[] {
	const available = new Set(broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).map((service: { name: string }) => service.name));
	return wanted.filter(name => !available.has(name));
}

/** Checks `broker` the way `/ready` does once the node runs; `routed` are the services its gateway calls. */
export async function readiness(broker: ServiceBroker, routed: readonly string[] = []): Promise<Readiness> {
	const checks: Record<string, string> = {};
	checks.broker = broker.started ? "ok" : "broker not started";
	const transit = (broker as any).transit;
	if (transit) {
		const client = transit.tx?.client;
		checks.transporter = await check(() => {
			if (!transit.connected) throw new Error("transporter not connected");
			// A NATS client keeps "connected" while it reconnects: a flush (PING/PONG) proves the link.
			if (typeof client?.flush === "function") return client.flush();
		}, "transporter");
	}
	const cacher = broker.cacher as any;
	if (cacher) checks.cacher = await check(() => {
		if (cacher.client && cacher.connected === false) throw new Error("cacher not connected");
		if (typeof cacher.client?.ping === "function") return cacher.client.ping();
	}, "cacher");
	for (const service of broker.services as any[]) {
		const adapter = service.adapter;
		if (!adapter) continue;
		checks[`store:${service.name}`] = await check(() => {
			if (typeof adapter.db?.command === "function") return adapter.db.command({ ping: 1 });
			if (!adapter.db) throw new Error("store not connected");
		}, `store of ${service.name}`);
	}
	if (routed.length > 0) {
		const missing = missingServices(broker, routed);
		checks.services = missing.length === 0 ? "ok" : `no node offers ${missing.join(", ")}`;
	}
	return { ready: Object.values(checks).every(result => result === "ok"), checks };
}

/**
 * The health server of one node: listening before the broker exists (`listen`), told about the broker
 * (`attach`) and about the node's phase (`phase`).
 */
export class HealthServer {
	phase: Phase = "starting";
	private broker: ServiceBroker | null = null;
	private routed: readonly string[] = [];
	private readonly server: http.Server;
	private readonly delay = monitorEventLoopDelay({ resolution: 20 });

	constructor() {
		this.delay.enable();
		this.server = http.createServer((req, res) => void this.handle(req, res));
		this.server.on("close", () => this.delay.disable());
	}

	/** Listens on `port` (0 = a free one); resolves to the port. @throws the listen error (EADDRINUSE…). */
	listen(port: number, host = "0.0.0.0"): Promise<number> {
		return new Promise((resolve, reject) => {
			this.server.once("error", reject);
			this.server.listen(port, host, () => {
				this.server.off("error", reject);
				resolve((this.server.address() as { port: number }).port);
			});
		});
	}

	/** From now on `/ready` checks `broker` (and, on a gateway node, the `routed` services) while running. */
	attach(broker: ServiceBroker, routed: readonly string[] = []): void {
		this.broker = broker;
		this.routed = routed;
	}

	/** Stops listening (at once for idle connections). */
	close(): Promise<void> {
		this.server.closeAllConnections();
		return new Promise(resolve => this.server.close(() => resolve()));
	}

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const send = (status: number, body: object) => {
			res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
			res.end(JSON.stringify(body));
		};
		const path = (req.url ?? "").split("?")[0];
		const nodeID = this.broker?.nodeID;
		if (req.method !== "GET") return send(405, { status: "method not allowed" });
		if (path === "/live") return send(200, { status: "live", nodeID, eventLoopDelayMs: Math.round(this.delay.mean / 1e6), uptimeSeconds: Math.round(process.uptime()) });
		if (path !== "/ready") return send(404, { status: "not found" });
		if (this.phase !== "running" || !this.broker) return send(503, { status: this.phase === "running" ? "starting" : this.phase, nodeID });
		const result = await readiness(this.broker, this.routed);
		send(result.ready ? 200 : 503, { status: result.ready ? "ready" : "degraded", nodeID, checks: result.checks });
	}
}
