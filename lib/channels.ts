/**
 * Durable events: @moleculer/channels over NATS JetStream (on the TRANSPORTER's NATS server), delivered at
 * least once to every consumer group, even one whose nodes were down when the event was published. Without
 * NATS (the one-process default) the package's in-process Fake adapter delivers them. Moleculer's plain
 * events stay for cache cleaning only.
 *
 * The adapter's loss modes, and what the shop does about each:
 * - A new consumer group starts at `deliver_policy: "new"` by default and misses what was published before
 *   it existed: the shop uses "all" (handlers are idempotent, and streams keep events for 7 days).
 * - A failed publish (NATS down) throws: the orders service keeps the event in the order's outbox and
 *   publishes it again later (`mixins/order-saga.mixin.ts`).
 * - A failed dead-letter publish is logged and the message acknowledged, i.e. lost: `ShopNatsAdapter`
 *   rethrows instead, so the message is not acknowledged and JetStream redelivers it after `ack_wait`.
 * - Two replicas of a service starting at once both try to create the group's durable consumer; the loser
 *   fails with "consumer name already in use" and its node stops: `ShopNatsAdapter` retries the subscription,
 *   which then binds to the consumer the other replica created.
 * - A node connects to JetStream and subscribes its channels as it starts. If a NATS server of the cluster
 *   dies meanwhile, JetStream's API answers nothing for a few seconds (TIMEOUT, or 503 "no responders")
 *   while the client reconnects and the streams elect new leaders; the connection or a subscription failed,
 *   the node's start with it, and the node exited, leaving its consumer groups without a subscriber (seen as
 *   `order.paid` confirmations missing in test/ha/nats-cluster.test.ts): `ShopNatsAdapter` retries both for
 *   up to `JETSTREAM_RETRY_MS`.
 */
import { countMetric } from "./business-metrics";
import { Adapters, Middleware, NatsAdapter } from "@moleculer/channels";
import type { Middleware as MoleculerMiddleware, Service, ServiceBroker, ServiceSchema } from "moleculer";
import { natsSecurity, type ShopConfig } from "./config";
import { CHANNELS, type ChannelName, type ChannelPayloads } from "../domain/events";

/** The durable event channels and their payloads: `domain/events.ts` (their NATS streams get the namespace as prefix). */
export { CHANNELS };

/** Where a message goes after MAX_RETRIES failed deliveries (stream `<namespace>_DEAD_LETTER`). */
export const DEAD_LETTER_QUEUE = "DEAD_LETTER";
/** Deliveries of one message before it is dead-lettered. */
export const MAX_RETRIES = 3;

const SECOND_NS = 1_000_000_000;

/**
 * How long (ms) one call (the connection, or one channel's subscription) is retried while JetStream's API does
 * not answer, before it fails and the node's start with it (the attempt under way may add up to its own
 * timeout, 5 s for JetStream's API).
 */
export const JETSTREAM_RETRY_MS = 60_000;
/** Attempts at a subscription while replicas race to create its consumer. */
const IN_USE_ATTEMPTS = 5;

/**
 * Why a failed connection or subscription may succeed if tried again, or null:
 * - `in-use`: a replica created the same consumer (JetStream err_code 10013);
 * - `unanswered`: JetStream's API timed out or had no responder (NatsError code TIMEOUT or 503): a server
 *   away, a leader being elected, but also a server without JetStream; or nats.js's plain Error "no stream
 *   matches subject" (no code, so matched by message): the adapter logs a failed stream creation and goes on
 *   to subscribe, and the next attempt creates the stream again. A stream the cluster cannot place (more
 *   replicas than servers up) fails the same way, so a misconfiguration fails the start after
 *   JETSTREAM_RETRY_MS, the adapter logging its cause at each attempt.
 */
export function retryReason(err: unknown): "in-use" | "unanswered" | null {
	const { message, code, api_error } = (err ?? {}) as { message?: string; code?: string; api_error?: { err_code?: number } };
	if (api_error?.err_code === 10013 || /consumer name already in use/.test(String(message))) return "in-use";
	if (code === "TIMEOUT" || code === "503" || message === "no stream matches subject") return "unanswered";
	return null;
}

