/**
 * The orders service: checkout, order history and cancellation. An order captures the cart's prices at
 * checkout. The checkout below is a persisted saga whose steps are recorded on the order
 * (`mixins/order-saga.mixin.ts`: settling, cancelling, recovery after a crash), every move checked by the
 * transition table of `domain/order.ts`:
 *
 *   1. claim the customer's cart (`carts.claimCheckout`): one checkout per cart at a time;
 *   2. record a pending order;
 *   3. reserve its stock (`products.reserveStock`, all or nothing);
 *   4. charge it (`payments.charge`);
 *   5. settle: commit the stock, mark it paid, empty the cart — or release the stock and keep the cart.
 */
import { OrderOperatorMixin } from "../mixins/operator.mixin";
import { countMetric, observeSeconds } from "../lib/business-metrics";
import { createHash } from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin } from "../mixins/db.mixin";
import { OrderSagaMixin, type SagaThis } from "../mixins/order-saga.mixin";
import { isAdmin, requireCustomer } from "../lib/auth";
import { configOf } from "../lib/config";
import {
	CheckoutInProgressError,
	ErrorTypes,
	IdempotencyKeyReusedError,
	InvalidPaymentTokenError,
	OrderNotCancellableError,
	OrderNotFoundError,
	PaymentDeclinedError
} from "../lib/errors";
import { faultPoint } from "../lib/fault-points";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { pageParamRules, type Page, type PageParams } from "../lib/paging";
import { orderLines, type Order, type OrderStatus } from "../domain/order";
import type { Payment } from "../domain/payment";
import { isPaymentToken } from "../domain/payment-provider";
import type { PricedCart } from "../domain/cart";
import type { Meta } from "../types/meta";

/** One page of the caller's orders, newest first. */
export type OrderPage = Page<Order>;

const ORDER_FIELDS = ["customerId", "status", "items", "total", "currency", "payment", "createdAt", "updatedAt"];
const ID_RULE = { type: "string", min: 1, max: 64 } as const;
/** How long (ms) a repeated Idempotency-Key request waits for the first one to finish. */
const REPLAY_WAIT_MS = 8000;
/** How often (ms) a waiting repeat looks at the store again. */
const REPLAY_POLL_MS = 50;
/** Times a checkout whose first attempt left no order runs anew before it answers CHECKOUT_IN_PROGRESS. */
const MAX_RERUNS = 2;

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

const statusesParams = { $$strict: true, ids: { type: "array", min: 1, max: 200, items: ID_RULE } } as const;
interface StatusesParams {
	ids: string[];
}

interface OrdersMethods {
	runCheckout(ctx: Context<CheckoutParams, Meta>, round: number): Promise<Order>;
	toOrder(doc: unknown): Promise<Order>;
	findOwnOrder(ctx: Context<unknown, Meta>, id: string): Promise<Record<string, any>>;
	replayCheckout(ctx: Context<CheckoutParams, Meta>, doc: Record<string, any>, requestHash: string, round: number): Promise<Order>;
	awaitSameKey(ctx: Context<CheckoutParams, Meta>, scope: string, requestHash: string, busy: CheckoutInProgressError, round: number): Promise<Order>;
	answerCheckout(ctx: Context<unknown, Meta>, doc: Record<string, any>): Promise<Order>;
}
type OrdersThis = SagaThis & OrdersMethods;

/** SHA-256 of the checkout request, so a reused Idempotency-Key with another body is recognised. */
function hashRequest(params: CheckoutParams): string {
	return createHash("sha256").update(JSON.stringify({ paymentToken: params.paymentToken })).digest("hex");
}

/**
 * True when the stock service itself refused a reservation (not enough stock, or its params): nothing was
 * held, so the order may go. Anything else (a timeout, a full queue, an open circuit) may still land a hold
 * later, so the order stays for recovery to settle.
 */
