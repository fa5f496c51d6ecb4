/**
 * The health endpoints every node serves on HEALTH_PORT (the Kubernetes probes use them), apart from the
 * gateway's port:
 * - `GET /live`: 200 while the process and its event loop answer (the event-loop delay is reported);
 * - `GET /ready`: 200 when the broker has started, the transporter answers a round trip, and this node's
 *   own dependencies answer (each local store, the cacher); otherwise 503 with the reasons.
 */
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ServiceBroker } from "moleculer";

/** How long (ms) one dependency may take to answer a readiness check. */
const CHECK_TIMEOUT_MS = 1000;

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

/** Checks `broker` the way `/ready` does. */
export async function readiness(broker: ServiceBroker): Promise<Readiness> {
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
	return { ready: Object.values(checks).every(result => result === "ok"), checks };
}

/** Starts the health server of `broker` on `port`; resolves to the server (close it on stop). */
export function startHealthServer(broker: ServiceBroker, port: number, host = "0.0.0.0"): Promise<http.Server> {
	const delay = monitorEventLoopDelay({ resolution: 20 });
	delay.enable();
	const server = http.createServer(async (req, res) => {
		const send = (status: number, body: object) => {
			res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
			res.end(JSON.stringify(body));
		};
		const path = (req.url ?? "").split("?")[0];
		if (req.method !== "GET") return send(405, { status: "method not allowed" });
		if (path === "/live") return send(200, { status: "live", nodeID: broker.nodeID, eventLoopDelayMs: Math.round(delay.mean / 1e6), uptimeSeconds: Math.round(process.uptime()) });
		if (path === "/ready") {
			const result = await readiness(broker);
			return send(result.ready ? 200 : 503, { status: result.ready ? "ready" : "not ready", nodeID: broker.nodeID, checks: result.checks });
		}
		send(404, { status: "not found" });
	});
	server.on("close", () => delay.disable());
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => resolve(server));
	});
}
