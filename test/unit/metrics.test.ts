/**
 * KeyedHistogram (lib/metrics.ts): the same values and snapshots as Moleculer's own histogram, for every
 * option Moleculer's histograms take (buckets, quantiles, rate), over many label sets and values.
 */
import { MetricTypes, ServiceBroker } from "moleculer";
import { KeyedHistogram, MoleculerHistogram, bucketsOnlyMiddleware } from "../../lib/metrics";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function broker(): ServiceBroker {
	return new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] } });
}

/** The same observations into a stock histogram and a KeyedHistogram with `options`; answers both snapshots. */
function observeBoth(options: object): [unknown, unknown] {
	const registry = broker().metrics;
	const Stock = MoleculerHistogram as unknown as new (opts: object, registry: unknown) => { observe(v: number, l?: object, t?: number): unknown; generateSnapshot(): unknown };
	const stock = new Stock({ name: "stock", type: "histogram", labelNames: ["route", "method"], ...options }, registry);
	const keyed = new KeyedHistogram({ name: "keyed", type: "histogram", labelNames: ["route", "method"], ...options }, registry);
	let seed = 7;
	const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
	for (let i = 0; i < 5000; i++) {
		const labels = { route: ["/a", "/b/:id", "/c"][i % 3], method: i % 5 === 0 ? "POST" : "GET" };
		// Values on, below, between and above the bounds, and the same timestamp for both.
		const value = i % 11 === 0 ? BUCKETS[i % BUCKETS.length] : next() * 12;
		stock.observe(value, labels, 1_700_000_000_000 + i);
		keyed.observe(value, labels, 1_700_000_000_000 + i);
	}
	return [stock.generateSnapshot(), (keyed as unknown as { generateSnapshot(): unknown }).generateSnapshot()];
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

	it("is what a broker with the metrics middleware registers for histograms, without quantiles", () => {
		const b = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] }, middlewares: [bucketsOnlyMiddleware] });
		const metric = b.metrics.register({ name: "shop.test.seconds", type: "histogram", buckets: BUCKETS, quantiles: true });
		expect(metric).toBeInstanceOf(KeyedHistogram);
		expect((metric as unknown as { quantiles?: unknown }).quantiles).toBeFalsy();
	});
});
