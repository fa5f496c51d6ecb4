/**
 * The shop's launcher, for `npm start` (every service in one process), each node of `npm run cluster`, the
 * image (one node type per container, SERVICES) and `npm run repl` (`--repl`). It owns the process: its
 * signals, its exit code, and what it prints when something is wrong (one line naming the variable to
 * change, never a stack trace). In order:
 *
 *   1. read the settings (lib/config.ts);
 *   2. check that PORT (gateway nodes), HEALTH_PORT and METRICS_PORT can be bound;
 *   3. lock DATA_DIR (lib/data-lock.ts: one process per NeDB directory);
 *   4. open /live and /ready on HEALTH_PORT (/ready answers 503 "starting");
 *   5. wait for MongoDB, NATS and Redis, each within START_TIMEOUT (lib/preflight.ts);
 *   6. start the broker: the gateway opens its port once every service its routes call has a node;
 *   7. free what start-up left in memory (scripts/node-flags.ts), /ready turns 200, and the node says it is ready.
 *
 * SIGTERM or SIGINT (Ctrl-C): /ready turns 503, the gateway stops taking requests, the other services finish
 * what they are doing (10 s at most) and stop, the lock is released, exit code 0.
 */
import path from "node:path";
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from "moleculer";
import { ConfigError, loadConfig, type ShopConfig } from "../lib/config";
import { createBrokerOptions } from "../lib/broker-options";
import { HealthServer } from "../lib/health";
import { StartupError, checkDependencies, portProblems } from "../lib/preflight";
import { DataDirLockedError, lockDataDir } from "../lib/data-lock";
import { ROUTED_SERVICES } from "../services/api.routes";
import { releaseStartupMemory } from "./node-flags";

/** Every service, in the order a one-process shop creates them (the gateway last). */
export const SERVICE_NAMES = ["customers", "products", "carts", "payments", "notifications", "orders", "api"] as const;
/** Node types that only run when SERVICES names them: the load generator (services/loadgen.service.ts). */
export const OPTIONAL_SERVICES = ["loadgen"] as const;
/** The services that keep data (everything but the gateway). */
const STORE_SERVICES: readonly string[] = SERVICE_NAMES.filter(name => name !== "api");
/** How long (ms) a stop may take before the process exits anyway: the 10 s shutdown tracking and some. */
const STOP_LIMIT_MS = 15_000;

function say(line: string): void {
	process.stderr.write(`[shop] ${line}\n`);
}

/** The service schema of `name`, compiled beside this script (dist/services/<name>.service.js). */
function loadService(name: string): ServiceSchema {
	const module = require(path.resolve(__dirname, "../services", `${name}.service`));
	return (module.default ?? module) as ServiceSchema;
}

/**
 * The gateway's schema. Required here, not imported at the top: only gateway nodes load moleculer-web and
 * the HTTP security code (about 5 MB less resident memory on every other node).
 */
function gatewayService(config: ShopConfig): ServiceSchema {
	const { createApiService } = require("../services/api.service") as typeof import("../services/api.service");
	return createApiService(config) as ServiceSchema;
}

/** Resolves true once `broker`'s transporter is connected, false after `timeoutMs` (ms) without it. */
async function transporterConnected(broker: ServiceBroker, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!broker.transit?.connected && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
	return Boolean(broker.transit?.connected);
}

/** One line for an error the broker's start threw (a gateway that waited too long, a port taken meanwhile…). */
function startFailure(err: unknown, config: ShopConfig): string {
	const message = (err as Error)?.message ?? String(err);
	if (/waiting is timed out/i.test(message)) {
		return `START_TIMEOUT: the gateway waited ${config.startTimeoutSeconds} s for the services its routes call (${ROUTED_SERVICES.join(", ")}); start their nodes, or raise START_TIMEOUT.`;
	}
	if (/already in use|EADDRINUSE/.test(message)) return `PORT: port ${config.port} is in use (EADDRINUSE); set PORT to a free port, or stop what listens on it.`;
	return `the node could not start: ${message.split("\n")[0]}`;
}

/**
 * Runs the node until a signal stops it; resolves to the exit code for a failed start (the process exits
 * by itself after a stop). `argv`: `--repl` starts the REPL once the node is ready.
 */
