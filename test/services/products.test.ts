import type { ServiceBroker } from "moleculer";
import { startBroker, failure, productInput, as, waitUntil } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import { DEMO_CATALOG } from "../../lib/demo-catalog";
import type { Product } from "../../domain/catalog";
import type { ProductPage } from "../../services/products.service";

describe("products service", () => {
	let broker: ServiceBroker;
	const admin = as("admin-1", "admin");
	const create = (overrides: Record<string, unknown> = {}) => broker.call<Product, any>("products.create", productInput(overrides), admin);

	beforeAll(async () => (broker = await startBroker(["products"], { seed: true, broker: { cacher: "Memory" } })));
	afterAll(() => broker.stop());

	it("seeds the demo catalog on first start", async () => {
		const page = await broker.call<ProductPage, any>("products.list", { pageSize: 100 });
		expect(page.total).toBe(DEMO_CATALOG.length);
		expect(page.rows.map(p => p.sku).sort()).toEqual(DEMO_CATALOG.map(p => p.sku).sort());
	});

	it("pages, filters by category, searches literally and sorts", async () => {
		const page = await broker.call<ProductPage, any>("products.list", { page: 2, pageSize: 4, sort: "price" });
		expect(page).toMatchObject({ page: 2, pageSize: 4, total: DEMO_CATALOG.length, totalPages: Math.ceil(DEMO_CATALOG.length / 4) });
		const prices = DEMO_CATALOG.map(p => p.price).sort((a, b) => a - b);
		expect(page.rows.map(p => p.price)).toEqual(prices.slice(4, 8));

		const tea = await broker.call<ProductPage, any>("products.list", { category: "Tea", pageSize: 100 });
		expect(tea.total).toBe(DEMO_CATALOG.filter(p => p.category === "Tea").length);

		const search = await broker.call<ProductPage, any>("products.list", { q: "BURR", sort: "-price" });
		expect(search.rows.map(p => p.sku)).toEqual(["DEMO-010", "DEMO-009"]);
		expect((await broker.call<ProductPage, any>("products.list", { q: ".*" })).total).toBe(0);
		expect((await broker.call<ProductPage, any>("products.list", { q: "millhouse" })).total).toBe(2);
	});

	it.each([{ pageSize: 0 }, { pageSize: 101 }, { page: 0 }, { sort: "stock" }, { q: { $ne: null } }, { category: ["Tea"] }, { extra: 1 }])(
		"rejects list params %p with 422",
		async params => {
			await expect(broker.call("products.list", params)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		}
	);

	it("creates, reads, updates and removes a product", async () => {
		const created = await create({ sku: "NEW-1", price: 4599 });
		expect(created).toMatchObject({ sku: "NEW-1", price: 4599, currency: "USD", description: "", brand: "" });
		expect(await broker.call("products.get", { id: created.id })).toEqual(created);
		const updated = await broker.call<Product, any>("products.update", { id: created.id, price: 3999 }, admin);
		expect(updated).toMatchObject({ id: created.id, price: 3999, sku: "NEW-1" });
		expect(await broker.call("products.get", { id: created.id })).toMatchObject({ price: 3999 });
		await broker.call("products.remove", { id: created.id }, admin);
		await expect(broker.call("products.get", { id: created.id })).rejects.toEqual(failure(404, ErrorTypes.PRODUCT_NOT_FOUND));
	});

	it("refuses duplicate SKUs, unknown ids and unknown fields", async () => {
		const first = await create({ sku: "DUP-1" });
		await expect(create({ sku: "DUP-1" })).rejects.toEqual(failure(409, ErrorTypes.SKU_TAKEN));
		const other = await create({ sku: "DUP-2" });
		await expect(broker.call("products.update", { id: other.id, sku: "DUP-1" }, admin)).rejects.toEqual(failure(409, ErrorTypes.SKU_TAKEN));
		await expect(broker.call("products.update", { id: "missing", price: 1 }, admin)).rejects.toEqual(failure(404, ErrorTypes.PRODUCT_NOT_FOUND));
		await expect(broker.call("products.remove", { id: "missing" }, admin)).rejects.toEqual(failure(404, ErrorTypes.PRODUCT_NOT_FOUND));
		await expect(broker.call("products.update", { id: first.id, createdAt: "x" }, admin)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		await expect(create({ price: 10.5 })).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("imports by SKU: a second import of the same entries changes nothing", async () => {
		const products = [productInput({ sku: "IMP-1" }), productInput({ sku: "IMP-2", currency: "EUR" })];
		expect(await broker.call("products.import", { products }, admin)).toEqual({ created: 2, updated: 0, unchanged: 0 });
		expect(await broker.call("products.import", { products }, admin)).toEqual({ created: 0, updated: 0, unchanged: 2 });
		products[0].price = 1234;
		expect(await broker.call("products.import", { products }, admin)).toEqual({ created: 0, updated: 1, unchanged: 1 });
		// A re-import never puts sold units back: an existing product keeps its stock.
		const [first] = (await broker.call<ProductPage, any>("products.list", { q: "Test Boot", pageSize: 100 })).rows.filter(p => p.sku === "IMP-1");
		await broker.call("products.reserveStock", { reservationId: "imp-sale", items: [{ productId: first.id, quantity: 4 }] });
		products[0].stock = 999;
		expect(await broker.call("products.import", { products }, admin)).toEqual({ created: 0, updated: 0, unchanged: 2 });
		expect(await broker.call("products.get", { id: first.id })).toMatchObject({ stock: first.stock - 4 });
	});

	const stock = async (id: string) => (await broker.call<Product, any>("products.get", { id })).stock;
	const move = (action: string, reservationId: string, items: { productId: string; quantity: number }[]) =>
		broker.call(`products.${action}`, { reservationId, items });

	it("reserves stock all or nothing, and releases it", async () => {
		const a = await create({ stock: 5 });
		const b = await create({ stock: 1 });
		await expect(move("reserveStock", "order-1", [{ productId: a.id, quantity: 3 }, { productId: b.id, quantity: 2 }])).rejects.toEqual(
			expect.objectContaining({ code: 409, type: ErrorTypes.INSUFFICIENT_STOCK, data: { productIds: [b.id] } })
		);
		expect([await stock(a.id), await stock(b.id)]).toEqual([5, 1]);

		await move("reserveStock", "order-2", [{ productId: a.id, quantity: 2 }, { productId: a.id, quantity: 3 }]);
		expect(await stock(a.id)).toBe(0);
		await move("releaseStock", "order-2", [{ productId: a.id, quantity: 5 }]);
		expect(await stock(a.id)).toBe(5);
	});

	it("makes every stock step idempotent per reservation", async () => {
		const p = await create({ stock: 10 });
		const line = [{ productId: p.id, quantity: 4 }];
		await move("reserveStock", "r-1", line);
		await move("reserveStock", "r-1", line);
		expect(await stock(p.id)).toBe(6);
		await move("releaseStock", "r-1", line);
		await move("releaseStock", "r-1", line);
		expect(await stock(p.id)).toBe(10);

		await move("reserveStock", "r-2", line);
		await move("commitStock", "r-2", line);
		await move("releaseStock", "r-2", line);
		expect(await stock(p.id)).toBe(6);
		await move("restock", "r-2", line);
		await move("restock", "r-2", line);
		expect(await stock(p.id)).toBe(10);
	});

	it("never oversells when reservations race for the last units", async () => {
		const p = await create({ stock: 7 });
		const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => move("reserveStock", `race-${i}`, [{ productId: p.id, quantity: 1 }])));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(7);
		expect(await stock(p.id)).toBe(0);
	});

	it("rejects a reservation id that is not a plain token", async () => {
		const p = await create({ stock: 1 });
		await expect(move("reserveStock", "a.b", [{ productId: p.id, quantity: 1 }])).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		await expect(move("reserveStock", "$where", [{ productId: p.id, quantity: 1 }])).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("serves a repeated read from the cache and cleans it on every write", async () => {
		const p = await create({ price: 100 });
		const store = jest.spyOn((broker.getLocalService("products") as any).adapter, "findById");
		await broker.call("products.get", { id: p.id });
		await broker.call("products.get", { id: p.id });
		expect(store).toHaveBeenCalledTimes(1);
		await broker.call("products.update", { id: p.id, price: 200 }, admin);
		store.mockClear();
		expect(await broker.call("products.get", { id: p.id })).toMatchObject({ price: 200 });
		expect(store).toHaveBeenCalledTimes(1);
		store.mockRestore();
	});

	it("cleans once more shortly after a write, removing a value a slow read cached after the first clean", async () => {
		const p = await create({ price: 100 });
		await broker.call("products.update", { id: p.id, price: 300 }, admin);
		// A slow read that started before the update stores the old answer after the first clean.
		await broker.call("products.get", { id: p.id });
		const key = ((await broker.cacher!.getCacheKeys()) as { key: string }[]).map(k => k.key).find(k => k.startsWith("products.get") && k.includes(p.id))!;
		await broker.cacher!.set(key, { ...p, price: 100 });
		expect(await broker.call("products.get", { id: p.id })).toMatchObject({ price: 100 });
		await waitUntil(async () => (await broker.call<Product, any>("products.get", { id: p.id })).price === 300);
	});

	it("keeps getMany and the stock actions off the gateway (visibility public)", () => {
		const actions = (broker.getLocalService("products") as any).schema.actions;
		for (const name of ["getMany", "reserveStock", "releaseStock", "commitStock", "restock"]) expect(actions[name].visibility).toBe("public");
	});
});
