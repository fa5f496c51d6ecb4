/**
 * The embedded store's catalog index against the plain definition of a listing: filter (exact category;
 * literal, case-insensitive text over name, brand and description), sort by the field then the id, page.
 */
import fc from "fast-check";
import { CatalogIndex, type CatalogEntry } from "../../domain/catalog-index";
import { PRODUCT_SORTS, type ProductSort } from "../../domain/product-query";

/** The listing by definition: every entry checked, all sorted, one slice. */
function naive(entries: CatalogEntry[], filter: { category?: string; q?: string }, sort: ProductSort, page: number, pageSize: number) {
	const needle = filter.q?.toLowerCase();
	const matching = entries.filter(e => (!filter.category || e.category === filter.category) && (!needle || [e.name, e.brand, e.description].some(text => text.toLowerCase().includes(needle))));
	const field = sort.replace("-", "") as "price" | "name" | "createdAt";
	const sign = sort.startsWith("-") ? -1 : 1;
	matching.sort((a, b) => (a[field] === b[field] ? (a._id < b._id ? -1 : 1) : a[field] < b[field] ? -sign : sign));
	return { ids: matching.slice((page - 1) * pageSize, page * pageSize).map(e => e._id), total: matching.length };
}

const entryArb = fc.record({
	_id: fc.stringMatching(/^[a-f0-9]{6}$/),
	name: fc.constantFrom("Alpine Tent", "alpine stove", "Trail Boots", "Rope (50 m)", "Café Kettle"),
	brand: fc.constantFrom("", "Ridge", "Peak.Co"),
	description: fc.constantFrom("", "Light and warm", "For the trail (and more)"),
	category: fc.constantFrom("Camping", "Hiking"),
	price: fc.integer({ min: 0, max: 50 }),
	createdAt: fc.constantFrom("2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z")
});

describe("catalog index", () => {
	it("lists exactly what filtering and sorting every entry would, after any inserts, updates and removals", () => {
		fc.assert(
			fc.property(
				fc.uniqueArray(entryArb, { selector: e => e._id, maxLength: 40 }),
				fc.array(fc.oneof(entryArb.map(e => ({ upsert: e })), fc.nat(40).map(i => ({ remove: i }))), { maxLength: 20 }),
				fc.record({ category: fc.option(fc.constantFrom("Camping", "Hiking"), { nil: undefined }), q: fc.option(fc.constantFrom("alp", "TRAIL", "(", "co", "é"), { nil: undefined }) }),
				fc.constantFrom(...PRODUCT_SORTS),
				fc.integer({ min: 1, max: 4 }),
				fc.integer({ min: 1, max: 7 }),
				(initial, ops, filter, sort, page, pageSize) => {
					const index = new CatalogIndex(initial);
					const truth = new Map(initial.map(e => [e._id, e]));
					for (const op of ops) {
						if ("upsert" in op) {
							index.upsert(op.upsert);
							truth.set(op.upsert._id, op.upsert);
						} else {
							const id = [...truth.keys()][op.remove % Math.max(1, truth.size)];
							if (id) {
								index.remove(id);
								truth.delete(id);
							}
						}
					}
					expect(index.size).toBe(truth.size);
					expect(index.page(filter, sort, page, pageSize)).toEqual(naive([...truth.values()], filter, sort, page, pageSize));
				}
			),
			{ numRuns: 300 }
		);
	});
});
