/**
 * Traces across nodes (lib/tracing.ts): `npm run cluster`'s nodes export to a small Zipkin v2 receiver run
 * by the test (what an OpenTelemetry Collector's zipkin receiver takes); one checkout is one trace whose id
 * is its request id, with one root (the gateway's span), spans on the api, orders, carts, products and
 * payments nodes, store spans and the durable event's delivery, every parent in the trace.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Cluster } from "../../scripts/cluster";
import { client } from "../http/client";
import { deleteStreams, startTestCluster, waitFor } from "./support";

interface ZipkinSpan {
	traceId: string;
	id: string;
	parentId?: string | null;
	name: string;
	localEndpoint?: { serviceName?: string };
	tags?: Record<string, string>;
}

describe("traces across the cluster's nodes", () => {
	const spans: ZipkinSpan[] = [];
	const receiver = http.createServer((req, res) => {
		let body = "";
		req.on("data", chunk => (body += chunk));
		req.on("end", () => {
			if (req.method === "POST" && req.url === "/api/v2/spans") spans.push(...(JSON.parse(body) as ZipkinSpan[]));
			res.writeHead(202).end();
		});
	});
	let cluster: Cluster;
	let namespace: string;

	beforeAll(async () => {
		await new Promise<void>(resolve => receiver.listen(0, "127.0.0.1", resolve));
		const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/v2/spans`;
		({ cluster, namespace } = await startTestCluster("tracing", {}, { OTEL_EXPORTER_ZIPKIN_ENDPOINT: endpoint, LOG_FORMAT: "json", LOGLEVEL: "info" }));
	}, 120_000);
	afterAll(async () => {
		await cluster?.stop();
		await deleteStreams(namespace);
		receiver.close();
	}, 60_000);

	it("exports one checkout as one trace: its request id, one root, five node types, no orphan span", async () => {
		const api = client(cluster.url);
		const product = (await api("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		const { token } = (await api("POST", "/auth/register", { body: { email: "trace@example.com", password: "correct-horse-1", name: "T" } })).body;
		await api("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
		const requestId = randomUUID();
		const order = await api("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "X-Request-Id": requestId } });
		expect(order.status).toBe(201);
		const traceId = requestId.replace(/-/g, "");
		const trace = (await waitFor(() => {
			const mine = spans.filter(span => span.traceId === traceId);
			const services = new Set(mine.map(span => span.localEndpoint?.serviceName));
			return ["api", "orders", "carts", "products", "payments"].every(s => services.has(s)) && mine.some(span => span.name.startsWith("channel ") && span.name.endsWith("order.paid")) ? mine : null;
		}, "the checkout's spans from five node types and the order.paid delivery", 20_000))!;
		// Spans of the nodes that flush last may still be on their way: give every parent its child's trace.
		await waitFor(() => {
			const ids = new Set(spans.filter(span => span.traceId === traceId).map(span => span.id));
			return spans.filter(span => span.traceId === traceId).every(span => !span.parentId || ids.has(span.parentId));
		}, "every parent span of the trace", 10_000).catch(() => undefined);
		const all = spans.filter(span => span.traceId === traceId);
		const ids = new Set(all.map(span => span.id));
		const roots = all.filter(span => !span.parentId);
		expect(roots.map(span => [span.name, span.localEndpoint?.serviceName])).toEqual([["POST /api/orders", "api"]]);
		expect(all.filter(span => span.parentId && !ids.has(span.parentId)).map(span => span.name)).toEqual([]);
		expect(new Set(all.map(span => span.tags?.["moleculer.nodeID"])).size).toBeGreaterThanOrEqual(5);
		expect(all.some(span => span.name.startsWith("store.") && span.localEndpoint?.serviceName === "orders")).toBe(true);
		expect(trace.length).toBeGreaterThan(10);
	});
});
