/**
 * Cache cleaning: when a service's entities change, moleculer-db broadcasts `cache.clean.<service>` to every
 * node. This mixin subscribes to those events for the named services and drops their cached entries from
 * this node's cacher (a shared Redis cacher is cleaned once per event; a per-node memory cacher on each node).
 */
import type { ServiceSchema, Service } from "moleculer";

/** Subscribes to `cache.clean.<name>` for each of `serviceNames`; cleans the keys `<name>.**`. */
export function CacheCleanerMixin(serviceNames: readonly string[]): Partial<ServiceSchema> {
	const events: Record<string, (this: Service) => Promise<void>> = {};
	for (const name of serviceNames) {
		events[`cache.clean.${name}`] = async function (this: Service) {
			if (this.broker.cacher) await this.broker.cacher.clean(`${name}.**`);
		};
	}
	return { events } as Partial<ServiceSchema>;
}
