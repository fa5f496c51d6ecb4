/**
 * The load generator (node type `loadgen`; not in the one-process shop unless SERVICES names it): virtual
 * shoppers running Online Boutique-style weighted journeys (lib/loadgen/journeys.ts) against the one gateway
 * URL it is configured with (LOADGEN_TARGET), at a target arrival rate with a number of users, ramped, set
 * and changed at run time, and always bounded: every run has a duration (LOADGEN_MAX_DURATION at most) and
 * the rate and users have maxima (LOADGEN_MAX_RATE, LOADGEN_MAX_USERS).
 *
 * It reports per journey step requests/s, p50/p95/p99 latency and errors on its live page (`/loadgen/` on
 * LOADGEN_PORT, lib/loadgen/http.ts) and as Prometheus metrics on METRICS_PORT (`shop_loadgen_*`,
 * lib/business-metrics.ts). The actions are callable from the REPL too (`call loadgen.start --rate 5 --users 10`).
 */
import type { Server } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import { loadConfig, type ShopConfig } from "../lib/config";
import { LoadRun, LoadOptionsError, type LoadStatus, type LoadState } from "../lib/loadgen/engine";
import { JOURNEY_WEIGHTS, type StepLabel } from "../lib/loadgen/journeys";
import { createLoadgenServer } from "../lib/loadgen/http";
import { countMetric, observeSeconds, setGauge } from "../lib/business-metrics";
import { InvalidLoadOptionsError, LoadRunInProgressError, NoLoadRunError } from "../lib/errors";
import type { Meta } from "../types/meta";

/**
 * What the status, start, adjust and stop actions answer: `state` "idle" before the first run, else the
 * last run's; `target` the gateway URL; `limits` the node's maxima (seconds, journeys/s, users); `weights`
 * the journeys' relative weights; `run` the last run's status (lib/loadgen/engine.ts LoadStatus) or null.
 */
export interface LoadgenStatus {
	state: "idle" | LoadState;
	target: string;
	limits: { maxDurationSeconds: number; maxRate: number; maxUsers: number };
	weights: Readonly<Record<string, number>>;
	run: LoadStatus | null;
}

/** `loadgen.start` params: rate in journeys/s, users, ramp and duration in seconds (ramp default 10). */
const startParams = {
	$$strict: true,
	rate: { type: "number", min: 0.1, convert: true },
	users: { type: "number", integer: true, min: 1, convert: true },
	rampSeconds: { type: "number", integer: true, min: 0, max: 600, convert: true, default: 10 },
	durationSeconds: { type: "number", integer: true, min: 1, convert: true, optional: true }
} as const;
/** `loadgen.start` params (schema `startParams`): `durationSeconds` defaults to 60 s, or LOADGEN_MAX_DURATION when lower. */
export interface StartParams {
	rate: number;
	users: number;
	rampSeconds: number;
	durationSeconds?: number;
}

/** `loadgen.adjust` params: a new target rate (journeys/s, ramped over the run's ramp) and/or users, at run time. */
const adjustParams = {
	$$strict: true,
	rate: { type: "number", min: 0.1, convert: true, optional: true },
	users: { type: "number", integer: true, min: 1, convert: true, optional: true }
} as const;
/** `loadgen.adjust` params (schema `adjustParams`): either or both of rate (journeys/s) and users. */
export interface AdjustParams {
	rate?: number;
	users?: number;
}

interface LoadgenMethods {
	describe(): LoadgenStatus;
	checkBounds(params: Partial<StartParams>): void;
}
type LoadgenThis = Service & LoadgenMethods & { config: ShopConfig; run: LoadRun | null; server: Server | null; gauges: NodeJS.Timeout | null };

