/**
 * No single Redis: `npm run cluster`'s nodes with CACHER=redis+sentinel:// (a primary, a replica, three
 * Sentinels on loopback). The primary is SIGKILLed during catalog reads and logins: reads keep being served
 * (from the store while the cacher is away), a price changed during the failover is what the next read shows
 * (nothing stale), and after the failover the login throttle and rate limits count in the new primary again.
 * Prints failed reads and how long the failover took.
 */
import { execFileSync } from "node:child_process";
import { startCluster, type Cluster } from "../../scripts/cluster";
import { startRedisSentinels, type RedisSentinels } from "../../scripts/ha";
import { client, freePort } from "../../scripts/net";
import { NATS_URL, deleteStreams, uniqueNamespace, waitFor } from "../../scripts/harness";

const say = (line: string) => process.stdout.write(`[ha] ${line}\n`);
const namespace = uniqueNamespace("ha-redis");

describe("reads, writes and logins through a Redis failover", () => {
	let redis: RedisSentinels;
	let cluster: Cluster;
	const logs: string[] = [];

	beforeAll(async () => {
		redis = await startRedisSentinels(3, 1000);
		await waitFor(() => /master_link_status:up/.test(execFileSync("redis-cli", ["-p", String(redis.replica.port), "INFO", "replication"], { encoding: "utf8" })), "the replica to sync", 20_000);
		cluster = await startCluster({
			port: await freePort(),
			env: { ...process.env, TRANSPORTER: NATS_URL, CACHER: redis.url, NAMESPACE: namespace, LOGLEVEL: "warn", ADMIN_EMAIL: "ops@example.com", ADMIN_PASSWORD: "ops-password-123", LOGIN_MAX_FAILURES: "3" },
			log: line => logs.push(line)
		}).catch(err => {
			throw new Error(`${err.message}\n${logs.slice(-30).join("\n")}`);
		});
	}, 120_000);
	afterAll(async () => {
		await cluster?.stop();
		await redis?.stop();
		await deleteStreams(namespace);
	}, 60_000);

	it("keeps serving, shows no stale read and throttles logins again after the primary dies", async () => {
		const http = client(cluster.url);
		const { token: admin } = (await http("POST", "/auth/login", { body: { email: "ops@example.com", password: "ops-password-123" } })).body;
		const product = (await http("GET", "/products?pageSize=1")).body.rows[0];
		const oldPrimary = await redis.primaryPort();
		expect(oldPrimary).toBe(redis.primary.port);

		let reading = true;
		let reads = 0;
		const failed: string[] = [];
		const reader = (async () => {
			while (reading) {
				const res = await http("GET", `/products/${product.id}`, { timeoutMs: 10_000 }).catch(err => ({ status: 0, body: String(err) }));
				reads++;
				if (res.status !== 200) failed.push(String(res.status));
			}
		})();
		await waitFor(() => reads >= 20, "reads before the failover");
		const killedAt = Date.now();
		await redis.primary.kill();
		// A write while Redis has no primary: the next read must show it, whichever way the cache went.
		const updated = await http("PATCH", `/products/${product.id}`, { token: admin, body: { price: product.price + 101 } });
		expect(updated.status).toBe(200);
		expect((await http("GET", `/products/${product.id}`)).body.price).toBe(product.price + 101);
		await waitFor(async () => ((await redis.primaryPort().catch(() => oldPrimary)) === redis.replica.port ? true : null), "the Sentinels to promote the replica", 30_000);
		const failoverMs = Date.now() - killedAt;
		const afterFailover = reads;
		await waitFor(() => reads >= afterFailover + 50, "reads after the failover", 30_000);
		reading = false;
		await reader;
		say(`Redis failover: ${failoverMs} ms; catalog reads: ${reads}, failed: ${failed.length}`);
		expect(failed).toEqual([]);
		expect((await http("GET", `/products/${product.id}`)).body.price).toBe(product.price + 101);

		// The nodes' Redis connections follow the promoted replica: cached reads land in it again.
		const keysIn = (pattern: string) => execFileSync("redis-cli", ["-p", String(redis.replica.port), "--scan", "--pattern", pattern], { encoding: "utf8" }).trim();
		await waitFor(async () => {
			await http("GET", `/products?pageSize=3&q=${Math.random().toString(36).slice(2, 6)}`);
			return keysIn(`MOL-${namespace}-*`) !== "";
		}, "cache entries in the new primary", 30_000);
		say(`Redis reconnected to the new primary ${Date.now() - killedAt} ms after the kill`);
		// The login throttle counts in the new primary again (each node's connection follows it by itself),
		// then answers 429 from this address after LOGIN_MAX_FAILURES wrong passwords.
		const { status } = await http("POST", "/auth/register", { body: { email: "victim@example.com", password: "correct-horse-1", name: "V" } });
		expect(status).toBe(201);
		const attempts: number[] = [];
		const wrong = async () => {
			const res = await http("POST", "/auth/login", { body: { email: "victim@example.com", password: "wrong-password-1" } });
			attempts.push(res.status);
			return res.status;
		};
		await waitFor(async () => (await wrong()) === 429 && keysIn(`shop-login-attempts:${namespace}:*`) !== "", "login attempts counted in the new primary, and a 429", 30_000);
		say(`login throttle counting in the new primary ${Date.now() - killedAt} ms after the kill`);
		say(`login attempts until 429 after the failover: ${attempts.length} (${attempts.join(", ")})`);
	}, 180_000);
});
