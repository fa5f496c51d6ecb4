/**
 * The load generator's engine: virtual shoppers running the weighted journeys of ./journeys against the
 * shop's public HTTP API at one gateway URL (like Online Boutique's Locust load generator).
 *
 * Open model: journeys arrive at a rate (journeys/s), each run by a free virtual user; an arrival that
 * finds every user busy is dropped (counted, never queued), so a slow shop shows as dropped journeys and
 * longer latencies rather than as a lower offered load. Arrivals are deterministic: a scheduler tick every
 * 100 ms adds rate × elapsed time to a fractional count and starts its whole part.
 *
 * Plain module: global `fetch` (keep-alive), one `AbortSignal.timeout` per request; nothing of the services.
 */
import { randomBytes } from "node:crypto";
import { Catalog, JOURNEYS, JOURNEY_NAMES, STEP_LABELS, pickJourney, type JourneyContext, type JourneyName, type JourneyOutcome, type StepAnswer, type StepLabel, type StepRequest, type VirtualUser } from "./journeys";
import { LoadStats, type SeriesPoint, type StatsSnapshot } from "./stats";

/** Bounds of the options, inclusive: [min, max]. `durationSeconds` is a hard maximum; a caller may impose a lower one. */
export const LOAD_LIMITS = {
	ratePerSecond: [0.1, 1000],
	users: [1, 1000],
	rampSeconds: [0, 600],
	durationSeconds: [1, 3600],
	requestTimeoutMs: [100, 60_000]
} as const;

/** Default timeout of one request (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Period of the scheduler (ms). */
const SCHEDULER_MS = 100;

/**
 * Options of a run.
 * - `target`: the gateway's base URL, http(s) (e.g. "http://127.0.0.1:3000"); requests go to `<target>/api/...`.
 * - `ratePerSecond`: target journey arrival rate (journeys/s), 0.1..1000.
 * - `users`: most virtual users running journeys at once, integer 1..1000.
 * - `rampSeconds`: the rate rises linearly from 0 to `ratePerSecond` over this many seconds (0: at once), 0..600.
 * - `durationSeconds`: the run stops by itself after this many seconds (hard maximum), 1..3600.
 * - `requestTimeoutMs`: timeout of each request (ms), 100..60000, default 10000; a timeout counts as status 0.
 * - `onResult`: called after each request with its step label, latency in seconds, success and status (0: network error or timeout); its errors are ignored.
 * - `random`: uniform [0, 1) source for the journeys' choices (default `Math.random`; inject a seeded one in tests).
 * - `now`: clock in epoch ms (default `Date.now`) for the schedule, the duration and the statistics windows.
 */
export interface LoadOptions {
	target: string;
	ratePerSecond: number;
	users: number;
	rampSeconds: number;
	durationSeconds: number;
	requestTimeoutMs?: number;
	onResult?: (step: StepLabel, seconds: number, ok: boolean, status: number) => void;
	random?: () => number;
	now?: () => number;
}

/** The validated, serializable options (no callbacks): `target` normalized without a trailing slash. */
export interface LoadSettings {
	target: string;
	ratePerSecond: number;
	users: number;
	rampSeconds: number;
	durationSeconds: number;
	requestTimeoutMs: number;
}

/** Options out of bounds or malformed; `field` names the option. A RangeError: a service answers it with 422. */
export class LoadOptionsError extends RangeError {
	override readonly name = "LoadOptionsError";
	constructor(readonly field: string, message: string) {
		super(message);
	}
}

/** Checks one numeric option against `LOAD_LIMITS`. @throws LoadOptionsError when it is not a finite number in bounds (or not an integer for `users`). */
function checkNumber(field: keyof typeof LOAD_LIMITS, value: unknown, integer = false): number {
	const [min, max] = LOAD_LIMITS[field];
	if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
		throw new LoadOptionsError(field, `${field} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got ${String(value)})`);
	}
	return value;
}

/**
 * Validates the options; answers them without the callbacks, `target` normalized.
 * @throws LoadOptionsError (a RangeError) for a `target` that is not an http(s) URL, or a number out of `LOAD_LIMITS`.
 */
