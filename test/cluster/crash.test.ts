/**
 * SIGKILL of the orders process in the middle of a checkout, at the two worst moments: after the stock
 * reservation before the charge, and after the charge before the order is marked paid. The restarted node
 * recovers each order to a terminal state; stock and payments agree and nothing is charged without a paid
 * order. The crash is injected with SHOP_CRASH_AT (lib/fault-points.ts).
 */
import type { ChildProcess } from "node:child_process";
import type { Cluster, ClusterNode } from "../../scripts/cluster";
import { client } from "../http/client";
import { deleteStreams, startTestCluster, waitFor } from "./support";

const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, opts: object): Promise<any> } };

describe("orders node killed mid-checkout", () => {
	let cluster: Cluster;
	let http: ReturnType<typeof client>;
	let mongo: any;
	let token: string;
	let ordersNode: ClusterNode;
	let namespace: string;

	const exited = (child: ChildProcess) => new Promise(resolve => (child.exitCode != null || child.signalCode != null ? resolve(null) : child.once("exit", resolve)));
	const stockOf = async (id: string) => (await http("GET", `/products/${id}`)).body.stock as number;

	/** Restarts orders (with `crashAt`, or none) and waits until it serves. */
	async function restartOrders(crashAt?: string) {
		ordersNode = cluster.addNode("orders", { SHOP_CRASH_AT: crashAt ?? "" });
		await waitFor(async () => (await http("GET", "/orders", { token, timeoutMs: 1000 })).status === 200, "the orders node to serve", 30_000);
	}

	/** Checks out one unit of `productId`; the orders node dies on the way, so no answer comes. */
	async function checkoutThatCrashes(productId: string): Promise<void> {
		await http("POST", "/cart/items", { token, body: { productId, quantity: 1 } });
		const answer = http("POST", "/orders", { token, body: { paymentToken: "tok_visa" } }).catch(() => null);
		await exited(ordersNode.process);
		expect(ordersNode.process.signalCode).toBe("SIGKILL");
		void answer;
	}

	beforeAll(async () => {
		({ cluster, namespace } = await startTestCluster("crash", { nodeEnv: { orders: { ORDER_RECOVERY_AFTER: "1", SHOP_CRASH_AT: "after_reserve" } } }));
		http = client(cluster.url);
		ordersNode = cluster.nodes.find(node => node.type === "orders")!;
		mongo = await MongoClient.connect(cluster.mongoUri, { useUnifiedTopology: true });
		const reg = await http("POST", "/auth/register", { body: { email: "crash@example.com", password: "crash-password", name: "C" } });
		token = reg.body.token;
	}, 120_000);
	afterAll(async () => {
		await mongo?.close();
		await cluster?.stop();
		await deleteStreams(namespace);
	}, 60_000);

	it("fails an order whose node died after the reservation: stock back, no charge", async () => {
		const product = (await http("GET", "/products?pageSize=1&sort=price")).body.rows[0];
		await checkoutThatCrashes(product.id);
		const pending = await mongo.db().collection("orders").findOne({ customerId: { $exists: true }, status: "pending" });
		expect(pending).toMatchObject({ step: "stock_reserved" });
		expect(await stockOf(product.id)).toBe(product.stock - 1);

		await restartOrders("after_charge");
		const order = await waitFor(async () => {
			const o = (await http("GET", `/orders/${pending._id}`, { token, timeoutMs: 1000 })).body;
			return o.status !== "pending" && o;
		}, "recovery to settle the order", 30_000);
		expect(order).toMatchObject({ status: "payment_failed", payment: { status: "voided" } });
		expect(await stockOf(product.id)).toBe(product.stock);
		expect(await mongo.db().collection("payments").findOne({ orderId: pending._id })).toMatchObject({ status: "voided" });
	}, 90_000);

	it("pays an order whose node died after the charge: stock sold, one captured payment", async () => {
		await http("DELETE", "/cart", { token });
		const product = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		await checkoutThatCrashes(product.id);
		const pending = await mongo.db().collection("orders").findOne({ status: "pending" });
		expect(await mongo.db().collection("payments").findOne({ orderId: pending._id })).toMatchObject({ status: "captured" });

		await restartOrders();
		const order = await waitFor(async () => {
			const o = (await http("GET", `/orders/${pending._id}`, { token, timeoutMs: 1000 })).body;
			return o.status !== "pending" && o;
		}, "recovery to settle the order", 30_000);
		expect(order).toMatchObject({ status: "paid", payment: { status: "captured" } });
		expect(await stockOf(product.id)).toBe(product.stock - 1);
	}, 90_000);

	it("leaves no order unfinished and no capture without a paid order", async () => {
		const orders = await mongo.db().collection("orders").find({}).toArray();
		expect(orders.filter((o: any) => o.status === "pending")).toEqual([]);
		const captured = await mongo.db().collection("payments").find({ status: "captured" }).toArray();
		const paidIds = new Set(orders.filter((o: any) => o.status === "paid").map((o: any) => o._id));
		expect(captured.length).toBeGreaterThan(0);
		expect(captured.every((p: any) => paidIds.has(p.orderId))).toBe(true);
	});
});
