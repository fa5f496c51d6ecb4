/**
 * Logs. LOG_FORMAT=json (the default when stdout is not a terminal, and in the image) writes one JSON object
 * per line through Moleculer's Pino logger: `time` (ISO 8601), `level`, `nodeID`, `service`, `message`, an
 * `err` object for errors, and — for any work done on behalf of a request — `requestId`, the gateway's
 * X-Request-Id. LOG_FORMAT=pretty keeps Moleculer's readable console lines.
 *
 * The request id travels with the work, never through arguments:
 * - across nodes as Moleculer's `ctx.requestID` (the gateway makes X-Request-Id the context's requestID);
 * - in durable event payloads as `requestId` (domain/events.ts), since channel handlers get no context;
 * - into the saga's recovery from the order, which keeps the id of the request that created it;
 * - inside a node through AsyncLocalStorage (`requestScope`), entered by `requestScopeMiddleware` around every
 *   local action, event and channel handler, and read by the logger's `mixin` on every line.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";
import type { BrokerOptions, Context, Middleware, ServiceBroker } from "moleculer";
import { channelSpan, traceIdOf } from "./tracing";
import { pino } from "pino";

/** What a log line carries for the request being served, and the context of the action or event running. */
export interface RequestScope {
	requestId: string;
	/** The context of the local action or event being run (for spans of the work it does), if any. */
	ctx?: Context;
}

/** The request the current async work belongs to (undefined outside any request). */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/** Runs `work` inside the scope of request `requestId` (as is, when there is none), with `ctx` when given. */
export function inRequest<T>(requestId: string | null | undefined, work: () => T, ctx?: Context): T {
	return requestId ? requestScope.run({ requestId, ctx }, work) : work();
}

/**
 * Broker middleware: every local action, event and channel handler runs inside its request's scope
 * (`ctx.requestID`; for channels, the payload's `requestId`).
 */
export const requestScopeMiddleware = {
	name: "RequestScope",
	localAction: (next: (ctx: Context) => Promise<unknown>) => (ctx: Context) => inRequest(ctx.requestID, () => next(ctx), ctx),
	localEvent: (next: (ctx: Context) => Promise<unknown>) => (ctx: Context) => inRequest(ctx.requestID, () => next(ctx), ctx),
	// A durable event's handler: in its request's scope, and in a span of its trace when tracing is on.
	localChannel(this: ServiceBroker, next: (payload: unknown, raw: unknown) => Promise<unknown>, chan: { name: string; group?: string }) {
		return (payload: { requestId?: string; spanId?: string } | null, raw: unknown) =>
			inRequest(payload?.requestId, () => channelSpan(this, chan.name, chan.group ?? "", payload, () => next(payload, raw)));
	}
} as unknown as Middleware;

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

/**
 * Moleculer's logger options for `format` and `level`: the Pino logger (json; to `destination`, default
 * stdout) or the Console logger (pretty). Moleculer's log calls look like `logger.warn("text", err, …)`; each becomes one line whose
 * `message` joins the non-error arguments and whose `err` is the first error (Pino's serialiser: type,
 * message, stack).
 */
export function loggerOptions(format: "json" | "pretty", level: string, destination?: NodeJS.WritableStream): BrokerOptions["logger"] {
	if (format === "pretty") return { type: "Console", options: { level, formatter: "short", colors: Boolean(process.stdout.isTTY) } };
	const options: Parameters<typeof pino>[0] = {
		base: undefined,
		level: "trace",
		messageKey: "message",
		timestamp: pino.stdTimeFunctions.isoTime,
		formatters: { level: label => ({ level: label }) },
		mixin: () => {
			const scope = requestScope.getStore();
			// The trace id is derived here, on the lines actually written, not on every action call.
			return scope ? { requestId: scope.requestId, traceId: traceIdOf(scope.requestId) } : {};
		}
	};
	// stdout unless a test gives its own stream.
	const root = destination ? pino(options, destination) : pino(options);
	return {
		type: "Pino",
		options: {
			level,
			createLogger: (lineLevel: string, bindings: Record<string, unknown>) => {
				// Moleculer's bindings (nodeID, ns, mod, svc, ver) as the two fields a reader needs.
				const child = root.child({ nodeID: bindings.nodeID, service: bindings.svc ?? bindings.mod }, { level: lineLevel });
				// Levels below the node's are no-ops: Moleculer calls every level, and building the message
				// (inspect of objects) for a line Pino then drops cost ~2 % of a checkout's CPU.
				return Object.fromEntries(
					LEVELS.map(type => [
						type,
						!child.isLevelEnabled(type) ? () => undefined : (...args: unknown[]) => {
							const err = args.find(arg => arg instanceof Error);
							const message = args
								.filter(arg => arg !== err)
								.map(arg => (typeof arg === "string" ? arg : inspect(arg, { depth: 4, breakLength: Infinity })))
								.join(" ");
							if (err) child[type]({ err }, message);
							else child[type](message);
						}
					])
				);
			}
		}
	} as BrokerOptions["logger"];
}
