/** Property-based tests (fast-check) of cart and order totals and of the order state machine. */
import fc from "fast-check";
import { MAX_LINE_QUANTITY, priceCart, setLineQuantity, type CartLine } from "../../domain/cart";
import { ORDER_STEPS, canMove, statusOf, type OrderStep } from "../../domain/order";
import { mergeLines } from "../../domain/stock";

const productArb = fc.record({
	id: fc.uuid(),
	price: fc.integer({ min: 0, max: 1_000_000 }),
	stock: fc.integer({ min: 0, max: 1000 })
});

describe("cart totals (property)", () => {
	it("total is the exact integer sum of price × quantity, itemCount the sum of quantities", () => {
		fc.assert(
			fc.property(fc.uniqueArray(productArb, { selector: p => p.id, minLength: 0, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: MAX_LINE_QUANTITY }), { maxLength: 20 }), (products, quantities) => {
				const lines: CartLine[] = products.map((p, i) => ({ productId: p.id, quantity: quantities[i] ?? 1 }));
				const cart = priceCart(lines, products.map(p => ({ ...p, sku: `S-${p.id}`, name: "n", currency: "USD" })));
				const expected = products.reduce((sum, p, i) => sum + p.price * (quantities[i] ?? 1), 0);
				expect(cart.total).toBe(expected);
				expect(Number.isSafeInteger(cart.total)).toBe(true);
				expect(cart.itemCount).toBe(lines.reduce((n, l) => n + l.quantity, 0));
				expect(cart.items.every(item => item.lineTotal === item.price * item.quantity)).toBe(true);
			})
		);
	});

	it("setting quantities never yields a line with quantity ≤ 0 or two lines of one product", () => {
		fc.assert(
			fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: -5, max: 100 }))), ops => {
				const lines = ops.reduce<CartLine[]>((acc, [id, q]) => setLineQuantity(acc, id, q), []);
				expect(lines.every(l => l.quantity > 0)).toBe(true);
				expect(new Set(lines.map(l => l.productId)).size).toBe(lines.length);
			})
		);
	});

	it("merging stock lines keeps every unit", () => {
		fc.assert(
			fc.property(fc.array(fc.record({ productId: fc.constantFrom("a", "b", "c"), quantity: fc.integer({ min: 1, max: 50 }) })), lines => {
				const merged = mergeLines(lines);
				expect(merged.reduce((n, l) => n + l.quantity, 0)).toBe(lines.reduce((n, l) => n + l.quantity, 0));
				expect(new Set(merged.map(l => l.productId)).size).toBe(merged.length);
			})
		);
	});
});

describe("order transition table (property)", () => {
	const stepArb = fc.constantFrom(...ORDER_STEPS);

	/** Follows `targets` from `created`, taking each move the table allows; answers the steps passed through. */
	const walk = (targets: OrderStep[]) => {
		let step: OrderStep = "created";
		const seen: OrderStep[] = [step];
		for (const to of targets) {
			if (!canMove(step, to)) continue;
			step = to;
			seen.push(step);
		}
		return seen;
	};

	it("never reaches cancelled without having been paid, nor paid without a stock reservation", () => {
		fc.assert(
			fc.property(fc.array(stepArb, { maxLength: 30 }), targets => {
				const seen = walk(targets);
				if (seen.some(step => statusOf(step) === "cancelled")) expect(seen).toContain("paid");
				if (seen.includes("paid")) expect(seen.indexOf("stock_reserved")).toBeLessThan(seen.indexOf("paid"));
			})
		);
	});

	it("changes the public status along the API's moves only, and visits no step twice", () => {
		const statusMoves = new Set(["pending>paid", "pending>payment_failed", "paid>cancelled"]);
		fc.assert(
			fc.property(fc.array(stepArb, { maxLength: 30 }), targets => {
				const seen = walk(targets);
				expect(new Set(seen).size).toBe(seen.length);
				for (let i = 1; i < seen.length; i++) {
					const [from, to] = [statusOf(seen[i - 1]), statusOf(seen[i])];
					if (from !== to) expect(statusMoves.has(`${from}>${to}`)).toBe(true);
				}
			})
		);
	});
});
