/**
 * KeyedHistogram (lib/metrics.ts): the same values and snapshots as Moleculer's own histogram, for every
 * option Moleculer's histograms take (buckets, quantiles, rate), over many label sets and values, observed one
 * at a time or all at once. HttpRequestTally (lib/business-metrics.ts): the gateway's request metrics, exact
 * in the registry from the next turn of the event loop.
 */
import { MetricTypes, ServiceBroker } from "moleculer";
import { KeyedHistogram, MoleculerHistogram, bucketsOnlyMiddleware } from "../../lib/metrics";
import { HttpRequestTally } from "../../lib/business-metrics";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function broker(): ServiceBroker {
	return new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] } });
}

/**
 * The same observations into a stock histogram and a KeyedHistogram with `options`; answers both snapshots.
 * `batched`: the KeyedHistogram takes them with `observeAll`, in runs of up to 7 values per label set.
 */
function observeBoth(options: object, batched = false): [unknown, unknown, { count: number; rate?: { value: number | null } }[]] {
	const registry = broker().metrics;
	const Stock = MoleculerHistogram as unknown as new (opts: object, registry: unknown) => { observe(v: number, l?: object, t?: number): unknown; generateSnapshot(): unknown };
	const stock = new Stock({ name: "stock", type: "histogram", labelNames: ["route", "method"], ...options }, registry);
	const keyed = new KeyedHistogram({ name: "keyed", type: "histogram", labelNames: ["route", "method"], ...options }, registry);
	let seed = 7;
	const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
	const runs = new Map<string, { labels: object; values: number[] }>();
	for (let i = 0; i < 5000; i++) {
		const labels = { route: ["/a", "/b/:id", "/c"][i % 3], method: i % 5 === 0 ? "POST" : "GET" };
		// Values on, below, between and above the bounds, and the same timestamp for both.
		const value = i % 11 === 0 ? BUCKETS[i % BUCKETS.length] : next() * 12;
		const timestamp = batched ? 1_700_000_000_000 : 1_700_000_000_000 + i;
		stock.observe(value, labels, timestamp);
		if (!batched) keyed.observe(value, labels, timestamp);
		else {
			const key = JSON.stringify(labels);
			const run = runs.get(key) ?? { labels, values: [] };
			runs.set(key, run);
			run.values.push(value);
			if (run.values.length === 1 + (i % 7)) (keyed.observeAll(run.values, labels, timestamp), (run.values = []));
		}
	}
	for (const run of runs.values()) keyed.observeAll(run.values, run.labels, 1_700_000_000_000);
	// Label sets in the order of their keys: a batch can add a label set before an earlier single observation would.
	const byKey = (rows: unknown) => [...(rows as { key: string }[])].sort((a, b) => a.key.localeCompare(b.key));
	const items = [...(keyed as unknown as { values: Map<string, { count: number; rate?: { value: number | null } }> }).values.values()];
	return [byKey(stock.generateSnapshot()), byKey((keyed as unknown as { generateSnapshot(): unknown }).generateSnapshot()), items];
}

