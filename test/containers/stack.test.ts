/**
 * The image and the compose stack for real (`npm run test:containers`; `.ci/run` runs it after `npm test`):
 * a Docker engine (test/containers/engine.ts), stand-in base images under the production names
 * (standins.ts), the real image built from the unchanged Dockerfile and checked, then the unchanged
 * docker-compose.yml with test/containers/compose.test.yml (test ports on 127.0.0.1 only): a purchase, a
 * scale-out of products to 3, a SIGKILLed products container under catalog reads, the orders container
 * restarted during a checkout burst (orders and payments then checked in MongoDB), and `down -v`.
 * Each step prints its duration; a failing step shows the stack's last log lines.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { client, freePort } from "../../scripts/net";
import { waitFor } from "../../scripts/harness";
import { DOCKER, composeCommand, docker, dockerEnv, ensureEngine, ensurePackages, sh, type Engine } from "./engine";
import { ROOT, USE_STANDINS, build, buildStandins, pullBaseImages } from "./standins";

// mongodb 3.x (moleculer-db-adapter-mongo's driver) ships no types.
const { MongoClient } = require("mongodb") as { MongoClient: { connect(uri: string, options: object): Promise<any> } };
const IMAGE = "moleculer-shop:local";
const project = `shopct${crypto.randomBytes(3).toString("hex")}`;
const ports = { api: 0, mongo: 0 };
const compose = (...args: string[]) =>
	sh(composeCommand()[0], [...composeCommand().slice(1), "-p", project, "-f", path.join(ROOT, "docker-compose.yml"), "-f", path.join(__dirname, "compose.test.yml"), ...args], {
		cwd: ROOT,
		env: { ...dockerEnv, JWT_SECRET: crypto.randomBytes(24).toString("hex"), SHOP_PUBLISH: `127.0.0.1:${ports.api}`, SHOP_TEST_MONGO_PORT: String(ports.mongo) },
		timeoutMs: 300_000
	});
const say = (line: string) => process.stdout.write(`[containers] ${line}\n`);

/** Runs one step, printing its duration; on failure adds the stack's last log lines to the error. */
async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
	const started = Date.now();
	say(`${name}…`);
	try {
		const result = await body();
		say(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		return result;
	} catch (err) {
		const logs = await compose("logs", "--no-color", "--tail", "15").catch(() => "(no stack logs)");
		throw new Error(`${name} failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${(err as Error).message}\n--- last log lines ---\n${logs}`);
	}
}

/** The ids of the stack's running containers of `service`. */
async function containers(service: string): Promise<string[]> {
	return (await compose("ps", "-q", service)).trim().split("\n").filter(Boolean);
}

const inspect = async (id: string, format: string) => (await docker("inspect", "--format", format, id)).trim();

/** Whether a docker error says the network or the endpoint is already gone. */
const gone = (err: unknown) => /No such network|not found|is not connected/i.test((err as Error).message);

/** The names of the containers the engine still counts on network `id` (none once the network is gone). */
async function endpoints(id: string): Promise<string[]> {
	try {
		return (await docker("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", id)).trim().split(/\s+/).filter(Boolean);
	} catch (err) {
		if (gone(err)) return [];
		throw err;
	}
}

/**
 * `docker-compose down -v --remove-orphans`. The engine may refuse to remove the network with "has active
 * endpoints" after every container is gone: it still counts an endpoint while a removal finishes, or keeps a stale
 * one (moby/moby#42119; seen in CI twice, after the SIGKILL and restart steps, the second time with no endpoint
 * listed by `network inspect`). Then, per network of the stack: waits up to 20 s for the endpoints it lists to
 * go, force-disconnects any left, or, when it lists none, every container name the stack had (an endpoint is
 * named after its container, and the engine deletes a stale one by name when the container no longer exists;
 * a name it does not hold is skipped), and waits up to 20 s for `docker network rm` to succeed. Should the
 * engine still refuse and be a dockerd this run started, it restarts it (the engine drops stale endpoints when
 * it starts) and waits 20 s more. Then it runs `down` once more for the volumes. Any other failure is thrown.
 */
