/**
 * The Redis cacher's cleans (`ResilientRedisCacher`, lib/cacher.ts) against the real Redis, with thousands of
 * another application's keys beside the shop's: cleaning a service's entries takes no SCAN, cleans that
 * service only, shows on every node at once, and unlinks the old entries in the background; a generation's
 * members hold only live entries; the REPL's key list names the current entries only; a clean of everything
 * still empties the cache. Then the cache cleaners (mixins/cache-cleaner.mixin.ts): on the `cache.clean.<service>`
 * event a per-node memory cacher is cleaned at once, a shared Redis (cleaned by the writer) only by the second
 * clean; the writer broadcasts that event for per-node memory cachers only, and with a shared Redis cleans
 * twice itself. Cross-node reads after a
 * write through the services are in nodes.test.ts.
 */
import { ServiceBroker } from "moleculer";
import Redis from "ioredis";
import { REDIS_URL, uniqueNamespace, waitFor } from "./support";
import { ResilientRedisCacher, servicePattern } from "../../lib/cacher";
import { CacheCleanerMixin, type CacheCleanerMethods } from "../../mixins/cache-cleaner.mixin";

describe("the Redis cacher's cleans", () => {
	const namespace = uniqueNamespace("cacher");
	const others = `other-app-${namespace}`;
	let redis: Redis;
	const brokers: ServiceBroker[] = [];
	const cachers: ResilientRedisCacher[] = [];

	beforeAll(async () => {
		for (const id of ["one", "two"]) {
			const cacher = new ResilientRedisCacher(REDIS_URL, { ttl: 60 });
			const broker = new ServiceBroker({ nodeID: `${namespace}-${id}`, namespace, logger: false, cacher });
			await broker.start();
			brokers.push(broker);
			cachers.push(cacher);
		}
		redis = new Redis(REDIS_URL);
		const fill = redis.pipeline();
		for (let i = 0; i < 5000; i++) fill.set(`${others}:${i}`, "x", "EX", 120);
		await fill.exec();
	});
	afterAll(async () => {
		for (const pattern of [`${others}:*`, `*${namespace}*`]) {
			const keys = await redis.keys(pattern);
			for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
		}
		redis.disconnect();
		await Promise.all(brokers.map(broker => broker.stop()));
	});

	it("cleans one service's entries with one command, whatever else Redis holds", async () => {
		const [cacher] = cachers;
		await cacher.set("products.get:1", { price: 100 });
		await cacher.set("products.list:page=1", { rows: [1] });
		await cacher.set("carts.get:c1", { items: 2 });
		expect(await cacher.get("products.get:1")).toEqual({ price: 100 });

		const scans = jest.spyOn((cacher as unknown as { client: { scanStream(): unknown } }).client, "scanStream");
		await cacher.clean("products.**");
		expect(scans).not.toHaveBeenCalled();
		scans.mockRestore();

		expect(await cacher.get("products.get:1")).toBeUndefined();
		expect(await cacher.get("products.list:page=1")).toBeUndefined();
		expect(await cacher.get("carts.get:c1")).toEqual({ items: 2 });
		expect(await redis.exists(`${others}:0`)).toBe(1);
	});

	it("unlinks the old entries in the background, and lists the current ones by the names callers use", async () => {
		const [cacher] = cachers;
		await cacher.set("products.get:5", { price: 500 });
		await cacher.set("carts.get:c5", { items: 5 });
		const stored = await redis.keys(`MOL-${namespace}-products.*`);
		expect(stored.length).toBeGreaterThan(0);
		await cacher.clean("products.**");
		await cacher.set("products.get:6", { price: 600 });
		await waitFor(async () => (await Promise.all(stored.map(key => redis.exists(key)))).every(n => n === 0), "the old generation's entries to be unlinked", 5000);
		const keys = (await cacher.getCacheKeys()).map(({ key }) => key);
		expect(keys).toContain("products.get:6");
		expect(keys).toContain("carts.get:c5");
		expect(keys.filter(key => key.startsWith("products."))).toEqual(["products.get:6"]);
		expect(keys.filter(key => key.startsWith("generation:"))).toEqual([]);
	});

	it("keeps only live entries among a generation's members, so a long generation does not grow without bound", async () => {
		const [cacher] = cachers;
		await cacher.set("products.list:q=short-lived", { rows: [] }, 1);
		const [short] = await redis.keys(`MOL-${namespace}-products.*q=short-lived`);
		await waitFor(async () => (await redis.exists(short)) === 0, "the 1 s entry to expire", 5000);
		await cacher.set("products.list:q=long-lived", { rows: [] }, 60);
		const members = `MOL-${namespace}-generation:products:${await redis.get(`MOL-${namespace}-generation:products`)}`;
		const listed = await redis.zrange(members, 0, -1);
		expect(listed.some(key => key.endsWith("q=long-lived"))).toBe(true);
		expect(listed.some(key => key.endsWith("q=short-lived"))).toBe(false);
		expect(await redis.ttl(members)).toBeGreaterThan(60);
	});

	it("shows a clean on one node at the next read on another", async () => {
		const [one, two] = cachers;
		await one.set("products.get:2", { price: 200 });
		expect(await two.get("products.get:2")).toEqual({ price: 200 });
		await two.clean("products.**");
		expect(await one.get("products.get:2")).toBeUndefined();
		await one.set("products.get:2", { price: 250 });
		expect(await two.get("products.get:2")).toEqual({ price: 250 });
	});

	it("empties the whole cache on a clean of everything", async () => {
		const [cacher] = cachers;
		await cacher.set("products.get:3", { price: 300 });
		await cacher.set("carts.get:c3", { items: 3 });
		await cacher.clean();
		expect(await cacher.get("products.get:3")).toBeUndefined();
		expect(await cacher.get("carts.get:c3")).toBeUndefined();
		expect(await redis.exists(`${others}:0`)).toBe(1);
	});

	it("cleans by service for every pattern that spells the service out, and by scan otherwise", () => {
		expect(["products.**", "products.*", "products.get:*", "v2.products.**"].map(servicePattern)).toEqual(["products", "products", "products", "v2"]);
		expect(["*", "**", "prod*.**", "products*"].map(servicePattern)).toEqual([null, null, null, null]);
	});
});

