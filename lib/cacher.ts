/**
 * The shop's cachers. Moleculer's Redis cacher is made here to degrade instead of fail: when Redis is unreachable, reads fall through
 * to the store (a cache miss) and writes and cleans are skipped, so no request fails because the cache is
 * down. Commands fail fast instead of queueing (`enableOfflineQueue: false`), ioredis keeps reconnecting by
 * itself, and after a reconnect every entry of this namespace is dropped, because cleans issued while Redis
 * was away never reached it. One line is logged when Redis is lost and one when it is back, not one per
 * reconnect attempt (Moleculer's own cacher logs every attempt's error with its stack).
 *
 * Cleaning a service's entries costs a few Redis commands, whatever Redis holds (lib/cache-generations.ts).
 * Moleculer's cacher cleans `products.**` by SCANning every key of the Redis database, 100 per round trip, and
 * every stock move cleans (the answers show stock): with 20,000 other keys in Redis a checkout made 814 SCAN
 * calls and the NeDB cluster answered 36 paid orders/s instead of ~250 (BENCHMARKS.md). A read that began
 * before a write and stores its answer after the clean can store the old answer, as with Moleculer's SCAN;
 * the second clean of the cache cleaners, 500 ms later (mixins/cache-cleaner.mixin.ts), removes it.
 */
import { Cachers, METRIC, type BrokerOptions, type ServiceBroker } from "moleculer";
import { CacheGenerations, type GenerationRedis } from "./cache-generations";

/** Cached reads expire after this many seconds even if no write cleaned them. */
export const CACHE_TTL_SECONDS = 300;

/** `redis+sentinel://[[user]:password@]sentinel1:26379,sentinel2:26379/<master name>[/<db>]`. */
const SENTINEL_URL = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/([^/?]+)(?:\/(\d+))?$/;

/** Whether CACHER names a Redis: redis://, rediss:// or redis+sentinel://. */
export function isRedisUrl(url: string): boolean {
	return /^(rediss?|redis\+sentinel):\/\//.test(url);
}

/** The host:port list of a Redis URL, without credentials (for log lines). */
export function redisAddress(url: string): string {
	return url.replace(/^[a-z+]+:\/\//i, "").replace(/^[^@/]*@/, "").split(/[/?]/)[0];
}

/**
 * ioredis connection options for a Redis URL: redis:// or rediss:// (user, password, db, TLS taken from it),
 * or redis+sentinel:// (see SENTINEL_URL): ioredis asks the Sentinels for the primary of the named master at
 * each (re)connection, so it follows a failover once the Sentinels have promoted a replica. The password is
 * the data nodes' and the Sentinels'.
 */
export function redisOptions(url: string): Record<string, unknown> {
	const sentinel = SENTINEL_URL.exec(url);
	if (sentinel) {
		const [, username, password, hosts, name, db] = sentinel;
		const secret = password ? decodeURIComponent(password) : undefined;
		return {
			sentinels: hosts.split(",").map(entry => ({ host: entry.split(":")[0], port: Number(entry.split(":")[1] || 26379) })),
			name: decodeURIComponent(name),
			username: username ? decodeURIComponent(username) : undefined,
			password: secret,
			sentinelPassword: secret,
			db: Number(db ?? 0),
			sentinelRetryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
			...commonRedisOptions()
		};
	}
	const parsed = new URL(url);
	return {
		host: parsed.hostname,
		port: Number(parsed.port || 6379),
		username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
		password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
		db: Number(parsed.pathname.slice(1) || 0),
		tls: parsed.protocol === "rediss:" ? {} : undefined,
		...commonRedisOptions()
	};
}

/** What every Redis connection of the shop does (see the file's comment). */
function commonRedisOptions(): Record<string, unknown> {
	return {
		enableOfflineQueue: false,
		// Commands issued in the same tick go out as one pipeline: the gateway asks for the catalog version and
		// counts a rate limit on every cached read, one round trip for many requests.
		enableAutoPipelining: true,
		maxRetriesPerRequest: 1,
		connectTimeout: 2000,
		// Back off up to 2 s between reconnects, forever.
		retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000)
	};
}

/**
 * The first segment of the keys a clean pattern names, when the pattern spells it out: `products` for
 * `products.**`, `products.*` or `products.get:*` (a new generation cleans all of that service's entries,
 * more than the last two ask, never less); null when the first segment has a wildcard, or no dot follows it.
 */
export function servicePattern(match: string): string | null {
	return /^([^.*?[\]]+)\./.exec(match)?.[1] ?? null;
}

export class ResilientRedisCacher extends Cachers.Redis {
	/** True after the connection was lost, until the next "ready". */
	private lost = false;
	/** Set by `close`: the connection ends on purpose, which is not losing Redis. */
	private closing = false;
	private lastWarning = 0;
	/** host:port, for the log lines (never the credentials). */
	private readonly address: string;
	/** The services' generation tokens (set by `init`, once the prefix is known). */
	private generations!: CacheGenerations;

	/** `url`: redis://[user:password@]host:port[/db]; `ttl` in seconds. */
	constructor(url: string, options: { ttl?: number; prefix?: string } = {}) {
		super({ ...options, redis: redisOptions(url) });
		this.address = redisAddress(url);
	}

