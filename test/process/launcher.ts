/**
 * Real processes for the lifecycle tests: the compiled launcher (`node dist/scripts/start.js`, what
 * `npm start` and the image run) or an npm script, with their output kept, their exit awaited, and their
 * descendants found, so a test can check that nothing is left behind.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../scripts/net";

export const ROOT = path.resolve(__dirname, "../..");

export interface Running {
	child: ChildProcess;
	/** Every line printed so far (stdout and stderr). */
	lines: string[];
	/** Everything printed so far, the last unfinished line (a prompt) included. */
	text(): string;
	/** Resolves with the exit code (null after a signal) once the process has exited. */
	exited: Promise<number | null>;
	/** Writes a line to the process's stdin. */
	type(line: string): void;
}

/** Spawns `command args` in the project with `env` on top of the test environment. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Running {
	const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, LOGLEVEL: "warn", ...env }, stdio: ["pipe", "pipe", "pipe"] });
	const lines: string[] = [];
	let all = "";
	for (const stream of [child.stdout!, child.stderr!]) {
		let rest = "";
		stream.on("data", chunk => {
			all += String(chunk);
			const parts = (rest + String(chunk)).split("\n");
			rest = parts.pop()!;
			lines.push(...parts);
		});
	}
	const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
	return { child, lines, text: () => all, exited, type: line => child.stdin!.write(`${line}\n`) };
}

/** The launcher with `env` (three free ports and an in-memory store unless given). */
export async function launch(env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Running & { port: number; healthPort: number }> {
	const [port, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
	const settings = { PORT: String(port), HEALTH_PORT: String(healthPort), METRICS_PORT: String(metricsPort), DATA_DIR: ":memory:", ...env };
	return { ...run(process.execPath, [path.join(ROOT, "dist/scripts/start.js"), ...args], settings), port: Number(settings.PORT), healthPort: Number(settings.HEALTH_PORT) };
}

/** A fresh temporary directory. */
export function tempDir(label: string): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), `shop-${label}-`));
}

/** The status of `GET url` (0 when nothing answers), within 2 s. */
export function status(url: string): Promise<number> {
	return fetch(url, { signal: AbortSignal.timeout(2000) }).then(res => res.status, () => 0);
}

/** The PIDs of every process descending from `pid` (from `ps`). */
export function descendants(pid: number): number[] {
	const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
		.trim()
		.split("\n")
		.map(line => line.trim().split(/\s+/).map(Number));
	const found: number[] = [];
	const walk = (parent: number) => {
		for (const [child, ppid] of rows) if (ppid === parent) found.push(child), walk(child);
	};
	walk(pid);
	return found;
}

/** True while a process with `pid` exists. */
export function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/** Lines that look like a stack trace or an error report. */
export function stackLines(lines: readonly string[]): string[] {
	// Pretty lines ("ERROR BROKER: …", "    at …") and JSON lines ({"level":"error", "err": {"stack": …}}) alike.
	return lines.filter(line => /^\s+at\s|\bTypeError\b|\bERR_[A-Z_]+\b|Unhandled|ERROR\b|"level":"(error|fatal)"|\\n\s+at\s/.test(line));
}
