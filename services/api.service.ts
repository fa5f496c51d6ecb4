/**
 * The API gateway (moleculer-web): publishes exactly the routes of `api.routes.ts` under /api, authenticates
 * bearer tokens and enforces each route's access. Answers errors as moleculer-web's JSON error body
 * `{ name, message, code, type, data }` with HTTP status = code; 5xx bodies never carry internal messages
 * in production. Every response carries security headers and an X-Request-Id; requests are rate-limited
 * per client address (stricter on /api/auth), bodies are capped at 64 KB, and CORS allows only CORS_ORIGINS.
 * Outside /api it serves the storefront at `/` (web/, lib/web-assets.ts) and nothing else.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import { loadConfig, type ShopConfig } from "../lib/config";
import { clientAddressResolver, rejectPrototypeKeys, requestIdOf, securityHeaderSet, securityHeaders } from "../lib/http-security";
import { ResponseCache, cacheKey, captureAnswer, catalogVersion, sendCached, type RouteRateLimit } from "../lib/catalog-cache";
import { verifyToken } from "../lib/jwt";
import { inRequest } from "../lib/logging";
import { buildOpenApi, type JsonSchema } from "../lib/openapi";
import { isDocsPath, serveDocs } from "../lib/api-docs";
import { STOREFRONT_PAGES, WebAssets } from "../lib/web-assets";
import { HttpRequestTally } from "../lib/business-metrics";
import { AuthRequiredError, ErrorTypes, ForbiddenError, InvalidTokenError, ServiceUnavailableError } from "../lib/errors";
import { ACCESS_BY_ACTION, ROUTED_SERVICES, ROUTES } from "./api.routes";
import { missingServices } from "../lib/health";
import { SharedRateLimitStore } from "../lib/rate-limit";
import type { Meta } from "../types/meta";

/**
 * `GET /api/health`: `ok` (200) when every service the routes call has a node; otherwise (503) `starting`
 * while this node has not finished starting, `degraded` after, with the services that have no node in
 * `missing`. `services` lists the service names available in the cluster.
 */
export interface Health {
	status: "ok" | "starting" | "degraded";
	nodeID: string;
	services: string[];
	missing?: string[];
}

/** The gateway's HTTP server timeouts (ms): headers, a whole request, an idle keep-alive connection. */
/** The API's version in the OpenAPI document: package.json's (beside services/ in the sources, beside dist/ when built). */
const API_VERSION: string = (() => {
	for (const file of ["../package.json", "../../package.json"]) {
		try {
			return String(require(file).version);
		} catch {
			// not at this depth
		}
	}
	return "0.0.0";
})();

export const SERVER_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 } as const;

type GatewayRequest = IncomingMessage & { $action?: { name?: string }; $endpoint?: unknown };
interface ApiMethods {
	httpHandler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): unknown;
	serveCatalog(req: IncomingMessage, res: ServerResponse, key: string, next: ((err?: unknown) => void) | undefined, started: number): Promise<void>;
	gateway(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void, cacheControl?: string): void;
	countRequest(req: IncomingMessage, res: ServerResponse, started: number): void;
	sendError(req: IncomingMessage, res: ServerResponse, err: unknown): unknown;
	authorize(ctx: Context<unknown, Meta>, route: unknown, req: GatewayRequest): Promise<void>;
	reformatError(err: { name: string; message: string; code: number; type?: string; data?: unknown }): object;
}
type ApiThis = Service<ApiSettingsSchema> & ApiMethods & {
	config: ShopConfig;
	server?: Server;
	clientAddress: (req: IncomingMessage) => string;
	headers: ReturnType<typeof securityHeaders>;
	/** The security headers, for the cached path; catalog reads are revalidated (`no-cache`), not `no-store`. */
	catalogHeaders: readonly string[];
	/** The /api route's rate limit, which the cached path applies too. */
	catalogRateLimit?: RouteRateLimit | null;
	/** Whether the access log is written (LOGLEVEL info or finer): its line is not even built otherwise. */
	logAccess: boolean;
	/** The per-request metrics, tallied and added to the registry once per turn of the event loop; null with metrics off. */
	requestTally: HttpRequestTally | null;
	responses: ResponseCache;
	/** The storefront's page and assets (lib/web-assets.ts), at `/` and `/assets/`. */
	storefront: WebAssets;
	routes: { path: string; rateLimit?: RouteRateLimit }[];
};

