/**
 * Types for @moleculer/channels 0.1.8 (the package ships none usable from TypeScript), and the broker and
 * service-schema members its middleware adds.
 */
declare module "@moleculer/channels" {
	import type { Middleware as MoleculerMiddleware } from "moleculer";

	export interface DeadLettering {
		enabled?: boolean;
		queueName?: string;
	}

	export interface AdapterOptions {
		prefix?: string;
		maxRetries?: number;
		maxInFlight?: number;
		deadLettering?: DeadLettering;
		nats?: { url?: string; connectionOptions?: object; streamConfig?: object; consumerOptions?: object };
	}

	export interface JsMessage {
		data: Uint8Array;
		seq: number;
		headers?: { get(name: string): string };
	}

	export class BaseAdapter {
		constructor(opts?: AdapterOptions);
		opts: AdapterOptions & Record<string, any>;
		logger: { info(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };
		publish(channelName: string, payload: unknown, opts?: object): Promise<void>;
		addPrefixTopic(topic: string): string;
	}

	export class NatsAdapter extends BaseAdapter {
		/** The NATS connection (set by `connect`, whose JetStream manager may still have failed). */
		connection: { close(): Promise<void>; getServer(): string } | null;
		/** JetStream manager and client of the adapter's connection (set once connected). */
		manager: any;
		client: unknown;
		connected: boolean;
		/** Set by `disconnect`. */
		stopping?: boolean;
		/** Messages being handled, per channel id (`subscribe` starts tracking its channel, and throws if it already is). */
		activeMessages: Map<string, unknown>;
		subscriptions: Map<string, unknown>;
		connect(): Promise<void>;
		disconnect(): Promise<void>;
		createStream(name: string, subjects: string[], options: object): Promise<unknown>;
		moveToDeadLetter(chan: { name: string; group: string; deadLettering: DeadLettering }, message: JsMessage): Promise<void>;
		subscribe(chan: object): Promise<void>;
		/** The callback of a channel's JetStream subscription: handles one message (`message` null for a status). */
		createConsumerHandler(chan: object): (err: unknown, message: { working(): void } | null) => Promise<void>;
	}

	export const Adapters: { Base: typeof BaseAdapter; NATS: typeof NatsAdapter; Fake: typeof BaseAdapter };

	export function Middleware(options: { adapter: BaseAdapter | string | object; context?: boolean }): MoleculerMiddleware;
}

