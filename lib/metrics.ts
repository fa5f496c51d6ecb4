/**
 * Prometheus metrics on METRICS_PORT (Moleculer's built-in reporter), made safe to run: a port that cannot
 * be bound stops the node with one line naming METRICS_PORT instead of an unhandled 'error' event, and
 * stopping a reporter whose server is not listening is not an error.
 */
import type { Server } from "node:http";
import { MetricReporters, type Middleware, type ServiceBroker } from "moleculer";

type PrometheusBase = new (opts: object) => { server: Server; opts: { port: number }; logger: { error(message: string): void }; init(registry: unknown): void; stop(): Promise<void> };

/** The Prometheus reporter with a guarded server (see above). */
export class ShopPrometheusReporter extends (MetricReporters.Prometheus as unknown as PrometheusBase) {
	override init(registry: unknown): void {
		super.init(registry);
		this.server.on("error", (err: NodeJS.ErrnoException) => {
			this.logger.error(`METRICS_PORT: cannot listen on port ${this.opts.port} (${err.code ?? err.message}); set METRICS_PORT to a free port, or 0 for none.`);
			process.exit(1);
		});
	}

	override stop(): Promise<void> {
		if (!this.server?.listening) return Promise.resolve();
		return super.stop();
	}
}

/**
 * A middleware that registers every histogram without in-process quantiles. Moleculer's quantiles keep every
 * observation of the last 60 s in arrays (one per action and label set) and sort them at each scrape: at
 * thousands of requests per second that is tens of MB and a quarter of a checkout's throughput (measured:
 * BENCHMARKS.md). Prometheus computes quantiles from the buckets instead (`histogram_quantile`), which
 * every histogram keeps. Listed before Moleculer's own middlewares, so its `created` hook runs first.
 */
export const bucketsOnlyMiddleware: Middleware = {
	name: "BucketsOnly",
	created(broker: ServiceBroker) {
		const metrics = broker.metrics as unknown as { register(opts: { type: string; quantiles?: unknown }): unknown };
		const register = metrics.register.bind(metrics);
		metrics.register = opts => register(opts.type === "histogram" ? { ...opts, quantiles: false } : opts);
	}
} as Middleware;
