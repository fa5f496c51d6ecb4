/**
 * Failed-login throttling per account. Every login attempt is counted per email (hashed, so unknown and
 * known emails behave alike and nothing leaks which accounts exist) before the password is checked, with
 * an atomic increment, so parallel guesses cannot slip past the limit; a successful login clears the count.
 * With a Redis cacher the counts live in Redis under keys of their own (shared by every node, untouched by
 * cache cleaning); otherwise, or while Redis is down, in process memory.
 */
import { createHash } from "node:crypto";
import type { ServiceBroker } from "moleculer";

interface RedisLike {
	incr(key: string): Promise<number>;
	expire(key: string, seconds: number): Promise<unknown>;
	del(key: string): Promise<unknown>;
}

export class LoginThrottle {
	private readonly local = new Map<string, { count: number; until: number }>();
	private readonly redis: RedisLike | null;

	/** More than `maxFailures` attempts within `windowSeconds` (s) without a success lock the email. */
	constructor(
		broker: ServiceBroker,
		readonly maxFailures: number,
		readonly windowSeconds: number
	) {
		const client = (broker.cacher as { client?: Partial<RedisLike> } | null)?.client;
		this.redis = typeof client?.incr === "function" ? (client as RedisLike) : null;
		this.prefix = `shop-login-attempts:${broker.namespace || "-"}:`;
	}

	private readonly prefix: string;

	private key(email: string): string {
		return this.prefix + createHash("sha256").update(email.trim().toLowerCase()).digest("hex");
	}

	private incrementLocally(key: string): number {
		const now = Date.now();
		const entry = this.local.get(key);
		const next = entry && entry.until > now ? { count: entry.count + 1, until: entry.until } : { count: 1, until: now + this.windowSeconds * 1000 };
		this.local.set(key, next);
		return next.count;
	}

	/** Counts one attempt for `email`; true when it is over the limit (the caller answers 429 without checking). */
	async overLimit(email: string): Promise<boolean> {
		const key = this.key(email);
		let count: number;
		try {
			if (!this.redis) throw new Error("no Redis");
			count = await this.redis.incr(key);
			if (count === 1) await this.redis.expire(key, this.windowSeconds);
		} catch {
			count = this.incrementLocally(key);
		}
		return count > this.maxFailures;
	}

	/** Forgets the attempts of `email` (after a successful login). */
	async reset(email: string): Promise<void> {
		const key = this.key(email);
		this.local.delete(key);
		await this.redis?.del(key).catch(() => undefined);
	}
}
