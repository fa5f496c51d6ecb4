/**
 * The Redis cacher's cleans (`ResilientRedisCacher`, lib/cacher.ts) against the real Redis, with thousands of
 * another application's keys beside the shop's: cleaning a service's entries takes no SCAN, cleans that
 * service only, shows on every node at once, and unlinks the old entries in the background; a generation's
 * members hold only live entries; the REPL's key list names the current entries only; a clean of everything
 * still empties the cache. Then the cache cleaners (mixins/cache-cleaner.mixin.ts): the `cache.clean.<service>`
 * event cleans the node's cacher at once and again shortly after; the writer broadcasts it for per-node memory
 * cachers (reaching other nodes over NATS) and when its clean did not reach Redis, and otherwise cleans the
 * shared Redis twice itself, once more after a write that came while that second clean was due, and at stop. Cross-node reads after a
 * write through the services are in nodes.test.ts.
 */
import { ServiceBroker, type BrokerOptions } from "moleculer";
import Redis from "ioredis";
import { NATS_URL, REDIS_URL, uniqueNamespace, waitFor } from "./support";
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

	it("does not report Redis lost when its node stops", async () => {
		const broker = new ServiceBroker({ nodeID: `${namespace}-stopping`, namespace, logger: false, cacher: new ResilientRedisCacher(REDIS_URL, { ttl: 60 }) });
		await broker.start();
		await waitFor(() => (broker.cacher as unknown as { connected: boolean }).connected, "the cacher to connect");
		const warn = jest.spyOn((broker.cacher as unknown as { logger: { warn(...args: unknown[]): void } }).logger, "warn");
		await broker.stop();
		await waitFor(() => (broker.cacher as unknown as { client: { status: string } }).client.status === "end", "the connection to end");
		expect(warn).not.toHaveBeenCalled();
	});

	it("cleans by service for every pattern that spells the service out, and by scan otherwise", () => {
		expect(["products.**", "products.*", "products.get:*", "v2.products.**"].map(servicePattern)).toEqual(["products", "products", "products", "v2"]);
		expect(["*", "**", "prod*.**", "products*"].map(servicePattern)).toEqual([null, null, null, null]);
	});
});

