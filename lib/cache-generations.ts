/**
 * Generation tokens for the Redis cacher's entries (`ResilientRedisCacher`, lib/cacher.ts): cleaning one
 * service's entries costs a few commands, whatever else Redis holds.
 *
 * - Each service's entries are stored under its current token: `products.get:42` as
 *   `<prefix>products.<token>.get:42`. The token lives at `<prefix>generation:products`; it is read once per
 *   turn of the event loop per service (lib/coalesce.ts), after the caller asked, so a read never uses a token
 *   older than its request.
 * - Each stored key is also added to its generation's members, `<prefix>generation:products:<token>`: a sorted
 *   set scored by when the entry expires, trimmed of expired entries at each addition (so a generation that
 *   lives long, in a shop without writes, holds only its live entries) and kept a minute longer than them.
 * - A clean of `products.**` swaps in a new token (GETSET, which every Redis version has), then unlinks the
 *   previous generation's entries and members in the background, off the request path. An entry stored under
 *   a token after that token was replaced (a read that began before the clean) is never read again and expires
 *   by its TTL.
 * - Tokens are random and never reused, so entries left from before a lost token (Redis restarted, or evicted
 *   it) can never match again.
 */
import { randomUUID } from "node:crypto";
import { coalesce } from "./coalesce";

/** The part of ioredis the generations use. */
export interface GenerationRedis {
	get(key: string): Promise<string | null>;
	set(key: string, value: string, ...args: string[]): Promise<unknown>;
	getset(key: string, value: string): Promise<string | null>;
	zadd(key: string, score: number | string, member: string): Promise<unknown>;
	zremrangebyscore(key: string, min: number | string, max: number | string): Promise<unknown>;
	zrange(key: string, start: number, stop: number): Promise<string[]>;
	expire(key: string, seconds: number): Promise<unknown>;
	unlink(...keys: string[]): Promise<unknown>;
}

/** Where a key of the cacher is stored: the key under the current token, and that generation's members. */
export interface StoredKey {
	/** The key to hand the cacher (without the prefix). */
	stored: string;
	/** The generation's members (a sorted set, with the prefix), or null for a key without a service part. */
	members: string | null;
}

/** The part of a Redis client a token read needs. */
export type TokenRedis = Pick<GenerationRedis, "get" | "set">;

/**
 * The token stored at `key`, started (a random UUID) when there is none yet: a fresh Redis, or one that lost
 * its keys; whoever sets it first wins. Null when it vanished again at once. Also the catalog version of the
 * gateways' response cache (lib/catalog-cache.ts). @throws the Redis client's error.
 */
export async function readToken(client: TokenRedis, key: string): Promise<string | null> {
	const token = await client.get(key);
	if (token) return token;
	await client.set(key, randomUUID(), "NX");
	return client.get(key);
}

/** Keys unlinked per command when a generation is dropped. */
const UNLINK_BATCH = 500;

export class CacheGenerations {
	/** Per service, the read of its token, coalesced per turn of the event loop. */
	private readonly reads = new Map<string, () => Promise<string>>();

	/** `prefix`: the cacher's key prefix (`MOL-<namespace>-`). */
	constructor(
		private readonly client: GenerationRedis,
		private readonly prefix: string
	) {}

	/** `key` under its service's current token. @throws the Redis client's error when Redis cannot be read. */
	async locate(key: string): Promise<StoredKey> {
		const dot = key.indexOf(".");
		if (dot <= 0) return { stored: key, members: null };
		const service = key.slice(0, dot);
		const token = await this.token(service);
		return { stored: `${service}.${token}${key.slice(dot)}`, members: this.membersKey(service, token) };
	}

	/**
	 * Adds the stored key `stored` (without the prefix), an entry of `ttlSeconds` (0 or null: no expiry), to
	 * `members`, drops the members whose entries have expired, and keeps `members` 60 s longer than the entry.
	 */
	remember(members: string, stored: string, ttlSeconds: number | null | undefined): Promise<unknown> {
		const now = Date.now();
		return Promise.all([
			this.client.zadd(members, ttlSeconds ? now + ttlSeconds * 1000 : "+inf", this.prefix + stored),
			this.client.zremrangebyscore(members, "-inf", now),
			ttlSeconds ? this.client.expire(members, ttlSeconds + 60) : null
		]);
	}

	/**
	 * Starts a new generation of `service`'s entries; the previous one's entries are unlinked in the background
	 * (`onDropError` hears of a failure there; they then expire by their TTL). @throws the Redis client's error.
	 */
	async renew(service: string, onDropError: (err: unknown) => void): Promise<void> {
		const previous = await this.client.getset(this.tokenKey(service), randomUUID());
		if (previous) this.drop(this.membersKey(service, previous)).catch(onDropError);
	}

	/** The key as callers know it for a stored key of a current generation; null for an old one or a token's own key. */
	async visible(stored: string): Promise<string | null> {
		if (stored.startsWith("generation:")) return null;
		const [service, token] = stored.split(".", 2);
		if (token === undefined) return stored;
		return (await this.token(service)) === token ? `${service}${stored.slice(service.length + token.length + 1)}` : null;
	}

	/** Unlinks every key of `members`, and `members` itself. */
	private async drop(members: string): Promise<void> {
		const keys = await this.client.zrange(members, 0, -1);
		for (let i = 0; i < keys.length; i += UNLINK_BATCH) await this.client.unlink(...keys.slice(i, i + UNLINK_BATCH));
		await this.client.unlink(members);
	}

	private tokenKey(service: string): string {
		return `${this.prefix}generation:${service}`;
	}

	private membersKey(service: string, token: string): string {
		return `${this.prefix}generation:${service}:${token}`;
	}

	/** The current token of `service`, started when there is none yet. */
	private token(service: string): Promise<string> {
		let read = this.reads.get(service);
		if (!read) {
			const key = this.tokenKey(service);
			read = coalesce(async () => {
				const token = await readToken(this.client, key);
				if (!token) throw new Error(`the generation token ${key} vanished`);
				return token;
			});
			this.reads.set(service, read);
		}
		return read();
	}
}
