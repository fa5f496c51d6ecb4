/**
 * Background jobs: runs a service method every `intervalMs` (ms) on every node that hosts the service,
 * first once the whole local broker has started (the job may call other services), or with `jitter` at a
 * random point of the first interval (so replicas do not run in lockstep); never two runs of one job at
 * once; errors logged and retried at the next tick. The timer does not keep the process alive and stops
 * with the service. Used by the checkout recovery and the orphan sweeps; every job must be safe to run on
 * several nodes at once.
 */
import type { Service, ServiceSchema } from "moleculer";

export interface PeriodicOptions {
	/** The service method to run (it answers a promise). */
	method: string;
	/** The interval in ms, read when the broker has started (from `this.config` typically). */
	intervalMs: (service: Service) => number;
	/** Start at a random point of the first interval instead of at once (replicas then do not run in lockstep). */
	jitter?: boolean;
}

type PeriodicThis = Service & { timers?: Map<string, NodeJS.Timeout>; running?: Set<string> } & Record<string, any>;

/** Runs `this[method]()` every `intervalMs(this)` ms (see above); `this.timers.get(method)` is its timer. */
export function PeriodicMixin({ method, intervalMs, jitter = false }: PeriodicOptions): Partial<ServiceSchema> {
	return {
		events: {
			"$broker.started"(this: PeriodicThis) {
				this.timers ??= new Map();
				this.running ??= new Set();
				const run = async () => {
					if (this.running!.has(method)) return;
					this.running!.add(method);
					try {
						await this[method]();
					} catch (err) {
						this.logger.error(`${this.name}.${method} failed; it runs again at the next tick.`, err);
					} finally {
						this.running!.delete(method);
					}
				};
				const every = intervalMs(this);
				const first = setTimeout(() => {
					const timer = setInterval(run, every);
					timer.unref();
					this.timers!.set(method, timer);
					void run();
				}, jitter ? Math.floor(Math.random() * every) : 0);
				first.unref();
				this.timers.set(method, first);
			}
		},
		stopped(this: PeriodicThis) {
			const timer = this.timers?.get(method);
			if (timer) clearTimeout(timer);
			this.timers?.delete(method);
		}
	} as unknown as Partial<ServiceSchema>;
}
