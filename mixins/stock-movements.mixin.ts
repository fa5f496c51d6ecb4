/**
 * Stock movements for the products service: the internal stock actions (`visibility: "public"`) and the
 * exactly-once protocol of `domain/stock.ts` that applies them, one order line at a time. Every action is
 * idempotent per order (the reservation id), so callers may retry freely; the retry policy is on for
 * exactly these reasons. Needs DbMixin with an extra store named `movements`.
 */
import { countMetric } from "../lib/business-metrics";
import { randomUUID } from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import {
	RESERVATION_ID_PATTERN,
	applyOperation,
	claimOperation,
	dropMarkerOperation,
	finishRecordOperation,
	initialStock,
	isEmptyDelta,
	mergeLines,
	movementId,
	newMovement,
	setOnHandOperation,
	stockTransition,
	type MovementState,
	type PendingMove,
	type StockLine,
	type StockMovement,
	type StockOperation
} from "../domain/stock";
import { InsufficientStockError, ProductNotFoundError, StockBelowReservedError, StockBusyError } from "../lib/errors";
import { insertOnce, type IndexSpec, type StoreAdapter } from "../lib/store";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import type { Meta } from "../types/meta";

/** The extra store this mixin needs (DbMixin `stores.movements`). */
export const MOVEMENTS_STORE = {
	collection: "stock_movements",
	indexes: [{ fields: { state: 1, updatedAt: 1 } }, { fields: { updatedAt: 1 }, mongoOnly: true }, { fields: { "pending.at": 1 }, mongoOnly: true }] as IndexSpec[]
};

/** Rounds of one line's move (each re-reads what changed under it) before STOCK_BUSY. */
const MAX_ROUNDS = 5;

/** Where a line usually stands before a move to each state: tried first, without reading its record. */
const USUAL_FROM: Readonly<Record<MovementState, MovementState>> = { none: "none", held: "none", released: "held", committed: "held", restocked: "committed" };

const stockParams = {
	$$strict: true,
	reservationId: { type: "string", pattern: RESERVATION_ID_PATTERN },
	items: {
		type: "array",
		min: 1,
		max: 100,
		items: {
			type: "object",
			strict: true,
			props: { productId: { type: "string", min: 1, max: 64 }, quantity: { type: "number", integer: true, min: 1, max: 1_000_000 } }
		}
	}
} as const;
/** A stock step of one order: the order id (`reservationId`) and its lines. */
export interface StockParams {
	reservationId: string;
	items: StockLine[];
}

/** How one line's move ended: moved now, already there, refused (not enough stock), or not applicable. */
export type MoveOutcome = "moved" | "already" | "refused" | "skipped";

/** `this` of a service with the stock movements (and DbMixin with the `movements` store). */
export interface StockThis extends DbServiceThis {
	/** Moves every line of `orderId` to `to`, in parallel; cleans the product cache if any moved. */
	moveLines(orderId: string, lines: StockLine[], to: MovementState): Promise<MoveOutcome[]>;
	/** Moves one line to `to` (steps 1–4 of `domain/stock.ts`). @throws StockBusyError while another attempt moves it. */
	moveLine(orderId: string, line: StockLine, to: MovementState): Promise<MoveOutcome>;
	/** Steps 2–4 of a claimed move from `from` of `q` units (also the sweep's re-drive of a claim whose attempt stopped). */
	completeMove(orderId: string, productId: string, from: MovementState, q: number, move: PendingMove): Promise<"moved" | "refused">;
	/** Applies one store operation to the products collection; answers how many documents it changed (0 or 1). */
	applyStockOperation(op: StockOperation): Promise<number>;
	/** Sets a product's shelf count; see the method. */
	setOnHand(productId: string, onHand: number, fields: Record<string, unknown>): Promise<Record<string, any>>;
	/** Gives products of an earlier version their counters; see the method. */
	migrateLegacyStock(): Promise<void>;
}

/** Applies `op` to `store`; answers how many documents it changed. */
function apply(store: StoreAdapter, op: StockOperation): Promise<number> {
	return store.updateMany(op.query, op.update);
}

/**
 * An action moving every line of an order to `to`, idempotently; answers `{ items }`, the merged lines.
 * A line not in a state that can move to `to` is left as it is (logged).
 * @throws StockBusyError 409 STOCK_BUSY (retryable) while another attempt moves a line; ValidationError 422.
 */