export function validateLoadOptions(options: LoadOptions): LoadSettings {
	let url: URL | null = null;
	try {
		url = typeof options.target === "string" ? new URL(options.target) : null;
	} catch {
		url = null;
	}
	if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
		throw new LoadOptionsError("target", `target must be an http(s) URL (got ${JSON.stringify(options.target)})`);
	}
	return {
		target: `${url.origin}${url.pathname.replace(/\/+$/, "")}`,
		ratePerSecond: checkNumber("ratePerSecond", options.ratePerSecond),
		users: checkNumber("users", options.users, true),
		rampSeconds: checkNumber("rampSeconds", options.rampSeconds),
		durationSeconds: checkNumber("durationSeconds", options.durationSeconds),
		requestTimeoutMs: checkNumber("requestTimeoutMs", options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
	};
}

/** Counts of one journey: started (by a user), completed (every step succeeded), failed (stopped at an error), interrupted (the run stopped between steps), dropped (every user was busy). */
export interface JourneyCounts {
	started: number;
	completed: number;
	failed: number;
	interrupted: number;
	dropped: number;
}

/** A run's state: arrivals going on, stopping (in-flight journeys finishing), stopped. */
export type LoadState = "running" | "stopping" | "stopped";

/** Why a run stopped: `stop()` was called, or `durationSeconds` elapsed. */
export type StopReason = "stopped" | "duration";

/**
 * `status()`, JSON-serializable. Times in epoch ms (`startedAt`, `endsAt`: the planned end, `stoppedAt`),
 * `elapsedSeconds` in seconds, `currentRate` in journeys/s (0 once not running), `activeUsers` the users
 * running a journey, the counts by journey and in all, the statistics snapshot and the time series.
 */
export interface LoadStatus {
	options: LoadSettings;
	runToken: string;
	state: LoadState;
	stopReason: StopReason | null;
	startedAt: number;
	endsAt: number;
	stoppedAt: number | null;
	elapsedSeconds: number;
	currentRate: number;
	activeUsers: number;
	journeys: Record<JourneyName, JourneyCounts>;
	totals: JourneyCounts;
	stats: StatsSnapshot;
	series: SeriesPoint[];
}

/**
 * One load run, started when constructed: arrivals begin at once (ramping up), the run stops by itself after
 * `durationSeconds` (`stopReason` "duration") or on `stop()` (`stopReason` "stopped"); `done` resolves once
 * it is stopped. Its timers are unref'd (they keep no process alive).
 * @throws LoadOptionsError (a RangeError) from the constructor for invalid options (see `validateLoadOptions`).
 */
export class LoadRun {
	/** Current settings (updated by `setRate` and `setUsers`). */
	readonly settings: LoadSettings;
	/** Token unique to the run, in the e-mail addresses of the users it registers. */
	readonly runToken = randomBytes(6).toString("hex");
	/** When the run started (epoch ms, from the `now` clock). */
	readonly startedAt: number;
	/** When the run stops by itself (epoch ms): `startedAt` + `durationSeconds`. */
	readonly endsAt: number;
	/** "running", then "stopping" while the journeys in flight finish, then "stopped". */
	state: LoadState = "running";
	/** Why the run stopped; null while running. */
	stopReason: StopReason | null = null;
	/** When the run was stopped (epoch ms); null until then. */
	stoppedAt: number | null = null;
	/** Resolves once the run is stopped (by `stop()` or by its duration); never rejects. */
	readonly done: Promise<void>;

	private readonly stats: LoadStats;
	private readonly catalog: Catalog;
	private readonly random: () => number;
	private readonly now: () => number;
	private readonly onResult?: LoadOptions["onResult"];
	private readonly counts = Object.fromEntries(JOURNEY_NAMES.map(name => [name, zeroCounts()])) as Record<JourneyName, JourneyCounts>;
	private readonly users: VirtualUser[] = [];
	private readonly free: number[] = [];
	private readonly busy = new Set<number>();
	private readonly inFlight = new Set<Promise<void>>();
	private ramp: { from: number; to: number; at: number; seconds: number };
	private arrivals = 0;
	private lastSchedule: number;
	private nextStatsTick: number;
	private readonly timer: NodeJS.Timeout;
	private resolveDone!: () => void;

