/**
 * The notifications service: records the e-mail the shop would send for each order event (a fake mailer,
 * like the reference shops' email service), once per event and order whatever the delivery count, and
 * shows the dead-letter stream of durable events that kept failing. Internal only.
 */
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { ChannelsMixin, DEAD_LETTER_QUEUE } from "../lib/channels";
import { CHANNELS, type ChannelName, type OrderEvent } from "../domain/events";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import type { Meta } from "../types/meta";

/** An e-mail as recorded. `kind` is the event it answers. */
export interface Notification {
	id: string;
	kind: string;
	orderId: string;
	customerId: string;
	to: string;
	subject: string;
	createdAt: string;
}

/** A message in the dead-letter stream: where it came from and what it carried. */
export interface DeadLetter {
	seq: number;
	channel: string;
	group: string;
	payload: unknown;
}

const SUBJECTS: Record<ChannelName, (e: OrderEvent) => string> = {
	[CHANNELS.ORDER_PAID]: e => `Your order ${e.orderId} is confirmed`,
	[CHANNELS.ORDER_CANCELLED]: e => `Your order ${e.orderId} is cancelled`,
	[CHANNELS.PAYMENT_REFUNDED]: e => `Your refund for order ${e.orderId}`
};

const listParams = { $$strict: true, orderId: { type: "string", min: 1, max: 64 } } as const;
interface ListParams {
	orderId: string;
}

const deadLettersParams = { $$strict: true, limit: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true } } as const;
interface DeadLettersParams {
	limit: number;
}

interface NotificationsMethods {
	record(kind: ChannelName, event: OrderEvent): Promise<void>;
}
type NotificationsThis = DbServiceThis & NotificationsMethods;

const handler = (kind: ChannelName) =>
	async function (this: NotificationsThis, event: OrderEvent) {
		await this.record(kind, event);
	};

const NotificationsService: ServiceSchema<object, NotificationsMethods, object, NotificationsThis> = {
	name: "notifications",
	mixins: [
		DbMixin({ collection: "notifications", fields: ["kind", "orderId", "customerId", "to", "subject", "createdAt"], indexes: [{ fields: { orderId: 1 } }] }),
		ChannelsMixin<NotificationsThis>({
			[CHANNELS.ORDER_PAID]: handler(CHANNELS.ORDER_PAID),
			[CHANNELS.ORDER_CANCELLED]: handler(CHANNELS.ORDER_CANCELLED),
			[CHANNELS.PAYMENT_REFUNDED]: handler(CHANNELS.PAYMENT_REFUNDED)
		})
	],

	actions: {
		/** The e-mails recorded for `orderId`, oldest first. */
		list: {
			visibility: "public",
			params: listParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<ListParams, Meta>): Promise<Notification[]> {
				return this.transformDocuments(ctx, {}, await this.adapter.find({ query: { orderId: ctx.params.orderId }, sort: ["createdAt"] }));
			}
		},

		/**
		 * The newest `limit` messages of the dead-letter stream (JetStream only; empty without NATS), e.g.
		 * `call notifications.deadLetters --limit 5` in the REPL.
		 */
		deadLetters: {
			visibility: "public",
			params: deadLettersParams,
			async handler(ctx: Context<DeadLettersParams, Meta>): Promise<DeadLetter[]> {
				const adapter = (this.broker as unknown as { channelAdapter?: { manager?: any; addPrefixTopic(t: string): string } }).channelAdapter;
				if (!adapter?.manager) return [];
				const stream = adapter.addPrefixTopic(DEAD_LETTER_QUEUE).split(".").join("_");
				const info = await adapter.manager.streams.info(stream).catch(() => null);
				if (!info || info.state.messages === 0) return [];
				const letters: DeadLetter[] = [];
				for (let seq = info.state.last_seq; seq >= info.state.first_seq && letters.length < ctx.params.limit; seq--) {
					const msg = await adapter.manager.streams.getMessage(stream, { seq }).catch(() => null);
					if (!msg) continue;
					letters.push({
						seq,
						channel: msg.header?.get("x-original-channel") ?? "",
						group: msg.header?.get("x-original-group") ?? "",
						payload: JSON.parse(Buffer.from(msg.data).toString("utf8"))
					});
				}
				return letters;
			}
		}
	},

	methods: {
		/** Records the e-mail for `kind` and the event's order, unless it already was (the id is kind + order). */
		async record(kind: ChannelName, event: OrderEvent): Promise<void> {
			const { inserted } = await this.insertOnce({
				_id: `${kind}:${event.orderId}`,
				kind,
				orderId: event.orderId,
				customerId: event.customerId,
				to: event.customerEmail ?? "",
				subject: SUBJECTS[kind](event),
				createdAt: new Date().toISOString()
			});
			if (inserted) this.logger.info(`E-mail to ${event.customerEmail ?? event.customerId}: ${SUBJECTS[kind](event)}`);
		}
	}
};

export default NotificationsService;
