import { MAX_LINE_QUANTITY, cartCurrencies, checkLineQuantity, lineQuantity, priceCart, setLineQuantity } from "../../domain/cart";

const product = (id: string, price: number, currency = "USD") => ({ id, sku: `SKU-${id}`, name: `Product ${id}`, price, currency, stock: 10 });

describe("cart rules", () => {
	it("allows a line up to the stock and to 100 units", () => {
		expect(checkLineQuantity(10, 10)).toEqual({ ok: true });
		expect(checkLineQuantity(11, 10)).toEqual({ ok: false, reason: "out_of_stock" });
		expect(checkLineQuantity(MAX_LINE_QUANTITY + 1, 1000)).toEqual({ ok: false, reason: "too_many" });
	});

	it("sets, appends and removes lines while keeping their order", () => {
		let lines = setLineQuantity([], "a", 1);
		lines = setLineQuantity(lines, "b", 2);
		lines = setLineQuantity(lines, "a", 5);
		expect(lines).toEqual([
			{ productId: "a", quantity: 5 },
			{ productId: "b", quantity: 2 }
		]);
		expect(setLineQuantity(lines, "a", 0)).toEqual([{ productId: "b", quantity: 2 }]);
		expect(lineQuantity(lines, "b")).toBe(2);
		expect(lineQuantity(lines, "zzz")).toBe(0);
	});

	it("prices lines with the current prices and drops vanished products", () => {
		const cart = priceCart(
			[
				{ productId: "a", quantity: 2 },
				{ productId: "gone", quantity: 1 },
				{ productId: "b", quantity: 3 }
			],
			[product("a", 1250), product("b", 99)]
		);
		expect(cart.items.map(i => [i.productId, i.lineTotal])).toEqual([
			["a", 2500],
			["b", 297]
		]);
		expect(cart.itemCount).toBe(5);
		expect(cart.total).toBe(2797);
		expect(cart.currency).toBe("USD");
	});

	it("lists the currencies of a cart's products", () => {
		const lines = [{ productId: "a", quantity: 1 }, { productId: "b", quantity: 1 }, { productId: "c", quantity: 1 }];
		expect(cartCurrencies(lines, [product("a", 1), product("b", 1, "EUR"), product("c", 1)])).toEqual(["USD", "EUR"]);
		expect(cartCurrencies(lines, [product("a", 1)])).toEqual(["USD"]);
	});

	it("gives an empty cart the default currency and the products' currency otherwise", () => {
		expect(priceCart([], [])).toEqual({ items: [], itemCount: 0, total: 0, currency: "USD" });
		expect(priceCart([{ productId: "e", quantity: 1 }], [product("e", 500, "EUR")]).currency).toBe("EUR");
	});
});
