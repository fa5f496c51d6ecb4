/** `npm run cluster`'s options (scripts/cluster.ts parseArgs). */
import { parseArgs, startCluster } from "../../scripts/cluster";

describe("npm run cluster's options", () => {
	it("reads counts, the port and the store", () => {
		expect(parseArgs(["--products=3", "--port=4000", "--store=nedb"])).toEqual({ counts: { products: 3 }, port: 4000, store: "nedb" });
		expect(parseArgs([])).toEqual({ counts: {}, port: undefined, store: undefined });
	});

	it("refuses what it does not know, naming the options", () => {
		expect(() => parseArgs(["--store=redis"])).toThrow("--store=<mongo|nedb>");
		expect(() => parseArgs(["--products=0"])).toThrow("Unknown option --products=0");
	});

	it("refuses two nodes of a store type when each node keeps its own store", async () => {
		await expect(startCluster({ store: "nedb", counts: { carts: 2 }, log: () => undefined })).rejects.toThrow("carts must run once");
	});
});
