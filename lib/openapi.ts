/**
 * The OpenAPI 3.1 document of the HTTP API, generated — never written by hand — from the two things that
 * define the API: the route table (services/api.routes.ts: method, path, action, access, success status and
 * the errors each route answers) and each action's params schema (fastest-validator rules, read from the
 * broker's registry, so the schemas of actions on other nodes are included). `GET /api/openapi.json` serves it.
 *
 * Success bodies: the JSON Schemas of the response types (types/api-responses.ts), generated into
 * lib/response-schemas.json by `npm run openapi:schemas` (a test fails when they are out of date).
 *
 * Path params come from the alias (`:id` → `{id}`); the other params are the query of GET and DELETE routes
 * and the JSON body of the others. Every answer that is not a success has the error body of moleculer-web
 * (`ErrorBody`). Customer and admin routes require a bearer token (HS256 JWT from /api/auth/login).
 */
import { ERROR_STATUS, ErrorTypes, type ErrorType } from "./errors";
import RESPONSE_SCHEMAS from "./response-schemas.json";

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Record<string, unknown>;
type Rule = string | Record<string, any>;

/** One route of the table, as the generator reads it. */
export interface OpenApiRoute {
	alias: string;
	action: string;
	access: "anonymous" | "customer" | "admin";
	status: number;
	errors: readonly ErrorType[];
	response?: string;
}

/**
 * The JSON Schema of one fastest-validator rule (the rule types the shop uses: string, email, number,
 * boolean, enum, array, object, any). `optional` and `default` are read by the caller and here.
 */
export function ruleToSchema(rule: Rule): JsonSchema {
	const r: Record<string, any> = typeof rule === "string" ? { type: rule.split("|")[0] } : rule;
	const common: JsonSchema = r.default !== undefined && typeof r.default !== "function" ? { default: r.default } : {};
	switch (r.type) {
		case "string":
			return { type: "string", ...(r.min != null && { minLength: r.min }), ...(r.max != null && { maxLength: r.max }), ...(r.length != null && { minLength: r.length, maxLength: r.length }), ...((typeof r.pattern === "string" || r.pattern instanceof RegExp) && { pattern: r.pattern instanceof RegExp ? r.pattern.source : r.pattern }), ...(r.enum && { enum: r.enum }), ...common };
		case "email":
			return { type: "string", format: "email", ...(r.max != null && { maxLength: r.max }), ...common };
		case "number":
			return { type: r.integer ? "integer" : "number", ...(r.min != null && { minimum: r.min }), ...(r.max != null && { maximum: r.max }), ...(r.positive && { exclusiveMinimum: 0 }), ...common };
		case "boolean":
			return { type: "boolean", ...common };
		case "enum":
			return { enum: r.values, ...common };
		case "array":
			return { type: "array", ...(r.items && { items: ruleToSchema(r.items) }), ...(r.min != null && { minItems: r.min }), ...(r.max != null && { maxItems: r.max }), ...common };
		case "object":
			return r.props ? { ...objectSchema(r.props, r.strict === true || r.$$strict === true), ...common } : { type: "object", ...common };
		default:
			return { ...common };
	}
}

/** An object schema for a params (or props) schema: `$$strict` forbids other properties. */
export function objectSchema(props: Record<string, Rule>, strict = (props as Record<string, unknown>).$$strict === true): JsonSchema {
	const entries = Object.entries(props).filter(([name]) => !name.startsWith("$$"));
	const required = entries.filter(([, rule]) => !(typeof rule === "object" && (rule.optional || rule.default !== undefined)) && !(typeof rule === "string" && rule.includes("optional"))).map(([name]) => name);
	return { type: "object", properties: Object.fromEntries(entries.map(([name, rule]) => [name, ruleToSchema(rule)])), ...(required.length && { required }), ...(strict && { additionalProperties: false }) };
}

const REASONS: Record<number, string> = { 200: "OK", 201: "Created", 400: "Bad request", 401: "Unauthorized", 402: "Payment required", 403: "Forbidden", 404: "Not found", 409: "Conflict", 422: "Unprocessable", 429: "Too many requests", 503: "Service unavailable" };

