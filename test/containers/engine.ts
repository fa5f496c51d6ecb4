/**
 * The Docker engine for the container tests: Debian's packages installed when missing (docker.io,
 * docker-compose, debootstrap), dockerd started when none answers — with `--iptables=false --ip-masq=false`
 * (nothing is routed off this machine), its data root, exec root, PID file and socket under a temporary
 * directory — and stopped afterwards only if this run started it. Commands run with their output captured;
 * a failing command throws with its last output lines.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Environment of every docker / docker-compose command (DOCKER_HOST when this run started dockerd). */
export const dockerEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: "0", COMPOSE_DOCKER_CLI_BUILD: "0" };

/**
 * Debian's docker client, matching Debian's dockerd; the legacy builder (DOCKER_BUILDKIT=0), which needs no
 * image from Docker Hub for the Dockerfile's `# syntax` line (it reads it as a comment).
 */
export const DOCKER = fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

/**
 * Runs `command args`, resolving with its stdout.
 * @throws Error with the command and the last 30 lines of its output when it exits non-zero.
 */
export async function sh(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<string> {
	try {
		const { stdout } = await run(command, args, { env: options.env ?? dockerEnv, cwd: options.cwd, timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
		return stdout;
	} catch (err) {
		const e = err as { stdout?: string; stderr?: string; message: string };
		const tail = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
		throw new Error(`${command} ${args.join(" ")} failed: ${e.message.split("\n")[0]}\n${tail}`);
	}
}

/** `docker args…`. */
export const docker = (...args: string[]) => sh(DOCKER, args);

const installed = (command: string) => ["/usr/bin", "/usr/sbin", "/usr/local/bin"].some(dir => fs.existsSync(path.join(dir, command)));

/**
 * The compose command: docker-compose (Debian's 1.29) when installed, else the `docker compose` plugin
 * (GitHub's hosted runners).
 */
export function composeCommand(): [string, ...string[]] {
	return installed("docker-compose") ? ["docker-compose"] : [DOCKER, "compose"];
}

/**
 * Installs Debian's packages for the commands that are missing (as root, with apt): the engine, compose when
 * no compose command exists, and debootstrap when stand-ins are built (`standins`).
 */
export async function ensurePackages(standins: boolean): Promise<void> {
	const wanted: Record<string, string> = { dockerd: "docker.io" };
	if (composeCommand()[0] !== "docker-compose" && !(await sh(DOCKER, ["compose", "version"]).then(() => true, () => false))) wanted["docker-compose"] = "docker-compose";
	if (standins) wanted.debootstrap = "debootstrap";
	const missing = Object.entries(wanted)
		.filter(([command]) => !installed(command))
		.map(([, pkg]) => pkg);
	if (missing.length === 0) return;
	const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
	await sh("apt-get", ["update", "-qq"], { env });
	await sh("apt-get", ["install", "-y", "-qq", ...missing], { env });
}

/**
 * The Docker engine the tests use. For a dockerd this run started: `restart()` stops and starts it again on
 * the same directories (the engine drops stale network endpoints when it starts), and `stop()` ends it and
 * removes its directory. For an engine that was already running, `restart` is null and `stop` does nothing.
 */
export interface Engine {
	startedHere: boolean;
	restart: (() => Promise<void>) | null;
	stop(): Promise<void>;
}

async function answers(): Promise<boolean> {
	return docker("info", "--format", "{{.ServerVersion}}").then(
		() => true,
		() => false
	);
}

/** Ends `daemon` (SIGTERM, then SIGKILL after 20 s) and resolves once it has exited. */
async function endDaemon(daemon: ChildProcess): Promise<void> {
	if (daemon.exitCode != null) return;
	const exited = new Promise(resolve => daemon.once("exit", resolve));
	daemon.kill("SIGTERM");
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([exited, new Promise(resolve => (timer = setTimeout(resolve, 20_000)))]);
	clearTimeout(timer);
	if (daemon.exitCode == null) {
		daemon.kill("SIGKILL");
		await exited;
	}
}

/**
 * Uses the running Docker engine, or starts dockerd (see the file's comment) and waits up to 60 s for it.
 * @throws Error with dockerd's last log lines when it does not come up (at start or at a restart).
 */
export async function ensureEngine(): Promise<Engine> {
	if (await answers()) return { startedHere: false, restart: null, stop: async () => undefined };
	// A short path: containerd's sockets live under the exec root and socket paths are limited to 108 bytes.
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopd-"));
	const socket = `unix://${dir}/docker.sock`;
	dockerEnv.DOCKER_HOST = socket;
	const launch = async (): Promise<ChildProcess> => {
		const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
		const started: ChildProcess = spawn(
			"dockerd",
			["--iptables=false", "--ip-masq=false", `--data-root=${dir}/root`, `--exec-root=${dir}/x`, `--pidfile=${dir}/docker.pid`, `--host=${socket}`],
			{ stdio: ["ignore", log, log], detached: true }
		);
		started.unref();
		fs.closeSync(log);
		const deadline = Date.now() + 60_000;
		while (!(await answers())) {
			if (started.exitCode != null || Date.now() > deadline) {
				started.kill("SIGKILL");
				const tail = fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").trim().split("\n").slice(-20).join("\n");
				throw new Error(`dockerd did not start (install docker.io, run as root):\n${tail}`);
			}
			await new Promise(resolve => setTimeout(resolve, 250));
		}
		return started;
	};
	let daemon = await launch();
	return {
		startedHere: true,
		restart: async () => {
			await endDaemon(daemon);
			daemon = await launch();
		},
		stop: async () => {
			await endDaemon(daemon);
			// What dockerd left mounted under its directories (its network namespace file, overlays).
			const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").map(line => line.split(" ")[1]).filter(point => point?.startsWith(dir));
			for (const point of mounts.sort((a, b) => b.length - a.length)) await sh("umount", ["-l", point]).catch(() => undefined);
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}
