/**
 * Stock: how a product counts its units, and the one transition table every stock change of an order
 * line goes through. Plain rules and store operations (the query and update forms work in both NeDB and
 * MongoDB); `mixins/stock-movements.mixin.ts` applies them.
 *
 * A product counts, in integer units:
 *
 *   onHand    units in the warehouse that are not sold yet: what an admin counts on the shelf
 *   reserved  units held for checkouts that are not settled yet
 *   stock     units available to sell = onHand − reserved, stored beside them so that a reservation is one
 *             conditional update (`stock >= q`); every update below changes the three together
 *   sold      units in paid orders, net of cancellations
 *
 * Every stock change of an order line (one order × one product, `q` units) is a *movement* with a state,
 * kept in a record of its own (collection `stock_movements`, one record per order × product), never in
 * the product document, so a product's size does not grow with its history:
 *
 *   from        to          change on the product                 when
 *   none        held        stock −q, reserved +q (if stock ≥ q)  checkout reserves
 *   none        released    —                                     released or refused before any hold (blocks a late one)
 *   held        released    stock +q, reserved −q                 payment declined, checkout abandoned, orphan swept
 *   held        committed   reserved −q, onHand −q, sold +q       the order is paid
 *   committed   restocked   onHand +q, stock +q, sold −q          a paid order is cancelled
 *   none        restocked   onHand +q, stock +q, sold −q          the same, after the record was pruned (only paid
 *                                                                 orders are ever cancelled)
 *
 * Exactly once without multi-document transactions, in four steps per move:
 *
 *   1. claim: the record gets `pending = { to, attempt, at }` by compare-and-set on its state (an insert for
 *      a new line), so one attempt at a time may move a line; any other attempt stands back (STOCK_BUSY);
 *   2. apply: the product gets the move's change and a marker `moves.<orderId> = { to, attempt, at }` in one
 *      update, only while no marker is there (and, for a reservation, while `stock >= q`);
 *   3. finish: the record moves to `to` (compare-and-set on its pending attempt);
 *   4. drop the marker.
 *
 * Only the attempt that claimed the record changes the product, so a duplicate or late attempt can never
 * make units appear or vanish, not even for a moment, and a change is never undone. A step interrupted by a
 * crash is picked up again with the same attempt id: the marker tells whether step 2 landed. The products
 * service's sweep re-drives a claim older than ORPHAN_SWEEP_AFTER and drops markers whose move finished.
 *
 * An admin sets `onHand` (the shelf count) with a compare-and-set on `reserved`, so `stock` becomes
 * onHand − reserved and a later release or commit never adds to or takes from the admin's number.
 */

/** An order id used as a field name: no dots, no `$`. */
export const RESERVATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** `quantity` units (integer ≥ 1) of `productId`. */
export interface StockLine {
	productId: string;
	quantity: number;
}

export const MOVEMENT_STATES = ["none", "held", "released", "committed", "restocked"] as const;
/** Where an order line's stock stands (`none`: no record). */
export type MovementState = (typeof MOVEMENT_STATES)[number];

/** The states no transition leaves; their records are pruned after the retention period. */
export const FINAL_MOVEMENT_STATES: readonly MovementState[] = ["released", "committed", "restocked"];

/** The product's stock counters, in units. */
export type StockCounter = "onHand" | "reserved" | "stock" | "sold";
export type StockDelta = Partial<Record<StockCounter, number>>;

/** A move under way: where to, by which attempt (a UUID), since when (ISO 8601). */
export interface PendingMove {
	to: MovementState;
	attempt: string;
	at: string;
}

/** A movement record (`stock_movements`): `_id` is `<orderId>:<productId>`; dates ISO 8601. */
export interface StockMovement {
	_id: string;
	orderId: string;
	productId: string;
	/** Units of the line. */
	quantity: number;
	/** Where the line stands; `none` while the first move of a new record is pending. */
	state: MovementState;
	/** The move claimed and not finished yet (steps 1–3 above), if any. */
	pending?: PendingMove;
	/** The attempt that made the last finished move. */
	attempt?: string;
	createdAt: string;
	updatedAt: string;
}

/** The marker a move leaves on the product with its change (`moves.<orderId>`), the same as its pending move. */
export type MoveMarker = PendingMove;

/** The stock part of a product document. */
export interface ProductStock {
	onHand: number;
	reserved: number;
	stock: number;
	sold: number;
	/** Markers of changes in flight, by order id (normally empty). */
	moves?: Record<string, MoveMarker>;
	/** How many markers are set (the sweep looks only at products with some). */
	inFlight: number;
}

/** A store operation: apply `update` to the document matching `query`. */
export interface StockOperation {
	query: Record<string, unknown>;
	update: Record<string, unknown>;
}

interface StockRule {
	delta(q: number): StockDelta;
	/** The change needs `q` available units (`stock >= q`). */
	needsAvailable?: boolean;
}

