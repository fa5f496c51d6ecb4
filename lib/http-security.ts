/**
 * The gateway's HTTP hardening, in one place: security headers on every response (helmet), a request id
 * on every response and access-log line, and the client address as the gateway sees it (proxy-addr: the
 * `X-Forwarded-For` chain is believed only for hops through TRUSTED_PROXIES).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import helmet from "helmet";
import proxyaddr from "proxy-addr";

/** An accepted incoming X-Request-Id: 1..64 characters of [A-Za-z0-9._-]; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The request id to use: the client's if well formed, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
	return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * The security headers of an API that serves JSON only, as helmet sets them: no content may load or frame
 * it, MIME sniffing off, no referrer, no caching of answers; HSTS in production (behind TLS). They do not
 * depend on the request, so helmet runs once, on a stand-in response, and every answer gets the result.
 */
export function securityHeaderSet(production: boolean): Readonly<Record<string, string>> {
	const headers: Record<string, string> = { "Cache-Control": "no-store" };
	const collect = { setHeader: (name: string, value: string | number) => void (headers[name] = String(value)), removeHeader: (name: string) => void delete headers[name] };
	helmet({
		contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
		strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
		referrerPolicy: { policy: "no-referrer" },
		frameguard: { action: "deny" }
	})({} as IncomingMessage, collect as unknown as ServerResponse, () => undefined);
	return Object.freeze(headers);
}

/** Sets the security headers of `securityHeaderSet` on every response, then calls `next`. */
export function securityHeaders(production: boolean) {
	const headers = Object.entries(securityHeaderSet(production));
	return (_req: IncomingMessage, res: ServerResponse, next: () => void) => {
		for (const [name, value] of headers) res.setHeader(name, value);
		next();
	};
}

/** The client address of `req` given the trusted proxies (proxy-addr syntax, e.g. "loopback", "10.0.0.0/8"). */
export function clientAddressResolver(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
	const trust = proxyaddr.compile(trustedProxies.length > 0 ? [...trustedProxies] : []);
	return req => proxyaddr(req as Parameters<typeof proxyaddr>[0], trust);
}

/** Keys that could reach an object's prototype when a parsed body is merged or copied. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * A JSON.parse reviver that refuses prototype-pollution keys at any depth: the body parser then answers
 * 400 and no action ever sees the body.
 */
export function rejectPrototypeKeys(key: string, value: unknown): unknown {
	if (PROTOTYPE_KEYS.has(key)) throw new SyntaxError(`Forbidden key "${key}" in the request body`);
	return value;
}
