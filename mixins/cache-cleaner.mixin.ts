/**
 * Cache cleaning: when a service's entities change, moleculer-db cleans the cacher and broadcasts
 * `cache.clean.<service>` to every node. This mixin subscribes to those events for the named services and
 * drops their cached entries from this node's per-node memory cacher at once (a shared Redis cacher was
 * cleaned by the writer before it broadcast, so that clean is not repeated on every node), then, with either
 * cacher, once more after `CLEAN_AGAIN_MS`: a read that began before the write and finished after the first
 * clean may have cached the old value, and the second clean removes it, so every change shows within about
 * a second.
 */
import { Cachers, type ServiceSchema, type Service } from "moleculer";

/** Delay (ms) of the second clean. */
export const CLEAN_AGAIN_MS = 500;

/** Subscribes to `cache.clean.<name>` for each of `serviceNames`; cleans the keys `<name>.**`. */
export function CacheCleanerMixin(serviceNames: readonly string[]): Partial<ServiceSchema> {
	const events: Record<string, (this: Service) => Promise<void>> = {};
	for (const name of serviceNames) {
		events[`cache.clean.${name}`] = async function (this: Service & { cleanAgain?: Map<string, NodeJS.Timeout> }) {
			const cacher = this.broker.cacher;
			if (!cacher) return;
			if (!(cacher instanceof Cachers.Redis)) await cacher.clean(`${name}.**`);
			this.cleanAgain ??= new Map();
			if (this.cleanAgain.has(name)) return;
			const timer = setTimeout(() => {
				this.cleanAgain!.delete(name);
				cacher.clean(`${name}.**`).catch(err => this.logger.warn(`Second cache clean of ${name} failed`, err));
			}, CLEAN_AGAIN_MS);
			timer.unref();
			this.cleanAgain.set(name, timer);
		};
	}
	return {
		events,
		stopped(this: Service & { cleanAgain?: Map<string, NodeJS.Timeout> }) {
			for (const timer of this.cleanAgain?.values() ?? []) clearTimeout(timer);
		}
	} as Partial<ServiceSchema>;
}
