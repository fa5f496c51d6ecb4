/**
 * Start, stop and fail like a production service, with real processes: ready means ready, unreachable
 * stores and taken ports stop the node at once naming the variable, one process per NeDB directory, REPL
 * errors on one line, and SIGTERM to `npm start` or `npm run cluster` leaves nothing behind.
 */
import net from "node:net";
import { freePort } from "../../scripts/net";
import { waitFor } from "../../scripts/harness";
import { NATS_URL, REDIS_URL, uniqueNamespace, deleteStreams } from "../cluster/support";
import { alive, descendants, launch, run, stackLines, status, tempDir } from "./launcher";

describe("a node's start", () => {
	it("answers its first 200 on /api/health only when every routed service answers, and no 503 after it", async () => {
		const node = await launch();
		const api = `http://127.0.0.1:${node.port}/api`;
		const samples: { health: number; products: number; cart: number; ready: number }[] = [];
		try {
			let firstOk = -1;
			for (let i = 0; i < 1500 && (firstOk < 0 || samples.length < firstOk + 40); i++) {
				const [health, products, cart, ready] = await Promise.all([status(`${api}/health`), status(`${api}/products`), status(`${api}/cart`), status(`http://127.0.0.1:${node.healthPort}/ready`)]);
				samples.push({ health, products, cart, ready });
				if (firstOk < 0 && health === 200) firstOk = samples.length - 1;
				await new Promise(resolve => setTimeout(resolve, 10));
			}
			expect(firstOk).toBeGreaterThan(0);
			const after = samples.slice(firstOk);
			expect(after.every(s => s.health === 200 && s.products === 200 && s.cart === 401)).toBe(true);
			// /ready was up no later than the gateway (its 503 while starting: the next test), and 200 once the node runs.
			const firstAnswer = samples.findIndex(s => s.health !== 0 || s.ready !== 0);
			expect(samples[firstAnswer].ready).not.toBe(0);
			await waitFor(async () => (await status(`http://127.0.0.1:${node.healthPort}/ready`)) === 200, "/ready to turn 200");
			expect(samples.some(s => s.health === 503 || s.products === 503)).toBe(false);
		} finally {
			node.child.kill("SIGTERM");
		}
		// While it stops, requests find the port closed, never a 503 from a half-stopped node.
		let exited = false;
		void node.exited.then(() => (exited = true));
		const stopping: number[] = [];
		while (!exited) stopping.push(await status(`${api}/products`));
		expect(stopping.filter(code => code !== 200 && code !== 0)).toEqual([]);
		expect(await node.exited).toBe(0);
		expect(stackLines(node.lines)).toEqual([]);
	}, 60_000);

	it("answers 503 starting on /ready, with the API port closed, while the gateway waits for its services", async () => {
		const namespace = uniqueNamespace("waiting");
		// A gateway alone: the services its routes call never come, so it stays in its start.
		const node = await launch({ SERVICES: "api", TRANSPORTER: NATS_URL, CACHER: REDIS_URL, NAMESPACE: namespace, START_TIMEOUT: "30" });
		try {
			await waitFor(async () => (await status(`http://127.0.0.1:${node.healthPort}/ready`)) === 503, "/ready to answer 503");
			const ready = await fetch(`http://127.0.0.1:${node.healthPort}/ready`);
			expect(await ready.json()).toMatchObject({ status: "starting" });
			expect(await status(`http://127.0.0.1:${node.port}/api/health`)).toBe(0);
		} finally {
			node.child.kill("SIGTERM");
		}
		expect(await node.exited).toBe(0);
		expect(stackLines(node.lines)).toEqual([]);
		await deleteStreams(namespace);
	}, 60_000);

	it.each([
		["MONGO_URI", (port: number) => ({ MONGO_URI: `mongodb://shop:secret@127.0.0.1:${port}/shop` })],
		["TRANSPORTER", (port: number) => ({ TRANSPORTER: `nats://127.0.0.1:${port}` })],
		["CACHER", (port: number) => ({ CACHER: `redis://:secret@127.0.0.1:${port}` })]
	])("exits within START_TIMEOUT naming %s when it does not answer", async (variable, settings) => {
		const nobody = await freePort();
		const started = Date.now();
		const node = await launch({ START_TIMEOUT: "2", ...settings(nobody) });
		expect(await node.exited).toBe(1);
		// Well under the default START_TIMEOUT (30 s): the 2 s given here, plus spawning and loading the node,
		// which took up to 6.3 s on a clean-clone CI run with every other suite running beside it.
		expect(Date.now() - started).toBeLessThan(2000 + 13_000);
		expect(node.lines.filter(line => line.startsWith("[shop]"))).toEqual([`[shop] ${variable}: cannot reach 127.0.0.1:${nobody} (ECONNREFUSED) within 2 s; start it, or set ${variable}.`]);
		expect(node.lines.join("\n")).not.toContain("secret");
	}, 30_000);

	it.each(["PORT", "HEALTH_PORT", "METRICS_PORT"])("exits before serving anything when %s is taken, naming it", async variable => {
		const taken = net.createServer();
		const port = await freePort();
		await new Promise<void>(resolve => taken.listen(port, "0.0.0.0", resolve));
		try {
			const node = await launch({ [variable]: String(port) });
			expect(await node.exited).toBe(1);
			expect(node.lines).toEqual([`[shop] ${variable}: port ${port} is in use (EADDRINUSE); set ${variable} to a free port, or stop what listens on it.`]);
		} finally {
			taken.close();
		}
	}, 30_000);

	it("refuses a second process on the same DATA_DIR, naming the first, which keeps serving", async () => {
		const dataDir = tempDir("lock");
		const first = await launch({ DATA_DIR: dataDir });
		try {
			await waitFor(async () => (await status(`http://127.0.0.1:${first.port}/api/health`)) === 200, "the first node", 30_000);
			const second = await launch({ DATA_DIR: dataDir });
			expect(await second.exited).toBe(1);
			expect(second.lines.join("\n")).toMatch(new RegExp(`DATA_DIR: .* is in use by process ${first.child.pid} .*DATA_DIR=:memory:`));
			expect(await status(`http://127.0.0.1:${first.port}/api/products`)).toBe(200);
		} finally {
			first.child.kill("SIGTERM");
		}
		expect(await first.exited).toBe(0);
		// Stopped, it gave the directory back.
		const third = await launch({ DATA_DIR: dataDir });
		await waitFor(async () => (await status(`http://127.0.0.1:${third.port}/api/health`)) === 200, "the third node", 30_000);
		third.child.kill("SIGTERM");
		expect(await third.exited).toBe(0);
	}, 60_000);

	it("prints a REPL call's error on one line, and runs the operators' commands", async () => {
		const node = await launch({ LOGLEVEL: "error" }, ["--repl"]);
		try {
			await waitFor(() => node.text().includes("mol $"), "the REPL prompt", 30_000);
			node.type("call orders.list");
			await waitFor(() => node.text().split("\n").filter(line => line.includes(">> ERROR:")).length === 1 && node.text().trimEnd().endsWith("mol $"), "the error and the next prompt").catch(err => {
				throw new Error(`${(err as Error).message}; the REPL printed:\n${node.text()}`);
			});
			const after = node.text().slice(node.text().indexOf(">> ERROR:")).trimEnd().split("\n");
			expect(after).toEqual([">> ERROR: AuthRequiredError 401 AUTH_REQUIRED: Authentication required", "mol $"]);
			// The operators' commands: a product's units, and the orders (none yet).
			node.type("stock DEMO-001");
			await waitFor(() => /DEMO-001[\s│|]+\d+[\s│|]+0[\s│|]+\d+[\s│|]+0/.test(node.text()) && node.text().includes("No holds."), "the stock table of DEMO-001");
			node.type("orders --status paid");
			await waitFor(() => node.text().includes("No orders."), "the orders command's answer");
			node.type("quit");
			expect(await node.exited).toBe(0);
		} finally {
			node.child.kill("SIGKILL");
		}
	}, 60_000);
});

