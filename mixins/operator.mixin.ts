/**
 * Operators' actions (internal: `visibility: "public"`, not in the gateway's route table), used by the REPL
 * commands of lib/repl-commands.ts: on the orders service, `orders.listAll` and `orders.recover`; on the
 * products service, `products.stockOf`. Each is a mixin of its service (services/orders.service.ts,
 * services/products.service.ts).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import { ORDER_STATUSES, type OrderStatus } from "../domain/order";
import { ProductNotFoundError } from "../lib/errors";

const listAllParams = {
	$$strict: true,
	status: { type: "enum", values: [...ORDER_STATUSES], optional: true },
	limit: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true }
} as const;
/** `orders.listAll` params: an optional status, at most `limit` orders (1–100, default 20). */
export interface ListAllParams {
	status?: OrderStatus;
	limit: number;
}
/** One row of `orders.listAll`: `total` in minor units of `currency`; dates ISO 8601. */
export interface OrderRow {
	id: string;
	customerId: string;
	status: OrderStatus;
	step: string;
	total: number;
	currency: string;
	createdAt: string;
	updatedAt: string;
}

/** The orders service's operator actions. */
export const OrderOperatorMixin: Partial<ServiceSchema> = {
	actions: {
		/** Every customer's orders, newest first, optionally of one status. @throws ValidationError 422. */
		listAll: {
			visibility: "public",
			params: listAllParams,
			async handler(this: DbServiceThis, ctx: Context<ListAllParams>): Promise<OrderRow[]> {
				const docs = await this.adapter.find({ query: ctx.params.status ? { status: ctx.params.status } : {}, sort: ["-createdAt"], limit: ctx.params.limit });
				return docs.map((doc: Record<string, any>) => ({ id: doc._id, customerId: doc.customerId, status: doc.status, step: doc.step, total: doc.total, currency: doc.currency, createdAt: doc.createdAt, updatedAt: doc.updatedAt }));
			}
		},

		/**
		 * Runs the saga's recovery now (mixins/order-saga.mixin.ts), instead of at its next round: orders
		 * unfinished for longer than ORDER_RECOVERY_AFTER are settled. Answers `{ settled }`, how many were.
		 */
		recover: {
			visibility: "public",
			async handler(this: { recoverOrders(): Promise<number> }): Promise<{ settled: number }> {
				return { settled: await this.recoverOrders() };
			}
		}
	}
} as unknown as Partial<ServiceSchema>;

/** `products.stockOf` params. */
export interface StockOfParams {
	sku: string;
}
/** What `products.stockOf` answers: units (see README "Product") and the holds of unsettled checkouts. */
export interface StockReport {
	productId: string;
	sku: string;
	onHand: number;
	reserved: number;
	stock: number;
	sold: number;
	holds: { orderId: string; quantity: number; since: string }[];
}

/** The products service's operator action. */
export const StockOperatorMixin: Partial<ServiceSchema> = {
	actions: {
		/** The stock of product `sku` and its holds. @throws ProductNotFoundError 404 PRODUCT_NOT_FOUND. */
		stockOf: {
			visibility: "public",
			params: { $$strict: true, sku: { type: "string", min: 1, max: 64 } },
			async handler(this: DbServiceThis & { stores: { movements: DbServiceThis["adapter"] } }, ctx: Context<StockOfParams>): Promise<StockReport> {
				const [doc] = await this.adapter.find({ query: { sku: ctx.params.sku }, limit: 1 });
				if (!doc) throw new ProductNotFoundError(ctx.params.sku);
				const holds = await this.stores.movements.find({ query: { productId: doc._id, state: "held" }, sort: ["createdAt"] });
				return {
					productId: doc._id,
					sku: doc.sku,
					onHand: doc.onHand,
					reserved: doc.reserved,
					stock: doc.stock,
					sold: doc.sold,
					holds: holds.map((hold: Record<string, any>) => ({ orderId: hold.orderId, quantity: hold.quantity, since: hold.createdAt }))
				};
			}
		}
	}
} as unknown as Partial<ServiceSchema>;
