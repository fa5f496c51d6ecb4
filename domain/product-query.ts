/**
 * Builds catalog queries from validated scalars only, so no HTTP input reaches the store as an operator
 * or a pattern: `category` is an exact match, `q` is escaped into a literal, case-insensitive pattern over
 * name, brand and description, and `sort` comes from a fixed list. The query form is the one both NeDB
 * and MongoDB understand.
 */

/** The accepted `sort` values of `GET /api/products` ("-" = descending). */
export const PRODUCT_SORTS = ["price", "-price", "name", "-name", "createdAt", "-createdAt"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Escapes every RegExp metacharacter, so `text` matches itself literally. */
export function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** The store query for a catalog listing filtered by exact `category` and literal substring `q`. */
export function buildProductQuery(filter: { category?: string; q?: string }): Record<string, unknown> {
	const query: Record<string, unknown> = {};
	if (filter.category) query.category = filter.category;
	if (filter.q) {
		const pattern = new RegExp(escapeRegExp(filter.q), "i");
		query.$or = [{ name: { $regex: pattern } }, { brand: { $regex: pattern } }, { description: { $regex: pattern } }];
	}
	return query;
}

/** The store sort list for `sort`, with the id as tie-breaker so pages never overlap. */
export function buildProductSort(sort: ProductSort | undefined): string[] {
	return [sort ?? "createdAt", "_id"];
}