describe("stopping what npm started", () => {
	it("stops the node of `npm start` on SIGTERM to npm: exit 0, no process left, no stack", async () => {
		const port = await freePort();
		const npm = run("npm", ["start"], { PORT: String(port), HEALTH_PORT: "0", METRICS_PORT: "0", DATA_DIR: tempDir("npm-start") });
		await waitFor(async () => (await status(`http://127.0.0.1:${port}/api/health`)) === 200, "npm start to serve", 90_000);
		const children = descendants(npm.child.pid!);
		expect(children.length).toBeGreaterThan(0);
		npm.child.kill("SIGTERM");
		await npm.exited;
		await waitFor(() => children.every(pid => !alive(pid)), "every process npm started to exit", 20_000);
		expect(stackLines(npm.lines)).toEqual([]);
	}, 120_000);

	it("stops every node of `npm run cluster` on SIGTERM to npm, with no stack", async () => {
		const namespace = uniqueNamespace("npm-cluster");
		const port = await freePort();
		const npm = run("npm", ["run", "cluster", "--", `--port=${port}`, "--products=1"], { NAMESPACE: namespace, TRANSPORTER: NATS_URL, CACHER: REDIS_URL, HEALTH_PORT: "0", METRICS_PORT: "0" });
		try {
			await waitFor(() => npm.lines.some(line => line.includes("nodes up")), "the cluster to come up", 90_000).catch(err => {
				throw new Error(`${err.message}\n${npm.lines.slice(-20).join("\n")}`);
			});
			const children = descendants(npm.child.pid!);
			expect(children.length).toBeGreaterThanOrEqual(8);
			npm.child.kill("SIGTERM");
			await npm.exited;
			await waitFor(() => children.every(pid => !alive(pid)), "every node to exit", 30_000);
			expect(stackLines(npm.lines)).toEqual([]);
		} finally {
			await deleteStreams(namespace);
		}
	}, 150_000);
});
