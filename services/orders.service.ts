/**
 * The orders service: checkout, order history and cancellation. An order captures the cart's prices at
 * checkout. The checkout is a persisted saga (`mixins/order-saga.mixin.ts`): every step is recorded on the
 * order and idempotent, every status change goes through the state machine of `domain/order-state` with a
 * conditional update on the current status, and unfinished orders are recovered after a crash.
 */
import { createHash } from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin } from "../mixins/db.mixin";
import { OrderSagaMixin, stockLines, type SagaThis } from "../mixins/order-saga.mixin";
import { isAdmin, requireCustomer } from "../lib/auth";
import {
	CheckoutInProgressError,
	EmptyCartError,
	IdempotencyKeyReusedError,
	InvalidPaymentTokenError,
	OrderNotCancellableError,
	OrderNotFoundError,
	PaymentDeclinedError
} from "../lib/errors";
import { faultPoint } from "../lib/fault-points";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { pageParamRules, type Page, type PageParams } from "../lib/paging";
import type { OrderStatus } from "./domain/order-state";
import { isPaymentToken } from "./domain/payment-provider";
import type { CartItem, PricedCart } from "./domain/cart";
import type { Payment } from "./payments.service";
import type { Meta } from "../types/meta";

/** The payment part of an order: `pending` until settled, then `captured`, `declined`, `voided` or `refunded`. */
export interface OrderPayment {
	status: "pending" | "captured" | "declined" | "voided" | "refunded";
	transactionId?: string;
	declineCode?: string;
}

/** An order as the API shows it. `total` and line prices in minor units of `currency`; dates ISO 8601. */
export interface Order {
	id: string;
	customerId: string;
	status: OrderStatus;
	items: CartItem[];
	total: number;
	currency: string;
	payment: OrderPayment;
	createdAt: string;
	updatedAt: string;
}

/** One page of the caller's orders, newest first. */
export type OrderPage = Page<Order>;

const ORDER_FIELDS = ["customerId", "status", "items", "total", "currency", "payment", "createdAt", "updatedAt"];
const ID_RULE = { type: "string", min: 1, max: 64 } as const;
/** How long (ms) a repeated Idempotency-Key request waits for the first one to finish. */
const REPLAY_WAIT_MS = 8000;

const checkoutParams = { $$strict: true, paymentToken: { type: "string", min: 1, max: 200 } } as const;
interface CheckoutParams {
	paymentToken: string;
}

const listParams = { $$strict: true, ...pageParamRules } as const;
type ListParams = PageParams;

const idParams = { $$strict: true, id: ID_RULE } as const;
interface IdParams {
	id: string;
}

interface OrdersMethods {
	toOrder(doc: unknown): Promise<Order>;
	findOwnOrder(ctx: Context<unknown, Meta>, id: string): Promise<Record<string, any>>;
	replayCheckout(ctx: Context<CheckoutParams, Meta>, doc: Record<string, any>, requestHash: string): Promise<Order>;
	answerCheckout(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order>;
}
type OrdersThis = SagaThis & OrdersMethods;

/** SHA-256 of the checkout request, so a reused Idempotency-Key with another body is recognised. */
function hashRequest(params: CheckoutParams): string {
	return createHash("sha256").update(JSON.stringify({ paymentToken: params.paymentToken })).digest("hex");
}

const OrdersService: ServiceSchema<object, OrdersMethods, object, OrdersThis> = {
	name: "orders",
	mixins: [
		DbMixin("orders", ORDER_FIELDS, [
			{ fields: { customerId: 1, createdAt: -1 } },
			{ fields: { status: 1, updatedAt: 1 } },
			{ fields: { outboxPending: 1 } },
			// Every order has a scope (the customer's key, or its own id): one order per Idempotency-Key.
			{ fields: { idempotencyScope: 1 }, unique: true }
		]),
		OrderSagaMixin
	],
	dependencies: ["carts", "products", "payments"],

	actions: {
		/**
		 * Checks the caller's cart out: reserves stock, charges, and answers 201 with a `paid` order. With
		 * `ctx.meta.idempotencyKey` (the Idempotency-Key header; kept as long as the order, at least 24 h) a
		 * repeated request answers like the first and charges nothing more.
		 * @throws InvalidPaymentTokenError 422; EmptyCartError 422; IdempotencyKeyReusedError 422 (same key,
		 *   another body); InsufficientStockError 409 (nothing charged, no stock changed, cart kept);
		 *   CheckoutInProgressError 409 (the first request with the key is still running); PaymentDeclinedError
		 *   402 (`data.orderId` is a `payment_failed` order, stock released, cart kept); AuthRequiredError 401.
		 */
		checkout: {
			params: checkoutParams,
			async handler(ctx: Context<CheckoutParams, Meta>): Promise<Order> {
				const customer = requireCustomer(ctx);
				if (!isPaymentToken(ctx.params.paymentToken)) throw new InvalidPaymentTokenError();
				const key = ctx.meta.idempotencyKey;
				const requestHash = hashRequest(ctx.params);
				const orderId = this.newId();
				const idempotencyScope = key ? `key:${customer.id}:${key}` : `order:${orderId}`;
				if (key) {
					const previous = await this.adapter.findOne({ idempotencyScope });
					if (previous) return this.replayCheckout(ctx, previous, requestHash);
				}

				const cart: PricedCart = await ctx.call("carts.get");
				if (cart.items.length === 0) throw new EmptyCartError();
				const now = new Date().toISOString();
				const order = {
					_id: orderId,
					customerId: customer.id,
					customerEmail: customer.email,
					status: "pending" as OrderStatus,
					step: "created",
					items: cart.items,
					total: cart.total,
					currency: cart.currency,
					payment: { status: "pending" },
					idempotencyScope,
					requestHash,
					createdAt: now,
					updatedAt: now
				};
				try {
					await this.adapter.insert(order);
				} catch (err) {
					if (!key || !this.isDuplicateKeyError(err)) throw err;
					const first = await this.adapter.findOne({ idempotencyScope });
					// The first attempt was refused for stock and removed meanwhile: this one runs anew.
					if (!first) return this.actions.checkout(ctx.params, { parentCtx: ctx }) as Promise<Order>;
					return this.replayCheckout(ctx, first, requestHash);
				}

				const items = stockLines(order.items);
				try {
					await ctx.call("products.reserveStock", { reservationId: orderId, items });
				} catch (err) {
					// A clean refusal (a 4xx) reserved nothing and charged nothing: the order never was. Any other failure
					// (a timeout) may have reserved something, so the order stays for recovery to settle.
					const code = (err as { code?: number }).code ?? 500;
					if (code >= 400 && code < 500) await this.adapter.removeMany({ _id: orderId });
					throw err;
				}
				await this.adapter.updateMany({ _id: orderId, step: "created" }, { $set: { step: "stock_reserved", updatedAt: new Date().toISOString() } });
				faultPoint("after_reserve");

				const payment: Payment = await ctx.call("payments.charge", {
					orderId,
					amount: order.total,
					currency: order.currency,
					paymentToken: ctx.params.paymentToken
				});
				faultPoint("after_charge");
				return this.answerCheckout(ctx, await this.settleCheckout(ctx, order, payment));
			}
		},

		/** The caller's orders, newest first. @throws AuthRequiredError 401; ValidationError 422. */
		list: {
			params: listParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<ListParams, Meta>): Promise<OrderPage> {
				return this.findPage(ctx, { customerId: requireCustomer(ctx).id }, ["-createdAt", "-_id"], ctx.params);
			}
		},

		/** One of the caller's orders (an admin sees every order). @throws OrderNotFoundError 404; 401. */
		get: {
			params: idParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<IdParams, Meta>): Promise<Order> {
				return this.toOrder(await this.findOwnOrder(ctx, ctx.params.id));
			}
		},

