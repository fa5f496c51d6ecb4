/**
 * Stock reservation actions for the products service (internal: `visibility: "public"`). Each applies the
 * idempotent operations of `services/domain/stock.ts` line by line, so callers may retry them freely; the
 * retry policy is on for exactly these reasons.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import {
	RESERVATION_ID_PATTERN,
	commitOperation,
	heldBy,
	mergeLines,
	releaseOperation,
	reserveOperation,
	restockOperation,
	type StockLine,
	type StockOperation
} from "../services/domain/stock";
import { InsufficientStockError } from "../lib/errors";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import type { Meta } from "../types/meta";

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
/** A reservation: the order id and its lines. */
export interface StockParams {
	reservationId: string;
	items: StockLine[];
}

type StockThis = DbServiceThis & { applyStock(operations: StockOperation[]): Promise<boolean[]> };
type Build = (reservationId: string, line: StockLine, now: string) => StockOperation;

/** An action applying `build` to every line; answers the merged lines. */
function stockAction(build: Build) {
	return {
		visibility: "public" as const,
		params: stockParams,
		retryPolicy: IDEMPOTENT_RETRY,
		async handler(this: StockThis, ctx: Context<StockParams, Meta>): Promise<{ items: StockLine[] }> {
			const lines = mergeLines(ctx.params.items);
			const now = new Date().toISOString();
			await this.applyStock(lines.map(line => build(ctx.params.reservationId, line, now)));
			return { items: lines };
		}
	};
}

export const StockReservationMixin: Partial<ServiceSchema> = {
	actions: {
		/**
		 * Reserves every line for `reservationId`, all or nothing; a line already held for it counts as
		 * reserved. @throws InsufficientStockError 409 INSUFFICIENT_STOCK, `data.productIds` = every short product
		 * (what it reserved meanwhile is released).
		 */
		reserveStock: {
			visibility: "public",
			params: stockParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(this: StockThis, ctx: Context<StockParams, Meta>): Promise<{ items: StockLine[] }> {
				const { reservationId } = ctx.params;
				const lines = mergeLines(ctx.params.items);
				const now = new Date().toISOString();
				const reserved = await this.applyStock(lines.map(line => reserveOperation(reservationId, line, now)));
				const short: string[] = [];
				for (const [i, line] of lines.entries()) {
					if (!reserved[i] && (await this.adapter.count({ query: heldBy(reservationId, line.productId) })) === 0) short.push(line.productId);
				}
				if (short.length > 0) {
					await this.applyStock(lines.map(line => releaseOperation(reservationId, line, now)));
					throw new InsufficientStockError(short);
				}
				return { items: lines };
			}
		},
		/** Puts back what `reservationId` holds (a declined or abandoned checkout). Idempotent. */
		releaseStock: stockAction(releaseOperation),
		/** Makes the hold of `reservationId` permanent (the order is paid). Idempotent. */
		commitStock: stockAction(commitOperation),
		/** Puts a paid order's units back once (the order was cancelled). Idempotent. */
		restock: stockAction(restockOperation)
	},

	methods: {
		/** Applies each operation (one product each); answers which changed a document. Cleans the cache if any did. */
		async applyStock(this: StockThis, operations: StockOperation[]): Promise<boolean[]> {
			const changed: boolean[] = [];
			for (const { query, update } of operations) changed.push((await this.adapter.updateMany(query, update)) > 0);
			if (changed.some(Boolean)) await this.entityChanged("updated", null);
			return changed;
		}
	}
} as unknown as Partial<ServiceSchema>;
