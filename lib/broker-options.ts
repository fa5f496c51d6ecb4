/**
 * The broker options every node uses, built from the shop configuration. `moleculer.config.ts` (read by
 * moleculer-runner) and the multi-broker tests both build their brokers with this, so tests exercise the
 * production settings.
 */
import os from "node:os";
import type { BrokerOptions } from "moleculer";
import type { ShopConfig } from "./config";
import { createCacher } from "./cacher";
import { ShopErrorRegenerator } from "./errors";
import { createChannelsMiddleware } from "./channels";

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
		transporter: (config.transporter ?? undefined) as BrokerOptions["transporter"],
		cacher: createCacher(config.cacher),
		serializer: "JSON",
		// Durable events (order.paid, order.cancelled, payment.refunded) over NATS JetStream: lib/channels.ts.
		middlewares: [createChannelsMiddleware(config)],
		validator: true,
		// Shop errors from other nodes come back as MoleculerClientError with their code, type and data.
		errorRegenerator: new ShopErrorRegenerator(),
		// A call that takes longer than this (ms) fails with RequestTimeoutError instead of hanging a request.
		requestTimeout: 10_000,
		// Retries stay off: checkout and payments are not idempotent at the transport level.
		retryPolicy: { enabled: false },
		// Finish in-flight requests before a node stops (a rolling restart), for up to this many ms.
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		// With a transporter, NATS balances calls over a queue group: a node that dies (even SIGKILL) drops its
		// subscriptions at once, so no call is routed to it while heartbeats would still list it (up to 30 s).
		disableBalancer: Boolean(config.transporter),
		// Re-announcing services (INFO) re-creates those NATS subscriptions, and a request published in between
		// is lost; announce at once at start instead of once more, debounced, after the node is already serving.
		transit: { serviceChangedDebounceTime: 0 } as BrokerOptions["transit"],
		// Without a transporter (one node), calls rotate over local instances; local services are preferred.
		registry: { strategy: "RoundRobin", preferLocal: true }
	};
}
