/**
 * Tracing. With OTEL_EXPORTER_ZIPKIN_ENDPOINT set (the OpenTelemetry SDKs' variable for Zipkin, e.g.
 * http://otel-collector:9411/api/v2/spans: an OpenTelemetry Collector's `zipkin` receiver, Jaeger or Zipkin
 * take it), every node traces with Moleculer's tracer and exports Zipkin v2 JSON every second:
 *
 * - each HTTP request is one trace, whose root is the gateway's span (`POST /api/orders`);
 * - each action call and event is a span on the node that runs it, its parent the caller's span;
 * - each store operation (`store.<operation> <collection>`) and each durable event delivery
 *   (`channel order.paid`) is a span too (`storeSpan`, `channelSpan`);
 * - the trace id is the request id of the logs: a UUID request id without its dashes, any other request id
 *   hashed to 32 hex digits (`traceIdOf`); JSON log lines carry both `requestId` and `traceId`.
 */
import { createHash } from "node:crypto";
import type { BrokerOptions, Context, ServiceBroker, Span } from "moleculer";
import { TracerExporters } from "moleculer";

/** The 32-hex-digit trace id of request `requestId` (see above). */
export function traceIdOf(requestId: string): string {
	const hex = requestId.replace(/-/g, "").toLowerCase();
	return /^[0-9a-f]{32}$/.test(hex) ? hex : createHash("sha256").update(requestId).digest("hex").slice(0, 32);
}

type ZipkinBase = new (opts: object) => {
	opts: { baseURL: string; headers: Record<string, string> };
	queue: Span[];
	broker: ServiceBroker;
	logger: { warn(...args: unknown[]): void };
	makePayload(span: Span): Record<string, any>;
	stop(): Promise<void>;
};

/**
 * Moleculer's Zipkin exporter with 128-bit trace ids (the request id, see `traceIdOf`), the Moleculer service
 * as the Zipkin service name and the node id as a tag, and a last flush when the node stops.
 */
export class ShopZipkinExporter extends (TracerExporters.Zipkin as unknown as ZipkinBase) {
	override makePayload(span: Span): Record<string, any> {
		const payload = super.makePayload(span);
		const service = (span as unknown as { service?: { name?: string } }).service?.name ?? (span.tags?.service as string | undefined) ?? "broker";
		return { ...payload, traceId: traceIdOf(span.traceID), localEndpoint: { serviceName: service }, remoteEndpoint: undefined, tags: { ...payload.tags, "moleculer.nodeID": this.broker.nodeID } };
	}

	/** Sends the finished spans (resolves when the collector answered, or failed). */
	async flush(): Promise<void> {
		if (this.queue.length === 0) return;
		const spans = this.queue.splice(0).map(span => this.makePayload(span));
		try {
			const res = await fetch(`${this.opts.baseURL}/api/v2/spans`, { method: "POST", body: JSON.stringify(spans), headers: this.opts.headers });
			if (res.status >= 400) this.logger.warn(`OTEL_EXPORTER_ZIPKIN_ENDPOINT answered ${res.status} to ${spans.length} spans.`);
		} catch (err) {
			this.logger.warn(`OTEL_EXPORTER_ZIPKIN_ENDPOINT: cannot send ${spans.length} spans (${(err as Error).message}).`);
		}
	}

	override async stop(): Promise<void> {
		await super.stop();
		await this.flush();
	}
}

/** The broker's tracing options: off without `endpoint`, else traced and exported to it every second. */
export function tracingOptions(endpoint: string | null): BrokerOptions["tracing"] {
	if (!endpoint) return { enabled: false };
	return { enabled: true, events: true, stackTrace: false, exporter: [new ShopZipkinExporter({ baseURL: endpoint.replace(/\/api\/v2\/spans\/?$/, ""), interval: 1 }) as never] };
}

/**
 * Runs `work` inside a span named `name` under `ctx`'s span when tracing is on (else just runs it): for
 * store operations and other work an action does that Moleculer does not trace by itself.
 */
export async function withSpan<T>(ctx: Context | undefined, name: string, tags: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
	if (!ctx?.span || !ctx.broker.isTracingEnabled()) return work();
	const span = ctx.startSpan(name, { tags });
	return inSpan(span, () => ctx.finishSpan(span), work);
}

/** Runs `work`, marking `span` failed if it throws, and `finish`es the span either way. */
async function inSpan<T>(span: Span, finish: () => void, work: () => Promise<T>): Promise<T> {
	try {
		return await work();
	} catch (err) {
		span.setError(err as Error);
		throw err;
	} finally {
		finish();
	}
}

/**
 * Runs a durable event's handler (of consumer group `service`) in a span of the event's trace (`requestId`),
 * child of the span that published it (`spanId`), when tracing is on.
 */
export async function channelSpan<T>(broker: ServiceBroker, channel: string, service: string, event: { requestId?: string; spanId?: string } | null, work: () => Promise<T>): Promise<T> {
	if (!broker.isTracingEnabled() || !event?.requestId) return work();
	const span = broker.tracer.startSpan(`channel ${channel}`, { traceID: event.requestId, parentID: event.spanId ?? null, type: "channel", tags: { channel, service } } as never);
	return inSpan(span, () => span.finish(), work);
}
