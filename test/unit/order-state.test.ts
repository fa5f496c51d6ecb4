import { IllegalTransitionError, ORDER_STATUSES, canTransition, isTerminal, transition } from "../../services/domain/order-state";

const allowed = new Set(["pending>paid", "pending>payment_failed", "paid>cancelled"]);

describe("order state machine", () => {
	for (const from of ORDER_STATUSES) {
		for (const to of ORDER_STATUSES) {
			const legal = allowed.has(`${from}>${to}`);
			it(`${legal ? "allows" : "refuses"} ${from} → ${to}`, () => {
				expect(canTransition(from, to)).toBe(legal);
				if (legal) expect(transition(from, to)).toBe(to);
				else expect(() => transition(from, to)).toThrow(IllegalTransitionError);
			});
		}
	}

	it("treats payment_failed and cancelled as terminal", () => {
		expect(ORDER_STATUSES.filter(isTerminal)).toEqual(["payment_failed", "cancelled"]);
	});
});
