/**
 * The harness shared by the cluster tests and `npm run reliability`: brokers on the real NATS and Redis
 * with a namespace of their own and the production broker options, private server processes for fault
 * scenarios, JetStream helpers, and polling instead of sleeps.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { connect } from "nats";
import { loadConfig } from "../lib/config";
import { createBrokerOptions } from "../lib/broker-options";
import { freePort, reachable } from "./net";
import ProductsService from "../services/products.service";
import CustomersService from "../services/customers.service";
import CartsService from "../services/carts.service";
import OrdersService from "../services/orders.service";
import PaymentsService from "../services/payments.service";
import ApiService, { createApiService } from "../services/api.service";
import NotificationsService from "../services/notifications.service";

/** Every service schema, by name. */
export const SERVICES = {
	products: ProductsService,
	customers: CustomersService,
	carts: CartsService,
	orders: OrdersService,
	payments: PaymentsService,
	api: ApiService,
	notifications: NotificationsService
} as const;
export type ServiceName = keyof typeof SERVICES;

export const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export { reachable };

/** A namespace (and so a Redis key prefix) no other run or test file shares. */
export function uniqueNamespace(label: string): string {
	return `run-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Starts a node hosting `services` on NATS and Redis (or the given URLs), with the production broker options. */
export async function startNode(
	nodeID: string,
	services: ServiceName[],
	options: { namespace: string; transporter?: string; cacher?: string; seed?: boolean; env?: NodeJS.ProcessEnv }
): Promise<ServiceBroker> {
	// Many nodes share this process: no health or metrics server unless the caller asks for one.
	const config = loadConfig({ ...process.env, HEALTH_PORT: "0", METRICS_PORT: "0", ...options.env, NAMESPACE: options.namespace, TRANSPORTER: options.transporter ?? NATS_URL, CACHER: options.cacher ?? REDIS_URL });
	const broker = new ServiceBroker({ ...createBrokerOptions(config, nodeID), logger: false, dependencyInterval: 50 } as never);
	for (const name of services) {
		const schema = (name === "api" ? createApiService(config) : SERVICES[name]) as any;
		broker.createService(name === "products" ? { ...schema, settings: { ...schema.settings, seedDemoCatalog: Boolean(options.seed) } } : schema);
	}
	await broker.start();
	return broker;
}

/** Polls `check` every 50 ms until it returns a truthy value; fails with `what` after `timeoutMs` (ms). */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	while (Date.now() < deadline) {
		try {
			const value = await check();
			if (value) return value;
		} catch (err) {
			last = err;
		}
		await new Promise(resolve => setTimeout(resolve, 50));
	}
	throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

export interface ServerProcess {
	url: string;
	port: number;
	process: ChildProcess;
	/** Kills the server (SIGKILL: an outage, not a shutdown) and resolves when it has exited. */
	kill(): Promise<void>;
}

async function startServer(command: string, args: (port: number) => string[], scheme: string, port?: number): Promise<ServerProcess> {
	const chosen = port ?? (await freePort());
	const child = spawn(command, args(chosen), { stdio: "ignore" });
	const failed = new Promise<never>((_, reject) =>
		child.once("error", err => reject(new Error(`Cannot start ${command} (install it from Debian's packages): ${err.message}`)))
	);
	const url = `${scheme}://127.0.0.1:${chosen}`;
	await Promise.race([waitFor(() => reachable(url, 200), `${command} on port ${chosen}`), failed]);
	return {
		url,
		port: chosen,
		process: child,
		kill: () =>
			new Promise<void>(resolve => {
				if (child.exitCode != null || child.signalCode != null) return resolve();
				child.once("exit", () => resolve());
				child.kill("SIGKILL");
			})
	};
}

/** A private Redis (nothing on disk) on `port` or a free one. */
export function startRedis(port?: number): Promise<ServerProcess> {
	return startServer("redis-server", p => ["--bind", "127.0.0.1", "--port", String(p), "--save", "", "--appendonly", "no"], "redis", port);
}

/**
 * A private NATS server with JetStream (storage in a temporary folder) on `port` or a free one; `args` are
 * more nats-server flags (e.g. `--user`, `--pass`, `--tls`).
 */
export function startNats(port?: number, args: string[] = []): Promise<ServerProcess> {
	const store = fs.mkdtempSync(path.join(os.tmpdir(), "shop-nats-"));
	return startServer("nats-server", p => ["-a", "127.0.0.1", "-p", String(p), "-js", "-sd", store, ...args], "nats", port);
}

/** Deletes the JetStream streams of `namespace` (durable-event tests leave them on the shared NATS). */
export function deleteStreams(namespace: string, url = NATS_URL): Promise<void> {
	return withJetStream(async jsm => {
		for (const info of await jsm.streams.list().next()) {
			if (info.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(info.config.name);
		}
	}, url);
}

/** Runs `use` with a JetStream manager on the NATS at `url` (default: the shared one). */
async function withJetStream<T>(use: (jsm: Awaited<ReturnType<Awaited<ReturnType<typeof connect>>["jetstreamManager"]>>) => Promise<T>, url = NATS_URL): Promise<T> {
	const nc = await connect({ servers: url.split(",").map(server => new URL(server).host) });
	try {
		return await use(await nc.jetstreamManager());
	} finally {
		await nc.close();
	}
}

/** Waits until the stream of `channel` in `namespace` exists (its first subscriber creates it). */
export function waitForStream(namespace: string, channel: string): Promise<unknown> {
	const stream = `${namespace}.${channel}`.split(".").join("_");
	return waitFor(() => withJetStream(jsm => jsm.streams.info(stream).then(() => true)), `stream ${stream}`);
}

/** Waits until every consumer group of `channel` in `namespace` has received and acknowledged everything. */
export function waitForConsumersIdle(namespace: string, channel: string): Promise<unknown> {
	const stream = `${namespace}.${channel}`.split(".").join("_");
	return waitFor(
		() =>
			withJetStream(async jsm => {
				const consumers = await jsm.consumers.list(stream).next();
				return consumers.length > 0 && consumers.every(c => c.num_pending === 0 && c.num_ack_pending === 0);
			}),
		`the consumers of ${stream} to catch up`
	);
}

/**
 * One line per stream of `namespace` on the NATS at `url`: its message count, then each consumer's delivered
 * and acknowledged stream sequence, pending, unacknowledged and redelivered counts, and whether a
 * subscriber is bound to it. For a failed scenario's diagnosis.
 */
export function jetStreamState(namespace: string, url = NATS_URL): Promise<string> {
	return withJetStream(async jsm => {
		const lines: string[] = [];
		for (const stream of await jsm.streams.list().next()) {
			if (!stream.config.name.startsWith(`${namespace}_`)) continue;
			const consumers = (await jsm.consumers.list(stream.config.name).next()).map(
				c => `${c.name}: delivered ${c.delivered.stream_seq}, acked ${c.ack_floor.stream_seq}, pending ${c.num_pending}, unacked ${c.num_ack_pending}, redelivered ${c.num_redelivered}, bound ${c.push_bound ?? false}`
			);
			lines.push(`${stream.config.name}: ${stream.state.messages} messages, leader ${stream.cluster?.leader ?? "?"}; ${consumers.join("; ") || "no consumer"}`);
		}
		return lines.join("\n");
	}, url);
}
