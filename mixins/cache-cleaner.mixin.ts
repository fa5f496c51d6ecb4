/**
 * Cache cleaning for the named services, on the node that writes and on every other node.
 *
 * - The writer calls `cleanEverywhere(name)` after every change of a `name` entity, before it answers. It
 *   cleans its cacher at once. With a per-node memory cacher it also broadcasts `cache.clean.<name>`, and
 *   every node then drops its own entries at once (this mixin's event handler). A shared Redis cacher needs
 *   no broadcast: the writer's clean already reached every node. Across NATS the broadcast was two messages
 *   per checkout, both of them the products node sending the event to itself.
 * - Then one node cleans once more after `CLEAN_AGAIN_MS`: each node that got the event, or, with a shared
 *   Redis, the writer. A read that began before the write and finished after the first clean may have
 *   cached the old value; the second clean removes it, so every change shows within about a second.
 */
import { Cachers, type ServiceSchema, type Service } from "moleculer";

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

type CleanerThis = Service & Partial<CacheCleanerMethods> & { cleanAgain?: Map<string, NodeJS.Timeout> };

/** Whether every node shares `cacher`, so that one clean reaches them all. */
function isShared(cacher: unknown): boolean {
	return cacher instanceof Cachers.Redis;
}

/** Cleans `<name>.**` once more after CLEAN_AGAIN_MS, unless such a clean is already due. */
function cleanAgainLater(service: CleanerThis, name: string): void {
	const cacher = service.broker.cacher;
	if (!cacher) return;
	service.cleanAgain ??= new Map();
	if (service.cleanAgain.has(name)) return;
	const timer = setTimeout(() => {
		service.cleanAgain!.delete(name);
		cacher.clean(`${name}.**`).catch(err => service.logger.warn(`Second cache clean of ${name} failed`, err));
	}, CLEAN_AGAIN_MS);
	timer.unref();
	service.cleanAgain.set(name, timer);
}

/** Handles `cache.clean.<name>` for each of `serviceNames` and adds `cleanEverywhere` for the writer. */
export function CacheCleanerMixin(serviceNames: readonly string[]): Partial<ServiceSchema> {
	const events: Record<string, (this: CleanerThis) => Promise<void>> = {};
	for (const name of serviceNames) {
		events[`cache.clean.${name}`] = async function (this: CleanerThis) {
			const cacher = this.broker.cacher;
			if (!cacher) return;
			if (!isShared(cacher)) await cacher.clean(`${name}.**`);
			cleanAgainLater(this, name);
		};
	}
	return {
		events,
		methods: {
			async cleanEverywhere(this: CleanerThis, name: string): Promise<void> {
				const cacher = this.broker.cacher;
				if (!isShared(cacher)) this.broker.broadcast(`cache.clean.${name}`);
				await cacher?.clean(`${name}.**`);
				if (isShared(cacher)) cleanAgainLater(this, name);
			}
		},
		stopped(this: CleanerThis) {
			for (const timer of this.cleanAgain?.values() ?? []) clearTimeout(timer);
		}
	} as Partial<ServiceSchema>;
}