async function composeDown(): Promise<void> {
	const names = (await docker("ps", "-a", "--filter", `label=com.docker.compose.project=${project}`, "--format", "{{.Names}}")).trim().split("\n").filter(Boolean);
	try {
		await compose("down", "-v", "--remove-orphans");
		return;
	} catch (err) {
		if (!/has active endpoints/.test((err as Error).message)) throw err;
	}
	const networks = (await docker("network", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`)).trim().split("\n").filter(Boolean);
	for (const id of networks) {
		say(`network ${id}: "has active endpoints"; the engine lists ${JSON.stringify(await endpoints(id))}`);
		const listed = await waitFor(async () => (await endpoints(id)).length === 0, "the network's endpoints to go", 20_000).then(() => [], () => endpoints(id));
		const left = listed.length > 0 ? listed : await docker("network", "rm", id).then(() => [], () => names);
		for (const name of left) {
			say(`network ${id}: force-disconnecting the stale endpoint ${name}`);
			await docker("network", "disconnect", "--force", id, name).catch(err => {
				if (!gone(err)) throw err;
			});
		}
		const removed = () => waitFor(() => docker("network", "rm", id).then(() => true, err => (gone(err) ? true : Promise.reject(err))), `docker network rm ${id} to succeed`, 20_000);
		await removed().catch(async err => {
			if (!engine?.restart) throw err;
			say(`network ${id}: still "has active endpoints"; restarting the dockerd this run started, which drops stale endpoints when it starts`);
			await engine.restart();
			await removed();
		});
		say(`network ${id}: removed`);
	}
	await compose("down", "-v", "--remove-orphans");
}

let engine: Engine | null = null;
let http: ReturnType<typeof client>;

beforeAll(async () => {
	await step("install docker.io, docker-compose, debootstrap when missing", () => ensurePackages(USE_STANDINS));
	engine = await step("Docker engine", ensureEngine);
	say(engine.startedHere ? "started dockerd (--iptables=false --ip-masq=false, temporary data root)" : "using the running Docker engine");
	[ports.api, ports.mongo] = [await freePort(), await freePort()];
	http = client(`http://127.0.0.1:${ports.api}/api`);
}, 300_000);

afterAll(async () => {
	await composeDown().catch(() => undefined);
	await engine?.stop();
}, 120_000);

describe("the image", () => {
	it("builds from the unchanged Dockerfile on stand-in bases, runs as uid 1000, without dev dependencies or tests", async () => {
		if (USE_STANDINS) await step("stand-in base images", () => buildStandins(say));
		else await step("base images from Docker Hub", () => pullBaseImages(say));
		await step("docker build (the real Dockerfile)", () => build(IMAGE, ROOT));
		const size = Number(await inspect(IMAGE, "{{.Size}}")) / 1e6;
		say(`image ${IMAGE}: ${size.toFixed(0)} MB (target < 250 MB)`);
		expect(await inspect(IMAGE, "{{.Config.User}}")).toBe("node");
		const probe = (script: string) => docker("run", "--rm", "--read-only", "--entrypoint", "sh", IMAGE, "-c", script);
		expect((await probe("id -u")).trim()).toBe("1000");
		// Dev-only packages: dev dependencies that no production dependency needs (npm's production tree).
		const production = new Set(execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" }).split("\n").map(p => path.relative(ROOT, p)));
		const devOnly = Object.keys(require(path.join(ROOT, "package.json")).devDependencies).filter(name => !production.has(`node_modules/${name}`));
		expect(devOnly).toEqual(expect.arrayContaining(["jest", "typescript", "ts-jest"]));
		expect((await probe(devOnly.map(name => `[ ! -e node_modules/${name} ] || echo ${name}`).join("; "))).trim()).toBe("");
		expect((await probe("find /app -path /app/node_modules -prune -o \\( -name '*.test.*' -o -name test -o -name '*.ts' \\) -print")).trim()).toBe("");
		expect((await probe("node --version")).trim()).toBe(`v${require(path.join(ROOT, "package.json")).devDependencies.node}`);
	}, 900_000);
});

describe("the compose stack", () => {
	it("comes up healthy with read-only root filesystems, and serves a purchase through the published port", async () => {
		await step("docker-compose up -d", () => compose("up", "-d", "--no-build"));
		await step("gateway ready", () => waitFor(async () => (await http("GET", "/health").catch(() => ({ status: 0 }))).status === 200, "the gateway's /api/health to answer 200", 120_000));
		await step("every shop container healthy", async () => {
			const ids = (await Promise.all(["api", "customers", "products", "carts", "orders", "payments", "notifications"].map(containers))).flat();
			expect(ids.length).toBe(7);
			for (const id of ids) expect(await inspect(id, "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");
			await waitFor(async () => (await Promise.all(ids.map(id => inspect(id, "{{.State.Health.Status}}")))).every(s => s === "healthy"), "every shop container to be healthy", 120_000);
		});
		await step("purchase: register → cart → checkout paid → cancel", async () => {
			const { token } = (await http("POST", "/auth/register", { body: { email: `ann-${project}@example.com`, password: "correct-horse-1", name: "Ann" } })).body;
			const product = (await http("GET", "/products?pageSize=1")).body.rows[0];
			expect((await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } })).status).toBe(200);
			const order = await http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": `ct-${project}` } });
			expect([order.status, order.body.status, order.body.payment?.status]).toEqual([201, "paid", "captured"]);
			const cancelled = await http("POST", `/orders/${order.body.id}/cancel`, { token });
			expect([cancelled.status, cancelled.body.status, cancelled.body.payment?.status]).toEqual([200, "cancelled", "refunded"]);
		});
		await step("the storefront at / and its hashed assets, built into the image", async () => {
			const page = await fetch(`http://127.0.0.1:${ports.api}/`);
			expect([page.status, page.headers.get("content-security-policy")]).toEqual([200, expect.stringMatching(/^default-src 'self'/)]);
			const html = await page.text();
			expect(html).toContain("<title>moleculer-shop</title>");
			const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
			expect(script).toBeDefined();
			const asset = await fetch(`http://127.0.0.1:${ports.api}${script}`);
			expect([asset.status, asset.headers.get("cache-control")]).toEqual([200, "public, max-age=31536000, immutable"]);
		});
	}, 600_000);

	it("scales products to 3 and keeps serving catalog reads while one products container is SIGKILLed", async () => {
		await step("docker-compose up -d --scale products=3", () => compose("up", "-d", "--no-build", "--scale", "products=3"));
		const products = await containers("products");
		expect(products.length).toBe(3);
		await step("three products nodes answer", () =>
			waitFor(async () => (await Promise.all(products.map(id => inspect(id, "{{.State.Health.Status}}")))).every(s => s === "healthy"), "3 healthy products containers", 120_000)
		);
		const failed: string[] = [];
		let reads = 0;
		await step("catalog reads across a SIGKILL of one products container", async () => {
			let killing = true;
			// Searches with a new term each time: neither the gateway's response cache nor Redis answers them.
			const reader = (async () => {
				while (killing) {
					const res = await http("GET", `/products?pageSize=5&q=${crypto.randomBytes(3).toString("hex")}`, { timeoutMs: 15_000 }).catch(err => ({ status: 0, body: String(err) }));
					reads++;
					if (res.status !== 200) failed.push(`${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
				}
			})();
			await waitFor(async () => reads >= 50, "50 reads before the kill");
			await docker("kill", "--signal", "KILL", products[0]);
			const after = reads;
			await waitFor(async () => reads >= after + 200, "200 reads after the kill", 60_000);
			killing = false;
			await reader;
		});
		say(`catalog reads: ${reads}, failed: ${failed.length}${failed.length ? ` (${failed.slice(0, 3).join("; ")})` : ""}`);
		expect(failed).toEqual([]);
	}, 600_000);

	it("restarts the orders container during a checkout burst without a stuck or lost order or a double charge", async () => {
		// The product with the most units left: 12 checkouts of one unit each must all be able to pay.
		const rows: { id: string; stock: number }[] = (await http("GET", "/products?pageSize=100")).body.rows;
		const product = rows.reduce((best, row) => (row.stock > best.stock ? row : best));
		expect(product.stock).toBeGreaterThanOrEqual(12);
		const shoppers = await step("12 customers with a cart", () =>
			Promise.all(
				Array.from({ length: 12 }, async (_, i) => {
					const { token } = (await http("POST", "/auth/register", { body: { email: `burst-${i}-${project}@example.com`, password: "correct-horse-1", name: `Burst ${i}` } })).body;
					await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
					return { token, key: `burst-${i}-${project}` };
				})
			)
		);
		const answers = await step("checkouts while `docker restart` of orders", async () => {
			const [orders] = await containers("orders");
			const burst = Promise.all(
				shoppers.map(async ({ token, key }, i) => {
					await new Promise(resolve => setTimeout(resolve, i * 150));
					return http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": key }, timeoutMs: 60_000 }).then(r => r.status, () => 0);
				})
			);
			await docker("restart", "--time", "30", orders);
			return burst;
		});
		say(`checkout answers during the restart: ${JSON.stringify(answers)}`);
		// Paid; 503 SERVICE_UNAVAILABLE while no orders node runs; or 504 for a request sent to the one orders node
		// in the instant it unsubscribed (the transporter delivers it to no one, and the gateway's 10 s timeout
		// answers). Both are safe to retry with the same Idempotency-Key, which the next step does: nothing else.
		expect(answers.filter(status => status !== 201 && status !== 503 && status !== 504)).toEqual([]);
		await step("gateway ready again", () => waitFor(async () => (await http("GET", "/health").catch(() => ({ status: 0 }))).status === 200, "/api/health 200 after the restart", 120_000));
		// A client retries what failed with the same Idempotency-Key; then every cart has exactly one paid order.
		const retried = await Promise.all(shoppers.map(({ token, key }) => http("POST", "/orders", { token, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": key }, timeoutMs: 60_000 })));
		expect(retried.map(r => r.status).filter(s => s !== 201 && s !== 200)).toEqual([]);

		const mongo = await MongoClient.connect(`mongodb://127.0.0.1:${ports.mongo}/shop`, { useUnifiedTopology: true });
		try {
			const db = mongo.db("shop");
			const ids = retried.map(r => r.body.id);
			await step("no order stuck (recovery settles any pending one)", () =>
				waitFor(async () => (await db.collection("orders").countDocuments({ _id: { $in: ids }, status: "pending" })) === 0, "no pending order of the burst", 150_000)
			);
			const orders = await db.collection("orders").find({ _id: { $in: ids } }).toArray();
			expect(orders.map((o: { status: string }) => o.status)).toEqual(ids.map(() => "paid"));
			const payments = await db.collection("payments").find({ orderId: { $in: ids.map(String) }, status: "captured" }).toArray();
			expect(payments.length).toBe(ids.length);
			expect(new Set(payments.map((p: { orderId: string }) => p.orderId)).size).toBe(ids.length);
		} finally {
			await mongo.close();
		}
	}, 600_000);

	it("leaves no container, network or volume after docker-compose down -v", async () => {
		await step("docker-compose down -v", composeDown);
		const label = `label=com.docker.compose.project=${project}`;
		expect((await docker("ps", "-aq", "--filter", label)).trim()).toBe("");
		expect((await docker("network", "ls", "-q", "--filter", label)).trim()).toBe("");
		expect((await docker("volume", "ls", "-q", "--filter", label)).trim()).toBe("");
		say(`docker client ${DOCKER}`);
	}, 180_000);
});
