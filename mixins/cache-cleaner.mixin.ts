/**
 * Cache cleaning for the named services, on the node that writes and on every other node.
 *
 * - The writer calls `cleanEverywhere(name)` after every change of a `name` entity, before it answers. It
 *   cleans its cacher at once. A shared Redis cacher needs nothing more: that clean reached every node. With
 *   a per-node memory cacher, or when the writer's clean did not reach Redis, it broadcasts
 *   `cache.clean.<name>`, and every other node that gets it cleans its own cacher at once (this mixin's event
 *   handler). With `disableBalancer` a broadcast goes through NATS, to the writer's own node too, which
 *   ignores it: one message per node of the service and write, which with a shared Redis would only repeat
 *   the writer's clean.
 * - Then the writer, and each node that got the event, cleans once more `CLEAN_AGAIN_MS` after the last
 *   write it saw: a read that began before a write and finished after the first clean may have cached the
 *   old value, and the second clean removes it, so every change shows within about a second. A node that
 *   stops runs its pending second cleans first; one that crashes within those 500 ms leaves such an entry
 *   until its TTL (300 s, lib/cacher.ts) or the next write.
 */
import type { Context, ServiceSchema, Service } from "moleculer";
import { ResilientRedisCacher } from "../lib/cacher";

/** Delay (ms) of the second clean. */
export const CLEAN_AGAIN_MS = 500;

/** What the mixin adds to the service. */
export interface CacheCleanerMethods {
	/**
	 * Cleans the cached `<name>.**` entries on every node (see the module's comment); resolves once this
	 * node's cacher is clean. Rejects when the cacher's clean does (the Redis cacher degrades instead).
	 */
	cleanEverywhere(name: string): Promise<void>;
}

/** A second clean that is due: its timer, and whether a write came after the timer was set. */
interface PendingClean {
	timer: NodeJS.Timeout;
	writtenSince: boolean;
}

type CleanerThis = Service & Partial<CacheCleanerMethods> & { cleanAgain?: Map<string, PendingClean> };

/** The second clean of `name`'s entries; a failure is logged, not thrown. */
function cleanAgain(service: CleanerThis, name: string): Promise<void> {
	return service.broker.cacher?.clean(`${name}.**`).catch(err => service.logger.warn(`Second cache clean of ${name} failed`, err)) ?? Promise.resolve();
}

/** Cleans `name`'s entries once more CLEAN_AGAIN_MS after the last write that calls this (see above). */
function cleanAgainLater(service: CleanerThis, name: string): void {
	if (!service.broker.cacher) return;
	const pending = (service.cleanAgain ??= new Map()).get(name);
	if (pending) {
		pending.writtenSince = true;
		return;
	}
	const arm = () => {
		const entry: PendingClean = {
			timer: setTimeout(() => {
				void cleanAgain(service, name);
				if (entry.writtenSince) arm();
				else service.cleanAgain!.delete(name);
			}, CLEAN_AGAIN_MS),
			writtenSince: false
		};
		entry.timer.unref();
		service.cleanAgain!.set(name, entry);
	};
	arm();
}

/** Handles `cache.clean.<name>` for each of `serviceNames` and adds `cleanEverywhere` for the writer. */
export function CacheCleanerMixin(serviceNames: readonly string[]): Partial<ServiceSchema> {
	const events: Record<string, (this: CleanerThis, ctx: Context) => Promise<void>> = {};
	for (const name of serviceNames) {
		events[`cache.clean.${name}`] = async function (this: CleanerThis, ctx: Context) {
			const cacher = this.broker.cacher;
			// The writer's own node cleaned, and scheduled its second clean, when it wrote (`cleanEverywhere`).
			if (!cacher || ctx.nodeID === this.broker.nodeID) return;
			await cacher.clean(`${name}.**`);
			cleanAgainLater(this, name);
		};
	}
	return {
		events,
		methods: {
			async cleanEverywhere(this: CleanerThis, name: string): Promise<void> {
				const cacher = this.broker.cacher;
				// A clean that reached the shared Redis cacher (lib/cacher.ts; CACHER=redis://…) reached every node.
				let reachedAll = false;
				if (cacher instanceof ResilientRedisCacher) reachedAll = await cacher.cleanReached(`${name}.**`);
				else await cacher?.clean(`${name}.**`);
				if (!reachedAll) this.broker.broadcast(`cache.clean.${name}`);
				cleanAgainLater(this, name);
			}
		},
		async stopped(this: CleanerThis) {
			const pending = [...(this.cleanAgain ?? [])];
			this.cleanAgain?.clear();
			for (const [, { timer }] of pending) clearTimeout(timer);
			await Promise.all(pending.map(([name]) => cleanAgain(this, name)));
		}
	} as Partial<ServiceSchema>;
}
