/**
 * `npm run bench:history`: what one more order costs as a product's history grows. Runs the shop's
 * services in one process on the embedded default (NeDB files in a temporary DATA_DIR), checks out orders
 * of one product (one unit each, 20 customers taking turns, every 4th payment declined), and at 0, 500 and
 * 2,000 orders measures a window of 50 checkouts: store bytes written per order (growth of every `.db`
 * file), checkout latency (p50, p99, in ms) and the size of the product's and a cart's document. Prints a
 * Markdown table; with `--write` it also puts the table into BENCHMARKS.md. Both figures should stay flat.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker, type BrokerOptions } from "moleculer";
import { loadConfig } from "../../lib/config";
import { createBrokerOptions } from "../../lib/broker-options";
import { SERVICES } from "../harness";
import { replaceBetweenMarkers } from "./markdown";

const CHECKPOINTS = [0, 500, 2000];
const WINDOW = 50;
const CUSTOMERS = 20;

interface Row {
	orders: number;
	bytesPerOrder: number;
	p50: number;
	p99: number;
	productBytes: number;
	cartBytes: number;
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function storeBytes(dir: string): number {
	return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Runs the benchmark and answers its rows. `log` gets progress lines. */
export async function run(log: (line: string) => void = () => undefined): Promise<Row[]> {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-bench-history-"));
	const config = loadConfig({ ...process.env, DATA_DIR: dataDir, MONGO_URI: "", TRANSPORTER: "", CACHER: "Memory", HEALTH_PORT: "0", METRICS_PORT: "0", LOGLEVEL: "warn" });
	const broker = new ServiceBroker({ ...createBrokerOptions(config, "bench-history"), logger: false } as BrokerOptions);
	for (const name of ["products", "carts", "payments", "orders"] as const) {
		const schema = SERVICES[name] as any;
		broker.createService(name === "products" ? { ...schema, settings: { ...schema.settings, seedDemoCatalog: false } } : schema);
	}
	await broker.start();
	try {
		const admin = { meta: { customer: { id: "bench-admin", email: "admin@bench.test", role: "admin" } } };
		const product: { id: string } = await broker.call("products.create", { sku: "BENCH-1", name: "Bench lantern", category: "Gear", price: 2500, stock: 1_000_000 }, admin);
		const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({ meta: { customer: { id: `bench-customer-${i}`, email: `c${i}@bench.test`, role: "customer" } } }));
		let done = 0;
		const checkout = async (): Promise<number> => {
			const who = customers[done % CUSTOMERS];
			const token = done % 4 === 3 ? "tok_chargeDeclined" : "tok_visa";
			await broker.call("carts.addItem", { productId: product.id, quantity: 1 }, who);
			const started = process.hrtime.bigint();
			await broker.call("orders.checkout", { paymentToken: token }, who).catch((err: { type?: string }) => {
				if (err.type !== "PAYMENT_DECLINED") throw err;
			});
			const ms = Number(process.hrtime.bigint() - started) / 1e6;
			if (token !== "tok_visa") await broker.call("carts.clear", {}, who);
			done += 1;
			return ms;
		};
		const doc = async (service: string, query: object) => JSON.stringify(await (broker.getLocalService(service) as any).adapter.findOne(query)).length;
		const rows: Row[] = [];
		for (const checkpoint of CHECKPOINTS) {
			while (done < checkpoint) {
				await checkout();
				if (done % 250 === 0) log(`  ${done} orders…`);
			}
			const before = storeBytes(dataDir);
			const latencies: number[] = [];
			for (let i = 0; i < WINDOW; i++) latencies.push(await checkout());
			latencies.sort((a, b) => a - b);
			rows.push({
				orders: checkpoint,
				bytesPerOrder: Math.round((storeBytes(dataDir) - before) / WINDOW),
				p50: percentile(latencies, 50),
				p99: percentile(latencies, 99),
				productBytes: await doc("products", { _id: product.id }),
				cartBytes: await doc("carts", { customerId: customers[0].meta.customer.id })
			});
			log(`  window at ${checkpoint} orders measured`);
		}
		return rows;
	} finally {
		await broker.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}

/** The Markdown table of `rows`, with the setup it ran on. */
export function table(rows: Row[]): string {
	const head = "| orders of the product before the window | store bytes written per order | checkout p50 (ms) | checkout p99 (ms) | product document (bytes) | cart document (bytes) |";
	const lines = rows.map(r => `| ${r.orders.toLocaleString("en")} | ${r.bytesPerOrder.toLocaleString("en")} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.productBytes} | ${r.cartBytes} |`);
	return [head, "|---|---|---|---|---|---|", ...lines].join("\n");
}

async function main(): Promise<number> {
	console.log(`Checking out orders of one product on the embedded default (NeDB files), windows of ${WINDOW} at ${CHECKPOINTS.join(" / ")} orders:`);
	const rows = await run(line => console.log(line));
	const setup = `Run on ${new Date().toISOString()} (${os.cpus().length} cores, Node ${process.version}, one process, NeDB files in a temporary DATA_DIR).`;
	const report = `${setup}\n\n${table(rows)}\n`;
	console.log(`\n${report}`);
	const [, mid, last] = rows;
	const drift = (a: number, b: number) => Math.abs(b - a) / Math.max(a, 1);
	console.log(`From ${mid.orders} to ${last.orders} orders: bytes per order ${(drift(mid.bytesPerOrder, last.bytesPerOrder) * 100).toFixed(0)} % apart, p50 latency ${(drift(mid.p50, last.p50) * 100).toFixed(0)} % apart.`);
	if (process.argv.includes("--write")) {
		const file = path.resolve(__dirname, "../../..", "BENCHMARKS.md");
		replaceBetweenMarkers(file, "history", report);
		console.log(`Wrote the table into ${file}.`);
	}
	return 0;
}

if (require.main === module) {
	main().then(code => process.exit(code), err => {
		console.error(err);
		process.exit(1);
	});
}
