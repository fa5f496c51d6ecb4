/** Property-based tests (fast-check) of cart and order totals and of the order state machine. */
import fc from "fast-check";
import { MAX_LINE_QUANTITY, priceCart, setLineQuantity, type CartLine } from "../../services/domain/cart";
import { ORDER_STATUSES, canTransition, isTerminal, transition, IllegalTransitionError, type OrderStatus } from "../../services/domain/order-state";
import { mergeLines } from "../../services/domain/stock";

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

describe("order state machine (property)", () => {
	const statusArb = fc.constantFrom(...ORDER_STATUSES);

	it("accepts exactly the allowed moves along any sequence, and nothing leaves a terminal state", () => {
		fc.assert(
			fc.property(fc.array(statusArb, { maxLength: 30 }), targets => {
				let status: OrderStatus = "pending";
				for (const to of targets) {
					if (canTransition(status, to)) {
						status = transition(status, to);
					} else {
						expect(() => transition(status, to)).toThrow(IllegalTransitionError);
						if (isTerminal(status)) expect(ORDER_STATUSES.some(s => canTransition(status, s))).toBe(false);
					}
				}
			})
		);
	});

	it("never reaches cancelled without having been paid", () => {
		fc.assert(
			fc.property(fc.array(statusArb, { maxLength: 30 }), targets => {
				let status: OrderStatus = "pending";
				let wasPaid = false;
				for (const to of targets) {
					if (!canTransition(status, to)) continue;
					status = transition(status, to);
					wasPaid ||= status === "paid";
				}
				if (status === "cancelled") expect(wasPaid).toBe(true);
			})
		);
	});
});
