import type { ServiceBroker } from "moleculer";
import { startBroker, failure, as } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import { verifyToken } from "../../lib/jwt";
import type { Session } from "../../services/customers.service";

const SECRET = process.env.JWT_SECRET!;

describe("customers service", () => {
	let broker: ServiceBroker;
	const register = (email: string, password = "correct horse", name = "Ann") => broker.call<Session, any>("customers.register", { email, password, name });

	beforeAll(async () => {
		process.env.ADMIN_EMAIL = "Boss@Shop.test";
		process.env.ADMIN_PASSWORD = "admin-password-1";
		broker = await startBroker(["customers"]);
	});
	afterAll(async () => {
		delete process.env.ADMIN_EMAIL;
		delete process.env.ADMIN_PASSWORD;
		await broker.stop();
	});

	it("registers a customer and answers a token naming them, never the password hash", async () => {
		const session = await register("Ann@Example.com");
		expect(session.customer).toEqual({ id: expect.any(String), email: "ann@example.com", name: "Ann", role: "customer", createdAt: expect.any(String) });
		expect(JSON.stringify(session)).not.toMatch(/scrypt|passwordHash|correct horse/);
		expect(await verifyToken(session.token, SECRET)).toEqual({ id: session.customer.id, email: "ann@example.com", role: "customer" });
	});

	it("refuses an email already used, compared case-insensitively", async () => {
		await register("bob@example.com");
		await expect(register("BOB@example.COM")).rejects.toEqual(failure(409, ErrorTypes.EMAIL_TAKEN));
	});

	it.each([
		{ email: "not-an-email", password: "correct horse", name: "A" },
		{ email: "c@example.com", password: "short", name: "A" },
		{ email: "c@example.com", password: "x".repeat(129), name: "A" },
		{ email: "c@example.com", password: "correct horse", name: "" },
		{ email: "c@example.com", password: "correct horse", name: "x".repeat(101) },
		{ email: "c@example.com", password: "correct horse", name: "A", role: "admin" }
	])("rejects registration %p with 422", async params => {
		await expect(broker.call("customers.register", params)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("logs in with the right password and answers the same 401 otherwise", async () => {
		const { customer } = await register("carol@example.com", "carol-password");
		const session = await broker.call<Session, any>("customers.login", { email: "CAROL@example.com", password: "carol-password" });
		expect(session.customer.id).toBe(customer.id);
		const wrong = broker.call("customers.login", { email: "carol@example.com", password: "nope-nope" }).catch((e: Error) => e);
		const unknown = broker.call("customers.login", { email: "nobody@example.com", password: "nope-nope" }).catch((e: Error) => e);
		const [a, b] = (await Promise.all([wrong, unknown])) as Error[];
		expect(a).toEqual(failure(401, ErrorTypes.INVALID_CREDENTIALS));
		expect(b).toEqual(failure(401, ErrorTypes.INVALID_CREDENTIALS));
		expect(a.message).toBe(b.message);
	});

	it("shows and renames the calling customer only", async () => {
		const { customer } = await register("dan@example.com");
		expect(await broker.call("customers.me", {}, as(customer.id))).toMatchObject({ email: "dan@example.com" });
		expect(await broker.call("customers.updateMe", { name: "Daniel" }, as(customer.id))).toMatchObject({ name: "Daniel", role: "customer" });
		await expect(broker.call("customers.updateMe", { name: "X", role: "admin" }, as(customer.id))).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		await expect(broker.call("customers.updateMe", { name: "X", email: "e@x.io" }, as(customer.id))).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
		await expect(broker.call("customers.me", {})).rejects.toEqual(failure(401, ErrorTypes.AUTH_REQUIRED));
		await expect(broker.call("customers.me", {}, as("deleted-id"))).rejects.toEqual(failure(404, ErrorTypes.CUSTOMER_NOT_FOUND));
	});

	it("creates the admin account from ADMIN_EMAIL/ADMIN_PASSWORD, idempotently", async () => {
		const session = await broker.call<Session, any>("customers.login", { email: "boss@shop.test", password: "admin-password-1" });
		expect(session.customer.role).toBe("admin");
		const service = broker.getLocalService("customers") as any;
		await service.ensureAdmin("boss@shop.test", "admin-password-1");
		expect(await service.adapter.count({ query: { email: "boss@shop.test" } })).toBe(1);
		// A changed ADMIN_PASSWORD takes effect at the next start, and promotes an existing customer.
		await register("promote@example.com");
		await service.ensureAdmin("promote@example.com", "new-admin-password");
		expect((await broker.call<Session, any>("customers.login", { email: "promote@example.com", password: "new-admin-password" })).customer.role).toBe("admin");
	});
});
