/**
 * An in-memory index of the catalog for the embedded store. NeDB answers a sorted page by sorting every
 * matching document and counts by loading them all, so a listing costs O(n log n) per request (half a
 * second at 100,000 products). This index keeps the catalog presorted in each order `GET /api/products`
 * offers, so a page is a walk from the start of one order, filtered exactly as `buildProductQuery` filters
 * (exact category; the same literal, case-insensitive pattern over name, brand and description), and the
 * total is one pass. Kept in step with every catalog write by the products service, which is the only
 * writer of its store (one process per DATA_DIR). With MongoDB the database's own indexes do this instead.
 */
import { escapeRegExp, type ProductSort } from "./product-query";

/** What the index keeps of a product: the fields a listing filters and sorts on. */
export interface CatalogEntry {
	_id: string;
	name: string;
	brand: string;
	description: string;
	category: string;
	price: number;
	createdAt: string;
}

type SortField = "price" | "name" | "createdAt";

/** Orders entries by `field` (descending when `desc`), then by id ascending: the store's order for `sort`. */
function comparator(field: SortField, desc: boolean): (a: CatalogEntry, b: CatalogEntry) => number {
	return (a, b) => {
		const x = a[field];
		const y = b[field];
		if (x < y) return desc ? 1 : -1;
		if (x > y) return desc ? -1 : 1;
		return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
	};
}

/** The first index in sorted `list` at which `entry` belongs, by `compare`. */
function position(list: readonly CatalogEntry[], entry: CatalogEntry, compare: (a: CatalogEntry, b: CatalogEntry) => number): number {
	let low = 0;
	let high = list.length;
	while (low < high) {
		const mid = (low + high) >>> 1;
		if (compare(list[mid], entry) < 0) low = mid + 1;
		else high = mid;
	}
	return low;
}

/** The catalog presorted in every listing order (see above). */
export class CatalogIndex {
	private readonly byId = new Map<string, CatalogEntry>();
	private readonly orders = new Map<ProductSort, { compare: (a: CatalogEntry, b: CatalogEntry) => number; list: CatalogEntry[] }>();

	constructor(entries: readonly CatalogEntry[] = []) {
		for (const sort of ["price", "-price", "name", "-name", "createdAt", "-createdAt"] as ProductSort[]) {
			const compare = comparator(sort.replace("-", "") as SortField, sort.startsWith("-"));
			this.orders.set(sort, { compare, list: [] });
		}
		for (const entry of entries) this.byId.set(entry._id, entry);
		for (const order of this.orders.values()) order.list = [...this.byId.values()].sort(order.compare);
	}

	/** How many products the index holds. */
	get size(): number {
		return this.byId.size;
	}

	/** Adds or replaces the entry of a product. */
	upsert(entry: CatalogEntry): void {
		this.remove(entry._id);
		this.byId.set(entry._id, entry);
		for (const { compare, list } of this.orders.values()) list.splice(position(list, entry, compare), 0, entry);
	}

	/** Drops the entry of product `id` (nothing when it has none). */
	remove(id: string): void {
		const old = this.byId.get(id);
		if (!old) return;
		this.byId.delete(id);
		for (const { compare, list } of this.orders.values()) list.splice(position(list, old, compare), 1);
	}

	/**
	 * The ids of page `page` (1-based) of `pageSize` products matching `filter`, in `sort` order (default
	 * `createdAt`, ties by id), and how many match in all.
	 */
	page(filter: { category?: string; q?: string }, sort: ProductSort | undefined, page: number, pageSize: number): { ids: string[]; total: number } {
		const list = this.orders.get(sort ?? "createdAt")!.list;
		const pattern = filter.q ? new RegExp(escapeRegExp(filter.q), "i") : null;
		const offset = (page - 1) * pageSize;
		if (!filter.category && !pattern) return { ids: list.slice(offset, offset + pageSize).map(entry => entry._id), total: list.length };
		const ids: string[] = [];
		let total = 0;
		for (const entry of list) {
			if (filter.category && entry.category !== filter.category) continue;
			if (pattern && !pattern.test(entry.name) && !pattern.test(entry.brand) && !pattern.test(entry.description)) continue;
			if (total >= offset && ids.length < pageSize) ids.push(entry._id);
			total += 1;
		}
		return { ids, total };
	}
}

/** The index entry of a stored product document. */
export function catalogEntry(doc: Record<string, any>): CatalogEntry {
	return { _id: doc._id, name: doc.name, brand: doc.brand ?? "", description: doc.description ?? "", category: doc.category, price: doc.price, createdAt: doc.createdAt };
}
