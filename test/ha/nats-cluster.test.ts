/**
 * No single NATS: `npm run cluster`'s nodes on a 3-server NATS cluster (JetStream streams with 3 replicas)
 * run checkouts at a steady rate while the server holding most of their connections is SIGKILLed, then
 * started again. Every checkout ends paid (a client retries with its Idempotency-Key what failed meanwhile):
 * none stuck, none lost, one capture per order, and every `order.paid` reached its consumers once in effect
 * (one confirmation per order, every cart emptied). Prints the failed requests and the longest pause.
 */
import { startCluster, type Cluster } from "../../scripts/cluster";
import { startNatsCluster, type NatsCluster } from "../../scripts/ha";
import { client, freePort } from "../../scripts/net";
import { REDIS_URL, uniqueNamespace, waitFor } from "../../scripts/harness";

// mongodb 3.x (moleculer-db-adapter-mongo's driver) ships no types.
const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, options: object): Promise<any> } };
const say = (line: string) => process.stdout.write(`[ha] ${line}\n`);

describe("checkouts through the loss of a NATS server", () => {
	let nats: NatsCluster;
	let cluster: Cluster;
	const logs: string[] = [];

	beforeAll(async () => {
		nats = await startNatsCluster(3);
		cluster = await startCluster({
			port: await freePort(),
			env: { ...process.env, TRANSPORTER: nats.url, CACHER: REDIS_URL, NAMESPACE: uniqueNamespace("ha-nats"), NATS_STREAM_REPLICAS: "3", LOGLEVEL: "warn", ORDER_RECOVERY_AFTER: "5", ORPHAN_SWEEP_AFTER: "10", RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000" },
			log: line => logs.push(line)
		}).catch(err => {
			throw new Error(`${err.message}\n${logs.slice(-30).join("\n")}`);
		});
	}, 120_000);
	afterAll(async () => {
		await cluster?.stop();
		await nats?.stop();
	}, 60_000);

	it("ends every checkout paid, once, with its events delivered, while a NATS server dies and comes back", async () => {
		const http = client(cluster.url);
		// The product with the most units: every shopper buys one.
		const rows: { id: string; stock: number }[] = (await http("GET", "/products?pageSize=100")).body.rows;
		const product = rows.reduce((best, row) => (row.stock > best.stock ? row : best));
		expect(product.stock).toBeGreaterThanOrEqual(24);
		const shoppers = await Promise.all(
			Array.from({ length: 24 }, async (_, i) => {
				const registered = await http("POST", "/auth/register", { body: { email: `ha-${i}@example.com`, password: "correct-horse-1", name: `H${i}` } });
				expect(registered.status).toBe(201);
				const token: string = registered.body.token;
				expect((await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } })).status).toBe(200);
				return { token, key: `ha-nats-${i}` };
			})
		);
		const checkout = (s: (typeof shoppers)[number]) => http("POST", "/orders", { token: s.token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": s.key }, timeoutMs: 30_000 }).catch(() => ({ status: 0, body: null }));

		// One checkout every 150 ms; the busiest NATS server is killed after the 6th and started after the 14th.
		let failed = 0;
		const failures: string[] = [];
		let longestMs = 0;
		const answers: Promise<void>[] = [];
		let victim = -1;
		for (const [i, shopper] of shoppers.entries()) {
			if (i === 6) {
				const counts = await nats.connections();
				victim = counts.indexOf(Math.max(...counts));
				say(`client connections per NATS server: ${counts.join(", ")}; SIGKILL ${nats.servers[victim].name}`);
				await nats.servers[victim].kill();
			}
			if (i === 14) await nats.servers[victim].start();
			const started = Date.now();
			answers.push(
				checkout(shopper).then(res => {
					longestMs = Math.max(longestMs, Date.now() - started);
					if (res.status !== 201) {
						failed++;
						failures.push(`${res.status} ${res.body?.type ?? ""}`);
					}
				})
			);
			await new Promise(resolve => setTimeout(resolve, 150));
		}
		await Promise.all(answers);
		say(`checkouts: ${shoppers.length}, failed during the outage: ${failed} (${[...new Set(failures)].join(", ")}), longest answer: ${longestMs} ms`);

		// The client retries what failed, with the same key, until each is final.
		const last = new Map<string, string>();
		const final = await Promise.all(
			shoppers.map(s =>
				waitFor(async () => {
					const res = await checkout(s);
					last.set(s.key, `${res.status} ${res.body?.type ?? ""} ${res.body?.message ?? ""}`);
					return res.status === 201 ? true : null;
				}, `checkout ${s.key} to end paid`, 60_000).catch(err => {
					throw new Error(`${err.message}; last answer: ${last.get(s.key)}\n${logs.slice(-20).join("\n")}`);
				})
			)
		);
		expect(final.every(Boolean)).toBe(true);

		const mongo = await MongoClient.connect(cluster.mongoUri, { useUnifiedTopology: true });
		try {
			const db = mongo.db();
			await waitFor(async () => (await db.collection("orders").countDocuments({ status: "pending" })) === 0, "no pending order", 60_000);
			const orders = await db.collection("orders").find({ abandoned: { $ne: true } }).toArray();
			const paid = orders.filter((o: { status: string }) => o.status === "paid");
			expect(paid.length).toBe(shoppers.length);
			expect(new Set(paid.map((o: { customerId: string }) => o.customerId)).size).toBe(shoppers.length);
			const captured = await db.collection("payments").find({ status: "captured" }).toArray();
			expect(captured.length).toBe(paid.length);
			// Each order.paid once in effect: one confirmation per paid order, every cart emptied.
			await waitFor(async () => (await db.collection("notifications").countDocuments({ kind: "order.paid" })) === paid.length, "one confirmation per paid order", 60_000);
			const carts = await db.collection("carts").find({}).toArray();
			expect(carts.filter((c: { items: unknown[] }) => c.items.length > 0).length).toBe(0);
		} finally {
			await mongo.close();
		}
	}, 300_000);
});
