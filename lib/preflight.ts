/**
 * What a node checks before it starts, so that a wrong setting stops it at once with one line naming the
 * variable to change, instead of a stack trace, an endless retry loop or a crash after it began serving:
 * every port it will listen on can be bound, and every store and server it needs answers within
 * START_TIMEOUT. The lines never show credentials: only host and port.
 */
import { isRedisUrl } from "./cacher";
import net from "node:net";
import { natsSecurity, type ShopConfig } from "./config";

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
function parseJson(text: string): NatsInfo | null {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

/** What the start check reads from a NATS server's INFO. */
interface NatsInfo {
	jetstream?: boolean;
	auth_required?: boolean;
	tls_required?: boolean;
	/** The server asks for a client certificate. */
	tls_verify?: boolean;
}

/**
 * The INFO a NATS server sends first on every connection, before TLS and credentials (its JSON), or null when
 * `address` (`host:port`) sends none within `timeoutMs`.
 */
function natsInfo(address: string, timeoutMs: number): Promise<NatsInfo | null> {
	return new Promise(resolve => {
		const socket = socketTo(address);
		let text = "";
		const done = (info: NatsInfo | null) => {
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

/** Whether a NATS client error is about TLS: Node's certificate checks, or a TLS file nats.js cannot read. */
function isTlsFailure(code: string | undefined): boolean {
	return code === "TLS" || /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code ?? "");
}

/**
 * Logs in to the NATS server at `address` as the node's connections will (nats.js, with `natsSecurity`:
 * TRANSPORTER's user and password, the NATS_TLS_* files). Any failure other than a refused login or TLS is
 * left to the broker's own start. Only `address` is tried: not the other servers of its cluster, which it
 * announces and nats.js would try next, hiding a refused login behind their errors.
 * @throws StartupError `TRANSPORTER: the NATS server at <host:port> refused the user and password…`,
 *   `NATS_TLS_CA: TLS with the NATS server at <host:port> failed (<code>: <reason>)…` (the code alone for
 *   OpenSSL's multi-part messages), `NATS_TLS_CA: the NATS server at <host:port> offers no TLS…` (NATS_TLS_*
 *   set for a server without TLS), or
 *   `NATS_TLS_CERT: the NATS server at <host:port> asks for a client certificate…` (the server, per `info`, asks
 *   for one and refused the handshake: it refused the certificate sent, or none was).
 */
async function checkNatsLogin(config: ShopConfig, address: string, info: NatsInfo, timeoutMs: number): Promise<void> {
	const { connect } = require("nats") as typeof import("nats");
	try {
		await (await connect({ servers: address, ...natsSecurity(config), reconnect: false, ignoreClusterUpdates: true, timeout: timeoutMs })).close();
	} catch (err) {
		const { code, message } = err as { code?: string; message: string };
		if (code === "AUTHORIZATION_VIOLATION") throw new StartupError(`TRANSPORTER: the NATS server at ${address} refused the user and password in TRANSPORTER (Authorization Violation); set the right ones (nats://user:password@host:4222), or set TRANSPORTER.`);
		// The server refused the handshake: a TLS alert, or a reset when the alert loses the race (TLS 1.3).
		if (info.tls_verify && (code === "ECONNRESET" || /ALERT/.test(code ?? ""))) throw new StartupError(`NATS_TLS_CERT: the NATS server at ${address} asks for a client certificate and refused the connection; set NATS_TLS_CERT and NATS_TLS_KEY to a certificate its CA signed.`);
		if (code === "SERVER_OPT_NA") throw new StartupError(`NATS_TLS_CA: the NATS server at ${address} offers no TLS, but NATS_TLS_* are set; unset them, or start the server with TLS.`);
		if (isTlsFailure(code)) throw new StartupError(`NATS_TLS_CA: TLS with the NATS server at ${address} failed (${code}${/^[0-9A-F]+:error:/.test(message) ? "" : `: ${message.split(";")[0]}`}); set NATS_TLS_CA (and NATS_TLS_CERT, NATS_TLS_KEY) to the files its certificate needs.`);
	}
}

/**
 * Checks the first NATS server of `config.transporter` that sends its INFO: when it asks for credentials or
 * TLS, or NATS_TLS_* are set, that the node gets in (`checkNatsLogin`), and that JetStream is on. Settings
 * the broker would retry for ever (a wrong password or CA), or that its durable events would fail on after a
 * wait (lib/channels.ts), stop the node at once instead. A server that sends no INFO within 2 s is left to the broker's own start.
 * The INFO is read on a socket of the check's own, and nats.js logs in only where there is something to
 * check: given a server that never answers, nats.js times out but leaves its socket open.
 * @throws StartupError from `checkNatsLogin`, or `TRANSPORTER: the NATS server at <host:port> runs without JetStream…`.
 */
async function checkNats(config: ShopConfig, deadline: number): Promise<void> {
	for (const address of addressesOf(config.transporter!, 4222)) {
		const timeoutMs = Math.min(2000, Math.max(100, deadline - Date.now()));
		const info = await natsInfo(address, timeoutMs);
		if (!info) continue;
		if (info.auth_required || info.tls_required || config.natsTls) await checkNatsLogin(config, address, info, timeoutMs);
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
 * checks that a NATS transporter lets the node in (credentials, TLS) and has JetStream.
 * @throws StartupError for the first that does not answer, naming its variable, address and error; or for a
 *   NATS server that refuses the credentials or TLS, or runs without JetStream (`checkNats`).
 */
export async function checkDependencies(config: ShopConfig, needs: Needs): Promise<void> {
	const seconds = config.startTimeoutSeconds;
	const deadline = Date.now() + seconds * 1000;
	const waits: Promise<void>[] = [];
	if (needs.transporter && config.transporter) {
		const nats = config.transporter.startsWith("nats://");
		waits.push(waitForServer("TRANSPORTER", addressesOf(config.transporter, 4222), deadline, seconds).then(() => (nats ? checkNats(config, deadline) : undefined)));
	}
	if (needs.cacher && isRedisUrl(config.cacher)) waits.push(waitForServer("CACHER", addressesOf(config.cacher, 6379), deadline, seconds));
	if (needs.mongo && config.mongoUri) waits.push(waitForMongo(config.mongoUri, deadline, seconds));
	await Promise.all(waits);
}
