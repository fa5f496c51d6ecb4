import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import { startBroker, productInput } from "../helpers";
import { BATCH_BYTES, BATCH_SIZE, ImportError, batches, importCatalog, main } from "../../scripts/import";
import type { ProductPage } from "../../services/products.service";

describe("catalog import through the gateway", () => {
	let broker: ServiceBroker;
	let url: string;
	let dir: string;
	const secret = process.env.JWT_SECRET!;
	const lines: string[] = [];
	const log = (line: string) => lines.push(line);
	const total = async () => (await broker.call<ProductPage, any>("products.list", { pageSize: 1 })).total;
	const writeFixture = (name: string, content: unknown) => {
		const file = path.join(dir, name);
		fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
		return file;
	};

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-import-"));
		// The gateway opens its port once every service its routes call has started.
		broker = await startBroker(["api", "products", "customers", "carts", "orders", "payments"]);
		const { port } = (broker.getLocalService("api") as any).server.address() as AddressInfo;
		url = `http://127.0.0.1:${port}`;
	});
	afterAll(async () => {
		await broker.stop();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("imports a catalog in batches, and a second import changes nothing", async () => {
		const entries = Array.from({ length: 120 }, (_, i) => productInput({ sku: `FIX-${i}`, description: `Fixture ${i}`, brand: "Fixture", currency: "USD" }));
		const file = writeFixture("catalog.json", entries);
		expect(await importCatalog(file, { url, secret, log })).toEqual({ created: 120, updated: 0, unchanged: 0 });
		expect(lines.filter(l => /^\s+\d+\/120:/.test(l))).toHaveLength(3);
		expect(await total()).toBe(120);
		expect(await importCatalog(file, { url, secret, log })).toEqual({ created: 0, updated: 0, unchanged: 120 });
		expect(await total()).toBe(120);
	});

	it("keeps every request under the gateway's body limit, even with long descriptions", async () => {
		const entries = Array.from({ length: 60 }, (_, i) => productInput({ sku: `LONG-${i}`, description: "d".repeat(5000) }));
		const parts = [...batches(entries)];
		expect(parts.flatMap(p => p.batch)).toEqual(entries);
		for (const { batch } of parts) {
			expect(batch.length).toBeLessThanOrEqual(BATCH_SIZE);
			expect(Buffer.byteLength(JSON.stringify({ products: batch }))).toBeLessThan(BATCH_BYTES + 100);
		}
		expect(await importCatalog(writeFixture("long.json", entries), { url, secret, log })).toEqual({ created: 60, updated: 0, unchanged: 0 });
	});

	it("imports nothing from a file with a bad entry and names its index and field", async () => {
		const before = await total();
		const file = writeFixture("bad.json", [productInput({ sku: "OK-1" }), productInput({ sku: "BAD-1", price: 12.5 }), { sku: "BAD-2" }]);
		const err = await importCatalog(file, { url, secret, log }).catch(e => e);
		expect(err).toBeInstanceOf(ImportError);
		expect(err.message).toMatch(/entry 1, field price/);
		expect(err.message).toMatch(/entry 2, field name/);
		expect(await total()).toBe(before);
	});

	it("fails clearly on unreadable JSON, an unreachable shop, and a wrong secret", async () => {
		await expect(importCatalog(writeFixture("broken.json", "[{"), { url, secret, log })).rejects.toThrow(/Cannot read/);
		const good = writeFixture("one.json", [productInput()]);
		await expect(importCatalog(good, { url: "http://127.0.0.1:9", secret, log })).rejects.toThrow(/Cannot reach the shop/);
		await expect(importCatalog(good, { url, secret: "not-the-shop-secret", log })).rejects.toThrow(/refused the import.s token \(401 INVALID_TOKEN\): run the import with the JWT_SECRET the shop was started with/);
	});

	it("runs as a command: exit code 0 on success, 1 on a bad file or bad usage", async () => {
		const spy = jest.spyOn(console, "log").mockImplementation(() => undefined);
		const err = jest.spyOn(console, "error").mockImplementation(() => undefined);
		try {
			process.env.SHOP_URL = url;
			expect(await main([writeFixture("cli.json", [productInput({ sku: "CLI-1" })])])).toBe(0);
			expect(await main([writeFixture("cli-bad.json", [{ sku: "" }])])).toBe(1);
			expect(await main([])).toBe(1);
			const savedSecret = process.env.JWT_SECRET;
			process.env.NODE_ENV = "production";
			delete process.env.JWT_SECRET;
			expect(await main([writeFixture("prod.json", [productInput()])])).toBe(1);
			expect(err).toHaveBeenCalledWith(expect.stringContaining("JWT_SECRET"));
			process.env.NODE_ENV = "test";
			process.env.JWT_SECRET = savedSecret;
			expect(err).toHaveBeenCalledWith(expect.stringContaining("Usage"));
		} finally {
			delete process.env.SHOP_URL;
			spy.mockRestore();
			err.mockRestore();
		}
	});
});