describe("the cache cleaners' event (mixins/cache-cleaner.mixin.ts)", () => {
	const namespace = uniqueNamespace("cleaner");
	const brokers: ServiceBroker[] = [];
	afterAll(() => Promise.all(brokers.map(broker => broker.stop())));

	async function brokerWith(cacher: ServiceBroker["options"]["cacher"]): Promise<ServiceBroker> {
		return (await writerWith(cacher)).broker;
	}

	/** A broker with the mixin's service, which writes `items` (its `cleanEverywhere`), and a spy on its broadcasts. */
	async function writerWith(cacher: ServiceBroker["options"]["cacher"]) {
		const broker = new ServiceBroker({ nodeID: `${namespace}-${brokers.length}`, namespace, logger: false, cacher });
		const service = broker.createService({ name: "cleaner", mixins: [CacheCleanerMixin(["items"])] }) as unknown as CacheCleanerMethods;
		await broker.start();
		brokers.push(broker);
		if (cacher !== "Memory") await waitFor(() => (broker.cacher as unknown as { connected: boolean }).connected, "the cacher to connect");
		return { broker, service, broadcast: jest.spyOn(broker, "broadcast") };
	}

	it("drops a per-node memory cacher's entries as soon as it arrives", async () => {
		const broker = await brokerWith("Memory");
		await broker.cacher!.set("items.get:1", { price: 1 });
		await broker.broadcastLocal("cache.clean.items");
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
	});

	it("leaves a shared Redis to the writer's own clean, and cleans it once more shortly after", async () => {
		const broker = await brokerWith(new ResilientRedisCacher(REDIS_URL, { ttl: 60 }));
		await broker.cacher!.set("items.get:1", { price: 1 });
		await broker.broadcastLocal("cache.clean.items");
		expect(await broker.cacher!.get("items.get:1")).toEqual({ price: 1 });
		await waitFor(async () => (await broker.cacher!.get("items.get:1")) === undefined, "the second clean", 5000);
	});

	it("has a writer with a per-node memory cacher clean its own at once and broadcast the event to the others", async () => {
		const { broker, service, broadcast } = await writerWith("Memory");
		await broker.cacher!.set("items.get:1", { price: 1 });
		await service.cleanEverywhere("items");
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
		expect(broadcast).toHaveBeenCalledWith("cache.clean.items");
	});

	it("has a writer with a shared Redis clean it at once without a broadcast, and once more shortly after", async () => {
		const { broker, service, broadcast } = await writerWith(new ResilientRedisCacher(REDIS_URL, { ttl: 60 }));
		await broker.cacher!.set("items.get:1", { price: 1 });
		await service.cleanEverywhere("items");
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
		expect(broadcast).not.toHaveBeenCalled();
		// A read that began before the write stores the old value after the clean: the second clean drops it.
		await broker.cacher!.set("items.get:1", { price: 1 });
		await waitFor(async () => (await broker.cacher!.get("items.get:1")) === undefined, "the second clean", 5000);
	});
});
