/**
 * Losing a store server (scripts/ha.ts clusters on loopback), as reliability scenarios: `npm run reliability`
 * writes their rows into RELIABILITY.md, and test/ha/ asserts on the same outcomes.
 *
 * - natsServerLoss: `npm run cluster`'s nodes on a 3-server NATS cluster (streams R3); checkouts at a steady
 *   rate while the server holding most connections is SIGKILLed, then started again; a client retries what
 *   failed with its Idempotency-Key.
 * - redisFailover: the nodes on Redis with Sentinels; the primary is SIGKILLed during catalog reads and
 *   checkouts, a price is changed while Redis has no primary, then the login throttle must count in the new
 *   primary again.
 */
import { execFileSync } from "node:child_process";
import { startCluster, type Cluster } from "../cluster";
import { startNatsCluster, startRedisSentinels } from "../ha";
import { NATS_URL, REDIS_URL, deleteStreams, jetStreamState, uniqueNamespace, waitFor } from "../harness";
import { client, freePort, type Reply } from "../net";
import { countStores, databaseFor, type Outcome } from "./scenarios";

const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, opts: object): Promise<any> } };

/** What the HA scenarios measure besides the stores' counts. */
export interface HaOutcome extends Outcome {
	/** Requests that failed while the server was away (retried afterwards), and the longest answer (ms). */
	failedDuringOutage: number;
	longestMs: number;
	/** Confirmations of `order.paid` (one per paid order when each event took effect once). */
	confirmations: number;
	/** Carts still holding items after every checkout was paid. */
	cartsLeft: number;
	/** Orders whose events are still in their outbox (not published yet) when the confirmations were counted. */
	outboxPending: number;
	/** On a shortfall of confirmations: the JetStream streams and consumers, and the nodes' last log lines. */
	diagnosis?: string;
	/** Free-form figures for the row (failover time, reads…). */
	notes: string[];
}