/**
 * The NATS adapter, except that a failed dead-letter publish leaves the message for redelivery, the
 * connection and each subscription are retried while JetStream's API does not answer or replicas race
 * (`retryReason`), an existing stream's replica count follows NATS_STREAM_REPLICAS, and a message is
 * acknowledged once, when handled (`createConsumerHandler`).
 */
export class ShopNatsAdapter extends (Adapters.NATS as typeof NatsAdapter) {
	/** How long (ms) one unanswered call is retried (`JETSTREAM_RETRY_MS`; a test sets less). */
	retryMs = JETSTREAM_RETRY_MS;
	/** Wait (ms) before the n-th retry: n × this, at most 10 × this. */
	retryDelayMs = 200;

	/**
	 * Connects as the adapter does (a NATS connection, then JetStream's manager, which asks JetStream's API),
	 * retrying while that API does not answer; a failed attempt's connection is closed.
	 * @throws the last NatsError (e.g. code TIMEOUT) once `retryMs` is spent, any other error at once.
	 */
	override async connect(): Promise<void> {
		try {
			await this.retrying("the connection to JetStream", () => super.connect(), () => this.dropConnection());
		} catch (err) {
			await this.dropConnection();
			throw err;
		}
	}

	/**
	 * The adapter's message handler, without the "in progress" acknowledgement (`+WPI`) it sends to JetStream
	 * before calling the handler. That one restarts the `ack_wait` timer (10 s), which is only needed when
	 * a message waits before its handler starts, and this adapter starts every handler as its message
	 * arrives. It cost one more NATS message per delivery, two per checkout (`order.paid` goes to carts and
	 * notifications). A handler that outlasts `ack_wait` gets the message again; every handler is idempotent.
	 */
	override createConsumerHandler(chan: object): ReturnType<NatsAdapter["createConsumerHandler"]> {
		const handle = super.createConsumerHandler(chan);
		return (err, message) => {
			if (message) message.working = () => undefined;
			return handle(err, message);
		};
	}

	/**
	 * Subscribes, retrying when JetStream's API did not answer (for up to `retryMs`) or a replica created the
	 * consumer meanwhile (IN_USE_ATTEMPTS attempts), each attempt from the channel as declared.
	 * @throws the adapter's last error (e.g. NatsError TIMEOUT) once the retries are spent, any other at once.
	 */
	override async subscribe(chan: { id: string; deadLettering?: object }): Promise<void> {
		// The adapter prefixes the dead-letter queue's name inside `chan`: each attempt starts from the original.
		const deadLettering = chan.deadLettering && { ...chan.deadLettering };
		await this.retrying(`the subscription of ${chan.id}`, () => super.subscribe(chan), async reason => {
			this.activeMessages.delete(chan.id);
			chan.deadLettering = deadLettering && { ...deadLettering };
			if (reason === "in-use") this.logger.info(`Consumer of ${chan.id} was created by another replica; binding to it.`);
		});
	}

	/**
	 * Runs `attempt` until it succeeds; after a failure that `retryReason` names, unless its retries are spent
	 * or the adapter is stopping, calls `reset` and waits (`retryDelayMs`) before the next attempt.
	 * @throws the error of the last attempt.
	 */
	private async retrying(what: string, attempt: () => Promise<void>, reset: (reason: "in-use" | "unanswered") => Promise<void>): Promise<void> {
		const started = Date.now();
		let warned = 0;
		for (let n = 1, inUse = 0; ; n++) {
			try {
				return await attempt();
			} catch (err) {
				const reason = retryReason(err);
				if (reason === "in-use") inUse++;
				const spent = reason === "in-use" ? inUse >= IN_USE_ATTEMPTS : Date.now() - started >= this.retryMs;
				if (!reason || spent || this.stopping) throw err;
				// One warning when it starts, then one each 10 s while it lasts.
				if (reason === "unanswered" && Date.now() - warned >= 10_000) {
					warned = Date.now();
					this.logger.warn(`JetStream did not answer ${what} (${(err as Error).message}); retrying for up to ${this.retryMs / 1000} s (a NATS server away, a leader being elected; if it lasts, check that JetStream is enabled and the stream can be placed).`);
				}
				await reset(reason);
				await new Promise(resolve => setTimeout(resolve, Math.min(n, 10) * this.retryDelayMs));
			}
		}
	}