const TRANSITIONS: Readonly<Record<string, StockRule>> = {
	"none>held": { delta: q => ({ stock: -q, reserved: q }), needsAvailable: true },
	"none>released": { delta: () => ({}) },
	"held>released": { delta: q => ({ stock: q, reserved: -q }) },
	"held>committed": { delta: q => ({ reserved: -q, onHand: -q, sold: q }) },
	"committed>restocked": { delta: q => ({ onHand: q, stock: q, sold: -q }) },
	"none>restocked": { delta: q => ({ onHand: q, stock: q, sold: -q }) }
};

/** The rule moving a line from `from` to `to`, or null when the table has no such move. */
export function stockTransition(from: MovementState, to: MovementState): StockRule | null {
	return TRANSITIONS[`${from}>${to}`] ?? null;
}

/** The record id of an order line. */
export function movementId(orderId: string, productId: string): string {
	return `${orderId}:${productId}`;
}

/** Merges lines of the same product, so each product is changed by one movement. */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
	const merged = new Map<string, number>();
	for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
	return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

/** The counters of a new product with `onHand` units. */
export function initialStock(onHand: number): Omit<ProductStock, "moves"> {
	return { onHand, reserved: 0, stock: onHand, sold: 0, inFlight: 0 };
}

/** True when `delta` changes nothing. */
export function isEmptyDelta(delta: StockDelta): boolean {
	return Object.values(delta).every(n => n === 0);
}

const marker = (orderId: string) => `moves.${orderId}`;

/** Step 1 for a line of `q` units with a record in `from`: claim it for `move` unless another move is pending. */
export function claimOperation(id: string, from: MovementState, move: PendingMove, q: number): StockOperation {
	return { query: { _id: id, state: from, quantity: q, pending: { $exists: false } }, update: { $set: { pending: move, updatedAt: move.at } } };
}

/** Step 1 for a new line: the record to insert (once), claimed for `move`. */
export function newMovement(orderId: string, productId: string, quantity: number, move: PendingMove): StockMovement {
	return { _id: movementId(orderId, productId), orderId, productId, quantity, state: "none", pending: move, createdAt: move.at, updatedAt: move.at };
}

/**
 * Step 2: the product update of a move from `from` (its rule's change plus the marker), applied only while
 * no marker of this order line is there and, for a reservation, while `q` units are available.
 */
export function applyOperation(productId: string, orderId: string, from: MovementState, q: number, move: PendingMove): StockOperation {
	const rule = stockTransition(from, move.to);
	if (!rule) throw new Error(`No stock move ${from} → ${move.to}`);
	return {
		query: { _id: productId, [marker(orderId)]: { $exists: false }, ...(rule.needsAvailable ? { stock: { $gte: q } } : {}) },
		update: { $inc: { ...rule.delta(q), inFlight: 1 }, $set: { [marker(orderId)]: move, updatedAt: move.at } }
	};
}

/** Step 3: the record moves to its pending `to`, if `attempt` still holds the claim; `state` overrides it (a refusal). */
export function finishRecordOperation(id: string, move: PendingMove, now: string, state: MovementState = move.to): StockOperation {
	return { query: { _id: id, "pending.attempt": move.attempt }, update: { $set: { state, attempt: move.attempt, updatedAt: now }, $unset: { pending: true } } };
}

/** Step 4: drops the marker of `attempt` from the product (the change stays). */
export function dropMarkerOperation(productId: string, orderId: string, attempt: string): StockOperation {
	return { query: { _id: productId, [`${marker(orderId)}.attempt`]: attempt }, update: { $unset: { [marker(orderId)]: true }, $inc: { inFlight: -1 } } };
}

/**
 * Sets the shelf count `onHand` of a product read with `reserved` units reserved, if that is still so
 * (compare and set): `stock` becomes onHand − reserved. Callers check onHand ≥ reserved first.
 */
export function setOnHandOperation(productId: string, reserved: number, onHand: number, now: string): StockOperation {
	return { query: { _id: productId, reserved }, update: { $set: { onHand, stock: onHand - reserved, updatedAt: now } } };
}

/**
 * Whether a marker on a product belongs to a move still under way (its record holds the claim of the same
 * attempt) or is left over from a move that finished (the record moved on; only the marker stayed).
 */
export function markerOf(move: MoveMarker, record: Pick<StockMovement, "pending"> | null): "in progress" | "left over" {
	return record?.pending?.attempt === move.attempt ? "in progress" : "left over";
}

/** The invariants of a product's counters; the names of those broken (empty when all hold). */
export function brokenInvariants(p: Pick<ProductStock, "onHand" | "reserved" | "stock" | "sold">): string[] {
	const broken: string[] = [];
	if (p.stock !== p.onHand - p.reserved) broken.push("stock = onHand − reserved");
	if (p.stock < 0) broken.push("stock ≥ 0");
	if (p.reserved < 0) broken.push("reserved ≥ 0");
	if (p.sold < 0) broken.push("sold ≥ 0");
	return broken;
}
