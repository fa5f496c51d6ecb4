/** Shared test fixtures: brokers with chosen services, caller meta, and error matchers. */
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from "moleculer";
import type { AddressInfo } from "node:net";
import { SERVICES, type ServiceName } from "../scripts/harness";
import { createChannelsMiddleware } from "../lib/channels";
import { loadConfig } from "../lib/config";
import type { Role } from "../types/meta";

export { SERVICES, type ServiceName };

/**
 * A started broker hosting `names` (each test file gets fresh in-memory stores). The demo catalog is not
 * seeded unless `seed` is true, so tests choose their own products.
 */
export async function startBroker(names: ServiceName[], options: { seed?: boolean; broker?: BrokerOptions } = {}): Promise<ServiceBroker> {
	const broker = new ServiceBroker({
		logger: false,
		dependencyInterval: 20,
		// Durable events through the in-process adapter (no NATS in these tests).
		middlewares: [createChannelsMiddleware(loadConfig())],
		...options.broker
	} as BrokerOptions);
	for (const name of names) {
		const schema = SERVICES[name] as ServiceSchema;
		broker.createService(name === "products" ? { ...schema, settings: { ...schema.settings, seedDemoCatalog: Boolean(options.seed) } } : schema);
	}
	await broker.start();
	return broker;
}

/** Call options acting as customer `id` (meta the gateway would set from a token). */
export function as(id: string, role: Role = "customer") {
	return { meta: { customer: { id, email: `${id}@example.com`, role } } };
}

/** What a failed call must look like: compared by `code` and `type`, never by class. */
export function failure(code: number, type: string) {
	return expect.objectContaining({ code, type });
}

/** A product input with sensible defaults; `overrides` wins. */
export function productInput(overrides: Record<string, unknown> = {}) {
	return { sku: `SKU-${Math.random().toString(36).slice(2, 10)}`, name: "Test Boot", category: "Footwear", price: 1000, stock: 10, ...overrides };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs` (ms). */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

/**
 * Stops the background jobs (PeriodicMixin: recovery, sweeps) of `service` on `broker`, once they have
 * started, so a test can run them by hand without a background run racing its hand-built state.
 */
export async function stopBackgroundJobs(broker: ServiceBroker, service: string): Promise<void> {
	const local = broker.getLocalService(service) as unknown as { timers?: Map<string, NodeJS.Timeout> };
	await waitUntil(() => (local.timers?.size ?? 0) > 0);
	for (const timer of local.timers!.values()) clearInterval(timer);
}

/** The /api base URL of the gateway `broker` runs (its port is chosen by the OS in tests). */
export function gatewayUrl(broker: ServiceBroker): string {
	const server = (broker.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server;
	return `http://127.0.0.1:${server.address().port}/api`;
}
