/**
 * Clustered stores on loopback for the HA tests (test/ha/): a NATS cluster with JetStream (Debian's
 * nats-server, one process per server, routes between them, a monitoring port each) and a Redis primary with a
 * replica and Sentinels (Debian's redis-server, `--sentinel` mode). Every server can be SIGKILLed and started
 * again on the same ports and data.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePorts, reachable } from "./net";
import { waitFor } from "./harness";

/** One server process that can be killed and started again. */
export interface Server {
	name: string;
	/** Client port on 127.0.0.1. */
	port: number;
	process: ChildProcess | null;
	/** SIGKILL (an outage, not a shutdown); resolves when it has exited. */
	kill(): Promise<void>;
	/** Starts it again with the same ports and data; resolves when it accepts connections. */
	start(): Promise<void>;
}

function server(name: string, port: number, command: string, args: string[]): Server {
	const self: Server = {
		name,
		port,
		process: null,
		kill: () =>
			new Promise<void>(resolve => {
				const child = self.process;
				if (!child || child.exitCode != null || child.signalCode != null) return resolve();
				child.once("exit", () => resolve());
				child.kill("SIGKILL");
			}),
		start: async () => {
			self.process = spawn(command, args, { stdio: "ignore" });
			self.process.once("error", () => undefined);
			await waitFor(() => reachable(`tcp://127.0.0.1:${port}`, 200), `${name} on port ${port}`, 20_000);
		}
	};
	return self;
}

/** A NATS cluster: its servers, the TRANSPORTER list naming all of them, and how many clients each holds. */
export interface NatsCluster {
	servers: Server[];
	url: string;
	/** Client connections per server (from its monitoring endpoint /connz; 0 when it does not answer). */
	connections(): Promise<number[]>;
	stop(): Promise<void>;
}

/** Starts `size` NATS servers with JetStream, clustered over routes on loopback. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
	const ports = await freePorts(size * 3);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-nats-cluster-"));
	const routes = Array.from({ length: size }, (_, i) => `nats://127.0.0.1:${ports[size + i]}`).join(",");
	const servers = Array.from({ length: size }, (_, i) =>
		server(`nats-${i + 1}`, ports[i], "nats-server", [
			"-a", "127.0.0.1", "-p", String(ports[i]), "-m", String(ports[2 * size + i]), "-js", "-sd", path.join(dir, `n${i + 1}`),
			"--server_name", `n${i + 1}`, "--cluster_name", "shop", "--cluster", `nats://127.0.0.1:${ports[size + i]}`, "--routes", routes
		])
	);
	await Promise.all(servers.map(s => s.start()));
	return {
		servers,
		url: servers.map(s => `nats://127.0.0.1:${s.port}`).join(","),
		connections: () =>
			Promise.all(
				servers.map((_, i) =>
					fetch(`http://127.0.0.1:${ports[2 * size + i]}/connz`).then(
						async res => ((await res.json()) as { num_connections: number }).num_connections,
						() => 0
					)
				)
			),
		stop: async () => {
			await Promise.all(servers.map(s => s.kill()));
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}

/** A Redis primary, its replica and Sentinels watching them (master name `shop`). */
export interface RedisSentinels {
	primary: Server;
	replica: Server;
	sentinels: Server[];
	/** CACHER for the shop: redis+sentinel://<every sentinel>/shop. */
	url: string;
	/** The port of the primary the Sentinels name now (asked over RESP with `redis-cli`). */
	primaryPort(): Promise<number>;
	stop(): Promise<void>;
}

/**
 * Starts a Redis primary and replica (nothing on disk) and `count` Sentinels with quorum 2 that declare the
 * primary down after `downAfterMs` ms without an answer.
 */
export async function startRedisSentinels(count = 3, downAfterMs = 1000): Promise<RedisSentinels> {
	const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(2 + count);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-sentinel-"));
	// A replica writes the RDB of its full sync to its dir even with --save "": keep it in the temporary folder.
	const common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
	const primary = server("redis-primary", primaryPort, "redis-server", ["--port", String(primaryPort), ...common]);
	const replica = server("redis-replica", replicaPort, "redis-server", ["--port", String(replicaPort), "--replicaof", "127.0.0.1", String(primaryPort), ...common]);
	const sentinels = sentinelPorts.map((port, i) => {
		// A Sentinel rewrites its configuration file: each gets its own.
		const file = path.join(dir, `sentinel-${i + 1}.conf`);
		fs.writeFileSync(
			file,
			[`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor shop 127.0.0.1 ${primaryPort} 2`, `sentinel down-after-milliseconds shop ${downAfterMs}`, "sentinel failover-timeout shop 5000", "sentinel parallel-syncs shop 1", ""].join("\n")
		);
		return server(`sentinel-${i + 1}`, port, "redis-server", [file, "--sentinel"]);
	});
	await primary.start();
	await replica.start();
	await Promise.all(sentinels.map(s => s.start()));
	const ask = (port: number, ...args: string[]) => new Promise<string>((resolve, reject) => execFile("redis-cli", ["-p", String(port), ...args], (err, out) => (err ? reject(err) : resolve(out))));
	return {
		primary,
		replica,
		sentinels,
		url: `redis+sentinel://${sentinels.map(s => `127.0.0.1:${s.port}`).join(",")}/shop`,
		primaryPort: async () => Number((await ask(sentinels[0].port, "SENTINEL", "get-master-addr-by-name", "shop")).trim().split("\n")[1]),
		stop: async () => {
			await Promise.all([primary, replica, ...sentinels].map(s => s.kill()));
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}
