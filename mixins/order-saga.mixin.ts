/**
 * The checkout saga's persisted steps and their recovery, for the orders service. An order records where
 * its checkout got to in `step` (internal) beside its public `status`:
 *
 *   created → stock_reserved → paid            (status pending → paid)
 *                            → payment_failed  (status pending → payment_failed, stock released)
 *   paid → cancelling → cancelled              (status paid → cancelled, refunded, restocked)
 *
 * Every step is idempotent (stock operations and payments are keyed by the order id), so a step can be
 * repeated after a crash. On start and every RECOVERY_INTERVAL_MS the node drives orders that have stood
 * unfinished for longer than ORDER_RECOVERY_AFTER seconds to a terminal state: it asks payments to settle
 * the order first (`payments.void` answers the charge if one exists, else forbids any later one), and only
 * then decides between paid and payment_failed. Nothing is ever charged without a paid order.
 *
 * Durable events (order.paid, order.cancelled, payment.refunded) are written to the order's `outbox` in
 * the same update that ends the step, then published; what could not be published (NATS down, a crash in
 * between) is published again by recovery. Consumers are idempotent, so a repeat is harmless.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import { transition, type OrderStatus } from "../services/domain/order-state";
import type { StockLine } from "../services/domain/stock";
import type { Payment } from "../services/payments.service";
import { CHANNELS, sendToChannel } from "../lib/channels";

/** Internal checkout steps (see above). */
export type OrderStep = "created" | "stock_reserved" | "paid" | "payment_failed" | "cancelling" | "cancelled";

/** How often (ms) a node looks for unfinished orders. */
export const RECOVERY_INTERVAL_MS = 15_000;

/** Seconds an order may stay unfinished before recovery takes it over (ORDER_RECOVERY_AFTER, default 60). */
export function recoveryAfterSeconds(env: NodeJS.ProcessEnv = process.env): number {
	const value = Number(env.ORDER_RECOVERY_AFTER);
	return Number.isFinite(value) && value > 0 ? value : 60;
}

export interface SagaThis extends DbServiceThis {
	recoveryTimer?: NodeJS.Timeout;
	moveOrder(id: string, from: OrderStatus, to: OrderStatus, set: Record<string, unknown>): Promise<Record<string, any> | null>;
	settleCheckout(ctx: Context, order: Record<string, any>, payment: Payment): Promise<Record<string, any>>;
	finishCancel(ctx: Context, order: Record<string, any>): Promise<Record<string, any>>;
	recoverOrders(): Promise<number>;
	publishOutbox(orderId: string): Promise<void>;
}

/** An event waiting in an order's outbox. */
interface OutboxEntry {
	channel: string;
	payload: Record<string, unknown>;
}

/** The payload every order event carries. */
function orderEvent(order: Record<string, any>): Record<string, unknown> {
	return { orderId: order._id, customerId: order.customerId, customerEmail: order.customerEmail, items: stockLines(order.items), total: order.total, currency: order.currency };
}

/** The stock lines of an order. */
export function stockLines(items: readonly { productId: string; quantity: number }[]): StockLine[] {
	return items.map(item => ({ productId: item.productId, quantity: item.quantity }));
}

