/**
 * A throwaway MongoDB-wire-compatible server for tests and `npm run cluster` when MONGO_URI is not set:
 * the jongodb native binary from the npm registry (`@jongodb/memory-server-bin-linux-x64-gnu`), in memory
 * only. It speaks enough of the wire protocol for the mongodb 3.x driver that moleculer-db-adapter-mongo
 * ships; its known limits are listed in the README ("MongoDB and the Mongo-wire test server").
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { freePort } from "./net";

const BINARY_PACKAGE = "@jongodb/memory-server-bin-linux-x64-gnu";
/** The launcher prints this line on stdout when it accepts connections. */
const READY_PREFIX = "JONGODB_URI=";

export interface MongoWireServer {
	/** Connection string with the database name, e.g. mongodb://127.0.0.1:41234/shop. */
	uri: string;
	port: number;
	process: ChildProcess;
	/** Stops the server (SIGTERM) and resolves when it has exited. */
	stop(): Promise<void>;
}

/** Path of the jongodb binary. @throws Error naming the package and MONGO_URI when it is not installed. */
export function binaryPath(): string {
	try {
		return path.join(path.dirname(require.resolve(`${BINARY_PACKAGE}/package.json`)), "bin", "jongodb");
	} catch {
		throw new Error(`The Mongo-wire test server (${BINARY_PACKAGE}, Linux x64 only) is not installed: run npm install, or set MONGO_URI to a MongoDB server.`);
	}
}

/**
 * Starts a server on `port` (a free one by default) serving `database`; resolves once it is ready.
 * @throws Error when the binary is missing, exits early, or is not ready within `timeoutMs` (ms).
 */
export function startMongoWire(options: { port?: number; database?: string; timeoutMs?: number } = {}): Promise<MongoWireServer> {
	const database = options.database ?? "shop";
	return (options.port ? Promise.resolve(options.port) : freePort()).then(
		port =>
			new Promise<MongoWireServer>((resolve, reject) => {
				const child = spawn(binaryPath(), [`--host=127.0.0.1`, `--port=${port}`, `--database=${database}`], {
					stdio: ["ignore", "pipe", "pipe"]
				});
				const stderr: string[] = [];
				child.stderr!.on("data", chunk => stderr.push(String(chunk)));
				const timer = setTimeout(() => {
					child.kill("SIGKILL");
					reject(new Error(`The Mongo-wire server did not start within ${options.timeoutMs ?? 15_000} ms: ${stderr.join("")}`));
				}, options.timeoutMs ?? 15_000);
				const exited = new Promise<void>(done => child.once("exit", () => done()));
				// Whatever way this process ends, the server ends with it.
				const orphaned = () => child.kill("SIGKILL");
				process.once("exit", orphaned);
				child.once("exit", () => process.off("exit", orphaned));
				child.once("exit", code => {
					clearTimeout(timer);
					reject(new Error(`The Mongo-wire server exited with code ${code}: ${stderr.join("")}`));
				});
				readline.createInterface({ input: child.stdout! }).on("line", line => {
					if (!line.startsWith(READY_PREFIX)) return;
					clearTimeout(timer);
					resolve({
						uri: `mongodb://127.0.0.1:${port}/${database}`,
						port,
						process: child,
						stop: () => {
							if (child.exitCode == null && child.signalCode == null) child.kill("SIGTERM");
							return exited;
						}
					});
				});
			})
	);
}
