/**
 * The checkout saga's persisted steps and their recovery, for the orders service. An order records where
 * its checkout got to in `step`; every move goes through the one transition table of `domain/order.ts`
 * (`moveOrder`: a compare-and-set from the steps the table allows), and the public `status` follows.
 *
 * Every step is idempotent (stock movements and payments are keyed by the order id, the cart claim by the
 * order id too), so a step can be repeated after a crash. Every RECOVERY_INTERVAL_MS each orders node drives
 * orders that have stood unfinished for longer than ORDER_RECOVERY_AFTER seconds to a final step: it asks
 * payments to settle the order first (`payments.void` answers the charge if one exists, else forbids any
 * later one), and only then decides between paid and payment_failed. Nothing is ever charged without a paid
 * order, and the cart claim ends with the order.
 *
 * Durable events (order.paid, order.cancelled, payment.refunded) are written to the order's `outbox` in
 * the same update that ends the step, then published; what could not be published (NATS down, a crash in
 * between) is published again by recovery. Consumers are idempotent, so a repeat is harmless.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import { PeriodicMixin } from "./periodic.mixin";
import { orderLines, statusOf, stepsBefore, type OrderStep } from "../domain/order";
import type { Payment } from "../domain/payment";
import { CHANNELS, type ChannelName, type ChannelPayloads, type OrderEvent } from "../domain/events";
import { sendToChannel } from "../lib/channels";
import { inRequest, requestScope } from "../lib/logging";
import { countMetric, setGauge } from "../lib/business-metrics";
import type { ShopConfig } from "../lib/config";

/** How often (ms) a node looks for unfinished orders (at most; shorter when ORDER_RECOVERY_AFTER is). */
export const RECOVERY_INTERVAL_MS = 15_000;

export interface SagaThis extends DbServiceThis {
	config: ShopConfig;
	moveOrder(id: string, to: OrderStep, set: Record<string, unknown>): Promise<Record<string, any> | null>;
	settleCheckout(ctx: Context, order: Record<string, any>, payment: Payment): Promise<Record<string, any>>;
	endCartClaim(ctx: Context, order: Record<string, any>, how: "complete" | "release"): Promise<void>;
	finishCancel(ctx: Context, order: Record<string, any>): Promise<Record<string, any>>;
	recoverOrders(): Promise<number>;
	publishOutbox(order: Record<string, any>): Promise<void>;
}

/** An event waiting in an order's outbox. */
interface OutboxEntry<C extends ChannelName = ChannelName> {
	channel: C;
	payload: ChannelPayloads[C];
}

/** The payload every order event carries; `requestId` of the request it comes from (default: the checkout's). */
function orderEvent(order: Record<string, any>, requestId: string | undefined = order.requestId): OrderEvent {
	const spanId = requestScope.getStore()?.ctx?.span?.id;
	return { orderId: order._id, customerId: order.customerId, customerEmail: order.customerEmail, items: orderLines(order.items), total: order.total, currency: order.currency, requestId, ...(spanId && { spanId }) };
}