const SHOPPER_ENV = { RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000", LOGLEVEL: "warn", ORDER_RECOVERY_AFTER: "5", ORPHAN_SWEEP_AFTER: "10" };

/** Starts `npm run cluster`'s nodes with `env`, in a namespace and database of their own. */
async function shopOn(label: string, env: NodeJS.ProcessEnv): Promise<{ cluster: Cluster; namespace: string; logs: string[] }> {
	const namespace = uniqueNamespace(label);
	const logs: string[] = [];
	const cluster = await startCluster({
		port: await freePort(),
		env: { ...process.env, ...SHOPPER_ENV, NAMESPACE: namespace, ...(process.env.MONGO_URI && { MONGO_URI: databaseFor(namespace) }), ...env },
		log: line => logs.push(line)
	}).catch(err => {
		throw new Error(`${err.message}\n${logs.slice(-30).join("\n")}`);
	});
	return { cluster, namespace, logs };
}

/** `count` customers, each with one unit of the product with the most stock in their cart. */
async function shoppers(http: ReturnType<typeof client>, prefix: string, count: number) {
	const rows: { id: string; stock: number; price: number }[] = (await http("GET", "/products?pageSize=100")).body.rows;
	const product = rows.reduce((best, row) => (row.stock > best.stock ? row : best));
	if (product.stock < count) throw new Error(`No product has ${count} units`);
	const list = await Promise.all(
		Array.from({ length: count }, async (_, i) => {
			const registered = await http("POST", "/auth/register", { body: { email: `${prefix}-${i}@reliability.test`, password: "correct-horse-1", name: `S${i}` } });
			if (registered.status !== 201) throw new Error(`register: ${registered.status}`);
			const token: string = registered.body.token;
			await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
			return { token, key: `${prefix}-${i}` };
		})
	);
	return { product, list };
}

/** Checks out `list` one every `gapMs`, calling `at(i)` before the i-th; retries what failed until paid. */
async function steadyCheckouts(http: ReturnType<typeof client>, list: { token: string; key: string }[], gapMs: number, at: (i: number) => Promise<void>) {
	const checkout = (s: { token: string; key: string }): Promise<Reply> => http("POST", "/orders", { token: s.token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": s.key }, timeoutMs: 30_000 }).catch(() => ({ status: 0, body: null, headers: new Headers() }));
	let failed = 0;
	let longestMs = 0;
	const answers: Promise<void>[] = [];
	for (const [i, shopper] of list.entries()) {
		await at(i);
		const started = Date.now();
		answers.push(
			checkout(shopper).then(res => {
				longestMs = Math.max(longestMs, Date.now() - started);
				if (res.status !== 201) failed++;
			})
		);
		await new Promise(resolve => setTimeout(resolve, gapMs));
	}
	await Promise.all(answers);
	let refused = 0;
	await Promise.all(
		list.map(s =>
			waitFor(async () => {
				const res = await checkout(s);
				if (res.status === 409 && res.body?.type === "INSUFFICIENT_STOCK") refused++;
				return res.status === 201 || res.status === 409 ? true : null;
			}, `checkout ${s.key} to end`, 60_000)
		)
	);
	return { failed, longestMs, refused };
}

/** The store counts, confirmations and cart contents once no order is pending. */
async function countAfter(cluster: Cluster, product: { id: string; stock: number }) {
	const mongo = await MongoClient.connect(cluster.mongoUri, { useUnifiedTopology: true });
	try {
		const db = mongo.db();
		await waitFor(async () => (await db.collection("orders").countDocuments({ status: "pending" })) === 0, "no pending order", 60_000);
		const counts = await countStores((collection, query) => db.collection(collection).find(query).toArray(), new Map([[product.id, product.stock]]));
		await waitFor(async () => (await db.collection("notifications").countDocuments({ kind: "order.paid" })) >= counts.paid, "a confirmation per paid order", 60_000).catch(() => undefined);
		const confirmations = await db.collection("notifications").countDocuments({ kind: "order.paid" });
		const cartsLeft = (await db.collection("carts").find({}).toArray()).filter((c: { items: unknown[] }) => c.items.length > 0).length;
		// A publish whose acknowledgement was lost in the outage leaves its order's outbox pending (the event
		// may well be delivered) until recovery sends it again: every ORDER_RECOVERY_AFTER (5 s) here.
		const unsent = () => db.collection("orders").countDocuments({ outboxPending: true });
		await waitFor(async () => (await unsent()) === 0, "every order's events published", 30_000).catch(() => undefined);
		const outboxPending = await unsent();
		return { counts, confirmations, cartsLeft, outboxPending };
	} finally {
		await mongo.close();
	}
}

/** See the file's comment. `checkouts` at one per 150 ms; the server dies before the 1/4 mark, returns at 3/5. */
export async function natsServerLoss(checkouts = 24): Promise<HaOutcome> {
	const nats = await startNatsCluster(3);
	const { cluster, namespace, logs } = await shopOn("ha-nats", { TRANSPORTER: nats.url, CACHER: REDIS_URL, NATS_STREAM_REPLICAS: "3" }).catch(async err => {
		await nats.stop();
		throw err;
	});
	try {
		const http = client(cluster.url);
		const { product, list } = await shoppers(http, `${namespace}-nats`, checkouts);
		let victim = 0;
		let connections = "";
		const run = await steadyCheckouts(http, list, 150, async i => {
			if (i === Math.floor(checkouts / 4)) {
				const counts = await nats.connections();
				connections = counts.join("/");
				victim = counts.indexOf(Math.max(...counts));
				await nats.servers[victim].kill();
			}
			if (i === Math.floor((3 * checkouts) / 5)) await nats.servers[victim].start();
		});
		const { counts, confirmations, cartsLeft, outboxPending } = await countAfter(cluster, product);
		const diagnosis = confirmations < counts.paid ? `${await jetStreamState(namespace, nats.url).catch(err => `JetStream state unavailable: ${err.message}`)}\n${logs.slice(-20).join("\n")}` : undefined;
		return {
			scenario: "NATS server SIGKILLed during checkouts (3-server cluster, streams R3)",
			load: `${checkouts} checkouts, one per 150 ms`,
			faults: `the server with most connections (${connections}) killed, restarted 9 checkouts later; ${run.failed} requests failed meanwhile (retried with their key), longest answer ${run.longestMs} ms; ${confirmations} confirmations for ${counts.paid} paid orders, ${cartsLeft} carts left full`,
			refused: run.refused,
			serverErrors: 0,
			failedDuringOutage: run.failed,
			longestMs: run.longestMs,
			confirmations,
			cartsLeft,
			outboxPending,
			diagnosis,
			notes: [`connections ${connections}`],
			...counts
		};
	} finally {
		await cluster.stop();
		await nats.stop();
	}
}

/** See the file's comment. */
export async function redisFailover(checkouts = 10): Promise<HaOutcome> {
	const redis = await startRedisSentinels(3, 1000);
	await waitFor(() => /master_link_status:up/.test(execFileSync("redis-cli", ["-p", String(redis.replica.port), "INFO", "replication"], { encoding: "utf8" })), "the replica to sync", 20_000);
	const { cluster, namespace, logs } = await shopOn("ha-redis", { TRANSPORTER: NATS_URL, CACHER: redis.url, ADMIN_EMAIL: "ops@reliability.test", ADMIN_PASSWORD: "ops-password-123", LOGIN_MAX_FAILURES: "3" }).catch(async err => {
		await redis.stop();
		throw err;
	});
	try {
		const http = client(cluster.url);
		const { token: admin } = (await http("POST", "/auth/login", { body: { email: "ops@reliability.test", password: "ops-password-123" } })).body;
		const { product, list } = await shoppers(http, `${namespace}-redis`, checkouts);
		const keysIn = (pattern: string) => execFileSync("redis-cli", ["-p", String(redis.replica.port), "--scan", "--pattern", pattern], { encoding: "utf8" }).trim();

		let reading = true;
		let reads = 0;
		let readErrors = 0;
		const reader = (async () => {
			while (reading) {
				const res = await http("GET", `/products/${product.id}`, { timeoutMs: 10_000 }).catch(() => ({ status: 0 }));
				reads++;
				if (res.status !== 200) readErrors++;
			}
		})();
		let killedAt = 0;
		let staleRead = false;
		const run = await steadyCheckouts(http, list, 150, async i => {
			if (i !== 2) return;
			killedAt = Date.now();
			await redis.primary.kill();
			// A write while Redis has no primary: the next read must show it.
			const price = product.price + 101;
			const patched = await http("PATCH", `/products/${product.id}`, { token: admin, body: { price } });
			staleRead = patched.status !== 200 || (await http("GET", `/products/${product.id}`)).body.price !== price;
		});
		await waitFor(async () => (Number(execFileSync("redis-cli", ["-p", String(redis.sentinels[0].port), "SENTINEL", "get-master-addr-by-name", "shop"], { encoding: "utf8" }).trim().split("\n")[1]) === redis.replica.port ? true : null), "the Sentinels to promote the replica", 30_000);
		const failoverMs = Date.now() - killedAt;
		// The login throttle counts in the new primary again, and answers 429 after 3 wrong passwords.
		await http("POST", "/auth/register", { body: { email: `${namespace}-victim@reliability.test`, password: "correct-horse-1", name: "V" } });
		let attempts = 0;
		await waitFor(async () => {
			attempts++;
			const res = await http("POST", "/auth/login", { body: { email: `${namespace}-victim@reliability.test`, password: "wrong-password-1" } });
			return res.status === 429 && keysIn(`shop-login-attempts:${namespace}:*`) !== "";
		}, "login attempts counted in the new primary, and a 429", 30_000).catch(err => {
			throw new Error(`${err.message}\n${logs.filter(line => /Lost Redis|is back|customers-1/.test(line)).slice(-20).join("\n")}`);
		});
		const throttleMs = Date.now() - killedAt;
		reading = false;
		await reader;
		const { counts, confirmations, cartsLeft, outboxPending } = await countAfter(cluster, product);
		return {
			scenario: "Redis primary SIGKILLed during reads and checkouts (Sentinels ×3)",
			load: `${checkouts} checkouts, one per 150 ms, and catalog reads throughout`,
			faults: `primary killed after 2 checkouts; replica promoted in ${(failoverMs / 1000).toFixed(1)} s; ${reads} reads, ${readErrors} failed; ${staleRead ? "a STALE read" : "no stale read"} of a price set during the failover; login throttle counting in the new primary ${(throttleMs / 1000).toFixed(1)} s after the kill (${attempts} attempts to its 429)`,
			refused: run.refused,
			serverErrors: readErrors + (staleRead ? 1 : 0),
			failedDuringOutage: run.failed + readErrors,
			longestMs: run.longestMs,
			confirmations,
			cartsLeft,
			outboxPending,
			notes: [`failover ${failoverMs} ms`, `reads ${reads}`, `stale ${staleRead}`],
			...counts
		};
	} finally {
		await cluster.stop();
		await redis.stop();
		await deleteStreams(namespace);
	}
}
