/**
 * What a node checks before it starts, so that a wrong setting stops it at once with one line naming the
 * variable to change, instead of a stack trace, an endless retry loop or a crash after it began serving:
 * every port it will listen on can be bound, and every store and server it needs answers within
 * START_TIMEOUT. The lines never show credentials: only host and port.
 */
import { isRedisUrl } from "./cacher";
import net from "node:net";
import type { ShopConfig } from "./config";

/** A setting that stops the node: `message` is the one line to print. */
export class StartupError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "StartupError";
	}
}

/** A port the node will listen on, and the variable that sets it. */
export interface PortSetting {
	variable: string;
	port: number;
	host: string;
}

/** Binds and releases `port` on `host`; resolves to null, or to the error code (EADDRINUSE, EACCES…). */
function tryListen(port: number, host: string): Promise<string | null> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
		server.listen(port, host, () => server.close(() => resolve(null)));
	});
}

/**
 * Answers one line for each port that cannot be bound, e.g. `PORT: port 3000 is in use (EADDRINUSE)…`
 * (none when all are free), so a user learns every clash at once.
 */
export async function portProblems(ports: readonly PortSetting[]): Promise<string[]> {
	const problems: string[] = [];
	for (const { variable, port, host } of ports) {
		if (port === 0) continue;
		const code = await tryListen(port, host);
		if (code === "EADDRINUSE") problems.push(`${variable}: port ${port} is in use (EADDRINUSE); set ${variable} to a free port, or stop what listens on it.`);
		else if (code) problems.push(`${variable}: cannot listen on ${host}:${port} (${code}); set ${variable} to another port.`);
	}
	return problems;
}

/**
 * `host:port` of each server in a connection string, without credentials: one URL, several URLs separated by
 * commas (`nats://a:4222,nats://b:4222`), or one URL with several hosts (`mongodb://u:p@a,b:27018/db`).
 */
export function addressesOf(connection: string, defaultPort: number): string[] {
	return connection
		.split(",")
		.map(entry => entry.replace(/^[a-z+]+:\/\//i, "").replace(/^[^@/]*@/, "").split(/[/?]/)[0])
		.filter(Boolean)
		.map(host => (/:\d+$/.test(host) ? host : `${host}:${defaultPort}`));
}

/** A TCP connection to `address` (`host:port`, an IPv6 host in brackets). */
function socketTo(address: string): net.Socket {
	const [, host, port] = /^(.*):(\d+)$/.exec(address) ?? [];
	return net.connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(port) });
}

/** Connects to `address` (`host:port`) over TCP; resolves to null, or to the error code. */
function tryConnect(address: string, timeoutMs: number): Promise<string | null> {
	return new Promise(resolve => {
		const socket = socketTo(address);
		const done = (result: string | null) => {
			socket.destroy();
			resolve(result);
		};
		socket.setTimeout(timeoutMs, () => done("ETIMEDOUT"));
		socket.once("connect", () => done(null));
		socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
	});
}

/**
 * Waits until one of `addresses` accepts a connection, trying every 500 ms until `deadline` (epoch ms).
 * @throws StartupError `<variable>: cannot reach <addresses> (<last error>) within <s> s`.
 */
async function waitForServer(variable: string, addresses: string[], deadline: number, seconds: number): Promise<void> {
	let last = "no address";
	for (;;) {
		for (const address of addresses) {
			const error = await tryConnect(address, Math.max(100, Math.min(2000, deadline - Date.now())));
			if (!error) return;
			last = error;
		}
		if (Date.now() >= deadline) throw new StartupError(`${variable}: cannot reach ${addresses.join(", ")} (${last}) within ${seconds} s; start it, or set ${variable}.`);
		await new Promise(resolve => setTimeout(resolve, 500));
	}
}

