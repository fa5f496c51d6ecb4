/**
 * The NeDB store's data-file lines (`serializeDocument`, lib/store.ts): the same string as NeDB's own
 * `serialize` for generated plain documents with valid keys (what NeDB persists after copying and checking
 * them), with or without Dates; NeDB's function runs only for a document that holds a Date; and a store
 * written with them reloads the same documents, Dates included.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { ServiceBroker, type Logger } from "moleculer";
import { openStore, serializeDocument } from "../../lib/store";
import type { ShopConfig } from "../../lib/config";

const { serialize } = require("@seald-io/nedb/lib/model") as { serialize(doc: object): string };

/** Field names NeDB accepts (no `$` first, no dots). */
const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/);
const leaf = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: true }));
const { value: document } = fc.letrec(tie => ({
	value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(key, tie("value"), { maxKeys: 5 }))
}));

describe("serializeDocument", () => {
	it("writes every document exactly as NeDB's serialize does", () => {
		fc.assert(
			fc.property(fc.dictionary(key, document, { maxKeys: 6 }), doc => {
				expect(serializeDocument(doc, serialize)).toBe(serialize(doc));
			}),
			{ numRuns: 2000 }
		);
	});

	it("leaves NeDB's serialize to documents that hold a Date", () => {
		const nedb = jest.fn(serialize);
		const plain = { _id: "p", moves: { o1: { to: "held", at: "2026-12-07T15:00:00.000Z" } }, lines: [{ sku: "X" }, null] };
		expect(serializeDocument(plain, nedb)).toBe(serialize(plain));
		expect(nedb).not.toHaveBeenCalled();
		const dated = { _id: "d", lines: [{ at: new Date(0) }] };
		expect(serializeDocument(dated, nedb)).toBe(serialize(dated));
		expect(nedb).toHaveBeenCalledTimes(1);
	});

	it("writes a Date at any depth as NeDB's { $$date }", () => {
		const at = new Date("2026-12-07T15:00:00.000Z");
		const line = serializeDocument({ _id: "a", lines: [{ sku: "X", shipped: { at } }] }, serialize);
		expect(JSON.parse(line).lines[0].shipped.at).toEqual({ $$date: at.getTime() });
	});

	it("reloads what the store wrote: plain fields, Dates and updates", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-serialize-"));
		const broker = new ServiceBroker({ logger: false });
		const logger = broker.getLogger("test") as Logger;
		const config = { mongoUri: null, dataDir } as ShopConfig;
		try {
			const at = new Date("2026-12-07T15:00:00.000Z");
			const first = await openStore(config, broker, logger, "things", []);
			await first.insert({ _id: "a", name: "Tent", price: 1500, tags: ["x", "y"], at });
			await first.insert({ _id: "b", name: "Stove", price: 900 });
			expect(await first.updateMany({ _id: "b" }, { $set: { moves: { o1: { to: "held" } } } })).toBe(1);
			await first.disconnect();

			const again = await openStore(config, broker, logger, "things", []);
			const [a, b] = await again.findByIds(["a", "b"]);
			expect(a).toEqual({ _id: "a", name: "Tent", price: 1500, tags: ["x", "y"], at });
			expect(a.at).toBeInstanceOf(Date);
			expect(b).toEqual({ _id: "b", name: "Stove", price: 900, moves: { o1: { to: "held" } } });
			await again.disconnect();
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
