/**
 * The load generator's statistics: per step (the journeys' step labels), the requests, errors and latency
 * percentiles of the last one-second window and of the whole run, and a time series of all the steps
 * combined (one point a second) for charts. Latencies go into HDR histograms in microseconds (3 significant
 * digits) and are reported in milliseconds.
 *
 * Time is the caller's: `tick(nowMs)` closes the current window (the engine calls it every second).
 */
import { build, type Histogram } from "hdr-histogram-js";

/** Points of the time series kept (5 minutes at one a second). */
export const SERIES_POINTS = 300;

/** Highest latency told apart (µs): 10 minutes; longer ones are recorded as this. */
const MAX_MICROS = 600_000_000;

/**
 * Requests of one window (the last second, or the whole run): `count` requests, `errors` among them,
 * `rps` requests per second over the window, latency percentiles in ms (null without requests), and the
 * errors by status (`"0"`: network error or timeout).
 */
export interface WindowStats {
	count: number;
	errors: number;
	rps: number;
	p50: number | null;
	p95: number | null;
	p99: number | null;
	errorStatuses: Record<string, number>;
}

/** One step's statistics: the last closed one-second window, and the whole run (with its last error status, null if none). */
export interface StepStats {
	lastSecond: WindowStats;
	total: WindowStats & { lastErrorStatus: number | null };
}

/** `snapshot()`: every step seen (or declared) by label, and all the steps combined. */
export interface StatsSnapshot {
	steps: Record<string, StepStats>;
	totals: StepStats;
}

/** One point of the time series: the window that ended at `t` (epoch seconds), all steps combined; percentiles in ms (null without requests). */
export interface SeriesPoint {
	t: number;
	rps: number;
	errorsPerSecond: number;
	p50: number | null;
	p95: number | null;
	p99: number | null;
}

/** Requests counted into one histogram, with their errors by status. */
class Bucket {
	readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_MICROS, numberOfSignificantValueDigits: 3, autoResize: false });
	count = 0;
	errors = 0;
	lastErrorStatus: number | null = null;
	readonly statuses = new Map<number, number>();

	add(micros: number, ok: boolean, status: number): void {
		this.histogram.recordValue(micros);
		this.count++;
		if (ok) return;
		this.errors++;
		this.lastErrorStatus = status;
		this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
	}

	/** The bucket's statistics over `seconds`. */
	summary(seconds: number): WindowStats {
		const empty = this.count === 0;
		const ms = (percentile: number) => (empty ? null : this.histogram.getValueAtPercentile(percentile) / 1000);
		return {
			count: this.count,
			errors: this.errors,
			rps: seconds > 0 ? round(this.count / seconds) : 0,
			p50: ms(50),
			p95: ms(95),
			p99: ms(99),
			errorStatuses: Object.fromEntries([...this.statuses].sort(([a], [b]) => a - b).map(([status, n]) => [String(status), n]))
		};
	}

	reset(): void {
		this.histogram.reset();
		this.count = 0;
		this.errors = 0;
		this.lastErrorStatus = null;
		this.statuses.clear();
	}
}

/** A step's current window, its last closed window and its whole run. */
class StepRecord {
	readonly current = new Bucket();
	readonly total = new Bucket();
	lastSecond: WindowStats = emptyWindow();

	add(micros: number, ok: boolean, status: number): void {
		this.current.add(micros, ok, status);
		this.total.add(micros, ok, status);
	}

	/** Closes the current window of `seconds`; answers its statistics. */
	close(seconds: number): WindowStats {
		this.lastSecond = this.current.summary(seconds);
		this.current.reset();
		return this.lastSecond;
	}

	stats(runSeconds: number): StepStats {
		return { lastSecond: this.lastSecond, total: { ...this.total.summary(runSeconds), lastErrorStatus: this.total.lastErrorStatus } };
	}
}

/**
 * Per-step statistics of a run that started at `startMs` (epoch ms). `steps`: labels listed in the
 * snapshot even before their first request (any other label is added when first recorded).
 */
export class LoadStats {
	private readonly steps = new Map<string, StepRecord>();
	private readonly all = new StepRecord();
	private readonly points: SeriesPoint[] = [];
	private windowStart: number;
	private lastTick: number;

	constructor(private readonly startMs: number, steps: readonly string[] = []) {
		this.windowStart = this.lastTick = startMs;
		for (const step of steps) this.steps.set(step, new StepRecord());
	}

	/** Records one request of `step` that took `ms` milliseconds; `ok` false for an error, `status` the HTTP status (0: network error or timeout). */
	record(step: string, ms: number, ok: boolean, status: number): void {
		let record = this.steps.get(step);
		if (!record) this.steps.set(step, (record = new StepRecord()));
		const micros = Math.min(MAX_MICROS, Math.max(1, Math.round(ms * 1000)));
		record.add(micros, ok, status);
		this.all.add(micros, ok, status);
	}

	/**
	 * Closes the current window at `nowMs` (epoch ms; normally one second after the previous tick): its
	 * statistics become every step's "last second", and one point is added to the series (the oldest beyond
	 * `SERIES_POINTS` dropped). A tick not after the previous one is ignored.
	 */
	tick(nowMs: number): void {
		if (nowMs <= this.windowStart) return;
		const seconds = (nowMs - this.windowStart) / 1000;
		for (const record of this.steps.values()) record.close(seconds);
		const all = this.all.close(seconds);
		this.points.push({ t: Math.floor(nowMs / 1000), rps: all.rps, errorsPerSecond: round(all.errors / seconds), p50: all.p50, p95: all.p95, p99: all.p99 });
		if (this.points.length > SERIES_POINTS) this.points.splice(0, this.points.length - SERIES_POINTS);
		this.windowStart = this.lastTick = nowMs;
	}

	/** Every step's statistics and the totals; the run's rates are over the time from the start to `nowMs` (default: the last tick). */
	snapshot(nowMs: number = this.lastTick): StatsSnapshot {
		const runSeconds = Math.max(0, nowMs - this.startMs) / 1000;
		const steps: Record<string, StepStats> = {};
		for (const [step, record] of this.steps) steps[step] = record.stats(runSeconds);
		return { steps, totals: this.all.stats(runSeconds) };
	}

	/** The time series, oldest first (at most `SERIES_POINTS` points; a copy). */
	series(): SeriesPoint[] {
		return this.points.slice();
	}
}

function emptyWindow(): WindowStats {
	return { count: 0, errors: 0, rps: 0, p50: null, p95: null, p99: null, errorStatuses: {} };
}

/** Rounds a rate to 2 decimals. */
function round(value: number): number {
	return Math.round(value * 100) / 100;
}
