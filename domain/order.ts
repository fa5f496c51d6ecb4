/**
 * Orders: the entity and its one transition table. An order records how far its checkout got in `step`
 * (internal); the public `status` of the API is derived from the step, so both always agree:
 *
 *   step             status           next steps
 *   created          pending          stock_reserved, payment_failed
 *   stock_reserved   pending          paid, payment_failed
 *   paid             paid             cancelling
 *   payment_failed   payment_failed   (final)
 *   cancelling       paid             cancelled
 *   cancelled        cancelled        (final)
 *
 * Every change of an order is one store update conditional on the order standing at a step the table allows
 * before the new one (`stepsBefore`, used by the orders service's `moveOrder`), so two writers can never
 * both move one order, and no move outside the table can happen. Source: the API contract of issue "The
 * shop end to end" (statuses) and the persisted checkout saga of issue 4 (steps).
 */
import type { CartItem } from "./cart";
import type { StockLine } from "./stock";

export const ORDER_STATUSES = ["pending", "paid", "payment_failed", "cancelled"] as const;
/** The public order status of the API. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_STEPS = ["created", "stock_reserved", "paid", "payment_failed", "cancelling", "cancelled"] as const;
/** The internal checkout step of an order (see the table above). */
export type OrderStep = (typeof ORDER_STEPS)[number];

const STEPS: Readonly<Record<OrderStep, { status: OrderStatus; next: readonly OrderStep[] }>> = {
	created: { status: "pending", next: ["stock_reserved", "payment_failed"] },
	stock_reserved: { status: "pending", next: ["paid", "payment_failed"] },
	paid: { status: "paid", next: ["cancelling"] },
	payment_failed: { status: "payment_failed", next: [] },
	cancelling: { status: "paid", next: ["cancelled"] },
	cancelled: { status: "cancelled", next: [] }
};

/** A line of an order: the priced cart line frozen at checkout (`price`, `lineTotal` in minor units). */
export type OrderItem = CartItem;

/** The payment part of an order: `pending` until settled, then `captured`, `declined`, `voided` or `refunded`. */
export interface OrderPayment {
	status: "pending" | "captured" | "declined" | "voided" | "refunded";
	transactionId?: string;
	/** Why the payment failed: `card_declined` (the provider), `checkout_interrupted` (recovery voided it). */
	declineCode?: string;
}

/** An order as the API shows it. `total` and line prices in minor units of `currency`; dates ISO 8601. */
export interface Order {
	id: string;
	customerId: string;
	status: OrderStatus;
	items: OrderItem[];
	total: number;
	currency: string;
	payment: OrderPayment;
	createdAt: string;
	updatedAt: string;
}

/** The public status of an order at `step`. */
export function statusOf(step: OrderStep): OrderStatus {
	return STEPS[step].status;
}

/** True when an order at step `from` may move to step `to`. */
export function canMove(from: OrderStep, to: OrderStep): boolean {
	return STEPS[from].next.includes(to);
}

/** The steps from which an order may move to `to`. */
export function stepsBefore(to: OrderStep): OrderStep[] {
	return ORDER_STEPS.filter(from => canMove(from, to));
}

/** The stock lines (product, units) of an order's items. */
export function orderLines(items: readonly { productId: string; quantity: number }[]): StockLine[] {
	return items.map(item => ({ productId: item.productId, quantity: item.quantity }));
}
