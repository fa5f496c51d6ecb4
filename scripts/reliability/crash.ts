/**
 * Crash scenarios on the cluster as OS processes (`scripts/cluster.ts`): the orders node is SIGKILLed in
 * the middle of checkouts at a chosen step (SHOP_CRASH_AT), then restarted without the fault; its recovery
 * must bring every order to a terminal state. Counts are read from MongoDB afterwards.
 */
import type { ChildProcess } from "node:child_process";
import { startCluster, type Cluster, type ClusterNode, type ClusterOptions } from "../cluster";
import { NATS_URL, REDIS_URL, deleteStreams, uniqueNamespace, waitFor } from "../harness";
import type { FaultPoint } from "../../lib/fault-points";
import { countStores, databaseFor, type Outcome } from "./scenarios";

const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, opts: object): Promise<any> } };

function exited(child: ChildProcess): Promise<unknown> {
	return child.exitCode != null || child.signalCode != null ? Promise.resolve() : new Promise(resolve => child.once("exit", resolve));
}

/** A minimal JSON client for the gateway; `timeoutMs` in ms. */
async function http(base: string, method: string, path: string, body?: unknown, token?: string, timeoutMs = 5000) {
	const headers: Record<string, string> = { "Content-Type": "application/json" };
	if (token) headers.Authorization = `Bearer ${token}`;
	const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
	return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

/**
 * Runs `checkouts` checkouts, each killing the orders node at `point`, restarting it between them, and a
 * last restart without the fault. `options` go to startCluster (a test passes its log collector).
 */
export async function crashDuringCheckout(point: FaultPoint, checkouts = 3, options: Partial<ClusterOptions> = {}): Promise<Outcome> {
	const namespace = uniqueNamespace(`crash-${point}`);
	const logs: string[] = [];
	const cluster: Cluster = await startCluster({
		env: { ...process.env, NAMESPACE: namespace, MONGO_URI: databaseFor(namespace), TRANSPORTER: NATS_URL, CACHER: REDIS_URL, LOGLEVEL: "warn" },
		nodeEnv: { orders: { ORDER_RECOVERY_AFTER: "1", SHOP_CRASH_AT: point } },
		log: line => logs.push(line),
		...options
	}).catch(err => {
		throw new Error(`${err.message}\n${logs.slice(-30).join("\n")}`);
	});
	const mongo = await MongoClient.connect(cluster.mongoUri, { useUnifiedTopology: true });
	const db = mongo.db();
	try {
		const base = cluster.url;
		const email = `${namespace}@reliability.test`;
		const { token } = (await http(base, "POST", "/auth/register", { email, password: "crash-password", name: "Crash" })).body;
		const product = (await http(base, "GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		let orders: ClusterNode = cluster.nodes.find(node => node.type === "orders")!;
		const restart = async (crash: boolean) => {
			orders = cluster.addNode("orders", { SHOP_CRASH_AT: crash ? point : "" });
			await waitFor(async () => (await http(base, "GET", "/orders", undefined, token, 1000)).status === 200, "the orders node to serve", 30_000);
		};
		for (let i = 0; i < checkouts; i++) {
			await http(base, "POST", "/cart/items", { productId: product.id, quantity: 1 }, token);
			void http(base, "POST", "/orders", { paymentToken: "tok_visa" }, token, 15_000).catch(() => null);
			await exited(orders.process);
			await restart(i < checkouts - 1);
			await http(base, "DELETE", "/cart", undefined, token);
		}
		await waitFor(async () => (await db.collection("orders").countDocuments({ status: "pending" })) === 0, "recovery to settle every order", 30_000);
		const counts = await countStores((collection, query) => db.collection(collection).find(query).toArray(), new Map([[product.id, product.stock]]));
		const step = point === "after_reserve" ? "after the stock reservation, before the charge" : "after the charge, before the order is marked paid";
		return { scenario: `orders node SIGKILLed ${step}`, load: `${checkouts} checkouts, one at a time`, faults: `${checkouts} SIGKILLs, node restarted each time`, refused: 0, serverErrors: 0, ...counts };
	} finally {
		await mongo.close();
		await cluster.stop();
		await deleteStreams(namespace);
	}
}