function isStockRefusal(err: unknown): boolean {
	const type = (err as { type?: string }).type;
	return type === ErrorTypes.INSUFFICIENT_STOCK || type === ErrorTypes.VALIDATION_ERROR;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const OrdersService: ServiceSchema<object, OrdersMethods, object, OrdersThis> = {
	name: "orders",
	mixins: [
		DbMixin({
			collection: "orders",
			fields: ORDER_FIELDS,
			indexes: [
				{ fields: { customerId: 1, createdAt: -1 } },
				{ fields: { status: 1, updatedAt: 1 } },
				{ fields: { outboxPending: 1 }, mongoOnly: true },
				// Every order has a scope (the customer's key, or its own id): one order per Idempotency-Key.
				{ fields: { idempotencyScope: 1 }, unique: true }
			]
		}),
		OrderSagaMixin,
		OrderOperatorMixin
	],
	dependencies: ["carts", "products", "payments"],

	actions: {
		/**
		 * Checks the caller's cart out (steps above) and answers 201 with a `paid` order. With
		 * `ctx.meta.idempotencyKey` (the Idempotency-Key header; kept as long as the order, at least 24 h) a
		 * repeated request answers like the first and charges nothing more.
		 * @throws InvalidPaymentTokenError 422; EmptyCartError 422 (a late duplicate of a paid checkout too);
		 *   IdempotencyKeyReusedError 422 (same key, another body); CheckoutInProgressError 409 (another checkout
		 *   of this cart is running, or this one could not finish its reservation and stays pending until
		 *   recovery settles it; `data.orderId`); InsufficientStockError 409 (nothing charged, no stock
		 *   changed, cart kept); CurrencyMismatchError 409; PaymentDeclinedError 402 (`data.orderId` is a
		 *   `payment_failed` order, stock released, cart kept); AuthRequiredError 401.
		 */
		checkout: {
			params: checkoutParams,
			async handler(ctx: Context<CheckoutParams, Meta>): Promise<Order> {
				const started = process.hrtime.bigint();
				const outcome = (label: string) => {
					countMetric(this.broker, "shop.orders.total", { outcome: label });
					observeSeconds(this.broker, "shop.checkout.duration.seconds", Number(process.hrtime.bigint() - started) / 1e9, { outcome: label });
				};
				try {
					const order: Order = await this.runCheckout(ctx, 0);
					outcome(order.status);
					return order;
				} catch (err) {
					const type = (err as { type?: string }).type;
					if (type === ErrorTypes.INSUFFICIENT_STOCK) outcome("refused_stock");
					else if (type === ErrorTypes.PAYMENT_DECLINED) outcome("payment_failed");
					throw err;
				}
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
		 * The status of each order in `ids` (internal: the stock and claim sweeps settle what an order left
		 * after it). An order that does not exist is written as abandoned first (a `payment_failed` order with no
		 * customer and no lines, listed by nobody) and answered `payment_failed`, so a checkout that stalled
		 * before writing it can never write it later. Answers `{ [id]: OrderStatus }`. Idempotent.
		 */
		abandonMissing: {
			visibility: "public",
			params: statusesParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<StatusesParams, Meta>): Promise<Record<string, OrderStatus>> {
				const ids = [...new Set(ctx.params.ids)];
				const found = new Map((await this.adapter.findByIds(ids)).map(doc => [doc._id as string, doc.status as OrderStatus]));
				const now = new Date().toISOString();
				for (const id of ids.filter(id => !found.has(id))) {
					const abandoned = { _id: id, status: "payment_failed", step: "payment_failed", abandoned: true, items: [], total: 0, currency: "XXX", payment: { status: "voided" }, idempotencyScope: `abandoned:${id}`, createdAt: now, updatedAt: now };
					const { doc } = await this.insertOnce(abandoned);
					found.set(id, doc?.status ?? "payment_failed");
					this.logger.warn(`Order ${id} was never written (its checkout stalled or its node died): recorded as abandoned.`);
				}
				return Object.fromEntries(found);
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
				const claimed = await this.moveOrder(doc._id, "cancelling", {});
				if (!claimed) throw new OrderNotCancellableError(doc._id, doc.step === "cancelling" ? "cancelling" : doc.status);
				return this.toOrder(await this.finishCancel(ctx, claimed));
			}
		}
	},

	methods: {
		/**
		 * The checkout (steps above); `round` counts the runs anew of this request after an earlier attempt left
		 * no order (at most MAX_RERUNS). Errors as the `checkout` action.
		 */
		async runCheckout(ctx: Context<CheckoutParams, Meta>, round: number): Promise<Order> {
			const customer = requireCustomer(ctx);
			if (!isPaymentToken(ctx.params.paymentToken)) throw new InvalidPaymentTokenError();
			const key = ctx.meta.idempotencyKey;
			const requestHash = hashRequest(ctx.params);
			const orderId = this.newId();
			const idempotencyScope = key ? `key:${customer.id}:${key}` : `order:${orderId}`;
			if (key) {
				const previous = await this.adapter.findOne({ idempotencyScope });
				if (previous) return this.replayCheckout(ctx, previous, requestHash, round);
			}

			let cart: PricedCart;
			try {
				cart = await ctx.call("carts.claimCheckout", { orderId });
			} catch (err) {
				const busy = err as CheckoutInProgressError;
				if (key && busy.type === ErrorTypes.CHECKOUT_IN_PROGRESS) return this.awaitSameKey(ctx, idempotencyScope, requestHash, busy, round);
				throw err;
			}

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
				// The gateway's X-Request-Id: events and recovery of this order log under it (lib/logging.ts).
				requestId: ctx.requestID ?? undefined,
				createdAt: now,
				updatedAt: now
			};
			const written = await this.insertOnce(order, { idempotencyScope }).catch(async err => {
				await this.endCartClaim(ctx, order, "release");
				throw err;
			});
			if (!written.inserted) {
				// The sweep wrote this order as abandoned (this request stalled for minutes), or another request
				// with the same key won: answer as that order does.
				await this.endCartClaim(ctx, order, "release");
				const first = (await this.adapter.findById(orderId)) ?? written.doc;
				if (first?.abandoned) return this.answerCheckout(ctx, first);
				return first ? this.replayCheckout(ctx, first, requestHash, round) : this.runCheckout(ctx, round + 1);
			}

			const items = orderLines(order.items);
			try {
				await ctx.call("products.reserveStock", { reservationId: orderId, items });
			} catch (err) {
				if (!isStockRefusal(err)) {
					// The reservation may still land (a timeout, a busy line): the order stays, and recovery settles it.
					this.logger.warn(`The stock reservation of order ${orderId} failed; recovery settles the order.`, err);
					throw new CheckoutInProgressError(orderId);
				}
				// The cart first, so a repeat of this request finds it free as soon as the order is gone.
				await this.endCartClaim(ctx, order, "release");
				await this.adapter.removeMany({ _id: orderId, step: "created" });
				throw err;
			}
			// Recovery gave the order up meanwhile (this request stalled): answer as it now stands.
			if (!(await this.moveOrder(orderId, "stock_reserved", {}))) return this.answerCheckout(ctx, (await this.adapter.findById(orderId))!);
			faultPoint(this.config.crashAt, "after_reserve");

			const payment: Payment = await ctx.call("payments.charge", { orderId, amount: order.total, currency: order.currency, paymentToken: ctx.params.paymentToken });
			faultPoint(this.config.crashAt, "after_charge");
			return this.answerCheckout(ctx, await this.settleCheckout(ctx, order, payment));
		},

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
		async replayCheckout(ctx: Context<CheckoutParams, Meta>, doc: Record<string, any>, requestHash: string, round: number): Promise<Order> {
			if (doc.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
			const deadline = Date.now() + REPLAY_WAIT_MS;
			let current: Record<string, any> | null = doc;
			while (current?.status === "pending" && Date.now() < deadline) {
				await sleep(REPLAY_POLL_MS);
				current = await this.adapter.findById(doc._id);
			}
			if (!current) {
				if (round >= MAX_RERUNS) throw new CheckoutInProgressError(doc._id);
				return this.runCheckout(ctx, round + 1);
			}
			if (current.status === "pending") throw new CheckoutInProgressError(doc._id);
			return this.answerCheckout(ctx, current);
		},

		/**
		 * The cart is claimed by a running checkout, and this request carries an Idempotency-Key: when that
		 * checkout is the first request with the same key, wait for its order and answer as it does; otherwise
		 * (another checkout, or none appears within REPLAY_WAIT_MS) answer `busy`.
		 */
		async awaitSameKey(ctx: Context<CheckoutParams, Meta>, scope: string, requestHash: string, busy: CheckoutInProgressError, round: number): Promise<Order> {
			const deadline = Date.now() + REPLAY_WAIT_MS;
			const holderId = (busy.data as { orderId: string }).orderId;
			while (Date.now() < deadline) {
				const first = await this.adapter.findOne({ idempotencyScope: scope });
				if (first) return this.replayCheckout(ctx, first, requestHash, round);
				const holder = await this.adapter.findById(holderId);
				if (holder && holder.idempotencyScope !== scope) throw busy;
				await sleep(REPLAY_POLL_MS);
			}
			throw busy;
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
	},

	created() {
		this.config = configOf(this.broker);
	}
};

export default OrdersService;
