/**
 * The health endpoints on HEALTH_PORT, for real: /live answers, /ready checks the transporter, the
 * cacher and the node's store, and turns 503 while NATS is away, then 200 again once it is back.
 */
import { HealthServer } from "../../lib/health";
import { startNats, startNode, uniqueNamespace, waitFor } from "./support";

describe("health endpoints", () => {
	it("reports live, ready, not ready while NATS is down, and ready again", async () => {
		let nats = await startNats();
		// The launcher opens the health server before the broker exists; here, the same order by hand.
		const health = new HealthServer();
		const port = await health.listen(0, "127.0.0.1");
		const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) }).then(async res => ({ status: res.status, body: (await res.json()) as any }));
		expect(await get("/ready")).toMatchObject({ status: 503, body: { status: "starting" } });
		const node = await startNode("health-node", ["products"], { namespace: uniqueNamespace("health"), transporter: nats.url });
		health.attach(node);
		health.phase = "running";
		try {
			expect(await get("/live")).toMatchObject({ status: 200, body: { status: "live", nodeID: "health-node" } });
			const ready = await get("/ready");
			expect(ready).toMatchObject({ status: 200, body: { status: "ready" } });
			expect(Object.keys(ready.body.checks).sort()).toEqual(["broker", "cacher", "store:products", "transporter"]);

			await nats.kill();
			const down = await waitFor(async () => {
				const r = await get("/ready");
				return r.status === 503 ? r : null;
			}, "/ready to turn 503");
			expect(down!.body.checks.transporter).not.toBe("ok");
			expect((await get("/live")).status).toBe(200);

			nats = await startNats(nats.port);
			await waitFor(async () => (await get("/ready")).status === 200, "/ready to turn 200 again", 30_000);
			expect((await get("/nope")).status).toBe(404);
			health.phase = "stopping";
			expect(await get("/ready")).toMatchObject({ status: 503, body: { status: "stopping" } });
		} finally {
			await node.stop();
			await health.close();
			await nats.kill();
		}
	}, 60_000);
});
