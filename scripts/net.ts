/**
 * Small network and process helpers shared by the cluster script, the reliability scenarios and the tests:
 * a free port, a TCP reachability check, a child-process exit, and a JSON client for the gateway.
 */
import type { ChildProcess } from "node:child_process";
import net from "node:net";

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** `count` distinct TCP ports that were free a moment ago on 127.0.0.1 (all held open together while drawn). */
export async function freePorts(count: number): Promise<number[]> {
	const servers = await Promise.all(
		Array.from(
			{ length: count },
			() =>
				new Promise<net.Server>((resolve, reject) => {
					const server = net.createServer();
					server.once("error", reject);
					server.listen(0, "127.0.0.1", () => resolve(server));
				})
		)
	);
	const ports = servers.map(server => (server.address() as net.AddressInfo).port);
	await Promise.all(servers.map(server => new Promise(resolve => server.close(resolve))));
	return ports;
}

/** True when something accepts TCP connections at the URL's host and port within `timeoutMs` (ms). */
export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
	const { hostname, port } = new URL(url);
	return new Promise(resolve => {
		const socket = net.connect({ host: hostname, port: Number(port) });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
	if (child.exitCode != null || child.signalCode != null) return Promise.resolve();
	return new Promise(resolve => child.once("exit", () => resolve()));
}

/** An answer of `client`: the status, the JSON body (or the text when not JSON), the headers. */
export interface Reply {
	status: number;
	body: any;
	headers: Headers;
}

/** A JSON client for the gateway at `base` (e.g. http://localhost:3000/api); `timeoutMs` in ms, default 30 000. */
export function client(base: string) {
	return async function request(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
		const headers: Record<string, string> = { ...options.headers };
		if (options.token) headers.Authorization = `Bearer ${options.token}`;
		if (options.body !== undefined) headers["Content-Type"] = "application/json";
		const res = await fetch(`${base}${path}`, {
			method,
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)
		});
		const text = await res.text();
		let body: unknown = text;
		try {
			body = JSON.parse(text);
		} catch {
			// not JSON: keep the text
		}
		return { status: res.status, body, headers: res.headers };
	};
}
