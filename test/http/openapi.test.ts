/**
 * The OpenAPI document (lib/openapi.ts, served at GET /api/openapi.json): it validates as OpenAPI 3.1 with a
 * maintained parser (@apidevtools/swagger-parser), it has every route of the table, and a contract test
 * replays the README's walk-through checking every answer's status against the document, every request
 * body against its schema and every error body against ErrorBody. Also: each error class's code is the
 * status the document gives its type.
 */
import type { ServiceBroker } from "moleculer";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { gatewayUrl, startBroker } from "../helpers";
import { client } from "./client";
import { ROUTES } from "../../services/api.routes";
import * as Errors from "../../lib/errors";
import fs from "node:fs";
import { SCHEMAS_FILE, responseSchemas } from "../../scripts/openapi-schemas";

describe("the OpenAPI document", () => {
	let broker: ServiceBroker;
	let http: ReturnType<typeof client>;
	let doc: any;
	const ajv = addFormats(new Ajv2020({ strict: false }));

	beforeAll(async () => {
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments"], { seed: true });
		http = client(gatewayUrl(broker));
		const res = await http("GET", "/openapi.json");
		expect(res.status).toBe(200);
		doc = res.body;
		ajv.addSchema({ $id: "openapi", components: doc.components });
	});
	afterAll(() => broker.stop());

	it("is valid OpenAPI 3.1 with every route of the table, its security and params", async () => {
		await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
		expect(doc.openapi).toBe("3.1.0");
		for (const route of ROUTES) {
			const [method, alias] = route.alias.split(" ");
			const operation = doc.paths[`/api${alias.replace(/:(\w+)/g, "{$1}")}`]?.[method.toLowerCase()];
			expect(operation?.operationId).toBe(route.action);
			expect(Boolean(operation.security)).toBe(route.access !== "anonymous");
			expect(Object.keys(operation.responses)).toContain(String(route.status));
		}
		// Generated from the params schemas: the register body, its required fields and bounds.
		const register = doc.paths["/api/auth/register"].post.requestBody.content["application/json"].schema;
		expect(register).toMatchObject({ type: "object", required: expect.arrayContaining(["email", "password", "name"]), additionalProperties: false, properties: { email: { type: "string", format: "email" } } });
		expect(doc.paths["/api/products"].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["page", "pageSize", "sort", "q", "category"]));
	});

	it("describes every answer of the README's walk-through (contract test)", async () => {
		const checked: string[] = [];
		/** Sends a request and checks it (body) and its answer (status, error body) against the document. */
		const call = async (method: string, path: string, template: string, options: Parameters<typeof http>[2] = {}) => {
			const operation = doc.paths[`/api${template}`][method.toLowerCase()];
			if (options.body !== undefined) expect({ path, valid: ajv.validate(operation.requestBody.content["application/json"].schema, options.body), errors: ajv.errors }).toMatchObject({ valid: true });
			const res = await http(method, path, options);
			expect(`${method} ${template} ${res.status}: ${Object.keys(operation.responses).includes(String(res.status))}`).toBe(`${method} ${template} ${res.status}: true`);
			const schema = operation.responses[String(res.status)].content["application/json"].schema;
			const valid = ajv.validate(schema.$ref ? { $ref: `openapi${schema.$ref}` } : schema, res.body);
			expect({ answer: `${method} ${template} ${res.status}`, valid, errors: ajv.errors }).toMatchObject({ valid: true });
			checked.push(`${method} ${template} ${res.status}`);
			return res;
		};
		const { token } = (await call("POST", "/auth/register", "/auth/register", { body: { email: "contract@example.com", password: "correct-horse-1", name: "Ann" } })).body;
		const product = (await call("GET", "/products?pageSize=1", "/products")).body.rows[0];
		await call("POST", "/cart/items", "/cart/items", { token, body: { productId: product.id, quantity: 2 } });
		await call("GET", "/cart", "/cart", { token });
		const order = (await call("POST", "/orders", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": "contract-1" } })).body;
		await call("GET", "/orders", "/orders", { token });
		await call("POST", `/orders/${order.id}/cancel`, "/orders/{id}/cancel", { token });
		// Its errors: a declined payment, an empty cart, no token, an unknown product.
		await call("POST", "/cart/items", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
		expect((await call("POST", "/orders", "/orders", { token, body: { paymentToken: "tok_chargeDeclined" } })).status).toBe(402);
		await call("DELETE", "/cart", "/cart", { token });
		expect((await call("POST", "/orders", "/orders", { token, body: { paymentToken: "tok_visa" } })).status).toBe(422);
		expect((await call("GET", "/cart", "/cart")).status).toBe(401);
		expect((await call("GET", "/products/nope", "/products/{id}")).status).toBe(404);
		expect(checked).toHaveLength(13);
	});

	it("has success schemas as fresh as the TypeScript types they come from (npm run openapi:schemas)", () => {
		expect(responseSchemas()).toEqual(JSON.parse(fs.readFileSync(SCHEMAS_FILE, "utf8")));
		expect(doc.paths["/api/orders"].post.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Order" });
	}, 60_000);

	it("gives each error type the status its class answers", () => {
		type ErrorClass = new (...args: unknown[]) => Error & { code: number; type: string };
		const samples = (Object.values(Errors) as unknown[]).filter(value => typeof value === "function" && /Error$/.test(value.name) && value !== Errors.ShopErrorRegenerator) as ErrorClass[];
		expect(samples.length).toBeGreaterThan(20);
		for (const ErrorClass of samples) {
			const err = new ErrorClass("x", "y", 1);
			expect(`${err.type} ${err.code}`).toBe(`${err.type} ${Errors.ERROR_STATUS[err.type as Errors.ErrorType]}`);
		}
	});
});

describe("the documentation page", () => {
	let broker: ServiceBroker;
	let base: string;
	beforeAll(async () => {
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments"]);
		base = gatewayUrl(broker);
	});
	afterAll(() => broker.stop());

	it("serves Swagger UI from the shop itself, scripts from its own origin only", async () => {
		const page = await fetch(`${base}/docs`);
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain('<script src="/api/docs/swagger-ui-bundle.js"></script>');
		expect(html).not.toMatch(/<script>|https?:\/\//);
		expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self';/);
		for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "start.js"]) expect((await fetch(`${base}/docs/${file}`)).status).toBe(200);
		expect(await (await fetch(`${base}/docs/start.js`)).text()).toContain('url: "/api/openapi.json"');
		// The API keeps its own policy.
		expect((await fetch(`${base}/health`)).headers.get("content-security-policy")).toMatch(/default-src 'none'/);
		expect((await fetch(`${base}/docs`, { method: "POST" })).status).toBe(405);
	});
});
