/**
 * The customers service: accounts, passwords and tokens. The password hash never leaves this service:
 * moleculer-db's `fields` list leaves it out of every answer.
 */
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { configOf, type ShopConfig } from "../lib/config";
import { issueToken } from "../lib/jwt";
import { dummyPasswordHash, hashPassword, verifyPassword } from "../lib/password";
import { requireCustomer } from "../lib/auth";
import { CustomerNotFoundError, EmailTakenError, InvalidCredentialsError, TooManyLoginAttemptsError } from "../lib/errors";
import { LoginThrottle } from "../lib/login-throttle";
import type { Meta, Role } from "../types/meta";

/** A customer as every action returns it (no password, no hash). `createdAt` is ISO 8601. */
export interface Customer {
	id: string;
	email: string;
	name: string;
	role: Role;
	createdAt: string;
}

/** What register and login answer: a bearer token (JWT, expires after JWT_TTL seconds) and the customer. */
export interface Session {
	token: string;
	customer: Customer;
}

const EMAIL_RULE = { type: "email", max: 254, normalize: true } as const;
const PASSWORD_RULE = { type: "string", min: 8, max: 128 } as const;
const NAME_RULE = { type: "string", min: 1, max: 100, trim: true } as const;

const registerParams = { $$strict: true, email: EMAIL_RULE, password: PASSWORD_RULE, name: NAME_RULE } as const;
interface RegisterParams {
	email: string;
	password: string;
	name: string;
}

// Login checks only lengths: a malformed email is simply an unknown one (same 401, same work).
const loginParams = {
	$$strict: true,
	email: { type: "string", min: 1, max: 254 },
	password: { type: "string", min: 1, max: 128 }
} as const;
interface LoginParams {
	email: string;
	password: string;
}

const updateMeParams = { $$strict: true, name: NAME_RULE } as const;
interface UpdateMeParams {
	name: string;
}

interface CustomersMethods {
	toCustomer(doc: unknown): Promise<Customer>;
	startSession(doc: Record<string, any>): Promise<Session>;
	ensureAdmin(email: string, password: string): Promise<void>;
}
type CustomersThis = DbServiceThis & CustomersMethods & { config: ShopConfig; throttle: LoginThrottle };

const CustomersService: ServiceSchema<object, CustomersMethods, object, CustomersThis> = {
	name: "customers",
	mixins: [DbMixin({ collection: "customers", fields: ["email", "name", "role", "createdAt"], indexes: [{ fields: { email: 1 }, unique: true }] })],

	actions: {
		/** Creates a customer account (answers 201). @throws EmailTakenError 409 EMAIL_TAKEN; ValidationError 422. */
		register: {
			params: registerParams,
			async handler(ctx: Context<RegisterParams, Meta>): Promise<Session> {
				const { email, password, name } = ctx.params;
				const doc = {
					_id: this.newId(),
					email: email.toLowerCase(),
					name,
					role: "customer" as Role,
					passwordHash: await hashPassword(password),
					createdAt: new Date().toISOString()
				};
				if (!(await this.insertOnce(doc, { email: doc.email })).inserted) throw new EmailTakenError();
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = "/api/customers/me";
				return this.startSession(doc);
			}
		},

		/**
		 * Checks an email and password. An unknown email and a wrong password take the same scrypt work and
		 * the same answer. More than LOGIN_MAX_FAILURES attempts for one email from one client address within
		 * LOGIN_LOCK_SECONDS answer 429 to that address; beyond that many from anywhere, each attempt is slowed
		 * down by up to 4 s but still checked (`lib/login-throttle.ts`).
		 * @throws InvalidCredentialsError 401 INVALID_CREDENTIALS; TooManyLoginAttemptsError 429 (`data.retryAfter`, s).
		 */
		login: {
			params: loginParams,
			async handler(ctx: Context<LoginParams, Meta>): Promise<Session> {
				const email = ctx.params.email.trim().toLowerCase();
				const address = ctx.meta.clientAddress ?? "-";
				const verdict = await this.throttle.attempt(email, address);
				if (verdict.refused) throw new TooManyLoginAttemptsError(this.throttle.windowSeconds);
				if (verdict.delayMs > 0) await new Promise(resolve => setTimeout(resolve, verdict.delayMs));
				const doc = await this.adapter.findOne({ email });
				const ok = await verifyPassword(ctx.params.password, doc?.passwordHash ?? (await dummyPasswordHash()));
				if (!doc || !ok) throw new InvalidCredentialsError();
				await this.throttle.reset(email, address);
				return this.startSession(doc);
			}
		},

		/** The calling customer. @throws AuthRequiredError 401; CustomerNotFoundError 404 (account deleted). */
		me: {
			params: { $$strict: true },
			async handler(ctx: Context<Record<string, never>, Meta>): Promise<Customer> {
				const doc = await this.adapter.findById(requireCustomer(ctx).id);
				if (!doc) throw new CustomerNotFoundError();
				return this.toCustomer(doc);
			}
		},

		/** Renames the calling customer; any other field is a 422. @throws AuthRequiredError 401; 404 as `me`. */
		updateMe: {
			params: updateMeParams,
			async handler(ctx: Context<UpdateMeParams, Meta>): Promise<Customer> {
				const doc = await this.adapter.updateById(requireCustomer(ctx).id, { $set: { name: ctx.params.name } });
				if (!doc) throw new CustomerNotFoundError();
				return this.toCustomer(doc);
			}
		}
	},

	methods: {
		toCustomer(doc: unknown): Promise<Customer> {
			return this.transformDocuments(undefined, {}, doc);
		},

		async startSession(doc: Record<string, any>): Promise<Session> {
			const customer = await this.toCustomer(doc);
			const token = await issueToken(customer, this.config.jwtSecret, this.config.jwtTtlSeconds);
			return { token, customer };
		},

		/** Makes sure an admin account with `email` and `password` exists; idempotent across restarts and nodes. */
		async ensureAdmin(email: string, password: string): Promise<void> {
			const existing = await this.adapter.findOne({ email });
			if (existing) {
				const samePassword = await verifyPassword(password, existing.passwordHash);
				if (existing.role !== "admin" || !samePassword) {
					await this.adapter.updateById(existing._id, {
						$set: { role: "admin", passwordHash: samePassword ? existing.passwordHash : await hashPassword(password) }
					});
				}
				return;
			}
			const admin = { _id: this.newId(), email, name: "Administrator", role: "admin", passwordHash: await hashPassword(password), createdAt: new Date().toISOString() };
			// Another replica may create it at the same moment: that one is as good.
			if ((await this.insertOnce(admin, { email })).inserted) this.logger.info(`Admin account ${email} created.`);
		}
	},

	created() {
		this.config = configOf(this.broker);
		this.throttle = new LoginThrottle(this.broker, this.config.loginMaxFailures, this.config.loginLockSeconds);
	},

	async started() {
		const { adminEmail, adminPassword } = this.config;
		if (adminEmail && adminPassword) await this.ensureAdmin(adminEmail, adminPassword);
	}
};

export default CustomersService;
