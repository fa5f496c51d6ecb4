/**
 * The security suite: hostile HTTP requests generated from tables, each of which must get its expected
 * 4xx (never a 5xx, never a stack trace), after which no store may have changed.
 */
import { SignJWT, UnsecuredJWT } from "jose";
import { startSecurityShop, type SecurityShop } from "./fixture";
import { JWT_AUDIENCE, JWT_ISSUER } from "../../lib/config";

type Who = "a" | "b" | "admin" | "anonymous";
interface Case {
	name: string;
	method: string;
	path: string;
	who?: Who;
	body?: unknown;
	raw?: string;
	authorization?: string;
	expect: number[];
}

const OPERATOR_OBJECTS: unknown[] = [{ $ne: null }, { $gt: "" }, { $where: "sleep(1000)" }, { $regex: ".*" }, { $in: [] }];
const OPERATOR_STRINGS = ['{"$ne":null}', '{"$gt":""}', '{"$where":"sleep(1000)"}', '{"$regex":".*"}'];
const NOT_STRINGS: unknown[] = [...OPERATOR_OBJECTS, [], ["x"], {}, true, null, 12, 1.5];
const BAD_STRINGS = ["x".repeat(10_000), "🦄".repeat(3000)];
const NOT_QUANTITIES: unknown[] = [...OPERATOR_OBJECTS, [], {}, true, null, -1, 1.5, 1e21, "2", "x".repeat(10_000)];

/** Cases replacing one field of a valid `body` with each hostile value. */
function eachField(name: string, method: string, path: string, who: Who, body: Record<string, unknown>, fields: Record<string, [unknown[], number[]][]>): Case[] {
	return Object.entries(fields).flatMap(([field, groups]) =>
		groups.flatMap(([values, expect]) => values.map((value, i) => ({ name: `${name} ${field}#${i}`, method, path, who, body: { ...body, [field]: value }, expect })))
	);
}

