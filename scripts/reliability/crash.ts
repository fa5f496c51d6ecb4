/**
 * Crash scenarios on the cluster as OS processes (`scripts/cluster.ts`): the orders node is SIGKILLed in
 * the middle of checkouts at a chosen step (SHOP_CRASH_AT), then restarted without the fault; its recovery
 * must bring every order to a terminal state. Counts are read from MongoDB afterwards.
 */
import { startCluster, type Cluster, type ClusterNode, type ClusterOptions } from "../cluster";
import { NATS_URL, REDIS_URL, deleteStreams, uniqueNamespace, waitFor } from "../harness";
import { client, exited } from "../net";
import type { FaultPoint } from "../../lib/fault-points";
import { countStores, databaseFor, type Outcome } from "./scenarios";

const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, opts: object): Promise<any> } };

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
		const http = client(cluster.url);
		const email = `${namespace}@reliability.test`;
		const { token } = (await http("POST", "/auth/register", { body: { email, password: "crash-password", name: "Crash" } })).body;
		const product = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		let orders: ClusterNode = cluster.nodes.find(node => node.type === "orders")!;
		const restart = async (crash: boolean) => {
			orders = cluster.addNode("orders", { SHOP_CRASH_AT: crash ? point : "" });
			await waitFor(async () => (await http("GET", "/orders", { token, timeoutMs: 1000 })).status === 200, "the orders node to serve", 30_000);
		};
		for (let i = 0; i < checkouts; i++) {
			await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
			void http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, timeoutMs: 15_000 }).catch(() => null);
			await exited(orders.process);
			await restart(i < checkouts - 1);
			// The dead checkout still claims the cart until recovery settles its order; then the cart is free.
			await waitFor(async () => (await http("DELETE", "/cart", { token })).status === 200, "recovery to end the cart claim", 30_000);
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
