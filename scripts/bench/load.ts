/**
 * The load tools of `npm run bench`: wrk (Debian's, installed when missing) for fixed-URL reads, and
 * autocannon (a devDependency) for requests that differ one from the next (checkout, one token each). Both
 * report requests/s, latency percentiles and every answer that was not 2xx.
 */
import { execFileSync, spawn } from "node:child_process";
import autocannon from "autocannon";

/** What one load run measured. Latencies in ms. */
export interface LoadResult {
	requests: number;
	rps: number;
	p50: number;
	p99: number;
	/** Answers that were not 2xx/3xx, and socket errors and timeouts. */
	non2xx: number;
	errors: number;
}

/** Makes sure wrk is there: installs Debian's package when it is missing. @throws Error when it cannot. */
export function ensureWrk(log: (line: string) => void): void {
	try {
		execFileSync("wrk", ["--version"], { stdio: "ignore" });
		return;
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== "ENOENT") return; // wrk --version exits 1 after printing it
	}
	log("  wrk is missing: installing Debian's package (apt-get install wrk)…");
	execFileSync("sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk"], { stdio: "ignore" });
}

/** `1.23ms`, `456.00us`, `2.1s` → ms. */
function toMs(value: string): number {
	const [, n, unit] = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim()) ?? [];
	const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit as "us" | "ms" | "s" | "m"] ?? NaN;
	return Number(n) * scale;
}

/** Parses wrk's `--latency` output. */
export function parseWrk(output: string): LoadResult {
	const match = (re: RegExp) => re.exec(output)?.slice(1) ?? [];
	const [requests] = match(/(\d+) requests in/);
	const [rps] = match(/Requests\/sec:\s+([\d.]+)/);
	const [p50] = match(/^\s+50%\s+(\S+)/m);
	const [p99] = match(/^\s+99%\s+(\S+)/m);
	const [non2xx] = match(/Non-2xx or 3xx responses:\s+(\d+)/);
	const socket = match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/).map(Number);
	return {
		requests: Number(requests ?? 0),
		rps: Number(rps ?? 0),
		p50: p50 ? toMs(p50) : NaN,
		p99: p99 ? toMs(p99) : NaN,
		non2xx: Number(non2xx ?? 0),
		errors: socket.reduce((n, x) => n + x, 0)
	};
}

function wrk(url: string, connections: number, seconds: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s", url], { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", chunk => (out += chunk));
		child.stderr.on("data", chunk => (out += chunk));
		child.once("error", reject);
		child.once("exit", code => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
	});
}

/** `seconds` of load on `url` from `connections` connections (one wrk thread), after `warmup` seconds of the same. */
export async function readLoad(url: string, options: { connections?: number; seconds?: number; warmup?: number } = {}): Promise<LoadResult> {
	const connections = options.connections ?? 50;
	if ((options.warmup ?? 2) > 0) await wrk(url, connections, options.warmup ?? 2);
	return parseWrk(await wrk(url, connections, options.seconds ?? 8));
}

/**
 * `amount` POSTs of `body` to `url` over `connections` connections, the i-th with `headers(i)`: each
 * request its own caller. Answers the rate of 2xx answers over the whole run.
 */
export async function postLoad(url: string, amount: number, connections: number, body: unknown, headers: (i: number) => Record<string, string>): Promise<LoadResult> {
	let next = 0;
	// Throughput from the clock of the responses: autocannon's own `duration` counts whole ticks of 1 s,
	// which would quantise a 3.2 s run of 1,500 requests into 4 s.
	const started = performance.now();
	let lastResponse = started;
	const result = await new Promise<autocannon.Result>((resolve, reject) => {
		const instance = autocannon(
			{
				url,
				connections,
				amount,
				timeout: 10,
				requests: [
					{
						method: "POST",
						setupRequest: req => ({ ...req, body: JSON.stringify(body), headers: { ...req.headers, "Content-Type": "application/json", ...headers(next++) } })
					}
				]
			},
			(err, done) => (err ? reject(err) : resolve(done))
		);
		instance.on("response", () => (lastResponse = performance.now()));
	});
	const ok = result["2xx"];
	return {
		requests: result.requests.total,
		rps: ok / ((lastResponse - started) / 1000 || 1),
		p50: result.latency.p50,
		p99: result.latency.p99,
		non2xx: result.non2xx,
		errors: result.errors + result.timeouts
	};
}
