import { validateCatalog } from "../../domain/catalog";
import { DEMO_CATALOG } from "../../lib/demo-catalog";

const good = { sku: "A-1", name: "Boot", description: "", category: "Footwear", brand: "X", price: 1999, currency: "USD", stock: 3 };

describe("catalog validation", () => {
	it("accepts the demo catalog: at least 12 products in at least 3 categories", () => {
		expect(validateCatalog(structuredClone(DEMO_CATALOG))).toEqual([]);
		expect(DEMO_CATALOG.length).toBeGreaterThanOrEqual(12);
		expect(new Set(DEMO_CATALOG.map(p => p.category)).size).toBeGreaterThanOrEqual(3);
	});

	it("names the index and field of each bad entry", () => {
		const problems = validateCatalog([good, { ...good, sku: "B", price: 19.99 }, { ...good, sku: "C", stock: -1, extra: 1 }]);
		expect(problems.map(p => [p.index, p.field])).toEqual([
			[1, "price"],
			[2, "stock"],
			[2, "extra"]
		]);
	});

	it("finds duplicate SKUs inside one file", () => {
		expect(validateCatalog([good, good])).toEqual([{ index: 1, field: "sku", message: expect.stringContaining("index 0") }]);
	});

	it("rejects a file that is not an array, and non-integer or string prices", () => {
		expect(validateCatalog({ products: [] })[0].index).toBe(-1);
		expect(validateCatalog([{ ...good, price: "1999" }])[0].field).toBe("price");
		expect(validateCatalog([{ ...good, currency: "usd" }])[0].field).toBe("currency");
	});
});
