/**
 * Dashboards and alerts, proved with a real Prometheus (Debian's `prometheus` package, with promtool): the
 * alert rules and both scrape configs pass promtool; Prometheus scrapes `npm run cluster`'s nodes (one job per
 * node type, as observability/prometheus.yml names them) while a short load runs purchases, declines,
 * cancellations and a stock refusal; then every panel query of the Grafana dashboard and the query of every
 * alert rule (its expression without the threshold) returns data.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import type { Cluster } from "../../scripts/cluster";
import { freePort } from "../../scripts/net";
import { client } from "../http/client";
import { deleteStreams, startTestCluster, waitFor } from "./support";

const ROOT = path.resolve(__dirname, "../..");
const OBS = path.join(ROOT, "k8s/base/observability");
const PROMETHEUS = "/usr/bin/prometheus";
const PROMTOOL = "/usr/bin/promtool";

/** The queries of every dashboard panel. */
function panelQueries(): { title: string; expr: string }[] {
	const dashboard = JSON.parse(fs.readFileSync(path.join(OBS, "grafana/shop-dashboard.json"), "utf8"));
	return dashboard.panels.flatMap((panel: { title: string; targets: { expr: string }[] }) => panel.targets.map(target => ({ title: panel.title, expr: target.expr })));
}

/** Every alert rule's query: its expression without the trailing comparison with a threshold. */
function alertQueries(): { title: string; expr: string }[] {
	const rules = YAML.parse(fs.readFileSync(path.join(OBS, "alerts.yml"), "utf8")).groups.flatMap((group: { rules: { alert: string; expr: string }[] }) => group.rules);
	return rules.map((rule: { alert: string; expr: string }) => ({ title: rule.alert, expr: rule.expr.replace(/\s*[<>]=?\s*[0-9.e-]+\s*$/, "") }));
}

describe("dashboards and alerts on a real Prometheus", () => {
	let cluster: Cluster;
	let namespace: string;
	let prometheus: ChildProcess | null = null;
	let promUrl: string;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-prom-"));

	beforeAll(async () => {
		if (!fs.existsSync(PROMETHEUS) || !fs.existsSync(PROMTOOL)) throw new Error("Prometheus is not installed: apt-get install prometheus (Debian's package, with promtool).");
		({ cluster, namespace } = await startTestCluster("observability", { metricsPortBase: "free" }, { ADMIN_EMAIL: "ops@example.com", ADMIN_PASSWORD: "ops-password-123" }));
		// The compose scrape config, with static targets instead of Docker's DNS.
		const config = YAML.parse(fs.readFileSync(path.join(OBS, "prometheus.yml"), "utf8"));
		config.global = { scrape_interval: "1s", evaluation_interval: "1s" };
		config.rule_files = [path.join(OBS, "alerts.yml")];
		config.scrape_configs = config.scrape_configs.map((job: { job_name: string }) => ({
			job_name: job.job_name,
			static_configs: [{ targets: cluster.nodes.filter(node => node.type === job.job_name).map(node => `127.0.0.1:${node.metricsPort}`) }]
		}));
		fs.writeFileSync(path.join(dir, "prometheus.yml"), YAML.stringify(config));
		const port = await freePort();
		promUrl = `http://127.0.0.1:${port}`;
		prometheus = spawn(PROMETHEUS, [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
		await waitFor(async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok, "Prometheus to be ready", 30_000);
	}, 120_000);

	afterAll(async () => {
		prometheus?.kill("SIGTERM");
		await cluster?.stop();
		await deleteStreams(namespace);
		fs.rmSync(dir, { recursive: true, force: true });
	}, 60_000);

	it("passes promtool: the alert rules, the compose scrape config and the test's", () => {
		expect(execFileSync(PROMTOOL, ["check", "rules", path.join(OBS, "alerts.yml")], { encoding: "utf8" })).toMatch(/SUCCESS: 6 rules found/);
		expect(execFileSync(PROMTOOL, ["check", "config", "--syntax-only", path.join(OBS, "prometheus.yml")], { encoding: "utf8" })).toMatch(/SUCCESS/);
		expect(execFileSync(PROMTOOL, ["check", "config", path.join(dir, "prometheus.yml")], { encoding: "utf8" })).toMatch(/SUCCESS/);
	});

	it("answers every dashboard panel and every alert query with data after a short load", async () => {
		const http = client(cluster.url);
		const { token: admin } = (await http("POST", "/auth/login", { body: { email: "ops@example.com", password: "ops-password-123" } })).body;
		// One unit: the second checkout of it is refused at the stock reservation.
		const scarce = (await http("POST", "/products", { token: admin, body: { sku: "OBS-1", name: "Scarce", category: "Test", price: 500, stock: 1 } })).body;
		const plenty = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
		const shopper = async (i: number) => (await http("POST", "/auth/register", { body: { email: `obs-${i}@example.com`, password: "correct-horse-1", name: `O${i}` } })).body.token as string;
		const [a, b] = [await shopper(0), await shopper(1)];
		for (const token of [a, b]) await http("POST", "/cart/items", { token, body: { productId: scarce.id, quantity: 1 } });
		expect((await http("POST", "/orders", { token: a, body: { paymentToken: "tok_visa" } })).status).toBe(201);
		expect((await http("POST", "/orders", { token: b, body: { paymentToken: "tok_visa" } })).status).toBe(409);
		for (let i = 2; i < 8; i++) {
			const token = await shopper(i);
			await http("POST", "/cart/items", { token, body: { productId: plenty.id, quantity: 1 } });
			const order = await http("POST", "/orders", { token, body: { paymentToken: i % 3 === 0 ? "tok_chargeDeclined" : "tok_visa" } });
			if (order.status === 201 && i % 2 === 0) await http("POST", `/orders/${order.body.id}/cancel`, { token });
			await http("GET", `/products/${plenty.id}`);
			await http("GET", "/nowhere");
		}
		const query = async (expr: string) => {
			const res = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; data: { result: unknown[] } };
			return res.status === "success" && res.data.result.length > 0;
		};
		const empty: string[] = [];
		for (const { title, expr } of [...panelQueries(), ...alertQueries()]) {
			// rate() needs two scrapes after the load; each query gets a few seconds to see them.
			if (!(await waitFor(() => query(expr), title, 10_000).catch(() => false))) empty.push(`${title}: ${expr}`);
		}
		expect(empty).toEqual([]);
	}, 180_000);
});
