import { SignJWT, UnsecuredJWT, jwtVerify } from "jose";

// jose's real jwtVerify, counted: a remembered token must not reach it again.
jest.mock("jose", () => {
	const actual = jest.requireActual("jose");
	return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
import { hashPassword, verifyPassword, dummyPasswordHash } from "../../lib/password";
import { issueToken, verifyToken } from "../../lib/jwt";
import { ConfigError, DEV_JWT_SECRET, JWT_AUDIENCE, JWT_ISSUER, loadConfig } from "../../lib/config";
import { ErrorTypes } from "../../lib/errors";

const SECRET = "unit-test-secret";
const ann = { id: "c-1", email: "ann@example.com", role: "customer" as const };

async function rejectsAsInvalid(token: string) {
	await expect(verifyToken(token, SECRET)).rejects.toMatchObject({ code: 401, type: ErrorTypes.INVALID_TOKEN });
}

describe("passwords", () => {
	it("hashes with a per-password salt and verifies", async () => {
		const [a, b] = await Promise.all([hashPassword("correct horse"), hashPassword("correct horse")]);
		expect(a).not.toBe(b);
		expect(a.startsWith("scrypt$16384$8$1$")).toBe(true);
		expect(await verifyPassword("correct horse", a)).toBe(true);
		expect(await verifyPassword("wrong horse", a)).toBe(false);
	});

	it("treats a malformed stored hash as a mismatch", async () => {
		expect(await verifyPassword("x", "md5$abc")).toBe(false);
		expect(await verifyPassword("x", await dummyPasswordHash())).toBe(false);
	});
});

describe("tokens", () => {
	it("round-trips a customer", async () => {
		expect(await verifyToken(await issueToken(ann, SECRET, 60), SECRET)).toEqual(ann);
	});

	it("rejects expired, wrongly signed, unsigned and malformed tokens", async () => {
		await rejectsAsInvalid(await issueToken(ann, SECRET, -10));
		await rejectsAsInvalid(await issueToken(ann, "another-secret", 60));
		await rejectsAsInvalid(new UnsecuredJWT({ role: "admin" }).setSubject("x").setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).encode());
		await rejectsAsInvalid("not-a-jwt");
	});

	it("remembers a verified token only until its exp, and only under the secret that verified it", async () => {
		const token = await issueToken(ann, SECRET, 60);
		const joseCalls = () => (jwtVerify as jest.Mock).mock.calls.filter(([t]) => t === token).length;
		expect(await verifyToken(token, SECRET)).toEqual(ann);
		expect(await verifyToken(token, SECRET)).toEqual(ann);
		expect(joseCalls()).toBe(1);
		await expect(verifyToken(token, "another-secret")).rejects.toMatchObject({ code: 401, type: ErrorTypes.INVALID_TOKEN });
		expect(await verifyToken(token, SECRET)).toEqual(ann);
		// Only the clock moves (jose reads `new Date()`); timers and ticks stay real.
		const timers = ["hrtime", "nextTick", "performance", "queueMicrotask", "setImmediate", "clearImmediate", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] as const;
		jest.useFakeTimers({ doNotFake: [...timers], now: Date.now() + 61_000 });
		try {
			await rejectsAsInvalid(token);
		} finally {
			jest.useRealTimers();
		}
	});

	it("rejects tokens for another audience or without a role", async () => {
		const key = new TextEncoder().encode(SECRET);
		const base = () => new SignJWT({ email: "a@b.c", role: "admin" }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuer(JWT_ISSUER).setExpirationTime("1m");
		await rejectsAsInvalid(await base().setAudience("someone-else").sign(key));
		const noRole = await new SignJWT({ email: "a@b.c", role: "root" }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuer(JWT_ISSUER).setAudience(JWT_AUDIENCE).setExpirationTime("1m").sign(key);
		await rejectsAsInvalid(noRole);
	});
});

describe("configuration", () => {
	it("uses the embedded defaults", () => {
		const config = loadConfig({});
		expect(config).toMatchObject({ port: 3000, transporter: null, cacher: "Memory", mongoUri: null, dataDir: "./data", jwtSecret: DEV_JWT_SECRET, jwtSecretIsDefault: true });
	});

	it("refuses production without a real JWT_SECRET, and bad numbers", () => {
		expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
		expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: DEV_JWT_SECRET })).toThrow(ConfigError);
		expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "s3cret" })).toThrow(/32 characters/);
		expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32) }).production).toBe(true);
		expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32), ADMIN_PASSWORD: "short" })).toThrow(/ADMIN_PASSWORD/);
		expect(() => loadConfig({ CORS_ORIGINS: "*" })).toThrow(/CORS_ORIGINS/);
		expect(loadConfig({ CORS_ORIGINS: "https://a.example, https://b.example", TRUSTED_PROXIES: "loopback" })).toMatchObject({
			corsOrigins: ["https://a.example", "https://b.example"],
			trustedProxies: ["loopback"]
		});
		expect(() => loadConfig({ PORT: "80a" })).toThrow(ConfigError);
	});

	it("normalises the admin email", () => {
		expect(loadConfig({ ADMIN_EMAIL: " Admin@Shop.test ", ADMIN_PASSWORD: "pw" }).adminEmail).toBe("admin@shop.test");
	});
});

describe("runtime", () => {
	it("runs on the Node.js the project pins (Moleculer 0.15 needs >= 22)", () => {
		expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
	});
});