export const OrderSagaMixin: Partial<ServiceSchema> = {
	mixins: [PeriodicMixin({ method: "recoverOrders", intervalMs: service => Math.min(RECOVERY_INTERVAL_MS, (service as SagaThis).config.orderRecoveryAfterSeconds * 1000) })],

	methods: {
		/**
		 * Moves order `id` to step `to` if it still stands at a step the transition table allows before `to`
		 * (one compare-and-set; the status follows the step). Resolves to the updated order, or null when
		 * another request or recovery moved it first.
		 */
		async moveOrder(this: SagaThis, id: string, to: OrderStep, set: Record<string, unknown>) {
			const written = await this.adapter.updateMany(
				{ _id: id, step: { $in: stepsBefore(to) } },
				{ $set: { ...set, step: to, status: statusOf(to), updatedAt: new Date().toISOString() } }
			);
			return written === 1 ? this.adapter.findById(id) : null;
		},

		/**
		 * Ends a pending order once its payment is known: captured → the hold becomes a sale, paid, the cart
		 * emptied; declined or voided → stock released, payment_failed, the cart kept. Idempotent; answers the
		 * order as it ends up.
		 */
		async settleCheckout(this: SagaThis, ctx: Context, order: Record<string, any>, payment: Payment) {
			const items = orderLines(order.items);
			let settled: Record<string, any> | null;
			if (payment.status === "captured" || payment.status === "refunded") {
				// The hold becomes a sale first: a crash between the two steps leaves a pending order, which
				// recovery pays (commitStock again is a no-op), never a paid order with a hold left behind.
				await ctx.call("products.commitStock", { reservationId: order._id, items });
				const outbox: OutboxEntry[] = [{ channel: CHANNELS.ORDER_PAID, payload: orderEvent(order) }];
				settled = await this.moveOrder(order._id, "paid", { payment: { status: "captured", transactionId: payment.transactionId }, outbox, outboxPending: true });
				if (settled) await this.publishOutbox(settled);
				await this.endCartClaim(ctx, order, "complete");
			} else {
				await ctx.call("products.releaseStock", { reservationId: order._id, items });
				const failed = payment.status === "voided" ? { status: "voided" } : { status: "declined", declineCode: payment.declineCode };
				settled = await this.moveOrder(order._id, "payment_failed", { payment: failed });
				await this.endCartClaim(ctx, order, "release");
			}
			if (settled) this.logger.info(`Order ${order._id} ${settled.status}: ${order.total} ${order.currency} (minor units).`);
			return settled ?? (await this.adapter.findById(order._id))!;
		},

		/**
		 * Ends the order's claim on its customer's cart: `complete` empties the cart (paid), `release` keeps it.
		 * A failure is logged only: `order.paid` and the carts service's claim sweep end the claim later.
		 */
		async endCartClaim(this: SagaThis, ctx: Context, order: Record<string, any>, how: "complete" | "release") {
			const action = how === "complete" ? "carts.completeCheckout" : "carts.releaseCheckout";
			await ctx.call(action, { customerId: order.customerId, orderId: order._id }).catch(err => {
				this.logger.warn(`Could not end the cart claim of order ${order._id} (${action}); it ends later.`, err);
			});
		},

		/** Completes a cancellation that claimed the order (step cancelling): refund, restock, cancelled. Idempotent. */
		async finishCancel(this: SagaThis, ctx: Context, order: Record<string, any>) {
			const refund: Payment = await ctx.call("payments.refund", { orderId: order._id });
			await ctx.call("products.restock", { reservationId: order._id, items: orderLines(order.items) });
			const requestId = requestScope.getStore()?.requestId;
			const outbox: OutboxEntry[] = [
				{ channel: CHANNELS.ORDER_CANCELLED, payload: orderEvent(order, requestId) },
				{ channel: CHANNELS.PAYMENT_REFUNDED, payload: { ...orderEvent(order, requestId), transactionId: refund.transactionId } }
			];
			const cancelled = await this.moveOrder(order._id, "cancelled", { payment: { ...order.payment, status: refund.status }, outbox, outboxPending: true });
			if (cancelled) {
				countMetric(this.broker, "shop.orders.total", { outcome: "cancelled" });
				await this.publishOutbox(cancelled);
			}
			return cancelled ?? (await this.adapter.findById(order._id))!;
		},

		/**
		 * Publishes the outbox of `order` (the document as just written or read), then marks it sent unless the
		 * order changed meanwhile (a newer outbox stays pending, and recovery sends it). A failure (NATS down)
		 * leaves it pending for recovery; the checkout itself has succeeded either way.
		 */
		async publishOutbox(this: SagaThis, order: Record<string, any>): Promise<void> {
			const orderId: string = order._id;
			if (!order.outboxPending) return;
			try {
				for (const entry of order.outbox as OutboxEntry[]) await sendToChannel(this.broker, entry.channel, entry.payload);
				await this.adapter.updateMany({ _id: orderId, updatedAt: order.updatedAt }, { $set: { outboxPending: false } });
			} catch (err) {
				this.logger.warn(`Events of order ${orderId} not published yet; recovery will retry.`, err);
			}
		},

		/** Drives every order unfinished for longer than the recovery delay to a final step. Answers how many. */
		async recoverOrders(this: SagaThis): Promise<number> {
			const before = new Date(Date.now() - this.config.orderRecoveryAfterSeconds * 1000).toISOString();
			// Oldest first; an order that fails to recover is touched, so it goes to the back and cannot starve the rest.
			const stuck = await this.adapter.find({ query: { $or: [{ status: "pending" }, { step: "cancelling" }], updatedAt: { $lt: before } }, sort: ["updatedAt"], limit: 100 });
			let done = 0;
			for (const order of stuck) {
				// Recovery works on behalf of the request that created the order: its calls and log lines carry its id.
				const ctx = { call: (action: string, params: object) => this.broker.call(action, params, { requestID: order.requestId }) } as unknown as Context;
				await inRequest(order.requestId, async () => {
					try {
						if (order.status === "pending") {
							const payment: Payment = await ctx.call("payments.void", { orderId: order._id });
							await this.settleCheckout(ctx, order, payment);
						} else {
							await this.finishCancel(ctx, order);
						}
						done += 1;
						const now = await this.adapter.findById(order._id);
						countMetric(this.broker, "shop.order.recoveries.total", { action: String(now?.status ?? "failed") });
						this.logger.warn(`Recovered order ${order._id} (was ${order.status}/${order.step}).`);
					} catch (err) {
						countMetric(this.broker, "shop.order.recoveries.total", { action: "failed" });
						this.logger.error(`Could not recover order ${order._id}; will retry.`, err);
						await this.adapter.updateMany({ _id: order._id }, { $set: { updatedAt: new Date().toISOString() } });
					}
				});
			}
			const unsent = await this.adapter.find({ query: { outboxPending: true, updatedAt: { $lt: before } }, limit: 100 });
			// Each order read again just before: another node may have moved it (a cancel) since the list was read.
			for (const listed of unsent) {
				const order = await this.adapter.findById(listed._id);
				if (order) await this.publishOutbox(order);
			}
			setGauge(this.broker, "shop.outbox.pending", await this.adapter.count({ query: { outboxPending: true } }));
			return done + unsent.length;
		}
	}
} as unknown as Partial<ServiceSchema>;
