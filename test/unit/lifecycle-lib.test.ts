/**
 * The pieces the launcher and the gateway are made of, without a broker: start checks (ports, servers
 * answering), the DATA_DIR lock, the health server's phases, one-line REPL errors, rate-limit counts shared
 * through Redis, and the login throttle.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import type { ServiceBroker } from "moleculer";
import { addressesOf, checkDependencies, portProblems } from "../../lib/preflight";
import { DataDirLockedError, lockDataDir } from "../../lib/data-lock";
import { HealthServer } from "../../lib/health";
import { oneLine, withOneLineErrors } from "../../lib/repl";
import { SharedRateLimitStore } from "../../lib/rate-limit";
import { LOCAL_MAX_KEYS, LoginThrottle, MAX_DELAY_MS } from "../../lib/login-throttle";
import { loadConfig } from "../../lib/config";
import { freePort } from "../../scripts/net";
import { REDIS_URL } from "../support/servers";

const listening = async () => {
	const server = net.createServer();
	const port = await freePort();
	await new Promise<void>(resolve => server.listen(port, "127.0.0.1", resolve));
	return { server, port };
};

describe("start checks", () => {
	it("names servers by host and port only, whatever the connection string", () => {
		expect(addressesOf("nats://user:pw@nats-1:4222,nats://nats-2", 4222)).toEqual(["nats-1:4222", "nats-2:4222"]);
		expect(addressesOf("redis://:secret@cache:6380/2", 6379)).toEqual(["cache:6380"]);
		expect(addressesOf("mongodb://shop:pw@db-0:27017,db-1,db-2:27018/shop?replicaSet=rs0", 27017)).toEqual(["db-0:27017", "db-1:27017", "db-2:27018"]);
	});

	it("names every taken port by its variable, and passes free ones and 0", async () => {
		const { server, port } = await listening();
		try {
			const free = await freePort();
			expect(await portProblems([{ variable: "PORT", port: 0, host: "127.0.0.1" }, { variable: "HEALTH_PORT", port, host: "127.0.0.1" }, { variable: "METRICS_PORT", port: free, host: "127.0.0.1" }])).toEqual([
				`HEALTH_PORT: port ${port} is in use (EADDRINUSE); set HEALTH_PORT to a free port, or stop what listens on it.`
			]);
		} finally {
			server.close();
		}
	});

	it("waits for servers that answer, and names the first that does not, without its credentials", async () => {
		const { server, port } = await listening();
		const nobody = await freePort();
		try {
			const config = (env: NodeJS.ProcessEnv) => loadConfig({ START_TIMEOUT: "1", ...env });
			await expect(checkDependencies(config({ TRANSPORTER: `nats://127.0.0.1:${port}`, CACHER: `redis://127.0.0.1:${port}` }), { transporter: true, cacher: true, mongo: true })).resolves.toBeUndefined();
			await expect(checkDependencies(config({ CACHER: `redis://:pw@127.0.0.1:${nobody}` }), { transporter: true, cacher: true, mongo: false })).rejects.toThrow(
				`CACHER: cannot reach 127.0.0.1:${nobody} (ECONNREFUSED) within 1 s; start it, or set CACHER.`
			);
			// A node without a store does not wait for MongoDB.
			await expect(checkDependencies(config({ MONGO_URI: `mongodb://127.0.0.1:${nobody}/x` }), { transporter: true, cacher: true, mongo: false })).resolves.toBeUndefined();
			await expect(checkDependencies(config({ MONGO_URI: `mongodb://u:pw@127.0.0.1:${nobody}/x` }), { transporter: false, cacher: false, mongo: true })).rejects.toThrow(
				`MONGO_URI: cannot reach 127.0.0.1:${nobody} (ECONNREFUSED) within 1 s; start it, or set MONGO_URI.`
			);
		} finally {
			server.close();
		}
	}, 15_000);

	it("refuses a NATS server without JetStream, naming it and the flag to start it with", async () => {
		// Just enough of a NATS server for a client to connect: INFO (with the space nats-server puts before
		// the line end), then PONG to each PING.
		const fakeNats = (jetstream: boolean) =>
			new Promise<{ server: net.Server; port: number }>(resolve => {
				const server = net.createServer(socket => {
					socket.on("error", () => undefined);
					socket.write(`INFO ${JSON.stringify({ server_id: "fake", version: "2.9.10", proto: 1, max_payload: 1048576, ...(jetstream && { jetstream }) })} \r\n`);
					socket.on("data", chunk => {
						if (String(chunk).includes("PING")) socket.write("PONG\r\n");
					});
				});
				server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port }));
			});
		const plain = await fakeNats(false);
		const withJetStream = await fakeNats(true);
		try {
			const config = (port: number) => loadConfig({ START_TIMEOUT: "5", TRANSPORTER: `nats://127.0.0.1:${port}` });
			await expect(checkDependencies(config(plain.port), { transporter: true, cacher: false, mongo: false })).rejects.toThrow(
				`TRANSPORTER: the NATS server at 127.0.0.1:${plain.port} runs without JetStream, which the shop's durable events need; start it with -js (and -sd <dir>), or set TRANSPORTER.`
			);
			await expect(checkDependencies(config(withJetStream.port), { transporter: true, cacher: false, mongo: false })).resolves.toBeUndefined();
		} finally {
			plain.server.close();
			withJetStream.server.close();
		}
	}, 15_000);
});

describe("the DATA_DIR lock", () => {
	const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "shop-lock-"));

	it("holds the directory for this process, refuses it to a running other, and takes over a dead one's", () => {
		const held = dir();
		fs.writeFileSync(path.join(held, ".lock"), String(process.ppid));
		expect(() => lockDataDir(held)).toThrow(DataDirLockedError);
		expect(() => lockDataDir(held)).toThrow(`is in use by process ${process.ppid}`);

		const stale = dir();
		fs.writeFileSync(path.join(stale, ".lock"), "999999999");
		const release = lockDataDir(stale);
		expect(fs.readFileSync(path.join(stale, ".lock"), "utf8")).toBe(String(process.pid));
		release();
		expect(fs.existsSync(path.join(stale, ".lock"))).toBe(false);
	});
});

describe("the health server", () => {
	it("answers /live at once, and /ready as starting, then stopping; 404 and 405 for the rest", async () => {
		const health = new HealthServer();
		const port = await health.listen(0, "127.0.0.1");
		const get = async (p: string, method = "GET") => {
			const res = await fetch(`http://127.0.0.1:${port}${p}`, { method });
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		};
		try {
			expect(await get("/live")).toMatchObject({ status: 200, body: { status: "live" } });
			expect(await get("/ready")).toMatchObject({ status: 503, body: { status: "starting" } });
			health.phase = "stopping";
			expect(await get("/ready")).toMatchObject({ status: 503, body: { status: "stopping" } });
			expect((await get("/other")).status).toBe(404);
			expect((await get("/live", "POST")).status).toBe(405);
		} finally {
			await health.close();
		}
	});
});

describe("REPL errors", () => {
	it("print one line: name, code, type and message", async () => {
		const failure = Object.assign(new Error("Authentication required"), { name: "AuthRequiredError", code: 401, type: "AUTH_REQUIRED" });
		expect(oneLine(failure)).toBe("AuthRequiredError 401 AUTH_REQUIRED: Authentication required");
		const printed: string[] = [];
		const errorLog = jest.spyOn(console, "error").mockImplementation((...line: unknown[]) => void printed.push(line.join(" ")));
		try {
			// moleculer-repl's handler prints message, stack and data itself; only one line must come out.
			const handler = async (broker: ServiceBroker) => {
				await broker.call("orders.list").catch((err: Error) => {
					console.error(">> ERROR:", err.message);
					console.error(err.stack);
					console.error("Data:", undefined);
				});
			};
			const broker = { call: () => Promise.reject(failure) } as unknown as ServiceBroker;
			await withOneLineErrors(handler)(broker, {});
		} finally {
			errorLog.mockRestore();
		}
		expect(printed).toEqual([">> ERROR: AuthRequiredError 401 AUTH_REQUIRED: Authentication required"]);
	});
});

describe("rate-limit counts", () => {
	it("are shared by every gateway through Redis, per route, and kept in memory without it", async () => {
		const redis = new Redis(REDIS_URL, { lazyConnect: false });
		const gateway = (client: unknown) => ({ namespace: `rl-${process.pid}-${Date.now()}`, cacher: client ? { client } : null }) as unknown as ServiceBroker;
		try {
			const broker = gateway(redis);
			const [a, b] = [new SharedRateLimitStore(60_000, { limit: 5, name: "api" }, broker), new SharedRateLimitStore(60_000, { limit: 5, name: "api" }, broker)];
			const counts = [await a.inc("203.0.113.1"), await b.inc("203.0.113.1"), await a.inc("203.0.113.1"), await b.inc("203.0.113.2")];
			expect(counts).toEqual([1, 2, 3, 1]);
			expect(await new SharedRateLimitStore(60_000, { limit: 5, name: "auth" }, broker).inc("203.0.113.1")).toBe(1);
			expect(a.resetTime).toBeGreaterThan(Date.now());
			const alone = new SharedRateLimitStore(1000, { limit: 2 }, gateway(null));
			expect([await alone.inc("x"), await alone.inc("x"), await alone.inc("x")]).toEqual([1, 2, 3]);
			// Requests of one turn of the event loop, counted in one call per key: each still gets its own count.
			const consume = jest.spyOn((alone as unknown as { limiter: { consume(key: string, n: number): Promise<unknown> } }).limiter, "consume");
			expect(await Promise.all(Array.from({ length: 5 }, (_, i) => alone.inc(i === 2 ? "z" : "y")))).toEqual([1, 2, 1, 3, 4]);
			expect(consume.mock.calls).toEqual([["y", 4], ["z", 1]]);
		} finally {
			redis.disconnect();
		}
	});
});

describe("the login throttle", () => {
	const broker = { namespace: "throttle-test", cacher: null } as unknown as ServiceBroker;

	it("refuses one address after too many attempts, and only slows the account down for others", async () => {
		const throttle = new LoginThrottle(broker, 3, 900);
		const verdicts = [];
		for (let i = 0; i < 4; i++) verdicts.push(await throttle.attempt("Ann@Example.com", "198.51.100.1"));
		expect(verdicts).toEqual([{ refused: false, delayMs: 0 }, { refused: false, delayMs: 0 }, { refused: false, delayMs: 0 }, { refused: true }]);
		const elsewhere = [];
		for (let i = 0; i < 6; i++) elsewhere.push(await throttle.attempt("ann@example.com", `203.0.113.${i}`));
		expect(elsewhere.every(v => !v.refused)).toBe(true);
		expect(elsewhere.map(v => (v.refused ? -1 : v.delayMs))).toEqual([500, 1000, 2000, MAX_DELAY_MS, MAX_DELAY_MS, MAX_DELAY_MS]);
		await throttle.reset("ann@example.com", "198.51.100.1");
		expect(await throttle.attempt("ann@example.com", "198.51.100.1")).toEqual({ refused: false, delayMs: 0 });
	});

	it("keeps at most LOCAL_MAX_KEYS counts in memory", async () => {
		const throttle = new LoginThrottle(broker, 5, 900);
		for (let i = 0; i < LOCAL_MAX_KEYS; i++) await throttle.attempt(`user-${i}@example.com`, "198.51.100.9");
		expect((throttle as unknown as { local: { size: number } }).local.size).toBeLessThanOrEqual(LOCAL_MAX_KEYS);
	});
});