/** `item` without the fields that name nodes or internal actions (`nodeID`, `action`). */
function withoutInternals(item: object): object {
	const { nodeID: _node, action: _action, ...rest } = item as Record<string, unknown>;
	return rest;
}

/** The catalog paths, `/api/products[/]` (the list) and `/api/products/<id>`, any query: the route of a catalog request moleculer-web did not route (the response cache's answers). */
const CATALOG_PATH = /^\/api\/products(?:\/?|(\/[^/?]+))(?:\?|$)/;

/** The route template of a catalog read answered from the response cache, or null for any other URL. */
function catalogRoute(url: string | undefined): string | null {
	const match = url === undefined ? null : CATALOG_PATH.exec(url);
	return match ? (match[1] ? "/api/products/:id" : "/api/products") : null;
}

/** Idempotency keys are opaque client strings: 1..255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The hook every route shares: request id, client address and Idempotency-Key into meta, calls balanced by name. */
function onBeforeCall(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: GatewayRequest) {
	ctx.meta.requestId = ctx.requestID ?? undefined;
	ctx.meta.clientAddress = this.clientAddress(req);
	const key = req.headers["idempotency-key"];
	if (typeof key === "string" && IDEMPOTENCY_KEY.test(key)) ctx.meta.idempotencyKey = key;
	// moleculer-web picked one node's endpoint (to check the action's visibility) and would call that
	// node directly; calling by name lets the transporter balance instead, which never routes to a
	// node that died but is still listed until its heartbeats time out (see lib/broker-options.ts).
	if (req.$action?.name) req.$endpoint = req.$action.name;
}

