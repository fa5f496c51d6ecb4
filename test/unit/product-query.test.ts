import { buildProductQuery, buildProductSort, escapeRegExp } from "../../domain/product-query";

describe("product queries", () => {
	it("escapes every pattern metacharacter so text matches literally", () => {
		const text = ".*+?^${}()|[]\\/-";
		expect(new RegExp(escapeRegExp(text)).test(text)).toBe(true);
		expect(new RegExp(`^${escapeRegExp(".*")}$`).test("anything")).toBe(false);
	});

	it("builds an exact category match and a case-insensitive literal search", () => {
		const query = buildProductQuery({ category: "Tea", q: "Earl (Grey" }) as any;
		expect(query.category).toBe("Tea");
		const pattern: RegExp = query.$or[0].name.$regex;
		expect(pattern.test("earl (grey loose leaf")).toBe(true);
		expect(pattern.flags).toBe("i");
		expect(buildProductQuery({})).toEqual({});
	});

	it("sorts by the chosen field with the id as tie-breaker, oldest first by default", () => {
		expect(buildProductSort("-price")).toEqual(["-price", "_id"]);
		expect(buildProductSort(undefined)).toEqual(["createdAt", "_id"]);
	});
});