export async function main(argv: readonly string[]): Promise<number> {
	let config: ShopConfig;
	try {
		config = loadConfig();
	} catch (err) {
		if (!(err instanceof ConfigError)) throw err;
		say(err.message);
		return 1;
	}
	const names = config.services ?? [...SERVICE_NAMES];
	const known: readonly string[] = [...SERVICE_NAMES, ...OPTIONAL_SERVICES];
	const unknown = names.filter(name => !known.includes(name));
	if (unknown.length > 0 || names.length === 0) {
		say(`SERVICES: unknown service "${unknown.join(", ")}"; use a comma-separated list of ${known.join(", ")}, or leave it unset for all but ${OPTIONAL_SERVICES.join(", ")}.`);
		return 1;
	}
	const hostsGateway = names.includes("api");
	const keepsData = names.some(name => STORE_SERVICES.includes(name));
	const cleanups: (() => unknown)[] = [];
	const cleanup = async () => {
		for (const step of cleanups.reverse()) await step();
	};

	let broker: ServiceBroker | null = null;
	let health: HealthServer | null = null;
	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		if (health) health.phase = "stopping";
		setTimeout(() => {
			say(`the node did not stop within ${STOP_LIMIT_MS / 1000} s; exiting anyway.`);
			process.exit(1);
		}, STOP_LIMIT_MS).unref();
		broker?.logger.info(`${signal}: stopping.`);
		try {
			// A signal during start: Moleculer's stop flushes the transporter's client, which is null until it
			// has connected; wait for the connection (bounded), or skip the broker's stop if it never comes.
			if (broker?.transit && !(await transporterConnected(broker, 5_000))) broker = null;
			// The gateway first, so no request arrives for a service that is already stopping.
			const gateway = broker?.getLocalService("api");
			if (gateway) await broker!.destroyService(gateway);
			await broker?.stop();
		} catch (err) {
			say(`stopping failed: ${(err as Error).message}`);
		}
		await cleanup();
		process.exit(0);
	};
	process.once("SIGTERM", () => void stop("SIGTERM"));
	process.once("SIGINT", () => void stop("SIGINT"));

	try {
		// Every taken port and a locked DATA_DIR are reported together, one line each.
		const problems = await portProblems([
			...(hostsGateway ? [{ variable: "PORT", port: config.port, host: config.gatewayHost }] : []),
			...(names.includes("loadgen") ? [{ variable: "LOADGEN_PORT", port: config.loadgen.port, host: config.loadgen.host }] : []),
			{ variable: "HEALTH_PORT", port: config.healthPort, host: "0.0.0.0" },
			{ variable: "METRICS_PORT", port: config.metricsPort, host: "0.0.0.0" }
		]);
		if (keepsData && !config.mongoUri && config.dataDir !== ":memory:") {
			try {
				// With other problems the node will not start: the lock is only tried, to report it as well.
				const release = lockDataDir(config.dataDir);
				if (problems.length === 0) cleanups.push(release);
				else release();
			} catch (err) {
				if (!(err instanceof DataDirLockedError)) throw err;
				problems.push(err.message);
			}
		}
		if (problems.length > 0) throw new StartupError(problems.join("\n"));
		if (config.healthPort > 0) {
			health = new HealthServer();
			await health.listen(config.healthPort);
			cleanups.push(() => health!.close());
		}
		await checkDependencies(config, { transporter: true, cacher: true, mongo: keepsData });
		if (stopping) return 0;

		broker = new ServiceBroker({ ...createBrokerOptions(config, config.nodeID ?? undefined, config.services?.join("+") ?? "all"), skipProcessEventRegistration: true } as BrokerOptions);
		// The gateway is built from this node's settings (its port, rate limits, proxies, CORS).
		for (const name of names) broker.createService(name === "api" ? gatewayService(config) : loadService(name));
		health?.attach(broker, hostsGateway ? ROUTED_SERVICES : []);
		await broker.start();
		releaseStartupMemory();
	} catch (err) {
		if (stopping) return 0;
		for (const line of (err instanceof StartupError ? err.message : startFailure(err, config)).split("\n")) say(line);
		if (broker && (!broker.transit || broker.transit.connected)) await broker.stop().catch(() => undefined);
		await cleanup();
		return 1;
	}
	if (health) health.phase = "running";
	const where = hostsGateway ? `; storefront at http://localhost:${config.port}/, API at http://localhost:${config.port}/api` : "";
	broker.logger.info(`Ready: ${names.join(", ")} on node ${broker.nodeID}${where}.`);
	// Required here, not at the top: only `npm run repl` loads the REPL and its commands (moleculer-repl, table).
	if (argv.includes("--repl")) (require("../lib/repl") as typeof import("../lib/repl")).startRepl(broker);
	return 0;
}

if (require.main === module) {
	main(process.argv.slice(2)).then(
		code => {
			if (code !== 0) process.exit(code);
		},
		err => {
			say(`unexpected failure: ${(err as Error)?.stack ?? err}`);
			process.exit(1);
		}
	);
}