		/**
		 * Cancels a `paid` order: refunds the payment and restores the stock (recovery finishes a cancellation
		 * a crash interrupted). @throws OrderNotCancellableError 409 unless the order is `paid` and not already
		 * being cancelled; OrderNotFoundError 404; 401.
		 */
		cancel: {
			params: idParams,
			async handler(ctx: Context<IdParams, Meta>): Promise<Order> {
				const doc = await this.findOwnOrder(ctx, ctx.params.id);
				const claimed = await this.adapter.updateMany(
					{ _id: doc._id, status: "paid", step: "paid" },
					{ $set: { step: "cancelling", updatedAt: new Date().toISOString() } }
				);
				if (claimed !== 1) throw new OrderNotCancellableError(doc._id, doc.step === "cancelling" ? "cancelling" : doc.status);
				return this.toOrder(await this.finishCancel(ctx, doc));
			}
		}
	},

	methods: {
		toOrder(doc: unknown): Promise<Order> {
			return this.transformDocuments(undefined, {}, doc);
		},

		/** The order `id` if the caller may see it. Another customer's order is a 404, so ids don't leak. */
		async findOwnOrder(ctx: Context<unknown, Meta>, id: string): Promise<Record<string, any>> {
			const customer = requireCustomer(ctx);
			const doc = await this.adapter.findById(id);
			if (!doc || (doc.customerId !== customer.id && !isAdmin(ctx))) throw new OrderNotFoundError(id);
			return doc;
		},

		/**
		 * Answers a repeated checkout (same Idempotency-Key) the way the first one was answered, waiting up to
		 * REPLAY_WAIT_MS for it to finish. A first attempt refused for stock left no order, so this one runs anew.
		 */
		async replayCheckout(ctx: Context<CheckoutParams, Meta>, doc: Record<string, any>, requestHash: string): Promise<Order> {
			if (doc.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
			const deadline = Date.now() + REPLAY_WAIT_MS;
			let current: Record<string, any> | null = doc;
			while (current?.status === "pending" && Date.now() < deadline) {
				await new Promise(resolve => setTimeout(resolve, 50));
				current = await this.adapter.findById(doc._id);
			}
			if (!current) return this.actions.checkout(ctx.params, { parentCtx: ctx }) as Promise<Order>;
			if (current.status === "pending") throw new CheckoutInProgressError(doc._id);
			return this.answerCheckout(ctx, current);
		},

		/** The checkout's answer for a settled order: 201 with the order, or 402 for a failed payment. */
		answerCheckout(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order> {
			if (doc.status === "payment_failed") {
				// A voided payment: recovery gave the interrupted checkout up before any charge.
				throw new PaymentDeclinedError(doc._id, doc.payment?.declineCode ?? (doc.payment?.status === "voided" ? "checkout_interrupted" : "card_declined"));
			}
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/orders/${doc._id}`;
			return this.toOrder(doc);
		}
	}
};

export default OrdersService;
