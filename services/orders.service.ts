/**
 * The orders service: checkout, order history and cancellation. An order captures the cart's prices at
 * checkout. Every status change goes through the state machine of `domain/order-state` and is stored with
 * a conditional update on the current status, so two concurrent requests can never both move one order.
 */
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { isAdmin, requireCustomer } from "../lib/auth";
import {
	EmptyCartError,
	InvalidPaymentTokenError,
	OrderNotCancellableError,
	OrderNotFoundError,
	PaymentDeclinedError
} from "../lib/errors";
import { transition, type OrderStatus } from "./domain/order-state";
import { isPaymentToken } from "./domain/payment-provider";
import type { CartItem, PricedCart } from "./domain/cart";
import type { Payment } from "./payments.service";
import { pageParamRules, type Page, type PageParams } from "../lib/paging";
import type { Meta } from "../types/meta";

/** The payment part of an order: `pending` until settled, then `captured`, `declined` or `refunded`. */
export interface OrderPayment {
	status: "pending" | "captured" | "declined" | "refunded";
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
	moveOrder(id: string, from: OrderStatus, to: OrderStatus, set: Record<string, unknown>): Promise<Record<string, any> | null>;
	replayCheckout(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order>;
	answerCreated(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order>;
}
type OrdersThis = DbServiceThis & OrdersMethods;

/** The stock lines of an order, for reservation and release. */
function stockLines(items: readonly CartItem[]) {
	return items.map(item => ({ productId: item.productId, quantity: item.quantity }));
}

const OrdersService: ServiceSchema<object, OrdersMethods, object, OrdersThis> = {
	name: "orders",
	mixins: [
		DbMixin("orders", ORDER_FIELDS, [
			{ fields: { customerId: 1, createdAt: -1 } },
			// Every order has a scope (the customer's key, or its own id), so no sparse index is needed.
			{ fields: { idempotencyScope: 1 }, unique: true }
		])
	],
	dependencies: ["carts", "products", "payments"],

	actions: {
		/**
		 * Checks the caller's cart out: reserves stock, charges, and answers 201 with a `paid` order.
		 * With `ctx.meta.idempotencyKey` (the Idempotency-Key header) a repeated request answers like the first.
		 * @throws InvalidPaymentTokenError 422; EmptyCartError 422; InsufficientStockError 409 (nothing charged,
		 *   no stock changed, cart kept); PaymentDeclinedError 402 (`data.orderId` is a `payment_failed` order,
		 *   stock released, cart kept); AuthRequiredError 401.
		 */
		checkout: {
			params: checkoutParams,
			async handler(ctx: Context<CheckoutParams, Meta>): Promise<Order> {
				const customer = requireCustomer(ctx);
				if (!isPaymentToken(ctx.params.paymentToken)) throw new InvalidPaymentTokenError();
				const key = ctx.meta.idempotencyKey;
				const orderId = this.newId();
				const idempotencyScope = key ? `key:${customer.id}:${key}` : `order:${orderId}`;
				if (key) {
					const previous = await this.adapter.findOne({ idempotencyScope });
					if (previous) return this.replayCheckout(ctx, previous);
				}

				const cart: PricedCart = await ctx.call("carts.get");
				if (cart.items.length === 0) throw new EmptyCartError();
				const now = new Date().toISOString();
				const order = {
					_id: orderId,
					customerId: customer.id,
					status: "pending" as OrderStatus,
					items: cart.items,
					total: cart.total,
					currency: cart.currency,
					payment: { status: "pending" },
					idempotencyScope,
					createdAt: now,
					updatedAt: now
				};
				try {
					await this.adapter.insert(order);
				} catch (err) {
					if (key && this.isDuplicateKeyError(err)) {
						return this.replayCheckout(ctx, (await this.adapter.findOne({ idempotencyScope }))!);
					}
					throw err;
				}

				try {
					await ctx.call("products.reserveStock", { items: stockLines(order.items) });
				} catch (err) {
					// Nothing was reserved (reserveStock is all or nothing) and nothing charged: the order never was.
					await this.adapter.removeMany({ _id: order._id });
					throw err;
				}

				const payment: Payment = await ctx.call("payments.charge", {
					orderId: order._id,
					amount: order.total,
					currency: order.currency,
					paymentToken: ctx.params.paymentToken
				});
				if (payment.status !== "captured") {
					await ctx.call("products.releaseStock", { items: stockLines(order.items) });
					await this.moveOrder(order._id, "pending", "payment_failed", { payment: { status: "declined", declineCode: payment.declineCode } });
					throw new PaymentDeclinedError(order._id, payment.declineCode ?? "card_declined");
				}
				const paid = await this.moveOrder(order._id, "pending", "paid", { payment: { status: "captured", transactionId: payment.transactionId } });
				try {
					await ctx.call("carts.clear");
				} catch (err) {
					this.logger.warn(`Order ${order._id} is paid but the cart was not cleared.`, err);
				}
				return this.answerCreated(ctx, paid!);
			}
		},

		/** The caller's orders, newest first. @throws AuthRequiredError 401; ValidationError 422. */
		list: {
			params: listParams,
			async handler(ctx: Context<ListParams, Meta>): Promise<OrderPage> {
				return this.findPage(ctx, { customerId: requireCustomer(ctx).id }, ["-createdAt", "-_id"], ctx.params);
			}
		},

		/** One of the caller's orders (an admin sees every order). @throws OrderNotFoundError 404; 401. */
		get: {
			params: idParams,
			async handler(ctx: Context<IdParams, Meta>): Promise<Order> {
				return this.toOrder(await this.findOwnOrder(ctx, ctx.params.id));
			}
		},

		/**
		 * Cancels a `paid` order: refunds the payment and restores the stock.
		 * @throws OrderNotCancellableError 409 unless the order is `paid`; OrderNotFoundError 404; 401.
		 */
		cancel: {
			params: idParams,
			async handler(ctx: Context<IdParams, Meta>): Promise<Order> {
				const doc = await this.findOwnOrder(ctx, ctx.params.id);
				if (doc.status !== "paid") throw new OrderNotCancellableError(doc._id, doc.status);
				const claimed = await this.moveOrder(doc._id, "paid", "cancelled", {});
				if (!claimed) throw new OrderNotCancellableError(doc._id, "cancelled");
				await ctx.call("payments.refund", { orderId: doc._id });
				await ctx.call("products.releaseStock", { items: stockLines(doc.items) });
				const done = await this.adapter.updateById(doc._id, { $set: { payment: { ...doc.payment, status: "refunded" }, updatedAt: new Date().toISOString() } });
				return this.toOrder(done);
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
		 * Moves order `id` from `from` to `to` (checked by the state machine) only if it is still in `from`.
		 * Resolves to the updated order, or null when another request moved it first.
		 */
		async moveOrder(id: string, from: OrderStatus, to: OrderStatus, set: Record<string, unknown>) {
			const written = await this.adapter.updateMany(
				{ _id: id, status: from },
				{ $set: { ...set, status: transition(from, to), updatedAt: new Date().toISOString() } }
			);
			return written === 1 ? this.adapter.findById(id) : null;
		},

		/** Answers a repeated checkout (same Idempotency-Key) the way the first one was answered. */
		async replayCheckout(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order> {
			if (doc.status === "payment_failed") throw new PaymentDeclinedError(doc._id, doc.payment?.declineCode ?? "card_declined");
			return this.answerCreated(ctx, doc);
		},

		/** Answers 201 with the order and its URL in `Location`. */
		answerCreated(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order> {
			ctx.meta.$statusCode = 201;
			ctx.meta.$location = `/api/orders/${doc._id}`;
			return this.toOrder(doc);
		}
	}
};

export default OrdersService;
