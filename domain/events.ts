/**
 * The durable integration events: one typed payload per channel, shared by the producer (the orders
 * service writes them to the order's outbox) and every consumer (carts, notifications). Channel names are
 * the NATS JetStream subjects, prefixed with the namespace by @moleculer/channels.
 */
import type { StockLine } from "./stock";

/** The durable event channels. */
export const CHANNELS = {
	ORDER_PAID: "order.paid",
	ORDER_CANCELLED: "order.cancelled",
	PAYMENT_REFUNDED: "payment.refunded"
} as const;

/** What every order event carries. `total` in minor units of `currency` (ISO 4217). */
export interface OrderEvent {
	orderId: string;
	customerId: string;
	/** Where the confirmation goes; absent for orders created before e-mails were recorded. */
	customerEmail?: string;
	/** The order's units per product. */
	items: StockLine[];
	total: number;
	currency: string;
	/**
	 * The id of the request the event comes from (the gateway's X-Request-Id: the checkout's for
	 * `order.paid`, the cancellation's for the others), so the consumers' log lines carry it (lib/logging.ts).
	 */
	requestId?: string;
	/** The span that published the event (16 hex digits), parent of the consumers' spans (lib/tracing.ts). */
	spanId?: string;
}

/** `order.paid`: the checkout captured the payment and the stock is sold. */
export type OrderPaidEvent = OrderEvent;
/** `order.cancelled`: a paid order was cancelled; its stock is back. */
export type OrderCancelledEvent = OrderEvent;
/** `payment.refunded`: the cancelled order's payment was refunded (`transactionId` of the capture). */
export interface PaymentRefundedEvent extends OrderEvent {
	transactionId?: string;
}

/** The payload type of each channel. */
export interface ChannelPayloads {
	[CHANNELS.ORDER_PAID]: OrderPaidEvent;
	[CHANNELS.ORDER_CANCELLED]: OrderCancelledEvent;
	[CHANNELS.PAYMENT_REFUNDED]: PaymentRefundedEvent;
}

/** A channel name. */
export type ChannelName = keyof ChannelPayloads;
