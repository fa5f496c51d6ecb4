/**
 * The NeDB store's index upkeep on update (`swapUnchangedIndexKeys`, lib/store.ts): a document found through
 * any index is the updated one, whether its key stayed or changed, and an update refused by a unique index
 * leaves every index as it was. Queries on an indexed field go through that index (NeDB's candidates).
 */
import { ServiceBroker, type Logger } from "moleculer";
import { openStore, isDuplicateKeyError, type StoreAdapter } from "../../lib/store";
import type { ShopConfig } from "../../lib/config";

const broker = new ServiceBroker({ logger: false });
const config = { mongoUri: null, dataDir: ":memory:" } as ShopConfig;
const logger = broker.getLogger("test") as Logger;

async function store(): Promise<StoreAdapter> {
	const adapter = await openStore(config, broker, logger, "items", [{ fields: { sku: 1 }, unique: true }, { fields: { category: 1 } }, { fields: { code: 1 }, unique: true }]);
	await adapter.insert({ _id: "a", sku: "A", category: "tents", code: 1, stock: 10 });
	await adapter.insert({ _id: "b", sku: "B", category: "tents", code: 2, stock: 20 });
	await adapter.insert({ _id: "c", sku: "C", category: "boots", code: 3, stock: 30 });
	return adapter;
}

const stocks = (docs: Record<string, any>[]) => Object.fromEntries(docs.map(doc => [doc._id, doc.stock]));

describe("NeDB index upkeep on update", () => {
	it("finds the updated document through every index when no indexed field changed", async () => {
		const items = await store();
		expect(await items.updateMany({ _id: "a" }, { $inc: { stock: -3 } })).toBe(1);
		expect((await items.findOne({ sku: "A" }))?.stock).toBe(7);
		expect((await items.findOne({ code: 1 }))?.stock).toBe(7);
		expect(stocks(await items.find({ query: { category: "tents" } }))).toEqual({ a: 7, b: 20 });
		expect((await items.findById("a"))?.stock).toBe(7);
	});

	it("updates several documents at once", async () => {
		const items = await store();
		expect(await items.updateMany({ category: "tents" }, { $inc: { stock: 1 } })).toBe(2);
		expect(stocks(await items.findByIds(["a", "b", "c"]))).toEqual({ a: 11, b: 21, c: 30 });
		expect((await items.findOne({ sku: "B" }))?.stock).toBe(21);
	});

	it("moves a document whose key changed", async () => {
		const items = await store();
		await items.updateMany({ _id: "a" }, { $set: { sku: "A2", category: "boots" }, $inc: { stock: 1 } });
		expect(await items.findOne({ sku: "A" })).toBeNull();
		expect((await items.findOne({ sku: "A2" }))?.stock).toBe(11);
		expect(stocks(await items.find({ query: { category: "boots" } }))).toEqual({ a: 11, c: 30 });
		expect(stocks(await items.find({ query: { category: "tents" } }))).toEqual({ b: 20 });
		expect((await items.findOne({ code: 1 }))?.stock).toBe(11);
	});

	it("moves every document of an update in which only some keys changed", async () => {
		const items = await store();
		expect(await items.updateMany({ _id: { $in: ["a", "c"] } }, { $set: { category: "boots" }, $inc: { stock: 2 } })).toBe(2);
		expect(stocks(await items.find({ query: { category: "boots" } }))).toEqual({ a: 12, c: 32 });
		expect(stocks(await items.find({ query: { category: "tents" } }))).toEqual({ b: 20 });
	});

	it("keeps array-keyed and dotted-field indexes right (the array goes the library's way)", async () => {
		const tagged = await openStore(config, broker, logger, "tagged", [{ fields: { tags: 1 } }, { fields: { "dims.w": 1 } }]);
		await tagged.insert({ _id: "t", tags: ["red", "blue"], dims: { w: 3 }, stock: 1 });
		await tagged.updateMany({ _id: "t" }, { $inc: { stock: 1 } });
		expect((await tagged.findOne({ tags: "blue" }))?.stock).toBe(2);
		expect((await tagged.findOne({ "dims.w": 3 }))?.stock).toBe(2);
		await tagged.updateMany({ _id: "t" }, { $set: { tags: ["green"], "dims.w": 4 }, $inc: { stock: 1 } });
		expect(await tagged.findOne({ tags: "blue" })).toBeNull();
		expect(await tagged.findOne({ "dims.w": 3 })).toBeNull();
		expect((await tagged.findOne({ tags: "green" }))?.stock).toBe(3);
		expect((await tagged.findOne({ "dims.w": 4 }))?.stock).toBe(3);
	});

	it("leaves every index as it was when a unique index refuses the update", async () => {
		const items = await store();
		// category (moved first) takes the change, then code refuses it: category must be reverted, and no
		// index may hold the refused version.
		const refused = await items.updateMany({ _id: "b" }, { $set: { category: "boots", code: 1 }, $inc: { stock: 5 } }).catch(err => err);
		expect(isDuplicateKeyError(refused)).toBe(true);
		expect(stocks(await items.find({ query: { category: "tents" } }))).toEqual({ a: 10, b: 20 });
		expect(stocks(await items.find({ query: { category: "boots" } }))).toEqual({ c: 30 });
		expect((await items.findOne({ sku: "B" }))?.stock).toBe(20);
		expect((await items.findOne({ code: 2 }))?.stock).toBe(20);
		expect((await items.findById("b"))?.stock).toBe(20);
	});
});
