/**
 * Outages of the servers a node depends on, each on a private server process so the shared ones stay up:
 * Redis down (reads still answered from the store, then the cacher reconnects by itself), MongoDB
 * restarted (the node heals), NATS restarted (nodes reconnect and serve again).
 */
import type { ServiceBroker } from "moleculer";
import { startNode, startNats, startRedis, uniqueNamespace, waitFor } from "./support";
import { as, productInput } from "../helpers";
import { startMongoWire } from "../../scripts/mongo-wire";
import type { Product } from "../../domain/catalog";

const admin = as("admin-1", "admin");

describe("Redis outage", () => {
	it("answers every read from the store while Redis is down, and caches again once it is back", async () => {
		let redis = await startRedis();
		const node = await startNode("redis-fault", ["products"], { namespace: uniqueNamespace("redis"), cacher: redis.url, transporter: "" });
		try {
			await waitFor(() => (node.cacher as any).connected === true, "the cacher to connect");
			const product = await node.call<Product, any>("products.create", productInput({ price: 4200 }), admin);
			const store = jest.spyOn((node.getLocalService("products") as any).adapter, "findById");
			await node.call("products.get", { id: product.id });
			await node.call("products.get", { id: product.id });
			expect(store).toHaveBeenCalledTimes(1);

			await redis.kill();
			store.mockClear();
			const reads = await Promise.allSettled(Array.from({ length: 20 }, () => node.call<Product, any>("products.get", { id: product.id })));
			expect(reads.filter(r => r.status === "rejected")).toEqual([]);
			expect(reads.every(r => r.status === "fulfilled" && r.value.price === 4200)).toBe(true);
			expect(store.mock.calls.length).toBeGreaterThan(0);

			redis = await startRedis(redis.port);
			await waitFor(() => (node.cacher as any).connected === true, "the cacher to reconnect");
			await node.call("products.get", { id: product.id });
			store.mockClear();
			await node.call("products.get", { id: product.id });
			expect(store).not.toHaveBeenCalled();
		} finally {
			await node.stop();
			await redis.kill();
		}
	});
});

describe("MongoDB restart", () => {
	it("serves again after the server comes back, without restarting the node", async () => {
		let mongo = await startMongoWire();
		const saved = process.env.MONGO_URI;
		process.env.MONGO_URI = mongo.uri;
		const node = await startNode("mongo-fault", ["products"], { namespace: uniqueNamespace("mongo"), transporter: "", cacher: "Memory" });
		try {
			await node.call("products.create", productInput(), admin);
			await mongo.stop();
			await expect(node.call("products.list", { q: "any" })).rejects.toThrow(/server|connect|topology|timed out|closed/i);
			mongo = await startMongoWire({ port: mongo.port });
			// The restarted test server is empty: a successful query is the proof the connection healed.
			const page = await waitFor(() => node.call<any, any>("products.list", { q: "again" }), "the MongoDB connection to heal", 40_000);
			expect(page.total).toBe(0);
			expect(await node.call("products.create", productInput(), admin)).toMatchObject({ id: expect.any(String) });
		} finally {
			process.env.MONGO_URI = saved;
			await node.stop();
			await mongo.stop();
		}
	}, 60_000);
});

describe("NATS restart", () => {
	it("reconnects every node and serves again by itself", async () => {
		let nats = await startNats();
		const namespace = uniqueNamespace("nats");
		const nodes: ServiceBroker[] = [];
		try {
			nodes.push(await startNode("nats-products", ["products"], { namespace, transporter: nats.url, cacher: "Memory" }));
			nodes.push(await startNode("nats-caller", [], { namespace, transporter: nats.url, cacher: "Memory" }));
			const [, caller] = nodes;
			await caller.waitForServices(["products"], 10_000);
			const product = await caller.call<Product, any>("products.create", productInput({ name: "Natsy Lantern" }), admin);
			expect((await caller.call<any, any>("products.get", { id: product.id })).name).toBe("Natsy Lantern");

			await nats.kill();
			// Short call timeouts (ms): a request published while NATS is away is lost, not queued for ever.
			await expect(caller.call("products.list", { q: "down" }, { timeout: 1000 })).rejects.toMatchObject({ code: 504, type: "REQUEST_TIMEOUT" });
			nats = await startNats(nats.port);
			const again = await waitFor(
				() => caller.call<Product, any>("products.get", { id: product.id }, { timeout: 1000 }),
				"the cluster to serve again after NATS restarted",
				40_000
			);
			expect(again.name).toBe("Natsy Lantern");
		} finally {
			await Promise.all(nodes.map(node => node.stop()));
			await nats.kill();
		}
	}, 60_000);
});
