/**
 * The broker options every node uses, built from the shop configuration. `moleculer.config.ts` (read by
 * moleculer-runner) and the multi-broker tests both build their brokers with this, so tests exercise the
 * production settings.
 */
import os from "node:os";
import type { Server } from "node:http";
import type { BrokerOptions, ServiceBroker } from "moleculer";
import type { ShopConfig } from "./config";
import { createCacher } from "./cacher";
import { ShopErrorRegenerator } from "./errors";
import { createChannelsMiddleware } from "./channels";
import { startHealthServer } from "./health";

/** Broker hooks that run the health server on `port` for the broker's life (nothing when `port` is 0). */
function healthHooks(port: number): Pick<BrokerOptions, "started" | "stopped"> {
	if (port <= 0) return {};
	const servers = new WeakMap<ServiceBroker, Server>();
	return {
		async started(broker: ServiceBroker) {
			servers.set(broker, await startHealthServer(broker, port));
		},
		async stopped(broker: ServiceBroker) {
			await new Promise(resolve => servers.get(broker)?.close(resolve) ?? resolve(null));
		}
	};
}

/**
 * Broker options for `config`. `nodeID` defaults to `<hostname>-<services>-<pid>`.
 * @throws Error when CACHER is neither "Memory" nor a redis:// URL.
 */
export function createBrokerOptions(config: ShopConfig, nodeID?: string, services = "all"): BrokerOptions {
	return {
		namespace: config.namespace,
		nodeID: nodeID || `${os.hostname()}-${services}-${process.pid}`,
		logger: { type: "Console", options: { level: config.logLevel, formatter: "short", colors: Boolean(process.stdout.isTTY) } },
		logLevel: config.logLevel as BrokerOptions["logLevel"],
		// Credentials travel in TRANSPORTER (nats://user:password@host:4222, or a token as the user); TLS
		// files come from NATS_TLS_*. Nothing secret is in the code or the image.
		transporter: (config.transporter && config.natsTls
			? { type: "NATS", options: { url: config.transporter, tls: config.natsTls } }
			: (config.transporter ?? undefined)) as BrokerOptions["transporter"],
		cacher: createCacher(config.cacher),
		serializer: "JSON",
		// Durable events (order.paid, order.cancelled, payment.refunded) over NATS JetStream: lib/channels.ts.
		middlewares: [createChannelsMiddleware(config)],
		validator: true,
		// Shop errors from other nodes come back as MoleculerClientError with their code, type and data.
		errorRegenerator: new ShopErrorRegenerator(),
		// Fault tolerance, every value set here on purpose (Moleculer's docs and code disagree on some defaults):
		// - A call that takes longer than 10 000 ms fails with RequestTimeoutError (504 at the gateway)
		//   instead of holding a request for ever. Checkout makes ~8 calls, each far below this.
		requestTimeout: 10_000,
		// - No retries by default: a retried checkout or cancel could repeat a side effect. Idempotent actions
		//   (reads, and stock/payment steps keyed by the order) switch it on themselves: lib/resilience.ts.
		retryPolicy: { enabled: false },
		// - Circuit breaker per action endpoint: when over half of at least 20 calls within 60 s fail with a
		//   server-side error (5xx, timeouts; never a 4xx such as 409 out of stock), calls to that endpoint fail
		//   at once for 10 s, then one trial call decides whether to close it again.
		circuitBreaker: {
			enabled: true,
			threshold: 0.5,
			minRequestCount: 20,
			windowTime: 60,
			halfOpenTime: 10_000,
			check: (err: Error) => Boolean(err && ((err as { code?: number }).code ?? 500) >= 500)
		},
		// - Bulkhead per action on each node: at most 100 handlers run at once, up to 1 000 more wait; beyond
		//   that a call fails with QueueIsFullError (retryable) instead of exhausting the node's memory.
		bulkhead: { enabled: true, concurrency: 100, maxQueueSize: 1000 },
		// - Graceful shutdown: a stopping node refuses new requests and waits up to 10 000 ms for those in
		//   flight, so a rolling restart loses none (Kubernetes' termination grace period must be longer).
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// With a transporter, NATS balances calls over a queue group: a node that dies (even SIGKILL) drops its
		// subscriptions at once, so no call is routed to it while heartbeats would still list it (up to 30 s).
		disableBalancer: Boolean(config.transporter),
		// Re-announcing services (INFO) re-creates those NATS subscriptions, and a request published in between
		// is lost; announce at once at start instead of once more, debounced, after the node is already serving.
		transit: { serviceChangedDebounceTime: 0 } as BrokerOptions["transit"],
		// Prometheus metrics (Moleculer's built-in reporter) on METRICS_PORT/metrics.
		metrics: config.metricsPort > 0 ? { enabled: true, reporter: [{ type: "Prometheus", options: { port: config.metricsPort, path: "/metrics" } }] } : { enabled: false },
		// /live and /ready on HEALTH_PORT for the Kubernetes probes (lib/health.ts).
		...healthHooks(config.healthPort),
		// Without a transporter (one node), calls rotate over local instances; local services are preferred.
		registry: { strategy: "RoundRobin", preferLocal: true }
	};
}
