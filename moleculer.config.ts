/**
 * Broker configuration for every node type, read by moleculer-runner (`--config`). The environment
 * variables of the README's table choose transporter, cacher, namespace and log level; `SERVICES` picks the
 * services a node hosts (none = all).
 */
import os from "node:os";
import type { BrokerOptions, CacherConfig } from "moleculer";
import { loadConfig } from "./lib/config";

const config = loadConfig();

/** Cached reads expire after this many seconds even if no write cleaned them. */
const CACHE_TTL_SECONDS = 300;

function cacherOptions(cacher: string): CacherConfig {
	if (/^rediss?:\/\//.test(cacher)) {
		// The Redis cacher prefixes keys with "MOL-" and the namespace, so clusters sharing a Redis never collide.
		return { type: "Redis", options: { ttl: CACHE_TTL_SECONDS, redis: cacher } } as unknown as CacherConfig;
	}
	if (cacher !== "Memory") throw new Error(`CACHER must be "Memory" or a redis:// URL, got "${cacher}"`);
	return { type: "Memory", options: { ttl: CACHE_TTL_SECONDS, clone: true } } as CacherConfig;
}

// moleculer-runner replaces any broker option named by an environment variable (CACHER → `cacher`) with the
// raw string, which would drop the options above; the cacher is configured here from CACHER instead.
delete process.env.CACHER;

const services = process.env.SERVICES?.split(",").map(s => s.trim()).join("+") || "all";

const brokerConfig: BrokerOptions = {
	namespace: config.namespace,
	nodeID: process.env.NODEID || `${os.hostname()}-${services}-${process.pid}`,
	logger: { type: "Console", options: { level: config.logLevel, formatter: "short", colors: process.stdout.isTTY } },
	logLevel: config.logLevel as BrokerOptions["logLevel"],
	transporter: (config.transporter ?? undefined) as BrokerOptions["transporter"],
	cacher: cacherOptions(config.cacher),
	serializer: "JSON",
	validator: true,
	// A call that takes longer than this (ms) fails with RequestTimeoutError instead of hanging a request.
	requestTimeout: 10_000,
	// Retries stay off: checkout and payments are not idempotent at the transport level.
	retryPolicy: { enabled: false },
	// Finish in-flight requests before a node stops (a rolling restart), for up to this many ms.
	tracking: { enabled: true, shutdownTimeout: 10_000 },
	registry: { strategy: "RoundRobin", preferLocal: true }
};

export default brokerConfig;