function cases(shop: SecurityShop): Case[] {
	const { productId, orderOfA } = shop.ids;
	const product = { sku: "HOSTILE-1", name: "Hostile", category: "Test", price: 100, stock: 1 };
	const query = (field: string, value: unknown) =>
		typeof value === "object" && value !== null
			? Object.entries(value).map(([k, v]) => `${field}[${encodeURIComponent(k)}]=${encodeURIComponent(String(v))}`).join("&") || `${field}[]=`
			: `${field}=${encodeURIComponent(String(value))}`;
	return [
		...eachField("login", "POST", "/auth/login", "anonymous", { email: "a@security.test", password: "password-123" }, {
			email: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]], [OPERATOR_STRINGS, [401]]],
			password: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]], [OPERATOR_STRINGS, [401]]]
		}),
		...eachField("register", "POST", "/auth/register", "anonymous", { email: "new@security.test", password: "password-123", name: "N" }, {
			email: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]], [OPERATOR_STRINGS, [422]]],
			password: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]]],
			name: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]]],
			role: [[["admin"], [422]]]
		}),
		...eachField("profile", "PATCH", "/customers/me", "a", { name: "A" }, {
			name: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]]],
			role: [[["admin"], [422]]],
			email: [[["b@security.test"], [422]]]
		}),
		...["q", "category", "sort", "page", "pageSize"].flatMap(field =>
			OPERATOR_OBJECTS.map((value, i) => ({ name: `list ${field} object#${i}`, method: "GET", path: `/products?${query(field, value)}`, expect: [422] }))
		),
		...["sort", "page", "pageSize"].flatMap(field =>
			[...OPERATOR_STRINGS, "-1", "0", "1.5", "1e400", "abc"].map((value, i) => ({ name: `list ${field} string#${i}`, method: "GET", path: `/products?${query(field, value)}`, expect: [422] }))
		),
		{ name: "list pageSize 101", method: "GET", path: "/products?pageSize=101", expect: [422] },
		...["q", "category"].map(field => ({ name: `list ${field} too long`, method: "GET", path: `/products?${query(field, "x".repeat(10_000))}`, expect: [422] })),
		...OPERATOR_STRINGS.map((value, i) => ({ name: `product id op#${i}`, method: "GET", path: `/products/${encodeURIComponent(value)}`, expect: [404] })),
		...eachField("add to cart", "POST", "/cart/items", "a", { productId, quantity: 1 }, {
			productId: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]], [OPERATOR_STRINGS, [404]]],
			quantity: [[NOT_QUANTITIES, [422]], [[0, 101, 1000], [422]]]
		}),
		...eachField("set quantity", "PATCH", `/cart/items/${productId}`, "a", { quantity: 1 }, { quantity: [[NOT_QUANTITIES, [422]], [[101], [422]]] }),
		...eachField("checkout", "POST", "/orders", "a", { paymentToken: "tok_visa" }, {
			paymentToken: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]], [OPERATOR_STRINGS, [422]]]
		}),
		...eachField("create product", "POST", "/products", "admin", product, {
			sku: [[NOT_STRINGS, [422]], [["has space", "../etc", "$where"], [422]]],
			price: [[NOT_QUANTITIES, [422]], [[-5, 1e12], [422]]],
			stock: [[NOT_QUANTITIES, [422]]],
			name: [[NOT_STRINGS, [422]], [BAD_STRINGS, [422]]],
			sold: [[[999], [422]]]
		}),
		...eachField("update product", "PATCH", `/products/${productId}`, "admin", {}, {
			price: [[NOT_QUANTITIES, [422]]],
			stock: [[NOT_QUANTITIES, [422]]],
			holds: [[[{}], [422]]],
			reserved: [[[0], [422]]],
			onHand: [[NOT_QUANTITIES, [422]], [[-1, 1_000_001], [422]]],
			createdAt: [[["2000-01-01"], [422]]]
		}),
		...["a", "anonymous"].map(who => ({ name: `create product as ${who}`, method: "POST", path: "/products", who: who as Who, body: product, expect: who === "a" ? [403] : [401] })),
		...["PATCH", "DELETE"].map(method => ({ name: `${method} product as customer`, method, path: `/products/${productId}`, who: "b" as Who, body: method === "PATCH" ? { price: 1 } : undefined, expect: [403] })),
		...[
			'{"__proto__":{"role":"admin"},"name":"x"}',
			'{"constructor":{"prototype":{"role":"admin"}},"name":"x"}',
			'{"prototype":{"role":"admin"},"name":"x"}',
			'{"name":"x","__proto__":{"isAdmin":true}}'
		].flatMap((raw, i) => [
			{ name: `prototype pollution profile#${i}`, method: "PATCH", path: "/customers/me", who: "a" as Who, raw, expect: [400] },
			{ name: `prototype pollution cart#${i}`, method: "POST", path: "/cart/items", who: "a" as Who, raw: raw.replace('"name":"x"', `"productId":"${productId}","quantity":1`), expect: [400] },
			{ name: `prototype pollution register#${i}`, method: "POST", path: "/auth/register", raw: raw.replace('"name":"x"', '"email":"p@security.test","password":"password-123","name":"p"'), expect: [400] }
		]),
		...['{"email": ', "[1,2", "{'single':1}", "null", '"just a string"', "{\"a\":1}}"].map((raw, i) => ({
			name: `malformed json#${i}`,
			method: "POST",
			path: "/auth/login",
			raw,
			expect: [400, 422]
		})),
		{ name: "oversized body", method: "POST", path: "/auth/register", raw: JSON.stringify({ email: "big@security.test", password: "x".repeat(70_000), name: "B" }), expect: [413] },
		...["GET /customers/me", "GET /cart", "GET /orders", "POST /orders"].flatMap(route => {
			const [method, path] = route.split(" ");
			return ["Bearer garbage", "Bearer a.b.c", "Basic YTpi", "Bearer ", "bearer x", `Bearer ${"x".repeat(5000)}`].map((authorization, i) => ({
				name: `bad auth ${route}#${i}`,
				method,
				path,
				authorization,
				body: method === "POST" ? { paymentToken: "tok_visa" } : undefined,
				expect: [401]
			}));
		}),
		{ name: "another customer's order", method: "GET", path: `/orders/${orderOfA}`, who: "b", expect: [404] },
		{ name: "cancel another customer's order", method: "POST", path: `/orders/${orderOfA}/cancel`, who: "b", expect: [404] },
		{ name: "another customer's cart line", method: "PATCH", path: `/cart/items/${productId}`, who: "b", body: { quantity: 1 }, expect: [404] },
		...[
			"GET /~node/options",
			"GET /$node/options",
			"GET /$node/list",
			"GET /$node/services",
			"POST /payments/charge",
			"POST /payments/refund",
			"POST /payments/void",
			"GET /payments/getByOrder",
			"POST /products/reserveStock",
			"POST /products/releaseStock",
			"POST /products/commitStock",
			"POST /products/restock",
			"GET /products/getMany",
			"POST /carts/claimCheckout",
			"POST /carts/completeCheckout",
			"POST /carts/releaseCheckout",
			"POST /orders/abandonMissing",
			"GET /notifications/deadLetters",
			"GET /notifications/list",
			"GET /api/list-aliases",
			"GET /list-aliases",
			"GET /api/listAliases",
			"POST /orders/checkout",
			"POST /customers/login"
		].map(route => {
			const [method, path] = route.split(" ");
			return { name: `internal ${route}`, method, path, who: "admin" as Who, body: method === "POST" ? {} : undefined, expect: [404, 405] };
		})
	];
}

