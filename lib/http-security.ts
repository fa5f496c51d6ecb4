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
 * Security headers for an API that serves JSON only: no content may load or frame it, MIME sniffing off,
 * no referrer, no caching of answers; HSTS in production (behind TLS).
 */
export function securityHeaders(production: boolean) {
	const headers = helmet({
		contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
		strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
		referrerPolicy: { policy: "no-referrer" },
		frameguard: { action: "deny" }
	});
	return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
		res.setHeader("Cache-Control", "no-store");
		headers(req, res, (err?: unknown) => (err ? res.destroy(err as Error) : next()));
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
