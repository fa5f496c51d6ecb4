/**
 * The shop's own Prometheus metrics, besides Moleculer's built-ins (`moleculer_request_*`, `moleculer_event_*`,
 * process and transporter metrics). Registered in Moleculer's metric registry, so they are served with the
 * others on METRICS_PORT/metrics (names with dots become underscores). Names follow Prometheus conventions:
 * `_total` for counters, base units (`_seconds`), amounts in minor units of the `currency` label.
 * Each node registers only what its services produce; with metrics off (METRICS_PORT=0) every call is a
 * no-op. README.md ("Metrics") lists them with their labels.
 */
import type { ServiceBroker } from "moleculer";

/** Every shop metric: Moleculer name → type, labels and help text. */
export const SHOP_METRICS = {
	"shop.http.requests.total": { type: "counter", labelNames: ["route", "method", "status"], description: "HTTP requests answered by the gateway, by route template and status" },
	"shop.http.request.duration.seconds": {
		type: "histogram",
		labelNames: ["route", "method"],
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
		description: "Time from request to answer at the gateway, in seconds"
	},
	"shop.orders.total": { type: "counter", labelNames: ["outcome"], description: "Orders by outcome: paid, payment_failed, refused_stock, cancelled" },
	"shop.checkout.duration.seconds": {
		type: "histogram",
		labelNames: ["outcome"],
		buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
		description: "Duration of orders.checkout on the orders node, in seconds, by outcome"
	},
	"shop.payments.total": { type: "counter", labelNames: ["status", "currency"], description: "Payments by status (captured, declined, refunded) and currency" },
	"shop.payments.amount.minor.units.total": { type: "counter", labelNames: ["status", "currency"], description: "Sum of payment amounts in minor units of the currency, by status" },
	"shop.stock.reservations.refused.total": { type: "counter", labelNames: [], description: "Stock reservations refused for want of units (INSUFFICIENT_STOCK)" },
	"shop.order.recoveries.total": { type: "counter", labelNames: ["action"], description: "Orders settled by the saga's recovery: paid, payment_failed, cancelled, failed" },
	"shop.outbox.pending": { type: "gauge", labelNames: [], description: "Orders whose durable events are not published yet (at the last recovery round)" },
	"shop.loadgen.requests.total": { type: "counter", labelNames: ["step", "status"], description: "Requests the load generator sent, by journey step and HTTP status (0: no answer)" },
	"shop.loadgen.request.duration.seconds": {
		type: "histogram",
		labelNames: ["step"],
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
		description: "Latency the load generator saw, by journey step, in seconds"
	},
	"shop.loadgen.errors.total": { type: "counter", labelNames: ["step"], description: "Load generator requests that failed (an unexpected status or no answer), by journey step" },
	"shop.loadgen.target.rate": { type: "gauge", labelNames: [], description: "The load generator's current journey arrival rate, in journeys per second (0 when idle)" },
	"shop.loadgen.active.users": { type: "gauge", labelNames: [], description: "Virtual users running a journey now" },
	"shop.dead.letters.total": { type: "counter", labelNames: ["channel"], description: "Durable events moved to the dead-letter stream after their last delivery attempt" }
} as const;

export type ShopMetric = keyof typeof SHOP_METRICS;
type Labels = Record<string, string>;

interface Registry {
	register(opts: object): unknown;
	getMetric(name: string): unknown;
	increment(name: string, labels?: Labels, value?: number): void;
	observe(name: string, value: number, labels?: Labels): void;
	set(name: string, value: number, labels?: Labels): void;
}

/** The broker's registry with `names` registered (once), or null with metrics off. */
function registry(broker: ServiceBroker, name: ShopMetric): Registry | null {
	if (!broker.isMetricsEnabled()) return null;
	const metrics = broker.metrics as unknown as Registry;
	if (!metrics.getMetric(name)) metrics.register({ name, ...SHOP_METRICS[name] });
	return metrics;
}

/** Adds `value` (default 1) to counter `name`. */
export function countMetric(broker: ServiceBroker, name: ShopMetric, labels: Labels = {}, value = 1): void {
	registry(broker, name)?.increment(name, labels, value);
}

/** Records `seconds` in histogram `name`. */
export function observeSeconds(broker: ServiceBroker, name: ShopMetric, seconds: number, labels: Labels = {}): void {
	registry(broker, name)?.observe(name, seconds, labels);
}

/** Sets gauge `name` to `value`. */
export function setGauge(broker: ServiceBroker, name: ShopMetric, value: number, labels: Labels = {}): void {
	registry(broker, name)?.set(name, value, labels);
}

/** Records every value of `seconds` in histogram `name` under one label set (one call; a KeyedHistogram takes them at once). */
export function observeAllSeconds(broker: ServiceBroker, name: ShopMetric, seconds: readonly number[], labels: Labels = {}): void {
	const metrics = registry(broker, name);
	const metric = metrics?.getMetric(name) as { observeAll?(values: readonly number[], labels?: Labels): void } | null | undefined;
	if (metric?.observeAll) metric.observeAll(seconds, labels);
	else for (const value of seconds) metrics?.observe(name, value, labels);
}

/** One route, method and status of the gateway's requests since the last flush. */
interface RequestSeries {
	route: string;
	method: string;
	status: number;
	count: number;
	seconds: number[];
}

/**
 * The gateway's per-request metrics, `shop.http.requests.total` and `shop.http.request.duration.seconds`: tallied
 * in the process per route, method and status, and added to the registry (so to METRICS_PORT/metrics) in one
 * call per series at the next turn of the event loop, which under load answers ~50 requests (one per
 * connection of the bench's 50). The values are the same as one registry call per request; a histogram gets a
 * turn's durations grouped by status, so its `lastValue` and the order of additions to its sum may differ, and a
 * reporter that sends each observation (StatsD) would get one per series and turn. Measured in one process
 * (alternated wrk runs, 2026-12-07; BENCHMARKS.md): a cached catalog read took 37–40 µs of CPU counted through
 * the registry from a `finish` listener, 27–30 µs with no request metrics, 30–32 µs tallied and counted where
 * the response cache answers.
 */
export class HttpRequestTally {
	private readonly series = new Map<string, RequestSeries>();
	private scheduled = false;

	constructor(private readonly broker: ServiceBroker) {}

	/** Counts one answered request: its route template (`/api/orders/:id`), method, HTTP status and duration in seconds. */
	add(route: string, method: string, status: number, seconds: number): void {
		const key = `${route} ${method} ${status}`;
		let series = this.series.get(key);
		if (!series) this.series.set(key, (series = { route, method, status, count: 0, seconds: [] }));
		series.count++;
		series.seconds.push(seconds);
		if (!this.scheduled) {
			this.scheduled = true;
			setImmediate(this.flush);
		}
	}

	/**
	 * Adds what was tallied to the registry; runs by itself at the turn of the event loop after an `add`. Each
	 * series is taken out of the tally first, so a registry that throws loses that series' turn (logged) instead
	 * of counting it twice or stopping the process.
	 */
	readonly flush = (): void => {
		this.scheduled = false;
		for (const series of this.series.values()) {
			if (series.count === 0) continue;
			const { count, seconds } = series;
			series.count = 0;
			series.seconds = [];
			try {
				countMetric(this.broker, "shop.http.requests.total", { route: series.route, method: series.method, status: String(series.status) }, count);
				observeAllSeconds(this.broker, "shop.http.request.duration.seconds", seconds, { route: series.route, method: series.method });
			} catch (err) {
				this.broker.logger.warn(`Could not add ${count} requests of ${series.method} ${series.route} to the metrics.`, err);
			}
		}
	};
}