export const OrderSagaMixin: Partial<ServiceSchema> = {
	methods: {
		/**
		 * Moves order `id` from `from` to `to` (checked by the state machine) only if it is still in `from`.
		 * Resolves to the updated order, or null when another request or recovery moved it first.
		 */
		async moveOrder(this: SagaThis, id: string, from: OrderStatus, to: OrderStatus, set: Record<string, unknown>) {
			const written = await this.adapter.updateMany(
				{ _id: id, status: from },
				{ $set: { ...set, status: transition(from, to), updatedAt: new Date().toISOString() } }
			);
			return written === 1 ? this.adapter.findById(id) : null;
		},

		/**
		 * Ends a pending order once its payment is known: captured → paid (the stock hold becomes permanent);
		 * declined or voided → stock released, payment_failed. Idempotent; answers the order as it ends up.
		 */
		async settleCheckout(this: SagaThis, ctx: Context, order: Record<string, any>, payment: Payment) {
			const items = stockLines(order.items);
			if (payment.status === "captured" || payment.status === "refunded") {
				// The hold becomes permanent first: a crash between the two steps leaves a pending order, which
				// recovery pays (commitStock again is a no-op), never a paid order with a hold left behind.
				await ctx.call("products.commitStock", { reservationId: order._id, items });
				const outbox: OutboxEntry[] = [{ channel: CHANNELS.ORDER_PAID, payload: orderEvent(order) }];
				const paid = await this.moveOrder(order._id, "pending", "paid", {
					step: "paid",
					payment: { status: "captured", transactionId: payment.transactionId },
					outbox,
					outboxPending: true
				});
				if (paid) await this.publishOutbox(order._id);
				return paid ?? (await this.adapter.findById(order._id))!;
			}
			await ctx.call("products.releaseStock", { reservationId: order._id, items });
			const failed = await this.moveOrder(order._id, "pending", "payment_failed", {
				step: "payment_failed",
				payment: payment.status === "voided" ? { status: "voided" } : { status: "declined", declineCode: payment.declineCode }
			});
			return failed ?? (await this.adapter.findById(order._id))!;
		},

		/** Completes a cancellation that claimed the order (step cancelling): refund, restock, cancelled. Idempotent. */
		async finishCancel(this: SagaThis, ctx: Context, order: Record<string, any>) {
			const refund: Payment = await ctx.call("payments.refund", { orderId: order._id });
			await ctx.call("products.restock", { reservationId: order._id, items: stockLines(order.items) });
			const outbox: OutboxEntry[] = [
				{ channel: CHANNELS.ORDER_CANCELLED, payload: orderEvent(order) },
				{ channel: CHANNELS.PAYMENT_REFUNDED, payload: { ...orderEvent(order), transactionId: refund.transactionId } }
			];
			const cancelled = await this.moveOrder(order._id, "paid", "cancelled", {
				step: "cancelled",
				payment: { ...order.payment, status: refund.status },
				outbox,
				outboxPending: true
			});
			if (cancelled) await this.publishOutbox(order._id);
			return cancelled ?? (await this.adapter.findById(order._id))!;
		},

		/**
		 * Publishes the order's outbox, then marks it sent. A failure (NATS down) leaves it pending for recovery;
		 * the checkout itself has succeeded either way.
		 */
		async publishOutbox(this: SagaThis, orderId: string): Promise<void> {
			const order = await this.adapter.findById(orderId);
			if (!order?.outboxPending) return;
			try {
				for (const entry of order.outbox as OutboxEntry[]) await sendToChannel(this.broker, entry.channel, entry.payload);
				await this.adapter.updateMany({ _id: orderId }, { $set: { outboxPending: false } });
			} catch (err) {
				this.logger.warn(`Events of order ${orderId} not published yet; recovery will retry.`, err);
			}
		},

		/** Drives every order unfinished for longer than the recovery delay to a terminal state. Answers how many. */
		async recoverOrders(this: SagaThis): Promise<number> {
			const before = new Date(Date.now() - recoveryAfterSeconds() * 1000).toISOString();
			// Oldest first; an order that fails to recover is touched, so it goes to the back and cannot starve the rest.
			const stuck = await this.adapter.find({ query: { $or: [{ status: "pending" }, { step: "cancelling" }], updatedAt: { $lt: before } }, sort: ["updatedAt"], limit: 100 });
			const ctx = { call: (action: string, params: object) => this.broker.call(action, params) } as unknown as Context;
			let done = 0;
			for (const order of stuck) {
				try {
					if (order.status === "pending") {
						const payment: Payment = await ctx.call("payments.void", { orderId: order._id });
						await this.settleCheckout(ctx, order, payment);
					} else {
						await this.finishCancel(ctx, order);
					}
					done += 1;
					this.logger.warn(`Recovered order ${order._id} (was ${order.status}/${order.step}).`);
				} catch (err) {
					this.logger.error(`Could not recover order ${order._id}; will retry.`, err);
					await this.adapter.updateMany({ _id: order._id }, { $set: { updatedAt: new Date().toISOString() } });
				}
			}
			const unsent = await this.adapter.find({ query: { outboxPending: true, updatedAt: { $lt: before } }, limit: 100 });
			for (const order of unsent) await this.publishOutbox(order._id);
			return done + unsent.length;
		}
	},

	events: {
		/** The first recovery runs once every local service, the store connection included, has started. */
		"$broker.started"(this: SagaThis) {
			const run = () => this.recoverOrders().catch(err => this.logger.error("Order recovery failed", err));
			this.recoveryTimer = setInterval(run, Math.min(RECOVERY_INTERVAL_MS, recoveryAfterSeconds() * 1000));
			this.recoveryTimer.unref();
			void run();
		}
	},

	stopped(this: SagaThis) {
		clearInterval(this.recoveryTimer);
	}
} as unknown as Partial<ServiceSchema>;