	constructor(options: LoadOptions) {
		this.settings = validateLoadOptions(options);
		this.random = options.random ?? Math.random;
		this.now = options.now ?? Date.now;
		this.onResult = options.onResult;
		this.catalog = new Catalog(this.random);
		this.startedAt = this.lastSchedule = this.now();
		this.endsAt = this.startedAt + this.settings.durationSeconds * 1000;
		this.nextStatsTick = this.startedAt + 1000;
		this.stats = new LoadStats(this.startedAt, STEP_LABELS);
		this.ramp = { from: 0, to: this.settings.ratePerSecond, at: this.startedAt, seconds: this.settings.rampSeconds };
		for (let id = this.settings.users - 1; id >= 0; id--) this.free.push(id);
		this.done = new Promise(resolve => (this.resolveDone = resolve));
		this.timer = setInterval(() => this.schedule(), SCHEDULER_MS);
		this.timer.unref();
	}

	/** The arrival rate (journeys/s) at `t` (epoch ms) on the current ramp; 0 once not running. */
	currentRate(t: number = this.now()): number {
		if (this.state !== "running") return 0;
		const { from, to, at, seconds } = this.ramp;
		if (seconds <= 0 || t >= at + seconds * 1000) return to;
		return from + ((to - from) * Math.max(0, t - at)) / (seconds * 1000);
	}

	/**
	 * Changes the target arrival rate (journeys/s) of a running run: the rate moves linearly from the current
	 * rate to the new one over `rampSeconds` (at once if 0), so a change never jumps. Ignored once stopping.
	 * @throws LoadOptionsError outside 0.1..1000.
	 */
	setRate(ratePerSecond: number): void {
		checkNumber("ratePerSecond", ratePerSecond);
		if (this.state !== "running") return;
		const now = this.now();
		this.ramp = { from: this.currentRate(now), to: ratePerSecond, at: now, seconds: this.settings.rampSeconds };
		this.settings.ratePerSecond = ratePerSecond;
	}

	/**
	 * Changes the number of virtual users at once. Fewer: busy users beyond the new number finish their
	 * journey, then take no other; more: the new users are free at once (their sessions are registered when
	 * first needed). Users keep their sessions across changes.
	 * @throws LoadOptionsError unless an integer in 1..1000.
	 */
	setUsers(users: number): void {
		checkNumber("users", users, true);
		const before = this.settings.users;
		this.settings.users = users;
		if (users < before) {
			const keep = this.free.filter(id => id < users);
			this.free.splice(0, this.free.length, ...keep);
		} else {
			for (let id = users - 1; id >= before; id--) if (!this.busy.has(id)) this.free.push(id);
		}
	}

	/**
	 * Stops the run: no more arrivals, no further step of the running journeys; waits for the requests in
	 * flight (each bounded by `requestTimeoutMs`, the wait by that plus 1 s). Resolves once `state` is
	 * "stopped"; idempotent (a later call answers the same promise).
	 */
	stop(): Promise<void> {
		return this.finish("stopped");
	}

	/** Virtual users running a journey now. */
	get activeUsers(): number {
		return this.busy.size;
	}

	/** The run's state, settings, counts, statistics and series (see `LoadStatus`). */
	status(): LoadStatus {
		const now = this.now();
		const totals = zeroCounts();
		for (const name of JOURNEY_NAMES) for (const key of Object.keys(totals) as (keyof JourneyCounts)[]) totals[key] += this.counts[name][key];
		const journeys = Object.fromEntries(JOURNEY_NAMES.map(name => [name, { ...this.counts[name] }])) as Record<JourneyName, JourneyCounts>;
		return {
			options: { ...this.settings },
			runToken: this.runToken,
			state: this.state,
			stopReason: this.stopReason,
			startedAt: this.startedAt,
			endsAt: this.endsAt,
			stoppedAt: this.stoppedAt,
			elapsedSeconds: Math.round((this.stoppedAt ?? now) - this.startedAt) / 1000,
			currentRate: Math.round(this.currentRate(now) * 100) / 100,
			activeUsers: this.busy.size,
			journeys,
			totals,
			stats: this.stats.snapshot(this.stoppedAt ?? now),
			series: this.stats.series()
		};
	}

