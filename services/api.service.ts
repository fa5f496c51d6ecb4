/**
 * The API gateway (moleculer-web): publishes exactly the routes of `api.routes.ts` under /api, authenticates
 * bearer tokens and enforces each route's access. Answers errors as moleculer-web's JSON error body
 * `{ name, message, code, type, data }` with HTTP status = code; 5xx bodies never carry internal messages
 * in production. Every response carries security headers and an X-Request-Id; requests are rate-limited
 * per client address (stricter on /api/auth), bodies are capped at 64 KB, and CORS allows only CORS_ORIGINS.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import { loadConfig, type ShopConfig } from "../lib/config";
import { clientAddressResolver, rejectPrototypeKeys, requestIdOf, securityHeaders } from "../lib/http-security";
import { verifyToken } from "../lib/jwt";
import { AuthRequiredError, ForbiddenError, InvalidTokenError } from "../lib/errors";
import { ACCESS_BY_ACTION, ROUTES } from "./api.routes";
import type { Meta } from "../types/meta";

/** `GET /api/health`: `services` lists the service names available in the cluster. */
export interface Health {
	status: "ok";
	nodeID: string;
	services: string[];
}

type GatewayRequest = IncomingMessage & { $action?: { name?: string }; $endpoint?: unknown };
interface ApiMethods {
	httpHandler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): unknown;
	authorize(ctx: Context<unknown, Meta>, route: unknown, req: GatewayRequest): Promise<void>;
	reformatError(err: { name: string; message: string; code: number; type?: string; data?: unknown }): object;
}
type ApiThis = Service<ApiSettingsSchema> & ApiMethods & {
	config: ShopConfig;
	server?: Server;
	clientAddress: (req: IncomingMessage) => string;
	headers: ReturnType<typeof securityHeaders>;
};

/** Idempotency keys are opaque client strings: 1..255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The hook every route shares: request id and Idempotency-Key into meta, calls balanced by name. */
function onBeforeCall(ctx: Context<unknown, Meta>, _route: unknown, req: GatewayRequest) {
	ctx.meta.requestId = ctx.requestID ?? undefined;
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
	const route = (path: string, prefix: string | null, limit: number) => ({
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
		// Per client address as the gateway sees it, per gateway node, per minute.
		rateLimit: { window: 60_000, limit, headers: true, key: clientAddress },
		onBeforeCall
	});
	return {
		name: "api",
		mixins: [ApiGateway as unknown as Partial<ServiceSchema>],

		settings: {
			port: config.port,
			ip: config.gatewayHost,
			routes: [route("/api/auth", "/auth/", config.authRateLimit), route("/api", null, config.rateLimit)],
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
			/** Liveness of the gateway and the services it can reach. Anonymous. */
			health: {
				params: { $$strict: true },
				handler(): Health {
					const services = this.broker.registry
						.getServiceList({ onlyAvailable: true, skipInternal: true })
						.map((service: { name: string }) => service.name);
					return { status: "ok", nodeID: this.broker.nodeID, services: [...new Set<string>(services)].sort() };
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
				res.setHeader("X-Request-Id", requestId);
				const started = process.hrtime.bigint();
				res.once("finish", () => {
					const ms = Number(process.hrtime.bigint() - started) / 1e6;
					const path = (((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url) ?? "").split("?")[0];
					this.logger.info(`${requestId} ${this.clientAddress(req)} ${req.method} ${path} ${res.statusCode} ${ms.toFixed(1)} ms`);
				});
				this.headers(req, res, () => (ApiGateway as any).methods.httpHandler.call(this, req, res, next));
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

			/** moleculer-web's error body, without internal messages for 5xx in production. */
			reformatError(err: { name: string; message: string; code: number; type?: string; data?: unknown }) {
				const { name, message, code, type, data } = err;
				const internal = !(code >= 400 && code < 500);
				// The status stays (503, 504 and 500 mean different things to a client); the message does not.
				if (internal && this.config.production) return { name: "ServerError", message: "Internal server error", code: code >= 500 && code < 600 ? code : 500, type: "INTERNAL" };
				return { name, message, code, type, data };
			}
		},

		created() {
			this.config = config;
			this.clientAddress = clientAddress;
			this.headers = securityHeaders(config.production);
			if (config.jwtSecretIsDefault) {
				this.logger.warn("!!! JWT_SECRET is not set: using the insecure development secret. Set JWT_SECRET in any shared environment. !!!");
			}
		},

		started() {
			const address = this.server?.address();
			if (address && typeof address === "object") this.logger.info(`Shop API listening on http://localhost:${address.port}/api`);
		}
	};
}

export default createApiService(loadConfig());