	override init(broker: ServiceBroker): void {
		super.init(broker);
		this.generations = new CacheGenerations(this.client as unknown as GenerationRedis, this.prefix ?? "");
		const client = this.client as { on(event: string, listener: (err?: NodeJS.ErrnoException) => void): void; removeAllListeners(event: string): void };
		client.removeAllListeners("error");
		const lose = (err?: NodeJS.ErrnoException) => {
			this.connected = false;
			if (this.lost || this.closing) return;
			this.lost = true;
			this.logger.warn(`Lost Redis (CACHER) at ${this.address}${err ? ` (${err.code ?? err.message})` : ""}; serving from the store until it is back.`);
		};
		client.on("error", lose);
		client.on("close", () => lose());
		client.on("ready", () => {
			if (!this.lost) return;
			this.lost = false;
			this.logger.info(`Redis (CACHER) at ${this.address} is back; dropping every cached entry, since cleans were missed meanwhile.`);
			this.clean().catch(() => undefined);
		});
	}

	/** A failed read is a miss (`missingResponse`, which the cacher middleware tells apart from a cached null). */
	override get(key: string) {
		return this.generations
			.locate(key)
			.then(({ stored }) => super.get(stored))
			.catch(err => this.degraded("get", err, this.opts.missingResponse as never));
	}

	override getWithTTL(key: string) {
		return this.generations
			.locate(key)
			.then(({ stored }) => super.getWithTTL(stored))
			.catch(err => this.degraded("get", err, { data: this.opts.missingResponse, ttl: null } as never));
	}

	/** Stores under the current generation and adds the key to its members (see lib/cache-generations.ts). */
	override set(key: string, data: unknown, ttl?: number) {
		return this.generations
			.locate(key)
			.then(({ stored, members }) => Promise.all([super.set(stored, data, ttl), members && this.generations.remember(members, stored, ttl ?? (this.opts.ttl as number | null))]))
			.then(([written]) => written)
			.catch(err => this.degraded("set", err, undefined));
	}

	override del(key: string | string[]) {
		return Promise.all((Array.isArray(key) ? key : [key]).map(one => this.generations.locate(one)))
			.then(located => super.del(located.map(({ stored }) => stored)))
			.catch(err => this.degraded("del", err, undefined));
	}

	/**
	 * Cleans the entries `match` names: a pattern with a service part (`products.**`, what moleculer-db and the
	 * cache cleaners send) by a new generation of that service (its old entries are unlinked in the
	 * background); a pattern without one, and a clean of everything, by Moleculer's SCAN of the keys. A
	 * failure is logged, not thrown (see `cleanReached`).
	 */
	override clean(match?: string | string[]) {
		return this.cleanReached(match).then(() => undefined);
	}

	/**
	 * Cleans as `clean` does; answers whether the clean reached Redis (false: it failed, and was logged). The
	 * cache cleaners then ask every node to clean (mixins/cache-cleaner.mixin.ts).
	 */
	cleanReached(match?: string | string[]): Promise<boolean> {
		const patterns = match == null ? [] : Array.isArray(match) ? match : [match];
		const services = patterns.map(servicePattern);
		if (patterns.length === 0 || services.some(service => service === null)) return super.clean(match).then(() => true, err => this.degraded("clean", err, false));
		this.metrics.increment(METRIC.MOLECULER_CACHER_CLEAN_TOTAL);
		const timeEnd = this.metrics.timer(METRIC.MOLECULER_CACHER_CLEAN_TIME);
		const dropFailed = (err: unknown) => this.degraded("drop an old generation", err, undefined);
		return Promise.all(services.map(service => this.generations.renew(service!, dropFailed)))
			.then(() => {
				timeEnd();
				return true;
			})
			.catch(err => {
				timeEnd();
				return this.degraded("clean", err, false);
			});
	}

	/** The keys of the current generations, as callers name them (the REPL's `cache keys`). */
	override getCacheKeys() {
		return super.getCacheKeys().then(async keys => {
			const visible = await Promise.all(keys.map(({ key }) => this.generations.visible(key)));
			return visible.filter((key): key is string => key !== null).map(key => ({ key }));
		});
	}

	/** Disconnects at once: `quit()` would wait for a Redis that may be down while ioredis keeps reconnecting. */
	override close() {
		this.closing = true;
		(this.client as { disconnect(): void }).disconnect();
		return Promise.resolve();
	}

	/**
	 * Answers `fallback` for a failed cache operation; logs it (at most once per 5 s) only while Redis is not
	 * known to be away, since losing it was logged already.
	 */
	private degraded<T>(operation: string, err: unknown, fallback: T): T {
		const now = Date.now();
		if (!this.lost && now - this.lastWarning > 5000) {
			this.lastWarning = now;
			this.logger.warn(`Redis cacher degraded (${operation} failed: ${(err as Error)?.message}); serving from the store.`);
		}
		return fallback;
	}
}

/**
 * The cacher CACHER names: "Memory" (per node, entries cloned on read) or a Redis URL (redis://, rediss://,
 * redis+sentinel://; shared; keys start
 * with "MOL-<namespace>-", so clusters sharing a Redis never collide). `ttl` in seconds.
 * @throws Error for any other value, so a typo stops the node at start instead of running uncached.
 */
export function createCacher(cacher: string, ttl = CACHE_TTL_SECONDS): BrokerOptions["cacher"] {
	if (isRedisUrl(cacher)) return new ResilientRedisCacher(cacher, { ttl });
	if (cacher !== "Memory") throw new Error(`CACHER must be "Memory", a redis:// URL or a redis+sentinel:// URL, got "${cacher}"`);
	return { type: "Memory", options: { ttl, clone: true } };
}