function stockAction(to: MovementState) {
	return {
		visibility: "public" as const,
		params: stockParams,
		retryPolicy: IDEMPOTENT_RETRY,
		async handler(this: StockThis, ctx: Context<StockParams, Meta>): Promise<{ items: StockLine[] }> {
			const lines = mergeLines(ctx.params.items);
			const outcomes = await this.moveLines(ctx.params.reservationId, lines, to);
			const skipped = lines.filter((_, i) => outcomes[i] === "skipped").map(line => line.productId);
			if (skipped.length > 0) this.logger.warn(`Stock of order ${ctx.params.reservationId} not moved to ${to} for ${skipped.join(", ")}: not applicable in its state.`);
			return { items: lines };
		}
	};
}

export const StockMovementsMixin: Partial<ServiceSchema> = {
	actions: {
		/**
		 * Reserves every line for `reservationId`, all or nothing; a line already held for it counts as
		 * reserved. Answers `{ items }`, the merged lines. @throws InsufficientStockError 409 INSUFFICIENT_STOCK,
		 * `data.productIds` = every short product (what this call reserved is released, and a late repeat can
		 * no longer hold anything); StockBusyError 409 STOCK_BUSY (retryable); ValidationError 422.
		 */
		reserveStock: {
			visibility: "public",
			params: stockParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(this: StockThis, ctx: Context<StockParams, Meta>): Promise<{ items: StockLine[] }> {
				const { reservationId } = ctx.params;
				const lines = mergeLines(ctx.params.items);
				const outcomes = await this.moveLines(reservationId, lines, "held");
				const short = lines.filter((_, i) => outcomes[i] === "refused" || outcomes[i] === "skipped").map(line => line.productId);
				if (short.length > 0) {
					await this.moveLines(reservationId, lines, "released");
					countMetric(this.broker, "shop.stock.reservations.refused.total");
					throw new InsufficientStockError(short);
				}
				return { items: lines };
			}
		},
		/** Puts back what `reservationId` holds (a declined or abandoned checkout); blocks a late hold. Idempotent. */
		releaseStock: stockAction("released"),
		/** Makes the hold of `reservationId` a sale (the order is paid): onHand and reserved go down, sold up. Idempotent. */
		commitStock: stockAction("committed"),
		/** Puts a paid order's units back once (the order was cancelled): onHand and stock up, sold down. Idempotent. */
		restock: stockAction("restocked")
	},

	methods: {
		async moveLines(this: StockThis, orderId: string, lines: StockLine[], to: MovementState): Promise<MoveOutcome[]> {
			const outcomes = await Promise.all(lines.map(line => this.moveLine(orderId, line, to)));
			if (outcomes.includes("moved")) await this.entityChanged("updated", null);
			return outcomes;
		},

		async moveLine(this: StockThis, orderId: string, line: StockLine, to: MovementState): Promise<MoveOutcome> {
			const id = movementId(orderId, line.productId);
			const claim = (from: MovementState, q: number, move: PendingMove) => apply(this.stores.movements, claimOperation(id, from, move, q));
			// The usual case first, without reading the record: a new line reserved, a held line sold or released,
			// a sold line restocked. Only when that claim fails is the record read.
			const usual = USUAL_FROM[to];
			const first: PendingMove = { to, attempt: randomUUID(), at: new Date().toISOString() };
			const claimed = usual === "none" ? (await insertOnce(this.stores.movements, { ...newMovement(orderId, line.productId, line.quantity, first) })).inserted : (await claim(usual, line.quantity, first)) === 1;
			if (claimed) return this.completeMove(orderId, line.productId, usual, line.quantity, first);
			for (let round = 0; round < MAX_ROUNDS; round++) {
				const record = (await this.stores.movements.findById(id)) as StockMovement | null;
				// Another attempt moves this line; the sweep re-drives its claim should it have stopped.
				if (record?.pending) throw new StockBusyError(orderId, line.productId);
				const from = record?.state ?? "none";
				if (from === to) return "already";
				if (!stockTransition(from, to)) return "skipped";
				const move: PendingMove = { to, attempt: randomUUID(), at: new Date().toISOString() };
				const q = record?.quantity ?? line.quantity;
				const won = record ? (await claim(from, q, move)) === 1 : (await insertOnce(this.stores.movements, { ...newMovement(orderId, line.productId, q, move) })).inserted;
				if (won) return this.completeMove(orderId, line.productId, from, q, move);
			}
			throw new StockBusyError(orderId, line.productId);
		},

		async completeMove(this: StockThis, orderId: string, productId: string, from: MovementState, q: number, move: PendingMove): Promise<"moved" | "refused"> {
			const rule = stockTransition(from, move.to)!;
			const finish = (state: MovementState) => apply(this.stores.movements, finishRecordOperation(movementId(orderId, productId), move, new Date().toISOString(), state));
			for (let round = 0; !isEmptyDelta(rule.delta(q)); round++) {
				if (round >= MAX_ROUNDS) throw new StockBusyError(orderId, productId);
				if ((await this.applyStockOperation(applyOperation(productId, orderId, from, q, move))) === 1) break;
				const product = await this.adapter.findById(productId);
				const marker = product?.moves?.[orderId] as PendingMove | undefined;
				// Landed before: this attempt is being driven again after it stopped.
				if (marker?.attempt === move.attempt) break;
				if (marker) {
					// Left by the line's previous move, which finished: this attempt holds the claim now.
					await this.applyStockOperation(dropMarkerOperation(productId, orderId, marker.attempt));
					continue;
				}
				if (rule.needsAvailable && (!product || product.stock < q)) {
					await finish("released");
					return "refused";
				}
				// The product is gone: only the record moves. Otherwise a marker came and went meanwhile: again.
				if (!product) break;
			}
			await finish(move.to);
			await this.applyStockOperation(dropMarkerOperation(productId, orderId, move.attempt));
			return "moved";
		},

		applyStockOperation(this: StockThis, op: StockOperation): Promise<number> {
			return apply(this.adapter, op);
		},

		/**
		 * Sets a product's shelf count `onHand` (and any other `fields`) in one compare-and-set on `reserved`:
		 * `stock` becomes onHand − reserved, whatever checkouts hold meanwhile; the count is what it is at the
		 * moment it is written. Answers the updated document.
		 * @throws ProductNotFoundError 404; StockBelowReservedError 409 STOCK_BELOW_RESERVED; StockBusyError 409
		 *   STOCK_BUSY after 20 collisions with reservations.
		 */
		async setOnHand(this: StockThis, productId: string, onHand: number, fields: Record<string, unknown>): Promise<Record<string, any>> {
			for (let attempt = 0; attempt < 20; attempt++) {
				const product = await this.adapter.findById(productId);
				if (!product) throw new ProductNotFoundError(productId);
				if (onHand < product.reserved) throw new StockBelowReservedError(productId, product.reserved);
				const op = setOnHandOperation(productId, product.reserved, onHand, new Date().toISOString());
				if ((await this.adapter.updateMany(op.query, { $set: { ...fields, ...(op.update.$set as object) } })) === 1) {
					return (await this.adapter.findById(productId))!;
				}
			}
			throw new StockBusyError("admin", productId);
		},

		/**
		 * Brings products stored by an earlier version, before stock had counters, up to date (the service's
		 * `started` runs it once its store is connected): each old hold becomes a `held` movement record and
		 * counts as reserved, so its order settles as it would have (sold if paid, released otherwise); sales
		 * of old paid orders need no record (a cancellation restocks from `none`). The old per-order markers
		 * (holds, sales, restocks) go.
		 */
		async migrateLegacyStock(this: StockThis): Promise<void> {
			const legacy = await this.adapter.find({ query: { onHand: { $exists: false } } });
			for (const doc of legacy) {
				const holds = Object.entries((doc.holds ?? {}) as Record<string, number>);
				const now = new Date().toISOString();
				for (const [orderId, quantity] of holds) {
					await insertOnce(this.stores.movements, { _id: movementId(orderId, doc._id), orderId, productId: doc._id, quantity, state: "held", attempt: "migrated", createdAt: now, updatedAt: now });
				}
				const reserved = holds.reduce((n, [, q]) => n + q, 0);
				const counters = { ...initialStock((doc.stock ?? 0) + reserved), reserved, stock: doc.stock ?? 0, sold: doc.sold ?? 0 };
				await this.adapter.updateMany({ _id: doc._id, onHand: { $exists: false } }, { $set: counters, $unset: { holds: true, sales: true, restocks: true } });
			}
			if (legacy.length > 0) this.logger.info(`Gave ${legacy.length} products stored by an earlier version their stock counters.`);
		}
	}
} as unknown as Partial<ServiceSchema>;
