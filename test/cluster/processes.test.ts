/**
 * The real thing: `npm run cluster`'s module starts one OS process per node type (products ×2) over NATS,
 * Redis and MongoDB; the purchase walk runs over HTTP; then one products replica is SIGKILLed and product
 * reads keep succeeding on the other.
 */
import type { Cluster } from "../../scripts/cluster";
import { client } from "../http/client";
import { deleteStreams, startTestCluster, waitFor } from "./support";

describe("the cluster as separate processes", () => {
	let cluster: Cluster;
	let http: ReturnType<typeof client>;
	let namespace: string;
	let logs: string[];

	beforeAll(async () => {
		({ cluster, namespace, logs } = await startTestCluster("processes", { healthPortBase: "free" }, { LOG_FORMAT: "json", LOGLEVEL: "info" }));
		http = client(cluster.url);
	}, 120_000);
	afterAll(async () => {
		await cluster?.stop();
		await deleteStreams(namespace);
	}, 60_000);

	it("runs every node type as its own process, products twice", () => {
		const byType = cluster.nodes.reduce<Record<string, number>>((acc, node) => ({ ...acc, [node.type]: (acc[node.type] ?? 0) + 1 }), {});
		expect(byType).toEqual({ api: 1, customers: 1, products: 2, carts: 1, notifications: 1, orders: 1, payments: 1 });
		expect(new Set(cluster.nodes.map(node => node.process.pid)).size).toBe(8);
	});

	it("serves /live and /ready on every node", async () => {
		for (const node of cluster.nodes) {
			const live = await fetch(`http://127.0.0.1:${node.healthPort}/live`);
			const ready = await fetch(`http://127.0.0.1:${node.healthPort}/ready`);
			expect(`${node.nodeID} ${live.status} ${ready.status}`).toBe(`${node.nodeID} 200 200`);
		}
	});

	it("buys a product through the gateway", async () => {
		const product = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		const reg = await http("POST", "/auth/register", { body: { email: "process-walk@example.com", password: "process-pass", name: "P" } });
		expect(reg.status).toBe(201);
		const token = reg.body.token;
		expect((await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } })).status).toBe(200);
		const order = await http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": "process-walk" } });
		expect(order).toMatchObject({ status: 201, body: { status: "paid", total: product.price } });
		expect((await http("GET", `/orders/${order.body.id}`, { token })).body.status).toBe("paid");
		expect((await http("GET", `/products/${product.id}`)).body.stock).toBe(product.stock - 1);
	});

	it("logs one checkout as JSON lines on four nodes, all with the request's X-Request-Id", async () => {
		const product = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		const { token } = (await http("POST", "/auth/register", { body: { email: "process-logs@example.com", password: "process-pass", name: "L" } })).body;
		await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
		const requestId = `logs-${namespace}`;
		const order = await http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "X-Request-Id": requestId } });
		expect(order.body.status).toBe("paid");
		// Every node line is "[<type>-<i>] <one JSON object>".
		const lines = () =>
			logs
				.map(line => /^\[[a-z]+-\d+\] (\{.*\})$/.exec(line)?.[1])
				.filter((json): json is string => Boolean(json))
				.map(json => JSON.parse(json) as { time: string; level: string; nodeID: string; service?: string; message: string; requestId?: string });
		// The confirmation e-mail comes through a durable event, after the answer: wait for it.
		const ofRequest = (await waitFor(() => {
			const mine = lines().filter(line => line.requestId === requestId);
			return new Set(mine.map(line => line.nodeID)).size >= 4 && mine.some(line => line.service === "notifications") ? mine : null;
		}, "the checkout's lines from four nodes"))!;
		expect(new Set(ofRequest.map(line => line.service))).toEqual(new Set(["api", "orders", "payments", "notifications"]));
		for (const line of ofRequest) expect(Object.keys(line)).toEqual(expect.arrayContaining(["time", "level", "nodeID", "service", "message", "requestId"]));
		expect(ofRequest.find(line => line.service === "api")!.message).toContain(`POST /api/orders 201`);
	});

	it("keeps serving product reads after a products replica is SIGKILLed", async () => {
		const victim = cluster.nodes.find(node => node.type === "products")!;
		const gone = new Promise(resolve => victim.process.once("exit", resolve));
		victim.process.kill("SIGKILL");
		await gone;
		const ids = (await http("GET", "/products?pageSize=20")).body.rows.map((p: { id: string }) => p.id);
		const statuses: number[] = [];
		for (const id of ids) statuses.push((await http("GET", `/products/${id}`)).status);
		for (let page = 1; page <= 5; page++) statuses.push((await http("GET", `/products?page=${page}&pageSize=3&q=e`)).status);
		expect(statuses.length).toBeGreaterThanOrEqual(20);
		expect(statuses.every(status => status === 200)).toBe(true);
	});
});