/** Waits until MongoDB at `uri` answers (the driver's own server selection). */
async function waitForMongo(uri: string, deadline: number, seconds: number): Promise<void> {
	const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, options: object): Promise<{ close(): Promise<void> }> } };
	try {
		const client = await MongoClient.connect(uri, { useUnifiedTopology: true, useNewUrlParser: true, serverSelectionTimeoutMS: Math.max(1000, deadline - Date.now()) });
		await client.close();
	} catch (err) {
		const message = (err as Error).message ?? String(err);
		const reason = /\b(E[A-Z]{4,})\b/.exec(message)?.[1] ?? message.split("\n")[0];
		throw new StartupError(`MONGO_URI: cannot reach ${addressesOf(uri, 27017).join(", ")} (${reason}) within ${seconds} s; start it, or set MONGO_URI.`);
	}
}

/** `text` parsed as JSON, or null when it is not. */
function parseJson(text: string): { jetstream?: boolean } | null {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

/**
 * The INFO a NATS server sends first on every connection, before TLS and credentials (its JSON), or null when
 * `address` (`host:port`) sends none within `timeoutMs`.
 */
function natsInfo(address: string, timeoutMs: number): Promise<{ jetstream?: boolean } | null> {
	return new Promise(resolve => {
		const socket = socketTo(address);
		let text = "";
		const done = (info: { jetstream?: boolean } | null) => {
			socket.destroy();
			resolve(info);
		};
		socket.setTimeout(timeoutMs, () => done(null));
		socket.on("data", chunk => {
			text += String(chunk);
			const line = /^INFO\s+(\{.*\})\s*\n/.exec(text);
			if (line) done(parseJson(line[1]));
			else if (text.includes("\n") || text.length > 65_536) done(null);
		});
		socket.once("error", () => done(null));
		socket.once("end", () => done(null));
	});
}

/**
 * Reads whether JetStream is on from the INFO of the first NATS server of `config.transporter` that sends
 * one: a server started without `-js` answers TCP but cannot keep the shop's durable events, and a node's
 * start would wait for it (lib/channels.ts) before failing. A server that sends no INFO is left to the
 * broker's own start, which names the cause.
 * @throws StartupError `TRANSPORTER: the NATS server at <host:port> runs without JetStream…`.
 */
async function checkJetStream(transporter: string, deadline: number): Promise<void> {
	for (const address of addressesOf(transporter, 4222)) {
		// A NATS server sends its INFO at once; what sends none within 2 s is left to the broker's start.
		const info = await natsInfo(address, Math.min(2000, Math.max(100, deadline - Date.now())));
		if (!info) continue;
		if (info.jetstream !== true) throw new StartupError(`TRANSPORTER: the NATS server at ${address} runs without JetStream, which the shop's durable events need; start it with -js (and -sd <dir>), or set TRANSPORTER.`);
		return;
	}
}

/** Which external servers a node needs: the transporter, the Redis cacher, MongoDB (only where it keeps data). */
export interface Needs {
	transporter: boolean;
	cacher: boolean;
	mongo: boolean;
}

/**
 * Waits, in parallel, for every server `config` names that the node `needs`, each within START_TIMEOUT, and
 * checks that a NATS transporter has JetStream.
 * @throws StartupError for the first that does not answer, naming its variable, address and error; or for a
 *   NATS server without JetStream.
 */
export async function checkDependencies(config: ShopConfig, needs: Needs): Promise<void> {
	const seconds = config.startTimeoutSeconds;
	const deadline = Date.now() + seconds * 1000;
	const waits: Promise<void>[] = [];
	if (needs.transporter && config.transporter) {
		const nats = config.transporter.startsWith("nats://");
		waits.push(waitForServer("TRANSPORTER", addressesOf(config.transporter, 4222), deadline, seconds).then(() => (nats ? checkJetStream(config.transporter!, deadline) : undefined)));
	}
	if (needs.cacher && isRedisUrl(config.cacher)) waits.push(waitForServer("CACHER", addressesOf(config.cacher, 6379), deadline, seconds));
	if (needs.mongo && config.mongoUri) waits.push(waitForMongo(config.mongoUri, deadline, seconds));
	await Promise.all(waits);
}