/** The API gateway for `config` (the default export uses the environment's). */
export function createApiService(config: ShopConfig): ServiceSchema<ApiSettingsSchema, ApiMethods, object, ApiThis> {
	const clientAddress = clientAddressResolver(config.trustedProxies);
	const route = (path: string, prefix: string | null, limit: number, name: string) => ({
		path,
		mappingPolicy: "restrict" as const,
		autoAliases: false,
		aliases: Object.fromEntries(
			ROUTES.filter(r => (prefix ? r.alias.split(" ")[1].startsWith(prefix) : !r.alias.split(" ")[1].startsWith("/auth/")))
				.map(r => [prefix ? r.alias.replace(` ${prefix}`, " /") : r.alias, r.action])
		),
		authorization: true,
		// JSON only, 64 KB at most (413 beyond), no prototype-pollution keys (400).
		bodyParsers: { json: { strict: true, limit: "64kb", reviver: rejectPrototypeKeys }, urlencoded: false },
		// An ETag on every answer, and 304 for a client that already has it (If-None-Match).
		etag: true,
		// Per client address as the gateway sees it, per minute; shared by every gateway node through Redis.
		rateLimit: { window: 60_000, limit, headers: true, key: clientAddress, name, StoreFactory: SharedRateLimitStore },
		onBeforeCall
	});
	return {
		name: "api",
		mixins: [ApiGateway as unknown as Partial<ServiceSchema>],
		// The port opens only once every service the routes call has a node (within START_TIMEOUT), so the
		// first answer is never a 503 for a service that is still starting.
		dependencies: [...ROUTED_SERVICES],

		settings: {
			port: config.port,
			ip: config.gatewayHost,
			routes: [route("/api/auth", "/auth/", config.authRateLimit, "auth"), route("/api", null, config.rateLimit, "api")],
			cors: config.corsOrigins.length > 0
				? {
						origin: config.corsOrigins,
						methods: ["GET", "POST", "PATCH", "DELETE"],
						allowedHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "X-Request-Id"],
						exposedHeaders: ["X-Request-Id", "Location", "X-Rate-Limit-Remaining"],
						credentials: false,
						maxAge: 600
					}
				: undefined,
			// One access-log line per request, with its request id, comes from httpHandler below.
			logRequest: "debug",
			logResponse: "debug",
			log4XXResponses: false
		} as ApiSettingsSchema,

		actions: {
			/** Whether every service the routes call has a node: 200 `ok`, or 503 (see Health). Anonymous. */
			health: {
				params: { $$strict: true },
				handler(ctx: Context<unknown, Meta>): Health {
					const services = this.broker.registry
						.getServiceList({ onlyAvailable: true, skipInternal: true })
						.map((service: { name: string }) => service.name);
					const missing = missingServices(this.broker, ROUTED_SERVICES);
					const health: Health = { status: "ok", nodeID: this.broker.nodeID, services: [...new Set<string>(services)].sort() };
					if (missing.length === 0) return health;
					ctx.meta.$statusCode = 503;
					return { ...health, status: this.broker.started ? "degraded" : "starting", missing };
				}
			},

			/**
			 * The OpenAPI 3.1 document of this API, generated from the route table and the params schemas of the
			 * actions behind it, as this gateway's registry knows them (lib/openapi.ts). Anonymous.
			 */
			openapi: {
				params: { $$strict: true },
				handler(): JsonSchema {
					const actions = new Map<string, { params?: Record<string, unknown> }>(
						this.broker.registry.getActionList({ skipInternal: true }).map((item: { name: string; action?: { params?: Record<string, unknown> } }) => [item.name, item.action ?? {}])
					);
					return buildOpenApi(ROUTES, action => actions.get(action)?.params as never, API_VERSION);
				}
			}
		},

		methods: {
			/**
			 * Wraps moleculer-web's request handler so that every response, a 404 for an unknown path included,
			 * gets the security headers and an X-Request-Id (the client's if well formed, else a new one; it also
			 * becomes the context's requestID), and every request one access-log line carrying that id.
			 */
			httpHandler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) {
				const requestId = requestIdOf(req.headers["x-request-id"]);
				req.headers["x-request-id"] = requestId;
				delete req.headers["x-correlation-id"];
				if (this.logAccess) {
					const started = process.hrtime.bigint();
					res.once("finish", () => {
						const ms = Number(process.hrtime.bigint() - started) / 1e6;
						const path = (((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url) ?? "").split("?")[0];
						inRequest(requestId, () => this.logger.info(`${requestId} ${this.clientAddress(req)} ${req.method} ${path} ${res.statusCode} ${ms.toFixed(1)} ms`));
					});
				}
				// A catalog read answered from the response cache is counted where it is answered (serveCatalog).
				const started = performance.now();
				const key = cacheKey(req.method, req.url, req.headers.authorization, req.headers.origin);
				if (this.requestTally && !key) res.once("finish", () => this.countRequest(req, res, started));
				// The storefront (web/, built into dist/web) and the documentation page (lib/api-docs.ts): static
				// files with a CSP of their own.
				// (API calls, the hot path, skip the check.)
				if (!req.url?.startsWith("/api/") && this.storefront.handles(req.url)) {
					res.setHeader("X-Request-Id", requestId);
					return void this.headers(req, res, () => this.storefront.serve(req, res));
				}
				if (isDocsPath(req.url)) {
					res.setHeader("X-Request-Id", requestId);
					return void this.headers(req, res, () => serveDocs(req, res));
				}
				if (key) return void this.serveCatalog(req, res, key, next, started);
				res.setHeader("X-Request-Id", requestId);
				this.gateway(req, res, next);
			},

			/**
			 * Counts one answered request (`shop_http_requests_total`, `shop_http_request_duration_seconds`) under
			 * its route template (`/api/orders/:id`; a catalog answer from the response cache under its own; any
			 * other path `unmatched`), so the labels stay few whatever the URLs. `started`: `performance.now()` at
			 * its arrival, in ms.
			 */
			countRequest(req: IncomingMessage & { $alias?: { fullPath?: string } }, res: ServerResponse, started: number) {
				const route = req.$alias?.fullPath ?? catalogRoute(req.url) ?? (this.storefront.handles((req.url ?? "").split("?")[0]) ? "storefront" : "unmatched");
				this.requestTally?.add(route, req.method ?? "GET", res.statusCode, (performance.now() - started) / 1000);
			},

			/**
			 * An anonymous catalog read: from the response cache when its answer was computed at the current
			 * catalog version (`lib/catalog-cache.ts`), rate limit and headers as on the full path; otherwise by the
			 * full path, whose 200 answer is then cached at the version read before it was computed.
			 */
			async serveCatalog(req: IncomingMessage, res: ServerResponse, key: string, next: ((err?: unknown) => void) | undefined, started: number) {
				let answered = false;
				try {
					const version = await catalogVersion(this.broker);
					const cached = version ? this.responses.get(key, version) : null;
					this.catalogRateLimit ??= this.routes.find(route => route.path === "/api")?.rateLimit ?? null;
					answered = Boolean(cached && (await sendCached(req, res, cached, this.catalogHeaders, this.catalogRateLimit)));
					if (!answered && version) captureAnswer(res, body => this.responses.set(key, version, body));
				} catch (err) {
					this.logger.warn("The response cache failed; answering without it.", err);
				}
				// Counted when sent (a client gone by then too), where the full path counts at `finish`.
				if (answered) return this.countRequest(req, res, started);
				if (this.requestTally) res.once("finish", () => this.countRequest(req, res, started));
				res.setHeader("X-Request-Id", String(req.headers["x-request-id"]));
				this.gateway(req, res, next, "no-cache");
			},

			/** moleculer-web's own handler, after the security headers (`cacheControl` replacing their `no-store`). */
			gateway(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void, cacheControl?: string) {
				this.headers(req, res, () => {
					if (cacheControl) res.setHeader("Cache-Control", cacheControl);
					(ApiGateway as any).methods.httpHandler.call(this, req, res, next);
				});
			},

			/**
			 * moleculer-web's authorization hook: verifies the bearer token (when sent) into `ctx.meta.customer`,
			 * then checks the access the route table requires for the action.
			 * @throws InvalidTokenError 401 for a bad token; AuthRequiredError 401 without one on a customer route;
			 *   ForbiddenError 403 for a customer on an admin route.
			 */
			async authorize(ctx: Context<unknown, Meta>, _route: unknown, req: GatewayRequest) {
				const header = req.headers.authorization;
				if (header != null) {
					const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
					if (!match) throw new InvalidTokenError();
					ctx.meta.customer = await verifyToken(match[1], this.config.jwtSecret);
				}
				// An action missing from the table is admin-only: a forgotten entry fails closed.
				const access = ACCESS_BY_ACTION.get(req.$action?.name ?? "") ?? "admin";
				if (access === "anonymous") return;
				if (!ctx.meta.customer) throw new AuthRequiredError();
				if (access === "admin" && ctx.meta.customer.role !== "admin") throw new ForbiddenError();
			},

			/**
			 * moleculer-web's error answer, except that a service without a node is 503 SERVICE_UNAVAILABLE with
			 * `Retry-After: 1` rather than Moleculer's 404 (see ServiceUnavailableError).
			 */
			sendError(req: IncomingMessage, res: ServerResponse, err: { type?: string; data?: { service?: string; action?: string } }) {
				if (err && (err.type === "SERVICE_NOT_FOUND" || err.type === "SERVICE_NOT_AVAILABLE")) {
					res.setHeader("Retry-After", "1");
					err = new ServiceUnavailableError(String(err.data?.service ?? err.data?.action ?? "").split(".")[0]);
				}
				return (ApiGateway as any).methods.sendError.call(this, req, res, err);
			},

			/**
			 * moleculer-web's error body `{ name, message, code, type, data }`: without the node ids and internal
			 * action names Moleculer adds to validation errors, and without internal messages for 5xx in production.
			 */
			reformatError(err: { name: string; message: string; code: number; type?: string; data?: unknown }) {
				const { name, message, code, type } = err;
				const data = Array.isArray(err.data) ? err.data.map(item => (item && typeof item === "object" ? withoutInternals(item) : item)) : err.data;
				const internal = !(code >= 400 && code < 500) && type !== ErrorTypes.SERVICE_UNAVAILABLE;
				// The status stays (503, 504 and 500 mean different things to a client); the message does not.
				if (internal && this.config.production) return { name: "ServerError", message: "Internal server error", code: code >= 500 && code < 600 ? code : 500, type: "INTERNAL" };
				return { name, message, code, type, data };
			}
		},

		created() {
			this.config = config;
			this.clientAddress = clientAddress;
			this.headers = securityHeaders(config.production);
			this.catalogHeaders = Object.entries({ ...securityHeaderSet(config.production), "Cache-Control": "no-cache", "Content-Type": "application/json; charset=utf-8" }).flat();
			this.logAccess = ["info", "debug", "trace"].includes(config.logLevel);
			this.requestTally = this.broker.isMetricsEnabled() ? new HttpRequestTally(this.broker) : null;
			this.responses = new ResponseCache();
			this.storefront = new WebAssets(STOREFRONT_PAGES);
			if (config.jwtSecretIsDefault) {
				this.logger.warn("!!! JWT_SECRET is not set: using the insecure development secret. Set JWT_SECRET in any shared environment. !!!");
			}
		},

		started() {
			// A slow client cannot hold a connection: headers within 10 s, a whole request within 30 s, idle
			// keep-alive connections closed after 5 s.
			if (this.server) Object.assign(this.server, SERVER_TIMEOUTS);
			const address = this.server?.address();
			if (address && typeof address === "object") this.logger.info(`Shop API listening on http://localhost:${address.port}/api`);
		}
	};
}

export default createApiService(loadConfig());
