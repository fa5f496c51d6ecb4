/**
 * Durable events on NATS JetStream: consumers that were down when an event was published get it when they
 * come back, with effects applied exactly once however often it is delivered, and a handler that keeps
 * failing sends its message to the dead-letter stream, where `notifications.deadLetters` shows it. Each
 * delivery is acknowledged with one message, once handled (lib/channels.ts, `createConsumerHandler`).
 */
import type { ServiceBroker } from "moleculer";
import { connect } from "nats";
import { NATS_URL, deleteStreams, startNode, uniqueNamespace, waitFor, waitForConsumersIdle, waitForStream } from "./support";
import { as, productInput } from "../helpers";
import { CHANNELS, sendToChannel } from "../../lib/channels";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";

describe("durable events across nodes", () => {
	const namespace = uniqueNamespace("events");
	const nodes: Record<string, ServiceBroker> = {};
	const admin = as("admin", "admin");
	const start = async (name: string, services: Parameters<typeof startNode>[1]) =>
		(nodes[name] = await startNode(`${namespace}-${name}`, services, { namespace }));
	const store = (name: string, service: string) => (nodes[name].getLocalService(service) as any).adapter;

	beforeAll(async () => {
		await start("products", ["products"]);
		await start("payments", ["payments"]);
		await start("carts", ["carts"]);
		await start("orders", ["orders"]);
		await nodes.orders.waitForServices(["products", "payments", "carts"], 10_000);
	});
	afterAll(async () => {
		await Promise.all(Object.values(nodes).map(node => node.stop()));
		await deleteStreams(namespace);
	});

	it("delivers order.paid to the carts and notifications nodes that were down, once in effect", async () => {
		const p = await nodes.orders.call<Product, any>("products.create", productInput({ stock: 10 }), admin);
		const ann = as("ann-events");
		await nodes.orders.call("carts.addItem", { productId: p.id, quantity: 3 }, ann);
		// The checkout's own publish is held back (as if NATS had been away), to be re-sent by recovery, and so
		// is its own end of the cart claim (as if the carts node had been away), which the event then does.
		const orders = nodes.orders.getLocalService("orders") as any;
		const publish = jest.spyOn(orders, "publishOutbox").mockResolvedValueOnce(undefined);
		const endClaim = jest.spyOn(orders, "endCartClaim").mockResolvedValueOnce(undefined);
		const order = await nodes.orders.call<Order, any>("orders.checkout", { paymentToken: "tok_visa" }, ann);
		publish.mockRestore();
		endClaim.mockRestore();
		expect((await nodes.orders.call<Product, any>("products.get", { id: p.id })).sold).toBe(3);
		await expect(nodes.orders.call("carts.addItem", { productId: p.id, quantity: 1 }, ann)).rejects.toMatchObject({ code: 409, type: "CART_BUSY" });
		expect((await store("orders", "orders").findById(order.id)).outboxPending).toBe(true);

		await nodes.carts.stop();
		await orders.publishOutbox(await store("orders", "orders").findById(order.id));
		expect((await store("orders", "orders").findById(order.id)).outboxPending).toBe(false);

		await start("carts", ["carts"]);
		await start("notifications", ["notifications"]);
		await waitFor(async () => (await nodes.orders.call<any, any>("carts.get", {}, ann)).items.length === 0, "carts to handle order.paid");
		await waitFor(async () => (await nodes.orders.call<any[], any>("notifications.list", { orderId: order.id })).length === 1, "notifications to handle order.paid");

		// A duplicate delivery changes nothing.
		await nodes.orders.call("carts.addItem", { productId: p.id, quantity: 2 }, ann);
		await sendToChannel(nodes.orders, CHANNELS.ORDER_PAID, (await store("orders", "orders").findById(order.id)).outbox[0].payload);
		await waitForConsumersIdle(namespace, CHANNELS.ORDER_PAID);
		expect((await nodes.orders.call<any, any>("carts.get", {}, ann)).itemCount).toBe(2);
		expect(await nodes.orders.call<any[], any>("notifications.list", { orderId: order.id })).toHaveLength(1);
		expect((await nodes.orders.call<Product, any>("products.get", { id: p.id })).sold).toBe(3);
	});

	it("sends a message whose handler keeps failing to the dead-letter stream, visible to the REPL", async () => {
		let deliveries = 0;
		const poison = await startNode(`${namespace}-poison`, [], { namespace });
		nodes.poison = poison;
		// A channel of the test's own: the `channels` section ChannelsMixin builds, written out.
		poison.createService({
			name: "poisoned",
			channels: { "test.poison": { async handler() { deliveries += 1; throw new Error("always fails"); } } }
		} as never);
		await poison.waitForServices(["poisoned"]);
		await waitForStream(namespace, "test.poison");
		await (poison as unknown as { sendToChannel(name: string, data: unknown): Promise<void> }).sendToChannel("test.poison", { hello: "dead letter" });
		const letters = await waitFor(async () => {
			const found = await nodes.orders.call<any[], any>("notifications.deadLetters", { limit: 5 });
			return found.length > 0 ? found : null;
		}, "the message to reach the dead-letter stream");
		expect(letters![0]).toMatchObject({ channel: `${namespace}.test.poison`, group: "poisoned", payload: { hello: "dead letter" } });
		expect(deliveries).toBeGreaterThanOrEqual(3);
	});

	it("acknowledges each delivery with one message, once its handler is done", async () => {
		const handled: number[] = [];
		const node = await startNode(`${namespace}-acks`, [], { namespace });
		nodes.acks = node;
		node.createService({ name: "acked", channels: { "test.acks": { async handler(payload: { n: number }) { handled.push(payload.n); } } } } as never);
		await node.waitForServices(["acked"]);
		await waitForStream(namespace, "test.acks");
		const nats = await connect({ servers: NATS_URL });
		const acks: string[] = [];
		// An acknowledgement's subject names the stream, after a domain and an account hash on newer servers.
		const stream = `${namespace}_test_acks`;
		const watch = nats.subscribe("$JS.ACK.>", { callback: (_err, msg) => msg.subject.split(".").includes(stream) && acks.push(msg.string()) });
		await nats.flush();
		try {
			for (const n of [1, 2, 3]) await (node as unknown as { sendToChannel(name: string, data: unknown): Promise<void> }).sendToChannel("test.acks", { n });
			await waitFor(() => handled.length === 3, "the three messages to be handled");
			await waitForConsumersIdle(namespace, "test.acks");
			await nats.flush();
			expect(acks).toEqual(["+ACK", "+ACK", "+ACK"]);
		} finally {
			watch.unsubscribe();
			await nats.close();
		}
	});
});
