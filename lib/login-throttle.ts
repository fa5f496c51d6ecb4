/**
 * Failed-login throttling per account: failures are counted per email (hashed, so unknown and known emails
 * behave alike and nothing leaks which accounts exist) in the broker's cacher (Redis in a cluster, so every
 * node sees them), or in process memory without a cacher. Per-client limits are the gateway's rate limit.
 */
import { createHash } from "node:crypto";
import type { ServiceBroker } from "moleculer";

type Cacher = NonNullable<ServiceBroker["cacher"]>;

export class LoginThrottle {
	private readonly local = new Map<string, { count: number; until: number }>();

	/** `maxFailures` within `windowSeconds` (s) lock the email until the window ends. */
	constructor(
		private readonly cacher: Cacher | null | undefined,
		readonly maxFailures: number,
		readonly windowSeconds: number
	) {}

	private key(email: string): string {
		return `login-failures:${createHash("sha256").update(email.trim().toLowerCase()).digest("hex")}`;
	}

	/** Failed logins counted for `email` in the current window. */
	async failures(email: string): Promise<number> {
		const key = this.key(email);
		if (this.cacher) return Number((await this.cacher.get(key)) ?? 0);
		const entry = this.local.get(key);
		return entry && entry.until > Date.now() ? entry.count : 0;
	}

	/** True when `email` may not try again yet. */
	async locked(email: string): Promise<boolean> {
		return (await this.failures(email)) >= this.maxFailures;
	}

	/** Counts one more failure for `email`; the window restarts with it. */
	async fail(email: string): Promise<void> {
		const key = this.key(email);
		const count = (await this.failures(email)) + 1;
		if (this.cacher) await this.cacher.set(key, count, this.windowSeconds);
		else this.local.set(key, { count, until: Date.now() + this.windowSeconds * 1000 });
	}

	/** Forgets the failures of `email` (after a successful login). */
	async reset(email: string): Promise<void> {
		const key = this.key(email);
		if (this.cacher) await this.cacher.del(key);
		else this.local.delete(key);
	}
}
