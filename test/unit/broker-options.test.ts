import { Errors } from "moleculer";
import { createBrokerOptions } from "../../lib/broker-options";
import { createCacher, ResilientRedisCacher, redisOptions } from "../../lib/cacher";
import { loadConfig, natsSecurity } from "../../lib/config";
import { IDEMPOTENT_RETRY } from "../../lib/resilience";
import { InsufficientStockError } from "../../lib/errors";
import { TurnBatchedNatsTransporter } from "../../lib/nats-transporter";

describe("broker options", () => {
	const options = createBrokerOptions(loadConfig({ TRANSPORTER: "nats://127.0.0.1:4222", NAMESPACE: "x" }), "node-1");

	it("sets every fault-tolerance value explicitly", () => {
		expect(options).toMatchObject({
			namespace: "x",
			nodeID: "node-1",
			requestTimeout: 10_000,
			retryPolicy: { enabled: false },
			circuitBreaker: { enabled: true, threshold: 0.5, minRequestCount: 20, windowTime: 60, halfOpenTime: 10_000 },
			bulkhead: { enabled: true, concurrency: 100, maxQueueSize: 1000 },
			tracking: { enabled: true, shutdownTimeout: 10_000 },
			disableBalancer: true
		});
	});

	it("trips the circuit breaker on server faults only, never on a client error", () => {
		const check = (options.circuitBreaker as { check: (err: Error) => boolean }).check;
		expect(check(new Errors.RequestTimeoutError({ action: "a", nodeID: "n" }))).toBe(true);
		expect(check(new Error("boom"))).toBe(true);
		expect(check(new InsufficientStockError(["p"]))).toBe(false);
	});

	it("retries idempotent actions on retryable errors only", () => {
		expect(IDEMPOTENT_RETRY.check!(new Errors.RequestTimeoutError({ action: "a", nodeID: "n" }))).toBe(true);
		expect(IDEMPOTENT_RETRY.check!(new InsufficientStockError(["p"]))).toBe(false);
	});

	it("takes NATS TLS files from the environment, on the transporter that writes each turn's packets together", () => {
		const tls = createBrokerOptions(loadConfig({ TRANSPORTER: "nats://u:p@nats:4222", NATS_TLS_CA: "/run/secrets/ca.pem" })).transporter;
		expect(tls).toBeInstanceOf(TurnBatchedNatsTransporter);
		expect((tls as TurnBatchedNatsTransporter).opts).toMatchObject({ url: "nats://u:p@nats:4222", tls: { caFile: "/run/secrets/ca.pem" } });
		expect(options.transporter).toBeInstanceOf(TurnBatchedNatsTransporter);
		expect((options.transporter as TurnBatchedNatsTransporter).opts).toMatchObject({ url: "nats://127.0.0.1:4222" });
		expect(createBrokerOptions(loadConfig({ TRANSPORTER: "redis://127.0.0.1:6379" })).transporter).toBe("redis://127.0.0.1:6379");
		expect(createBrokerOptions(loadConfig({})).transporter).toBeUndefined();
	});

	it("gives the durable events' NATS connection the transporter's credentials and TLS files", () => {
		const security = (env: NodeJS.ProcessEnv) => natsSecurity(loadConfig(env));
		expect(security({ TRANSPORTER: "nats://a:4222,nats://shop:pa%3Ass@b:4222", NATS_TLS_CA: "/ca.pem", NATS_TLS_CERT: "/c.pem", NATS_TLS_KEY: "/k.pem" })).toEqual({
			user: "shop",
			pass: "pa%3Ass",
			tls: { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" }
		});
		expect(security({ TRANSPORTER: "nats://127.0.0.1:4222" })).toEqual({});
		expect(security({ TRANSPORTER: "redis://u:p@127.0.0.1:6379" })).toEqual({});
		expect(security({})).toEqual({});
	});

	it("balances in the broker when there is no transporter", () => {
		expect(createBrokerOptions(loadConfig({})).disableBalancer).toBe(false);
	});
});

describe("cachers", () => {
	it("builds a memory cacher, a degrading Redis cacher, or refuses anything else", () => {
		expect(createCacher("Memory")).toEqual({ type: "Memory", options: { ttl: 300, clone: true } });
		expect(createCacher("redis://127.0.0.1:6379")).toBeInstanceOf(ResilientRedisCacher);
		expect(() => createCacher("memcached://x")).toThrow(/CACHER/);
	});

	it("reads credentials, database and TLS from a Redis URL and fails fast when offline", () => {
		expect(redisOptions("rediss://user:p%40ss@cache.local:6380/2")).toMatchObject({
			host: "cache.local",
			port: 6380,
			username: "user",
			password: "p@ss",
			db: 2,
			tls: {},
			enableOfflineQueue: false
		});
	});
});

describe("JetStream adapter", () => {
	const { Adapters } = require("@moleculer/channels");
	const { ShopNatsAdapter, retryReason } = require("../../lib/channels");
	const timeout = () => Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" });
	const inUse = () => Object.assign(new Error("consumer name already in use"), { code: "400", api_error: { err_code: 10013 } });
	/** An adapter with silent logs and a 1 ms backoff; `activeMessages` as the adapter keeps it. */
	const adapter = () => Object.assign(new ShopNatsAdapter({ nats: { url: "nats://127.0.0.1:4222" } }), { logger: { info: jest.fn(), warn: jest.fn(), error: jest.fn() }, activeMessages: new Map(), retryDelayMs: 1 });
	/** The adapter's subscribe as far as the retries see it: tracks the channel, prefixes the dead-letter queue, then fails with `failures[i]`. */
	const subscribeFailing = (failures: (Error | null)[], seen: unknown[] = []) =>
		jest.spyOn(Adapters.NATS.prototype, "subscribe").mockClear().mockImplementation(async function (this: any, chan: any) {
			this.initChannelActiveMessages(chan.id);
			seen.push({ ...chan.deadLettering });
			if (chan.deadLettering) chan.deadLettering = { ...chan.deadLettering, queueName: `ns.${chan.deadLettering.queueName}` };
			const failure = failures[seen.length - 1];
			if (failure) throw failure;
		});
	afterEach(() => jest.restoreAllMocks());

	it("binds to a consumer another replica created at the same moment, up to 5 attempts", async () => {
		const base = subscribeFailing([inUse(), null]);
		await adapter().subscribe({ id: "chan-1" });
		expect(base).toHaveBeenCalledTimes(2);
		const always = subscribeFailing(Array.from({ length: 9 }, inUse));
		await expect(adapter().subscribe({ id: "chan-2" })).rejects.toThrow("consumer name already in use");
		expect(always).toHaveBeenCalledTimes(5);
	});

	it("fails a subscription at once on an error no retry can mend", async () => {
		const base = subscribeFailing([new Error("stream not found")]);
		await expect(adapter().subscribe({ id: "chan-1" })).rejects.toThrow("stream not found");
		expect(base).toHaveBeenCalledTimes(1);
	});

	it("retries a subscription JetStream did not answer (a NATS server away), each attempt from the channel as declared", async () => {
		const seen: unknown[] = [];
		subscribeFailing([timeout(), timeout(), null], seen);
		const shop = adapter();
		await shop.subscribe({ id: "chan-1", deadLettering: { queueName: "DEAD_LETTER" } });
		expect(seen).toEqual([{ queueName: "DEAD_LETTER" }, { queueName: "DEAD_LETTER" }, { queueName: "DEAD_LETTER" }]);
		expect(shop.logger.warn).toHaveBeenCalledWith(expect.stringContaining("JetStream did not answer"));
		// Once the retry time is spent, the error ends the node's start.
		const spent = subscribeFailing(Array.from({ length: 9 }, timeout));
		await expect(Object.assign(adapter(), { retryMs: 0 }).subscribe({ id: "chan-2" })).rejects.toMatchObject({ code: "TIMEOUT" });
		expect(spent).toHaveBeenCalledTimes(1);
	});

	it("counts only replica races towards their 5 attempts, not unanswered calls before them", async () => {
		const base = subscribeFailing([timeout(), timeout(), timeout(), timeout(), inUse(), null]);
		await adapter().subscribe({ id: "chan-1" });
		expect(base).toHaveBeenCalledTimes(6);
	});

	it("stops retrying once the adapter is stopping", async () => {
		const base = subscribeFailing(Array.from({ length: 9 }, timeout));
		await expect(Object.assign(adapter(), { stopping: true }).subscribe({ id: "chan-1" })).rejects.toMatchObject({ code: "TIMEOUT" });
		expect(base).toHaveBeenCalledTimes(1);
	});

	it("retries connecting when JetStream did not answer, and closes the connection of every failed attempt", async () => {
		const opened: { close: jest.Mock }[] = [];
		const connectFailing = (failures: (Error | null)[]) =>
			jest.spyOn(Adapters.NATS.prototype, "connect").mockImplementation(async function (this: any) {
				this.connection = { close: jest.fn(async () => undefined) };
				opened.push(this.connection);
				const failure = failures[opened.length - 1];
				if (failure) throw failure;
				this.connected = true;
			});
		connectFailing([timeout(), null]);
		const shop = adapter();
		await shop.connect();
		expect(opened.map(c => c.close.mock.calls.length)).toEqual([1, 0]);
		expect(shop.connected).toBe(true);
		// An error no retry mends (wrong credentials): thrown at once, its connection closed and forgotten.
		opened.length = 0;
		connectFailing([new Error("Authorization Violation")]);
		const refused = adapter();
		await expect(refused.connect()).rejects.toThrow("Authorization Violation");
		expect(opened.map(c => c.close.mock.calls.length)).toEqual([1]);
		expect(refused.connection).toBeNull();
	});

	it("tells which JetStream errors are worth another attempt", () => {
		expect(retryReason(inUse())).toBe("in-use");
		expect(retryReason(timeout())).toBe("unanswered");
		expect(retryReason(Object.assign(new Error("503"), { code: "503" }))).toBe("unanswered");
		expect(retryReason(new Error("no stream matches subject"))).toBe("unanswered");
		expect(retryReason(new Error("stream not found"))).toBeNull();
		expect(retryReason(undefined)).toBeNull();
	});
});
