/**
 * The broker options every node uses, built from the shop configuration. `moleculer.config.ts` (read by
 * moleculer-runner) and the multi-broker tests both build their brokers with this, so tests exercise the
 * production settings.
 */
import os from "node:os";
import type { BrokerOptions, ServiceBroker } from "moleculer";
import { attachConfig, type ShopConfig } from "./config";
import { createCacher } from "./cacher";
import { ShopErrorRegenerator } from "./errors";
import { createChannelsMiddleware } from "./channels";
import { loggerOptions, requestScopeMiddleware } from "./logging";
import { tracingOptions } from "./tracing";
import { transporterFor } from "./nats-transporter";
import { ShopPrometheusReporter, bucketsOnlyMiddleware } from "./metrics";

/**
 * Logs the transporter's connection changes once each (lost, reconnecting, back) with the server's address,
 * instead of one error line per retry: the NATS transporter itself reports them at debug level only.
 */
function watchTransporter(broker: ServiceBroker): void {
	const client = (broker as unknown as { transit?: { tx?: { client?: { status?(): AsyncIterable<{ type: string; data: unknown }> } } } }).transit?.tx?.client;
	if (typeof client?.status !== "function") return;
	let last = "";
	void (async () => {
		for await (const event of client.status!()) {
			if (!["disconnect", "reconnect"].includes(event.type) || event.type === last) continue;
			last = event.type;
			if (event.type === "disconnect") broker.logger.warn(`TRANSPORTER: lost the connection to NATS ${String(event.data)}; reconnecting.`);
			else broker.logger.info(`TRANSPORTER: connected to NATS ${String(event.data)} again.`);
		}
	})().catch(() => undefined);
}

/**
 * Broker options for `config`. `nodeID` defaults to `<hostname>-<services>-<pid>`.
 * @throws Error when CACHER is neither "Memory" nor a redis:// URL.
 */
export function createBrokerOptions(config: ShopConfig, nodeID?: string, services = "all"): BrokerOptions {
	return {
		namespace: config.namespace,
		nodeID: nodeID || `${os.hostname()}-${services}-${process.pid}`,
		logger: loggerOptions(config.logFormat, config.logLevel),
		logLevel: config.logLevel as BrokerOptions["logLevel"],
		// Traces to OTEL_EXPORTER_ZIPKIN_ENDPOINT when it is set (lib/tracing.ts).
		tracing: tracingOptions(config.zipkinEndpoint),
		// Credentials travel in TRANSPORTER (nats://user:password@host:4222); TLS files come from NATS_TLS_*.
		// The durable events' own connection gets both too (lib/channels.ts, natsSecurity). Nothing secret is in
		// the code or the image. A nats:// TRANSPORTER gets Moleculer's NATS transporter with each turn's
		// packets written together (lib/nats-transporter.ts).
		transporter: transporterFor(config.transporter, config.natsTls) as BrokerOptions["transporter"],
		cacher: createCacher(config.cacher),
		serializer: "JSON",
		// Durable events (order.paid, order.cancelled, payment.refunded) over NATS JetStream: lib/channels.ts.
		middlewares: [requestScopeMiddleware, ...(config.metricsPort > 0 ? [bucketsOnlyMiddleware] : []), createChannelsMiddleware(config)],
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
		// Prometheus metrics (Moleculer's built-in reporter, guarded: lib/metrics.ts) on METRICS_PORT/metrics.
		metrics: config.metricsPort > 0 ? { enabled: true, reporter: [new ShopPrometheusReporter({ port: config.metricsPort, path: "/metrics" }) as never] } : { enabled: false },
		// Services read this node's configuration with `configOf(this.broker)`. (/live and /ready on HEALTH_PORT
		// are served by the launcher, scripts/start.ts, from before the broker exists.)
		created: (broker: ServiceBroker) => attachConfig(broker, config),
		started: (broker: ServiceBroker) => watchTransporter(broker),
		// A service with `dependencies` (the gateway, carts, orders) waits START_TIMEOUT for them, then the start
		// fails; it looks every 50 ms (Moleculer's default, 1 s, cost a one-process shop a second per level).
		dependencyTimeout: config.startTimeoutSeconds * 1000,
		dependencyInterval: 50,
		// Without a transporter (one node), calls rotate over local instances; local services are preferred.
		// A stopping node first announces that it offers nothing (its NATS queue subscriptions end, the gateways
		// drop it), then waits stopDelay (500 ms) for that to reach every node before its services stop.
		registry: { strategy: "RoundRobin", preferLocal: true, stopDelay: 500 }
	};
}
