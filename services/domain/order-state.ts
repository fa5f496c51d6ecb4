/**
 * The order state machine. Public statuses are those of the API: `pending` (created, payment not settled),
 * `paid`, `payment_failed`, `cancelled`. Allowed moves:
 *
 *   pending → paid            the charge was captured
 *   pending → payment_failed  the charge was declined (stock released)
 *   paid    → cancelled       the customer cancelled (payment refunded, stock restored)
 *
 * `payment_failed` and `cancelled` are terminal. Source: the API contract of issue "The shop end to end".
 */

export const ORDER_STATUSES = ["pending", "paid", "payment_failed", "cancelled"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
	pending: ["paid", "payment_failed"],
	paid: ["cancelled"],
	payment_failed: [],
	cancelled: []
};

/** Raised for a move the state machine forbids: a bug in the caller, never client input. */
export class IllegalTransitionError extends Error {
	constructor(
		readonly from: OrderStatus,
		readonly to: OrderStatus
	) {
		super(`Illegal order transition ${from} → ${to}`);
		this.name = "IllegalTransitionError";
	}
}

/** True when an order in `from` may move to `to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
	return TRANSITIONS[from].includes(to);
}

/** Returns `to` when the move is allowed. @throws IllegalTransitionError otherwise. */
export function transition(from: OrderStatus, to: OrderStatus): OrderStatus {
	if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
	return to;
}

/** True for statuses no transition leaves. */
export function isTerminal(status: OrderStatus): boolean {
	return TRANSITIONS[status].length === 0;
}
