import { Errors } from "moleculer";
import { createBrokerOptions } from "../../lib/broker-options";
import { createCacher, ResilientRedisCacher, redisOptions } from "../../lib/cacher";
import { loadConfig } from "../../lib/config";
import { IDEMPOTENT_RETRY } from "../../lib/resilience";
import { InsufficientStockError } from "../../lib/errors";

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

	it("takes NATS TLS files from the environment", () => {
		const tls = createBrokerOptions(loadConfig({ TRANSPORTER: "nats://u:p@nats:4222", NATS_TLS_CA: "/run/secrets/ca.pem" })).transporter;
		expect(tls).toEqual({ type: "NATS", options: { url: "nats://u:p@nats:4222", tls: { caFile: "/run/secrets/ca.pem" } } });
		expect(options.transporter).toBe("nats://127.0.0.1:4222");
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
	it("binds to a consumer another replica created at the same moment instead of failing", async () => {
		const { Adapters } = require("@moleculer/channels");
		const { ShopNatsAdapter } = require("../../lib/channels");
		const inUse = Object.assign(new Error("consumer name already in use"), { code: "400" });
		const base = jest.spyOn(Adapters.NATS.prototype, "subscribe").mockRejectedValueOnce(inUse).mockResolvedValueOnce(undefined);
		try {
			const adapter = new ShopNatsAdapter({ nats: { url: "nats://127.0.0.1:4222" } });
			adapter.logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
			adapter.activeMessages = new Map([["chan-1", []]]);
			await adapter.subscribe({ id: "chan-1" });
			expect(base).toHaveBeenCalledTimes(2);
			base.mockRejectedValueOnce(new Error("stream not found"));
			await expect(adapter.subscribe({ id: "chan-2" })).rejects.toThrow("stream not found");
		} finally {
			base.mockRestore();
		}
	});

	it("retries a subscription JetStream did not answer (a NATS server away), each attempt from the channel as declared", async () => {
		const { Adapters } = require("@moleculer/channels");
		const { ShopNatsAdapter } = require("../../lib/channels");
		const timeout = Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" });
		const seen: unknown[] = [];
		// Like the adapter, the failed attempt has already prefixed the dead-letter queue inside the channel.
		const base = jest.spyOn(Adapters.NATS.prototype, "subscribe").mockImplementation(async (chan: any) => {
			seen.push({ ...chan.deadLettering });
			chan.deadLettering.queueName = `ns.${chan.deadLettering.queueName}`;
			if (seen.length < 3) throw timeout;
		});
		try {
			const adapter = new ShopNatsAdapter({ nats: { url: "nats://127.0.0.1:4222" } });
			adapter.logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
			adapter.activeMessages = new Map([["chan-1", []]]);
			await adapter.subscribe({ id: "chan-1", deadLettering: { queueName: "DEAD_LETTER" } });
			expect(seen).toEqual([{ queueName: "DEAD_LETTER" }, { queueName: "DEAD_LETTER" }, { queueName: "DEAD_LETTER" }]);
			expect(adapter.logger.warn).toHaveBeenCalledWith(expect.stringContaining("JetStream did not answer"));
			// Once the retry time is spent, the error ends the node's start.
			base.mockRejectedValue(timeout);
			adapter.retryMs = 0;
			await expect(adapter.subscribe({ id: "chan-2" })).rejects.toBe(timeout);
		} finally {
			base.mockRestore();
		}
	});

	it("retries connecting when JetStream did not answer, closing the connection the failed attempt opened", async () => {
		const { Adapters } = require("@moleculer/channels");
		const { ShopNatsAdapter } = require("../../lib/channels");
		const timeout = Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" });
		const opened: { close: jest.Mock }[] = [];
		const base = jest.spyOn(Adapters.NATS.prototype, "connect").mockImplementation(async function (this: any) {
			this.connection = { close: jest.fn(async () => undefined) };
			opened.push(this.connection);
			if (opened.length === 1) throw timeout;
			this.connected = true;
		});
		try {
			const adapter = new ShopNatsAdapter({ nats: { url: "nats://127.0.0.1:4222" } });
			adapter.logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
			await adapter.connect();
			expect(opened.map(c => c.close.mock.calls.length)).toEqual([1, 0]);
			expect(adapter.connected).toBe(true);
			base.mockRejectedValue(new Error("Authorization Violation"));
			await expect(adapter.connect()).rejects.toThrow("Authorization Violation");
		} finally {
			base.mockRestore();
		}
	});

	it("tells which JetStream errors are worth another attempt", () => {
		const { retryReason } = require("../../lib/channels");
		expect(retryReason(Object.assign(new Error("consumer name already in use"), { code: "400" }))).toBe("in-use");
		expect(retryReason(Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" }))).toBe("unanswered");
		expect(retryReason(Object.assign(new Error("503"), { code: "503" }))).toBe("unanswered");
		expect(retryReason(new Error("no stream matches subject"))).toBe("unanswered");
		expect(retryReason(new Error("stream not found"))).toBeNull();
		expect(retryReason(undefined)).toBeNull();
	});
});
