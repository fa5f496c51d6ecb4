/**
 * Settings for clustered stores: a Sentinel-managed Redis (CACHER=redis+sentinel://…), several NATS servers
 * and the replica count of the durable-event streams.
 */
import { createCacher, isRedisUrl, redisAddress, redisOptions } from "../../lib/cacher";
import { ConfigError, loadConfig } from "../../lib/config";

describe("clustered store settings", () => {
	it("reads a Sentinel URL: the sentinels, the master's name, the password and the db", () => {
		const url = "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,10.0.0.3:26380/shop-master/2";
		expect(isRedisUrl(url)).toBe(true);
		expect(redisOptions(url)).toMatchObject({
			sentinels: [{ host: "10.0.0.1", port: 26379 }, { host: "10.0.0.2", port: 26379 }, { host: "10.0.0.3", port: 26380 }],
			name: "shop-master",
			password: "s3cret",
			sentinelPassword: "s3cret",
			db: 2,
			enableOfflineQueue: false
		});
		expect(redisAddress(url)).toBe("10.0.0.1:26379,10.0.0.2,10.0.0.3:26380");
		expect(createCacher("redis+sentinel://127.0.0.1:26379/mymaster")).toHaveProperty("opts.redis.name", "mymaster");
		expect(() => createCacher("sentinel://x/y")).toThrow(/redis\+sentinel/);
	});

	it("keeps a plain Redis URL as before", () => {
		expect(redisOptions("redis://u:p%40ss@cache:6380/1")).toMatchObject({ host: "cache", port: 6380, username: "u", password: "p@ss", db: 1 });
		expect(redisAddress("redis://u:p@cache:6380/1")).toBe("cache:6380");
	});

	it("reads NATS_STREAM_REPLICAS (default 1, at least 1)", () => {
		expect(loadConfig({}).natsStreamReplicas).toBe(1);
		expect(loadConfig({ NATS_STREAM_REPLICAS: "3" }).natsStreamReplicas).toBe(3);
		expect(() => loadConfig({ NATS_STREAM_REPLICAS: "0" })).toThrow(ConfigError);
	});
});
