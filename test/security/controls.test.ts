/**
 * The gateway's controls one by one: exposure (published routes = the README's API table), security
 * headers and request ids on every response, rate limits keyed on the client address (not a forgeable
 * header) unless a trusted proxy says otherwise, the CORS allowlist, login throttling, cache safety, and
 * production error bodies.
 */
import fs from "node:fs";
import path from "node:path";
import { startSecurityShop, type SecurityShop } from "./fixture";
import { ErrorTypes } from "../../lib/errors";
import { ROUTES } from "../../services/api.routes";

describe("exposure and response hardening", () => {
	let shop: SecurityShop;
	beforeAll(async () => (shop = await startSecurityShop()), 30_000);
	afterAll(() => shop.broker.stop());

	it("publishes exactly the routes of the README's API table", async () => {
		const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
		const documented = [...readme.matchAll(/^\| (GET|POST|PATCH|DELETE) \| `\/api([^`]*)` \|/gm)].map(m => `${m[1]} ${m[2]}`).sort();
		const aliases: { methods: string; fullPath: string }[] = await shop.broker.call("api.listAliases");
		const published = aliases.map(a => `${a.methods} ${a.fullPath.replace(/^\/api/, "")}`).sort();
		expect(published).toEqual(documented);
		expect(published).toEqual(ROUTES.map(r => r.alias).sort());
	});

	it("keeps internal actions unpublishable (visibility public) and caches nothing per customer", () => {
		const actions = shop.broker.registry.getActionList({ skipInternal: true, withActions: true } as never) as any[];
		expect(actions.length).toBeGreaterThan(20);
		const routed = new Set(ROUTES.map(r => r.action));
		for (const { name, action } of actions) {
			if (!routed.has(name) && !name.startsWith("api.")) expect(`${name}:${action.visibility}`).toBe(`${name}:public`);
			if (action.cache) expect(name).toMatch(/^products\.(get|list)$/);
		}
	});

	it("never serves one customer another's cart or orders", async () => {
		const a = await shop.http("GET", "/cart", { token: shop.tokens.a });
		const b = await shop.http("GET", "/cart", { token: shop.tokens.b });
		expect(a.body.itemCount).toBeGreaterThan(0);
		expect(b.body).toMatchObject({ items: [], itemCount: 0 });
		expect((await shop.http("GET", "/orders", { token: shop.tokens.b })).body.total).toBe(0);
	});

	it("sends security headers and a request id on every response, a 404 included", async () => {
		for (const p of ["/products", "/no-such-route", "/customers/me"]) {
			const res = await fetch(`${shop.base}${p}`);
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			expect(res.headers.get("x-frame-options")).toBe("DENY");
			expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
			expect(res.headers.get("referrer-policy")).toBe("no-referrer");
			// Anonymous catalog reads are public and revalidated (ETag, 304); everything else is never stored.
			expect(res.headers.get("cache-control")).toBe(p === "/products" ? "no-cache" : "no-store");
			expect(res.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
		}
	});

	it("keeps a well-formed client request id and replaces a malformed one", async () => {
		expect((await fetch(`${shop.base}/products`, { headers: { "X-Request-Id": "client-id-1" } })).headers.get("x-request-id")).toBe("client-id-1");
		const injected = (await fetch(`${shop.base}/products`, { headers: { "X-Request-Id": "bad id <script>" } })).headers.get("x-request-id");
		expect(injected).not.toContain("script");
		expect(injected).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("leaves node ids and internal action names out of error bodies, and sets the server's timeouts", async () => {
		const res = await shop.http("POST", "/cart/items", { token: shop.tokens.a, body: { productId: shop.ids.productId, quantity: 0 } });
		expect(res).toMatchObject({ status: 422, body: { type: ErrorTypes.VALIDATION_ERROR, data: [expect.objectContaining({ field: "quantity" })] } });
		expect(JSON.stringify(res.body)).not.toMatch(/nodeID|"action"|carts\.addItem/);
		const server = (shop.broker.getLocalService("api") as any).server;
		expect({ headers: server.headersTimeout, request: server.requestTimeout, keepAlive: server.keepAliveTimeout }).toEqual({ headers: 10_000, request: 30_000, keepAlive: 5_000 });
	});

	it("throttles failed logins per account and client address", async () => {
		const attempt = () => shop.http("POST", "/auth/login", { body: { email: "b@security.test", password: "wrong-password" } });
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) statuses.push((await attempt()).status);
		expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
		const locked = await shop.http("POST", "/auth/login", { body: { email: "b@security.test", password: "password-123" } });
		expect(locked).toMatchObject({ status: 429, body: { type: ErrorTypes.TOO_MANY_LOGIN_ATTEMPTS } });
		// Parallel guesses cannot slip past the limit: attempts are counted before any password check.
		const parallel = await Promise.all(Array.from({ length: 12 }, () => shop.http("POST", "/auth/login", { body: { email: "a2@security.test", password: "guess" } })));
		expect(parallel.filter(r => r.status === 401)).toHaveLength(5);
		expect(parallel.filter(r => r.status === 429)).toHaveLength(7);
		// An unknown email locks the same way, so a lock tells nothing about which accounts exist.
		for (let i = 0; i < 5; i++) await shop.http("POST", "/auth/login", { body: { email: "nobody@security.test", password: "x" } });
		expect((await shop.http("POST", "/auth/login", { body: { email: "nobody@security.test", password: "x" } })).status).toBe(429);
	});
});

describe("rate limits and proxies", () => {
	const login = (shop: SecurityShop, forwardedFor: string) =>
		fetch(`${shop.base}/auth/login`, {
			method: "POST",
			headers: { "Content-Type": "application/json", "X-Forwarded-For": forwardedFor },
			body: JSON.stringify({ email: "a@security.test", password: "password-123" })
		}).then(res => res.status);

	it("limits a client by its address even when it forges X-Forwarded-For", async () => {
		const shop = await startSecurityShop({ authRateLimit: 8 });
		try {
			// The fixture's own register and login calls used 3 of the 8 allowed this minute.
			const statuses: number[] = [];
			for (let i = 0; i < 6; i++) statuses.push(await login(shop, `203.0.113.${i}`));
			expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
			expect((await shop.http("GET", "/products")).status).toBe(200);
		} finally {
			await shop.broker.stop();
		}
	}, 30_000);

	it("locks an account for one address only, and only slows it down for the others", async () => {
		const shop = await startSecurityShop({ trustedProxies: ["loopback"] });
		const attempt = (address: string, password: string) =>
			fetch(`${shop.base}/auth/login`, {
				method: "POST",
				headers: { "Content-Type": "application/json", "X-Forwarded-For": address },
				body: JSON.stringify({ email: "a@security.test", password })
			}).then(res => res.status);
		try {
			const guesses: number[] = [];
			for (let i = 0; i < 6; i++) guesses.push(await attempt("198.51.100.66", "wrong-password"));
			expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
			expect(await attempt("198.51.100.66", "password-123")).toBe(429);
			// The owner, elsewhere, gets in: a few seconds late at most.
			const started = Date.now();
			expect(await attempt("203.0.113.9", "password-123")).toBe(200);
			expect(Date.now() - started).toBeLessThan(5000);
		} finally {
			await shop.broker.stop();
		}
	}, 30_000);

	it("believes X-Forwarded-For only from a trusted proxy", async () => {
		const shop = await startSecurityShop({ authRateLimit: 4, trustedProxies: ["loopback"] });
		try {
			const statuses: number[] = [];
			for (let i = 0; i < 8; i++) statuses.push(await login(shop, `198.51.100.${i}`));
			expect(statuses.every(status => status === 200)).toBe(true);
			for (let i = 0; i < 4; i++) await login(shop, "198.51.100.200");
			expect(await login(shop, "198.51.100.200")).toBe(429);
		} finally {
			await shop.broker.stop();
		}
	}, 30_000);
});

describe("CORS and production errors", () => {
	it("answers CORS only for allowlisted origins, never with credentials", async () => {
		const shop = await startSecurityShop({ corsOrigins: ["https://shop.example"] });
		try {
			const preflight = (origin: string) =>
				fetch(`${shop.base}/products`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "GET" } });
			const allowed = await preflight("https://shop.example");
			expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
			expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
			const other = await preflight("https://evil.example");
			expect(other.headers.get("access-control-allow-origin")).toBeNull();
		} finally {
			await shop.broker.stop();
		}
	}, 30_000);

	it("hides internal messages of 5xx answers in production", async () => {
		const shop = await startSecurityShop({ production: true });
		try {
			// listCatalog: the one path of a listing, from the catalog index (NeDB) or the database (MongoDB).
			jest.spyOn(shop.broker.getLocalService("products") as any, "listCatalog").mockRejectedValueOnce(new Error("secret internal detail at /srv/db"));
			const res = await shop.http("GET", "/products");
			expect(res.status).toBe(500);
			expect(JSON.stringify(res.body)).not.toContain("secret");
			expect(res.body).toEqual({ name: "ServerError", message: "Internal server error", code: 500, type: "INTERNAL" });
		} finally {
			await shop.broker.stop();
		}
	}, 30_000);
});