	/** Closes and forgets the adapter's NATS connection (after a failed connection attempt). */
	private async dropConnection(): Promise<void> {
		const connection = this.connection;
		this.connection = null;
		this.manager = null;
		this.client = null;
		await connection?.close().catch(() => undefined);
	}

	/**
	 * Creates the stream as the adapter does, then reconciles the replica count of a stream that already
	 * existed with another (NATS_STREAM_REPLICAS changed, or a single server became a cluster): the stream is
	 * updated, or one warning says why it could not be.
	 */
	override async createStream(name: string, subjects: string[], options: object) {
		const created = await super.createStream(name, subjects, options);
		const wanted = (this.opts.nats?.streamConfig as { num_replicas?: number } | undefined)?.num_replicas ?? 1;
		const manager = this.manager as { streams: { info(n: string): Promise<{ config: Record<string, unknown> & { num_replicas: number } }>; update(n: string, c: object): Promise<unknown> } };
		const info = await manager.streams.info(name).catch(() => null);
		if (info && info.config.num_replicas !== wanted) {
			await manager.streams.update(name, { ...info.config, num_replicas: wanted }).then(
				() => this.logger.info(`Stream ${name}: replicas ${info.config.num_replicas} → ${wanted} (NATS_STREAM_REPLICAS).`),
				(err: Error) => this.logger.warn(`Stream ${name} has ${info.config.num_replicas} replicas, NATS_STREAM_REPLICAS asks ${wanted}: ${err.message}.`)
			);
		}
		return created;
	}

	override async moveToDeadLetter(chan: Parameters<NatsAdapter["moveToDeadLetter"]>[0], message: Parameters<NatsAdapter["moveToDeadLetter"]>[1]) {
		await this.publish(chan.deadLettering.queueName!, message.data, {
			raw: true,
			headers: { "x-original-channel": chan.name, "x-original-group": chan.group }
		});
		this.logger.warn(`Moved message ${message.seq} of '${chan.name}' (group '${chan.group}') to '${chan.deadLettering.queueName}'.`);
		countMetric((this as unknown as { broker: ServiceBroker }).broker, "shop.dead.letters.total", { channel: chan.name });
	}
}

/** The channels middleware for `config`: JetStream when the transporter is NATS, in-process otherwise. */
export function createChannelsMiddleware(config: ShopConfig): MoleculerMiddleware {
	const common = { maxRetries: MAX_RETRIES, deadLettering: { enabled: true, queueName: DEAD_LETTER_QUEUE } };
	const adapter = config.transporter?.startsWith("nats://")
		? new ShopNatsAdapter({
				...common,
				nats: {
					url: config.transporter,
					connectionOptions: natsSecurity(config),
					streamConfig: { max_age: 7 * 24 * 3600 * SECOND_NS, num_replicas: config.natsStreamReplicas },
					consumerOptions: { config: { deliver_policy: "all", ack_wait: 10 * SECOND_NS } }
				}
			})
		: { type: "Fake", options: common };
	return Middleware({ adapter, context: false });
}

/** Publishes `payload` to a durable channel. @throws when the adapter cannot publish (e.g. NATS is down). */
export function sendToChannel<C extends ChannelName>(broker: ServiceBroker, channel: C, payload: ChannelPayloads[C]): Promise<void> {
	return (broker as ServiceBroker & { sendToChannel(name: string, data: unknown): Promise<void> }).sendToChannel(channel, payload);
}

/** A channel handler: `this` is the service; throwing makes the message be redelivered (then dead-lettered). */
export type ChannelHandler<TThis, P> = (this: TThis, payload: P) => Promise<void>;

/** Handlers by channel, each typed with its channel's payload (`domain/events.ts`). */
export type ChannelHandlers<TThis> = { [C in ChannelName]?: ChannelHandler<TThis, ChannelPayloads[C]> };

/**
 * The `channels` section of a service (the key the middleware reads), as a mixin, with the service's full
 * name as consumer group: every service gets each event once, however many replicas it has.
 */
export function ChannelsMixin<TThis = Service>(handlers: ChannelHandlers<TThis>): Partial<ServiceSchema> {
	return { channels: Object.fromEntries(Object.entries(handlers).map(([name, handler]) => [name, { handler }])) } as Partial<ServiceSchema>;
}