describe("KeyedHistogram", () => {
	it("replaces Moleculer's histogram class, which it extends", () => {
		expect(MoleculerHistogram).not.toBe(KeyedHistogram);
		expect(MoleculerHistogram.name).toBe("HistogramMetric");
		expect(MetricTypes.Histogram).toBe(KeyedHistogram);
	});

	it("counts every bucket, sum, count and last value exactly as Moleculer's histogram", () => {
		const [stock, keyed] = observeBoth({ buckets: BUCKETS });
		expect(keyed).toEqual(stock);
		expect((keyed as { buckets: Record<string, number> }[])[0].buckets["0.005"]).toBeGreaterThan(0);
	});

	it("keeps quantiles and rates when a histogram asks for them", () => {
		const [stock, keyed] = observeBoth({ buckets: BUCKETS, quantiles: [0.5, 0.99], rate: true });
		expect(keyed).toEqual(stock);
	});

	it("observes a batch of values (observeAll) exactly as Moleculer's histogram observes them one by one", () => {
		const [stock, keyed, items] = observeBoth({ buckets: BUCKETS, quantiles: [0.5, 0.99], rate: true }, true);
		expect(keyed).toEqual(stock);
		// The rate (per minute, from Moleculer's 5 s timer) starts from the count each observation leaves.
		for (const item of items) expect(item.rate?.value).toBe(item.count);
		expect((keyed as { count: number }[]).reduce((sum, row) => sum + row.count, 0)).toBe(5000);
	});

	it("is what a broker with the metrics middleware registers for histograms, without quantiles", () => {
		const b = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] }, middlewares: [bucketsOnlyMiddleware] });
		const metric = b.metrics.register({ name: "shop.test.seconds", type: "histogram", buckets: BUCKETS, quantiles: true });
		expect(metric).toBeInstanceOf(KeyedHistogram);
		expect((metric as unknown as { quantiles?: unknown }).quantiles).toBeFalsy();
	});
});

describe("HttpRequestTally", () => {
	type Row = { labels: Record<string, string>; value?: number; count?: number; sum?: number; buckets?: Record<string, number> };
	const rows = (b: ServiceBroker, name: string) => ((b.metrics.getMetric(name) as unknown as { snapshot(): Row[] } | null)?.snapshot() ?? []);
	const turn = () => new Promise(resolve => setImmediate(resolve));

	it("adds each route, method and status to the registry at the next turn of the event loop, every batch once", async () => {
		const b = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] }, middlewares: [bucketsOnlyMiddleware] });
		const tally = new HttpRequestTally(b);
		for (let i = 0; i < 10; i++) tally.add("/api/products/:id", "GET", i < 7 ? 200 : 304, 0.002);
		tally.add("/api/orders", "POST", 201, 0.03);
		await turn();
		tally.add("/api/orders", "POST", 201, 0.3);
		await turn();
		await turn();
		const count = (labels: Record<string, string>) => rows(b, "shop.http.requests.total").find(row => Object.entries(labels).every(([k, v]) => row.labels[k] === v))?.value;
		expect(count({ route: "/api/products/:id", method: "GET", status: "200" })).toBe(7);
		expect(count({ route: "/api/products/:id", method: "GET", status: "304" })).toBe(3);
		expect(count({ route: "/api/orders", method: "POST", status: "201" })).toBe(2);
		const durations = rows(b, "shop.http.request.duration.seconds");
		expect(durations.find(row => row.labels.route === "/api/products/:id")).toMatchObject({ count: 10, buckets: { "0.005": 10, "0.01": 10 } });
		const orders = durations.find(row => row.labels.route === "/api/orders")!;
		expect(orders).toMatchObject({ count: 2, buckets: { "0.025": 0, "0.05": 1, "0.25": 1, "0.5": 2 } });
		expect(orders.sum).toBeCloseTo(0.33, 10);
	});

	it("loses a turn's series with a warning when the registry throws, and neither stops nor counts it twice later", async () => {
		const b = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] }, middlewares: [bucketsOnlyMiddleware] });
		const tally = new HttpRequestTally(b);
		const warn = jest.spyOn(b.logger, "warn");
		jest.spyOn(b.metrics, "increment").mockImplementationOnce(() => {
			throw new Error("registry down");
		});
		for (let i = 0; i < 3; i++) tally.add("/api/cart", "GET", 200, 0.001);
		await turn();
		expect(warn).toHaveBeenCalledWith(expect.stringContaining("Could not add 3 requests of GET /api/cart"), expect.any(Error));
		tally.add("/api/cart", "GET", 200, 0.001);
		await turn();
		const row = rows(b, "shop.http.requests.total").find(r => r.labels.route === "/api/cart");
		expect(row?.value).toBe(1);
	});
});
