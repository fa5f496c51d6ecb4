/**
 * Failed-login throttling. Two counts, both kept per hashed email (so unknown and known emails behave alike
 * and nothing leaks which accounts exist), counted with an atomic increment before the password is checked,
 * so parallel guesses cannot slip past:
 *
 * - per account and client address: more than LOGIN_MAX_FAILURES attempts from one address within
 *   LOGIN_LOCK_SECONDS answer 429 to that address only, so guessing from one place stops, but nobody can lock
 *   an account out for its owner by failing logins from elsewhere;
 * - per account, from any address: beyond LOGIN_MAX_FAILURES, each further attempt is slowed down, 250 ms
 *   doubling per attempt up to MAX_DELAY_MS (4 s), then answered as usual: the right password from another
 *   address still succeeds, at most a few seconds later. A distributed guess gets a few tries per minute.
 *
 * A successful login clears both counts for the address it came from. With a Redis cacher the counts live
 * in Redis under keys of their own (shared by every node, untouched by cache cleaning); otherwise, or while
 * Redis is away, in process memory, in a cache of at most LOCAL_MAX_KEYS entries that forgets the oldest.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ServiceBroker } from "moleculer";

/** The longest an attempt on a much-guessed account is slowed down (ms). */
export const MAX_DELAY_MS = 4000;
/** The most counts kept in process memory. */
export const LOCAL_MAX_KEYS = 10_000;

interface RedisLike {
	incr(key: string): Promise<number>;
	expire(key: string, seconds: number): Promise<unknown>;
	del(...keys: string[]): Promise<unknown>;
}

/** What one login attempt may do: refused outright (429), or checked after `delayMs` (ms). */
export type AttemptVerdict = { refused: true } | { refused: false; delayMs: number };

export class LoginThrottle {
	private readonly local: LRUCache<string, number>;
	private readonly redis: RedisLike | null;
	private readonly prefix: string;

	/** `maxFailures` attempts per account and address within `windowSeconds` (s). */
	constructor(
		broker: ServiceBroker,
		readonly maxFailures: number,
		readonly windowSeconds: number
	) {
		const client = (broker.cacher as { client?: Partial<RedisLike> } | null)?.client;
		this.redis = typeof client?.incr === "function" ? (client as RedisLike) : null;
		this.prefix = `shop-login-attempts:${broker.namespace || "-"}:`;
		this.local = new LRUCache({ max: LOCAL_MAX_KEYS, ttl: windowSeconds * 1000 });
	}

	private keys(email: string, address: string): { account: string; here: string } {
		const account = this.prefix + createHash("sha256").update(email.trim().toLowerCase()).digest("hex");
		return { account, here: `${account}:${address}` };
	}

	/** Counts one attempt under `key`: in Redis, or in memory while there is no Redis. */
	private async increment(key: string): Promise<number> {
		try {
			if (!this.redis) throw new Error("no Redis");
			const count = await this.redis.incr(key);
			if (count === 1) await this.redis.expire(key, this.windowSeconds);
			return count;
		} catch {
			// `ttl` is not renewed on set: the window counts from the first attempt, as in Redis.
			const count = (this.local.get(key) ?? 0) + 1;
			this.local.set(key, count, { noUpdateTTL: this.local.has(key) });
			return count;
		}
	}

	/** Counts one attempt for `email` from `address`; answers whether it is refused or how long to slow it. */
	async attempt(email: string, address: string): Promise<AttemptVerdict> {
		const { account, here } = this.keys(email, address);
		const [fromHere, overall] = await Promise.all([this.increment(here), this.increment(account)]);
		if (fromHere > this.maxFailures) return { refused: true };
		const beyond = overall - this.maxFailures;
		return { refused: false, delayMs: beyond > 0 ? Math.min(250 * 2 ** (beyond - 1), MAX_DELAY_MS) : 0 };
	}

	/** Forgets the attempts of `email` from `address`, and the account's count (after a successful login). */
	async reset(email: string, address: string): Promise<void> {
		const { account, here } = this.keys(email, address);
		this.local.delete(here);
		this.local.delete(account);
		await this.redis?.del(here, account).catch(() => undefined);
	}
}
