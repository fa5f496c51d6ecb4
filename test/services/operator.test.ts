/**
 * The operators' actions and REPL commands (mixins/operator.mixin.ts, lib/repl-commands.ts), on both stores:
 * every customer's orders by status, a product's stock with its holds, recovery on demand, and the tables
 * the REPL prints for them.
 */
import type { ServiceBroker } from "moleculer";
import { startBroker, as, productInput, failure } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";
import type { OrderRow, StockReport } from "../../mixins/operator.mixin";
import { REPL_COMMANDS, deadLettersTable, ordersTable, stockTable } from "../../lib/repl-commands";

describe("operator actions and REPL commands", () => {
	let broker: ServiceBroker;
	let product: Product;
	const orders: Order[] = [];
	const admin = as("admin", "admin");

	beforeAll(async () => {
		broker = await startBroker(["products", "carts", "payments", "orders"]);
		product = await broker.call<Product, any>("products.create", productInput({ sku: "OPS-001", stock: 10 }), admin);
		for (const [i, token] of ["tok_visa", "tok_chargeDeclined"].entries()) {
			const who = as(`ops-${i}`);
			await broker.call("carts.addItem", { productId: product.id, quantity: 1 }, who);
			orders.push(await broker.call<Order, any>("orders.checkout", { paymentToken: token }, who).catch(err => ({ id: err.data.orderId, status: "payment_failed" }) as Order));
		}
	});
	afterAll(() => broker.stop());

	it("lists every customer's orders, newest first, and by status", async () => {
		const all = await broker.call<OrderRow[], any>("orders.listAll", {});
		expect(all.map(o => o.id).sort()).toEqual(orders.map(o => o.id).sort());
		const paid = await broker.call<OrderRow[], any>("orders.listAll", { status: "paid" });
		expect(paid.map(o => [o.id, o.status, o.total, o.currency])).toEqual([[orders[0].id, "paid", product.price, "USD"]]);
		await expect(broker.call("orders.listAll", { status: "lost" })).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		expect(ordersTable(paid)).toContain(orders[0].id);
		expect(ordersTable([])).toBe("No orders.\n");
	});

	it("reports a product's units and the holds of checkouts in flight", async () => {
		await broker.call("products.reserveStock", { reservationId: "ops-hold", items: [{ productId: product.id, quantity: 3 }] });
		const report = await broker.call<StockReport, any>("products.stockOf", { sku: "OPS-001" });
		expect(report).toEqual({ productId: product.id, sku: "OPS-001", onHand: 9, reserved: 3, stock: 6, sold: 1, holds: [{ orderId: "ops-hold", quantity: 3, since: expect.any(String) }] });
		expect(stockTable(report)).toMatch(/ops-hold/);
		await broker.call("products.releaseStock", { reservationId: "ops-hold", items: [{ productId: product.id, quantity: 3 }] });
		expect(stockTable(await broker.call<StockReport, any>("products.stockOf", { sku: "OPS-001" }))).toMatch(/No holds\./);
		await expect(broker.call("products.stockOf", { sku: "NOPE" })).rejects.toEqual(failure(404, ErrorTypes.PRODUCT_NOT_FOUND));
	});

	it("runs recovery on demand, and names the REPL commands", async () => {
		expect(await broker.call("orders.recover")).toEqual({ settled: 0 });
		expect(REPL_COMMANDS.map(c => c.command)).toEqual(["orders", "stock <sku>", "recover", "deadletters"]);
		expect(deadLettersTable([])).toBe("No dead letters.\n");
		expect(deadLettersTable([{ seq: 7, channel: "order.paid", group: "notifications", payload: { orderId: "o-7" } }])).toMatch(/7.*order\.paid.*notifications.*o-7/);
	});
});