	/** Scheduler tick: ends the run at its duration, starts the arrivals due, closes the statistics window each second. */
	private schedule(): void {
		if (this.state !== "running") return;
		const now = this.now();
		if (now >= this.endsAt) {
			void this.finish("duration");
			return;
		}
		// Arrivals due since the last tick: the integral of the (linear) rate, i.e. its mean times the time.
		const seconds = Math.max(0, now - this.lastSchedule) / 1000;
		this.arrivals += ((this.currentRate(this.lastSchedule) + this.currentRate(now)) / 2) * seconds;
		this.lastSchedule = now;
		const due = Math.floor(this.arrivals);
		this.arrivals -= due;
		for (let i = 0; i < due; i++) this.arrive();
		if (now >= this.nextStatsTick) {
			this.stats.tick(now);
			this.nextStatsTick += 1000;
			if (this.nextStatsTick <= now) this.nextStatsTick = now + 1000;
		}
	}

	/** One arrival: picks a journey and runs it with a free user, or counts it dropped. */
	private arrive(): void {
		const name = pickJourney(this.random);
		const id = this.free.pop();
		if (id === undefined) {
			this.counts[name].dropped++;
			return;
		}
		this.counts[name].started++;
		this.busy.add(id);
		const user = (this.users[id] ??= { id, token: null, password: null });
		const ctx: JourneyContext = {
			random: this.random,
			catalog: this.catalog,
			user,
			runToken: this.runToken,
			request: (step, method, path, request) => this.request(step, method, path, request),
			active: () => this.state === "running"
		};
		const run: Promise<void> = JOURNEYS[name]
			.run(ctx)
			.catch((): JourneyOutcome => "failed")
			.then(outcome => {
				this.counts[name][outcome]++;
				this.busy.delete(id);
				if (id < this.settings.users) this.free.push(id);
				this.inFlight.delete(run);
			});
		this.inFlight.add(run);
	}

	/** Sends one request to `<target>/api<path>`, records it under `step` and answers; never throws (status 0 for a network error or a timeout). */
	private async request(step: StepLabel, method: "GET" | "POST", path: string, request: StepRequest = {}): Promise<StepAnswer> {
		const headers: Record<string, string> = { accept: "application/json", ...request.headers };
		if (request.body !== undefined) headers["content-type"] = "application/json";
		if (request.token) headers.authorization = `Bearer ${request.token}`;
		const started = performance.now();
		let status = 0;
		let body: unknown = undefined;
		try {
			const res = await fetch(`${this.settings.target}/api${path}`, {
				method,
				headers,
				body: request.body === undefined ? undefined : JSON.stringify(request.body),
				// A redirect is answered as it is (a 3xx is an error): the load goes to the target and nowhere else.
				redirect: "manual",
				signal: AbortSignal.timeout(this.settings.requestTimeoutMs)
			});
			const text = await res.text();
			status = res.status;
			body = parseJson(text);
		} catch {
			status = 0;
		}
		const ms = performance.now() - started;
		const ok = (request.expect ?? [200, 201]).includes(status);
		this.stats.record(step, ms, ok, status);
		try {
			this.onResult?.(step, ms / 1000, ok, status);
		} catch {
			// A failing observer must not break the run.
		}
		return { ok, status, body };
	}

	/** Stops arrivals, then waits for the journeys in flight (bounded), closes the last window and marks the run stopped. */
	private finish(reason: StopReason): Promise<void> {
		if (this.state !== "running") return this.done;
		this.state = "stopping";
		this.stopReason = reason;
		clearInterval(this.timer);
		let bound: NodeJS.Timeout | undefined;
		const timeout = new Promise<void>(resolve => {
			bound = setTimeout(resolve, this.settings.requestTimeoutMs + 1000);
			bound.unref();
		});
		void Promise.race([Promise.allSettled([...this.inFlight]), timeout]).then(() => {
			clearTimeout(bound);
			this.stoppedAt = this.now();
			this.stats.tick(this.stoppedAt);
			this.state = "stopped";
			this.resolveDone();
		});
		return this.done;
	}
}

function zeroCounts(): JourneyCounts {
	return { started: 0, completed: 0, failed: 0, interrupted: 0, dropped: 0 };
}

function parseJson(text: string): unknown {
	if (text === "") return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}
