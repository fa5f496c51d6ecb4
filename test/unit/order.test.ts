import { ORDER_STEPS, canMove, orderLines, statusOf, stepsBefore } from "../../domain/order";

/** The table of domain/order.ts, written out independently. */
const allowed = new Set([
	"created>stock_reserved",
	"created>payment_failed",
	"stock_reserved>paid",
	"stock_reserved>payment_failed",
	"paid>cancelling",
	"cancelling>cancelled"
]);

describe("order transition table", () => {
	for (const from of ORDER_STEPS) {
		for (const to of ORDER_STEPS) {
			const legal = allowed.has(`${from}>${to}`);
			it(`${legal ? "allows" : "refuses"} ${from} → ${to}`, () => {
				expect(canMove(from, to)).toBe(legal);
				expect(stepsBefore(to).includes(from)).toBe(legal);
			});
		}
	}

	it("gives the API exactly its status moves: pending → paid | payment_failed, paid → cancelled", () => {
		const moves = new Set<string>();
		for (const from of ORDER_STEPS) for (const to of ORDER_STEPS) if (canMove(from, to) && statusOf(from) !== statusOf(to)) moves.add(`${statusOf(from)}>${statusOf(to)}`);
		expect([...moves].sort()).toEqual(["paid>cancelled", "pending>paid", "pending>payment_failed"]);
		expect(ORDER_STEPS.map(statusOf)).toEqual(["pending", "pending", "paid", "payment_failed", "paid", "cancelled"]);
	});

	it("lets nothing leave payment_failed or cancelled, and nothing come back to created", () => {
		expect(ORDER_STEPS.filter(from => ORDER_STEPS.every(to => !canMove(from, to)))).toEqual(["payment_failed", "cancelled"]);
		expect(stepsBefore("created")).toEqual([]);
	});

	it("turns order items into stock lines", () => {
		const items = [{ productId: "p", quantity: 2, sku: "S", name: "n", price: 5, lineTotal: 10 }];
		expect(orderLines(items)).toEqual([{ productId: "p", quantity: 2 }]);
	});
});
