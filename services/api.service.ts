/**
 * The API gateway (moleculer-web): publishes exactly the routes of `api.routes.ts` under /api, authenticates
 * bearer tokens and enforces each route's access. Answers errors as moleculer-web's JSON error body
 * `{ name, message, code, type, data }` with HTTP status = code; 5xx bodies never carry internal messages
 * in production.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import { loadConfig, type ShopConfig } from "../lib/config";
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
	authorize(ctx: Context<unknown, Meta>, route: unknown, req: GatewayRequest): Promise<void>;
	reformatError(err: { name: string; message: string; code: number; type?: string; data?: unknown }): object;
}
type ApiThis = Service<ApiSettingsSchema> & ApiMethods & { config: ShopConfig; server?: Server };

/** Idempotency keys are opaque client strings: 1..255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const config = loadConfig();

const ApiService: ServiceSchema<ApiSettingsSchema, ApiMethods, object, ApiThis> = {
	name: "api",
	mixins: [ApiGateway as unknown as Partial<ServiceSchema>],

	settings: {
		port: config.port,
		ip: config.gatewayHost,
		routes: [
			{
				path: "/api",
				mappingPolicy: "restrict",
				autoAliases: false,
				aliases: Object.fromEntries(ROUTES.map(route => [route.alias, route.action])),
				authorization: true,
				bodyParsers: { json: { strict: true, limit: "64kb" }, urlencoded: false },
				onBeforeCall(ctx: Context<unknown, Meta>, _route: unknown, req: GatewayRequest, res: ServerResponse) {
					ctx.meta.requestId = ctx.requestID ?? undefined;
					if (ctx.requestID) res.setHeader("X-Request-Id", ctx.requestID);
					const key = req.headers["idempotency-key"];
					if (typeof key === "string" && IDEMPOTENCY_KEY.test(key)) ctx.meta.idempotencyKey = key;
					// moleculer-web picked one node's endpoint (to check the action's visibility) and would call that
					// node directly; calling by name lets the transporter balance instead, which never routes to a
					// node that died but is still listed until its heartbeats time out (see lib/broker-options.ts).
					if (req.$action?.name) req.$endpoint = req.$action.name;
				}
			}
		],
		log4XXResponses: false
	},

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
			if (internal && this.config.production) return { name: "InternalServerError", message: "Internal server error", code: 500, type: "INTERNAL" };
			return { name, message, code, type, data };
		}
	},

	created() {
		this.config = config;
		if (config.jwtSecretIsDefault) {
			this.logger.warn("!!! JWT_SECRET is not set: using the insecure development secret. Set JWT_SECRET in any shared environment. !!!");
		}
	},

	started() {
		const address = this.server?.address();
		if (address && typeof address === "object") this.logger.info(`Shop API listening on http://localhost:${address.port}/api`);
	}
};

export default ApiService;