/** The load generator service for `config` (the default export uses the environment's). */
export function createLoadgenService(config: ShopConfig): ServiceSchema<object, LoadgenMethods, object, LoadgenThis> {
	return {
		name: "loadgen",

		settings: {},

		actions: {
			/** The generator's state and the last run's figures (LoadgenStatus). */
			status: {
				params: { $$strict: true },
				handler(): LoadgenStatus {
					return this.describe();
				}
			},

			/**
			 * Starts a run against LOADGEN_TARGET. Answers LoadgenStatus.
			 * @throws LoadRunInProgressError 409 LOAD_RUN_IN_PROGRESS while a run is going;
			 *   InvalidLoadOptionsError 422 INVALID_LOAD_OPTIONS beyond LOADGEN_MAX_*; ValidationError 422 for bad params.
			 */
			start: {
				params: startParams,
				handler(ctx: Context<StartParams, Meta>): LoadgenStatus {
					if (this.run && this.run.state !== "stopped") throw new LoadRunInProgressError();
					this.checkBounds(ctx.params);
					const { rate, users, rampSeconds } = ctx.params;
					const durationSeconds = ctx.params.durationSeconds ?? Math.min(60, this.config.loadgen.maxDurationSeconds);
					try {
						this.run = new LoadRun({
							target: this.config.loadgen.target,
							ratePerSecond: rate,
							users,
							rampSeconds,
							durationSeconds,
							onResult: (step: StepLabel, seconds: number, ok: boolean, status: number) => {
								countMetric(this.broker, "shop.loadgen.requests.total", { step, status: String(status) });
								observeSeconds(this.broker, "shop.loadgen.request.duration.seconds", seconds, { step });
								if (!ok) countMetric(this.broker, "shop.loadgen.errors.total", { step });
							}
						});
					} catch (err) {
						if (err instanceof LoadOptionsError) throw new InvalidLoadOptionsError(err.field, err.message);
						throw err;
					}
					this.logger.info(`Load run ${this.run.runToken}: ${rate} journeys/s, ${users} users, ramp ${rampSeconds} s, ${durationSeconds} s against ${this.config.loadgen.target}.`);
					return this.describe();
				}
			},

			/**
			 * Changes the running run's target rate and/or users. Answers LoadgenStatus.
			 * @throws NoLoadRunError 409 NO_LOAD_RUN without a running run; InvalidLoadOptionsError 422 beyond LOADGEN_MAX_*.
			 */
			adjust: {
				params: adjustParams,
				handler(ctx: Context<AdjustParams, Meta>): LoadgenStatus {
					if (!this.run || this.run.state !== "running") throw new NoLoadRunError();
					this.checkBounds(ctx.params);
					try {
						if (ctx.params.rate !== undefined) this.run.setRate(ctx.params.rate);
						if (ctx.params.users !== undefined) this.run.setUsers(ctx.params.users);
					} catch (err) {
						if (err instanceof LoadOptionsError) throw new InvalidLoadOptionsError(err.field, err.message);
						throw err;
					}
					return this.describe();
				}
			},

			/** Stops the run (journeys in flight finish, bounded by the request timeout); a no-op when none runs. */
			stop: {
				params: { $$strict: true },
				async handler(): Promise<LoadgenStatus> {
					await this.run?.stop();
					return this.describe();
				}
			}
		},

		methods: {
			describe(): LoadgenStatus {
				const { target, maxDurationSeconds, maxRate, maxUsers } = this.config.loadgen;
				return { state: this.run?.state ?? "idle", target, limits: { maxDurationSeconds, maxRate, maxUsers }, weights: JOURNEY_WEIGHTS, run: this.run?.status() ?? null };
			},

			/** @throws InvalidLoadOptionsError 422 INVALID_LOAD_OPTIONS for a rate, users or duration beyond the node's maxima. */
			checkBounds(params: Partial<StartParams>) {
				const { maxDurationSeconds, maxRate, maxUsers } = this.config.loadgen;
				if (params.rate !== undefined && params.rate > maxRate) throw new InvalidLoadOptionsError("rate", `rate must be at most ${maxRate} journeys/s (LOADGEN_MAX_RATE)`);
				if (params.users !== undefined && params.users > maxUsers) throw new InvalidLoadOptionsError("users", `users must be at most ${maxUsers} (LOADGEN_MAX_USERS)`);
				if (params.durationSeconds !== undefined && params.durationSeconds > maxDurationSeconds) {
					throw new InvalidLoadOptionsError("durationSeconds", `durationSeconds must be at most ${maxDurationSeconds} s (LOADGEN_MAX_DURATION)`);
				}
			}
		},

		created() {
			this.config = config;
			this.run = null;
			this.server = null;
			this.gauges = null;
		},

		async started() {
			// No request timeout: a stop waits for the journeys in flight, up to their own request timeout and more.
			const call = (action: string, params?: object) => this.broker.call(`loadgen.${action}`, params ?? {}, { nodeID: this.broker.nodeID, timeout: 0 });
			this.server = createLoadgenServer(call, config);
			const server = this.server;
			await new Promise<void>((resolve, reject) => {
				server.once("error", reject);
				server.listen(config.loadgen.port, config.loadgen.host, () => resolve());
			});
			const address = server.address();
			const port = address && typeof address === "object" ? address.port : config.loadgen.port;
			this.logger.info(`Load generator page at http://${config.loadgen.host === "0.0.0.0" ? "localhost" : config.loadgen.host}:${port}/loadgen/ (target ${config.loadgen.target}).`);
			this.gauges = setInterval(() => {
				const running = this.run?.state === "running";
				setGauge(this.broker, "shop.loadgen.target.rate", running ? this.run!.currentRate() : 0);
				setGauge(this.broker, "shop.loadgen.active.users", this.run?.activeUsers ?? 0);
			}, 1000).unref();
		},

		async stopped() {
			if (this.gauges) clearInterval(this.gauges);
			await this.run?.stop();
			const server = this.server;
			if (server) await new Promise(resolve => server.close(resolve));
		}
	};
}

export default createLoadgenService(loadConfig());