/** The statuses a route can answer besides its own errors: auth, validation, rate limit, a service away. */
function commonErrors(route: OpenApiRoute, hasParams: boolean): Map<number, string[]> {
	const byStatus = new Map<number, string[]>();
	const add = (status: number, type: string) => byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
	for (const type of route.errors) add(ERROR_STATUS[type], type);
	if (route.access !== "anonymous") add(401, ErrorTypes.AUTH_REQUIRED);
	add(401, ErrorTypes.INVALID_TOKEN);
	if (route.access === "admin") add(403, ErrorTypes.FORBIDDEN);
	if (hasParams) add(422, ErrorTypes.VALIDATION_ERROR);
	if (route.alias.startsWith("POST") || route.alias.startsWith("PATCH")) add(400, "entity.parse.failed");
	add(429, "RATE_LIMIT_EXCEEDED");
	add(503, ErrorTypes.SERVICE_UNAVAILABLE);
	return byStatus;
}

/**
 * The document for `routes` (under /api), with `paramsOf(action)` giving an action's params schema
 * (undefined when none) and `version` the API's version (package.json).
 */
export function buildOpenApi(routes: readonly OpenApiRoute[], paramsOf: (action: string) => Record<string, Rule> | undefined, version: string): JsonSchema {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const route of routes) {
		const [method, alias] = route.alias.split(" ");
		const pathNames = [...alias.matchAll(/:(\w+)/g)].map(m => m[1]);
		const params = paramsOf(route.action) ?? {};
		const own = Object.fromEntries(Object.entries(params).filter(([name]) => !pathNames.includes(name)));
		const body = objectSchema(own);
		const inQuery = method === "GET" || method === "DELETE";
		const hasParams = Object.keys(body.properties as object).length > 0 || pathNames.length > 0;
		const parameters = [
			...pathNames.map(name => ({ name, in: "path", required: true, schema: params[name] ? ruleToSchema(params[name]) : { type: "string" } })),
			...(inQuery ? Object.entries(body.properties as Record<string, JsonSchema>).map(([name, schema]) => ({ name, in: "query", required: ((body.required as string[]) ?? []).includes(name), schema })) : []),
			...(route.action === "orders.checkout" ? [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 128 } }] : [])
		];
		const errors = commonErrors(route, hasParams);
		const success = route.response ? { $ref: `#/components/schemas/${route.response}` } : {};
		const responses: Record<string, unknown> = { [route.status]: { description: REASONS[route.status] ?? "Success", content: { "application/json": { schema: success } } } };
		for (const [status, types] of [...errors].sort(([a], [b]) => a - b)) {
			responses[status] = { description: `${REASONS[status] ?? "Error"}: ${[...new Set(types)].join(", ")}`, content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } };
		}
		(paths[`/api${alias.replace(/:(\w+)/g, "{$1}")}`] ??= {})[method.toLowerCase()] = {
			operationId: route.action,
			summary: `${route.action} (${route.access})`,
			...(route.access !== "anonymous" && { security: [{ bearerAuth: [] }] }),
			...(parameters.length && { parameters }),
			...(!inQuery && Object.keys(body.properties as object).length && { requestBody: { required: true, content: { "application/json": { schema: body } } } }),
			responses
		};
	}
	return {
		openapi: "3.1.0",
		info: { title: "moleculer-shop API", version, description: "Generated from services/api.routes.ts and the actions' params schemas. Money: integer minor units plus an ISO 4217 currency." },
		servers: [{ url: "/" }],
		paths,
		components: {
			securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
			schemas: {
				// The success bodies, generated from the TypeScript types (npm run openapi:schemas).
				...RESPONSE_SCHEMAS,
				ErrorBody: {
					type: "object",
					required: ["name", "message", "code"],
					properties: { name: { type: "string" }, message: { type: "string" }, code: { type: "integer" }, type: { type: "string" }, data: {} }
				}
			}
		}
	};
}