describe("the cache cleaners (mixins/cache-cleaner.mixin.ts)", () => {
	const namespace = uniqueNamespace("cleaner");
	const brokers: ServiceBroker[] = [];
	afterAll(() => Promise.all(brokers.map(broker => broker.stop())));

	/** A broker with the mixin's service, which writes `items` (its `cleanEverywhere`), and a spy on its broadcasts. */
	async function writerWith(cacher: ServiceBroker["options"]["cacher"], options: Partial<BrokerOptions> = {}) {
		const broker = new ServiceBroker({ nodeID: `${namespace}-${brokers.length}`, namespace, logger: false, cacher, ...options });
		const service = broker.createService({ name: "cleaner", mixins: [CacheCleanerMixin(["items"])] }) as unknown as CacheCleanerMethods;
		await broker.start();
		brokers.push(broker);
		if (cacher !== "Memory") await waitFor(() => (broker.cacher as unknown as { connected: boolean }).connected, "the cacher to connect");
		return { broker, service, broadcast: jest.spyOn(broker, "broadcast") };
	}
	const redisCacher = () => new ResilientRedisCacher(REDIS_URL, { ttl: 60 });
	/** Delivers `cache.clean.items` to `broker`'s services as an event that another node broadcast. */
	const fromAnotherNode = (broker: ServiceBroker) => {
		const ctx = broker.ContextFactory.create(broker, null as never, {}, {});
		Object.assign(ctx, { eventName: "cache.clean.items", eventType: "broadcast", nodeID: `${namespace}-elsewhere` });
		return broker.emitLocalServices(ctx);
	};

	it.each([["a per-node memory cacher", "Memory" as const], ["a shared Redis", "redis" as const]])("drops %s's entries as soon as the event arrives", async (_label, kind) => {
		const { broker } = await writerWith(kind === "Memory" ? "Memory" : redisCacher());
		await broker.cacher!.set("items.get:1", { price: 1 });
		await fromAnotherNode(broker);
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
	});

	it("leaves its own broadcast alone: the writer's node cleaned when it wrote", async () => {
		const { broker } = await writerWith("Memory");
		await broker.cacher!.set("items.get:1", { price: 1 });
		await broker.broadcastLocal("cache.clean.items");
		expect(await broker.cacher!.get("items.get:1")).toEqual({ price: 1 });
	});

	it("cleans once more shortly after the event, for a read that began before the write", async () => {
		const { broker } = await writerWith(redisCacher());
		await fromAnotherNode(broker);
		await broker.cacher!.set("items.get:1", { price: 1 });
		await waitFor(async () => (await broker.cacher!.get("items.get:1")) === undefined, "the second clean", 5000);
	});

	it("has a writer with a per-node memory cacher clean its own at once and broadcast the event to the others", async () => {
		const { broker, service, broadcast } = await writerWith("Memory");
		broadcast.mockResolvedValue(undefined as never);
		await broker.cacher!.set("items.get:1", { price: 1 });
		await service.cleanEverywhere("items");
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
		expect(broadcast).toHaveBeenCalledWith("cache.clean.items");
	});

	it("has a writer with a shared Redis clean it at once without a broadcast, and once more shortly after", async () => {
		const { broker, service, broadcast } = await writerWith(redisCacher());
		await broker.cacher!.set("items.get:1", { price: 1 });
		await service.cleanEverywhere("items");
		expect(await broker.cacher!.get("items.get:1")).toBeUndefined();
		expect(broadcast).not.toHaveBeenCalled();
		// A read that began before the write stores the old value after the clean: the second clean drops it.
		await broker.cacher!.set("items.get:1", { price: 1 });
		await waitFor(async () => (await broker.cacher!.get("items.get:1")) === undefined, "the second clean", 5000);
	});

	it("cleans again after a write that came while a second clean was already due", async () => {
		const { broker, service } = await writerWith(redisCacher());
		// The writer's own cleans go through cleanReached; the later ones through clean.
		const later = jest.spyOn(broker.cacher!, "clean");
		await service.cleanEverywhere("items");
		// Another write while that second clean is due: a read that began before it may store after that clean.
		await service.cleanEverywhere("items");
		await waitFor(() => later.mock.calls.length === 2, "the second clean and one more after it", 5000);
		expect(later.mock.calls).toEqual([["items.**"], ["items.**"]]);
	});

	it("has a writer whose clean did not reach Redis ask every node to clean", async () => {
		const { broker, service, broadcast } = await writerWith(redisCacher());
		jest.spyOn(broker.cacher as ResilientRedisCacher, "cleanReached").mockResolvedValueOnce(false);
		await service.cleanEverywhere("items");
		expect(broadcast).toHaveBeenCalledWith("cache.clean.items");
	});

	it("runs a due second clean when the node stops", async () => {
		// Stopping takes a few ms without the registry's stop delay, well before the clean is due (500 ms).
		const { broker, service } = await writerWith(redisCacher(), { registry: { stopDelay: 0 } });
		await service.cleanEverywhere("items");
		await broker.cacher!.set("items.get:1", { price: 1 });
		const clean = jest.spyOn(broker.cacher!, "clean");
		await broker.stop();
		brokers.splice(brokers.indexOf(broker), 1);
		expect(clean).toHaveBeenCalledWith("items.**");
	});

	it("reaches the per-node memory cachers of other nodes over NATS", async () => {
		// As the shop's nodes run (lib/broker-options.ts): every broadcast goes through NATS.
		const options = { transporter: NATS_URL, disableBalancer: true } as Partial<BrokerOptions>;
		const writer = await writerWith("Memory", options);
		const other = await writerWith("Memory", options);
		await waitFor(() => writer.broker.registry.events.getAllEndpoints("cache.clean.items").length === 2, "the writer to see the other node's handler");
		await Promise.all([writer, other].map(node => node.broker.cacher!.set("items.get:1", { price: 1 })));
		await writer.service.cleanEverywhere("items");
		await waitFor(async () => (await other.broker.cacher!.get("items.get:1")) === undefined, "the other node's clean");
		expect(await writer.broker.cacher!.get("items.get:1")).toBeUndefined();
	});
});
