/**
 * Stock rules: every stock movement of an order is one atomic conditional update of one product document,
 * made idempotent by a marker keyed by the order (the reservation id) inside that same document:
 *
 * - reserve:  `stock >= qty` and no hold for the order → stock -= qty, holds.<order> = qty
 * - release:  a hold for the order exists → stock += qty, hold removed (a declined or abandoned checkout)
 * - commit:   a hold for the order exists → hold removed, stock stays taken (the order is paid)
 * - restock:  no restock for the order yet → stock += qty, restocks.<order> = qty (a cancelled paid order)
 *
 * Repeating any step changes nothing, so a retried call or a recovery run can never oversell or restock
 * twice, and stock never goes below 0. The query and update forms work in both NeDB and MongoDB.
 */

/** A reservation id: the order id. Restricted so it is safe as a field name (no dots, no `$`). */
export const RESERVATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** `quantity` units (integer ≥ 1) of `productId`. */
export interface StockLine {
	productId: string;
	quantity: number;
}

/** A store operation: apply `update` to the document matching `query` (at most one, by `_id`). */
export interface StockOperation {
	query: Record<string, unknown>;
	update: Record<string, unknown>;
}

/** Merges lines of the same product, so each product is changed by one conditional update. */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
	const merged = new Map<string, number>();
	for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
	return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

const hold = (reservationId: string) => `holds.${reservationId}`;
const restockMark = (reservationId: string) => `restocks.${reservationId}`;

/** Matches the product only while it holds stock for `reservationId`. */
export function heldBy(reservationId: string, productId: string): Record<string, unknown> {
	return { _id: productId, [hold(reservationId)]: { $exists: true } };
}

export function reserveOperation(reservationId: string, line: StockLine, now: string): StockOperation {
	return {
		query: { _id: line.productId, stock: { $gte: line.quantity }, [hold(reservationId)]: { $exists: false } },
		update: { $inc: { stock: -line.quantity }, $set: { [hold(reservationId)]: line.quantity, updatedAt: now } }
	};
}

export function releaseOperation(reservationId: string, line: StockLine, now: string): StockOperation {
	return {
		query: heldBy(reservationId, line.productId),
		update: { $inc: { stock: line.quantity }, $unset: { [hold(reservationId)]: true }, $set: { updatedAt: now } }
	};
}

export function commitOperation(reservationId: string, line: StockLine): StockOperation {
	return { query: heldBy(reservationId, line.productId), update: { $unset: { [hold(reservationId)]: true } } };
}

export function restockOperation(reservationId: string, line: StockLine, now: string): StockOperation {
	return {
		query: { _id: line.productId, [restockMark(reservationId)]: { $exists: false } },
		update: { $inc: { stock: line.quantity }, $set: { [restockMark(reservationId)]: line.quantity, updatedAt: now } }
	};
}
