/**
 * The payments service: charges and refunds against the fake provider of `domain/payment-provider`.
 * Internal only (every action has `visibility: "public"`, so the gateway can never publish one).
 * Idempotent per order id: a unique index on `orderId` makes a second charge return the first result,
 * never a second capture.
 */
import { countMetric } from "../lib/business-metrics";
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { CURRENCY_PATTERN } from "../domain/money";
import type { Payment } from "../domain/payment";
import { decideCharge, isPaymentToken } from "../domain/payment-provider";
import { InvalidPaymentTokenError, PaymentNotFoundError, PaymentNotRefundableError } from "../lib/errors";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import type { Meta } from "../types/meta";

const ORDER_ID_RULE = { type: "string", min: 1, max: 64 } as const;

const chargeParams = {
	$$strict: true,
	orderId: ORDER_ID_RULE,
	amount: { type: "number", integer: true, min: 0, convert: false },
	currency: { type: "string", pattern: CURRENCY_PATTERN },
	paymentToken: { type: "string", max: 200 }
} as const;
interface ChargeParams {
	orderId: string;
	/** Minor units (cents). */
	amount: number;
	currency: string;
	paymentToken: string;
}

const orderParams = { $$strict: true, orderId: ORDER_ID_RULE } as const;
interface OrderParams {
	orderId: string;
}

interface PaymentsMethods {
	recordOnce(orderId: string, fields: Record<string, unknown>): Promise<Payment>;
	findByOrder(orderId: string): Promise<Record<string, any> | null>;
	toPayment(doc: unknown): Promise<Payment>;
}
type PaymentsThis = DbServiceThis & PaymentsMethods;

const PaymentsService: ServiceSchema<object, PaymentsMethods, object, PaymentsThis> = {
	name: "payments",
	mixins: [
		DbMixin({
			collection: "payments",
			fields: ["orderId", "amount", "currency", "status", "transactionId", "declineCode", "createdAt", "updatedAt"],
			indexes: [{ fields: { orderId: 1 }, unique: true }]
		})
	],

	actions: {
		/**
		 * Charges `amount` for `orderId`: captured or declined (`declineCode: "card_declined"`). A repeated
		 * charge for the same order returns the first payment unchanged.
		 * @throws InvalidPaymentTokenError 422 INVALID_PAYMENT_TOKEN for a malformed token.
		 */
		charge: {
			visibility: "public",
			params: chargeParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<ChargeParams, Meta>): Promise<Payment> {
				const { orderId, amount, currency, paymentToken } = ctx.params;
				const existing = await this.findByOrder(orderId);
				if (existing) return this.toPayment(existing);
				if (!isPaymentToken(paymentToken)) throw new InvalidPaymentTokenError();
				const payment: Payment = await this.recordOnce(orderId, { amount, currency, ...decideCharge(paymentToken) });
				this.logger.info(`Payment of order ${orderId}: ${payment.status}, ${amount} ${currency} (minor units).`);
				countMetric(this.broker, "shop.payments.total", { status: payment.status, currency });
				countMetric(this.broker, "shop.payments.amount.minor.units.total", { status: payment.status, currency }, amount);
				return payment;
			}
		},

		/**
		 * Refunds the captured payment of `orderId`; refunding a refunded payment returns it unchanged.
		 * @throws PaymentNotFoundError 404; PaymentNotRefundableError 409 for a declined payment.
		 */
		refund: {
			visibility: "public",
			params: orderParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<OrderParams, Meta>): Promise<Payment> {
				const { orderId } = ctx.params;
				const refunded = await this.adapter.updateMany({ orderId, status: "captured" }, { $set: { status: "refunded", updatedAt: new Date().toISOString() } });
				const doc = await this.findByOrder(orderId);
				if (!doc) throw new PaymentNotFoundError(orderId);
				if (doc.status !== "refunded") throw new PaymentNotRefundableError(orderId, doc.status);
				if (refunded === 1) {
					countMetric(this.broker, "shop.payments.total", { status: "refunded", currency: doc.currency });
					countMetric(this.broker, "shop.payments.amount.minor.units.total", { status: "refunded", currency: doc.currency }, doc.amount);
				}
				return this.toPayment(doc);
			}
		},

		/** The payment of `orderId`, or null when none was attempted (recovery asks before deciding). */
		getByOrder: {
			visibility: "public",
			params: orderParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<OrderParams, Meta>): Promise<Payment | null> {
				const doc = await this.findByOrder(ctx.params.orderId);
				return doc ? this.toPayment(doc) : null;
			}
		},

		/**
		 * Settles `orderId` for checkout recovery: answers its payment if one exists, otherwise records a
		 * `voided` one (the same unique index as `charge`), so whichever comes first decides and a charge that
		 * arrives later returns `voided` instead of capturing. Idempotent.
		 */
		void: {
			visibility: "public",
			params: orderParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<OrderParams, Meta>): Promise<Payment> {
				const { orderId } = ctx.params;
				const existing = await this.findByOrder(orderId);
				if (existing) return this.toPayment(existing);
				return this.recordOnce(orderId, { amount: 0, currency: "XXX", status: "voided" });
			}
		}
	},

	methods: {
		/**
		 * Stores `fields` as the payment of `orderId` unless one exists; the unique index on `orderId` decides
		 * between concurrent callers, and the loser answers with the winner's payment.
		 */
		async recordOnce(orderId: string, fields: Record<string, unknown>): Promise<Payment> {
			const now = new Date().toISOString();
			return this.toPayment((await this.insertOnce({ _id: this.newId(), orderId, ...fields, createdAt: now, updatedAt: now }, { orderId })).doc);
		},

		findByOrder(orderId: string) {
			return this.adapter.findOne({ orderId });
		},
		toPayment(doc: unknown): Promise<Payment> {
			return this.transformDocuments(undefined, {}, doc);
		}
	}
};

export default PaymentsService;