describe("hostile input through the gateway", () => {
	let shop: SecurityShop;
	beforeAll(async () => (shop = await startSecurityShop()), 30_000);
	afterAll(() => shop.broker.stop());

	it("answers at least 200 hostile requests with their expected 4xx, without a 5xx, and changes nothing", async () => {
		const before = await shop.snapshot();
		const all = cases(shop);
		const wrong: string[] = [];
		for (const c of all) {
			const headers: Record<string, string> = {};
			if (c.who && c.who !== "anonymous") headers.Authorization = `Bearer ${shop.tokens[c.who]}`;
			if (c.authorization !== undefined) headers.Authorization = c.authorization;
			const body = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
			if (body !== undefined) headers["Content-Type"] = "application/json";
			const res = await fetch(`${shop.base}${c.path}`, { method: c.method, headers, body });
			const text = await res.text();
			if (!c.expect.includes(res.status) || res.status >= 500 || /\bat [\w.<>]+ \(|"stack"/.test(text)) wrong.push(`${c.name}: ${res.status} ${text.slice(0, 160)}`);
		}
		expect(all.length).toBeGreaterThanOrEqual(200);
		expect(wrong).toEqual([]);
		expect(await shop.snapshot()).toEqual(before);
	}, 60_000);

	it("reads operator strings in q and category literally: they match nothing", async () => {
		for (const value of OPERATOR_STRINGS) {
			for (const field of ["q", "category"]) {
				const res = await shop.http("GET", `/products?${field}=${encodeURIComponent(value)}`);
				expect(res).toMatchObject({ status: 200, body: { total: 0, rows: [] } });
			}
		}
	});

	it("refuses forged, expired and unsigned tokens", async () => {
		const key = (secret: string) => new TextEncoder().encode(secret);
		const claims = { email: "a@security.test", role: "admin" };
		const forged = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(shop.ids.customerA).setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setExpirationTime("1h").sign(key("not-the-secret"));
		const expired = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(shop.ids.customerA).setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key(process.env.JWT_SECRET!));
		const unsigned = new UnsecuredJWT(claims).setSubject(shop.ids.customerA).setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setExpirationTime("1h").encode();
		for (const token of [forged, expired, unsigned]) {
			expect((await shop.http("GET", "/customers/me", { token })).status).toBe(401);
			expect((await shop.http("POST", "/products", { token, body: { sku: "F-1", name: "F", category: "F", price: 1, stock: 1 } })).status).toBe(401);
		}
	});
});
