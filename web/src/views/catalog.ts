/**
 * The catalog (`#/`): search, category filter, sort and paging, all kept in the route's query
 * (`#/?q=boot&category=Footwear&sort=price&page=2`) so Back and bookmarks work. Reads `GET /api/products`.
 */
import { api, query, type Page, type Product } from "../api";
import { field, formValues, h, mount } from "../dom";
import { formatMoney } from "../money";

const SORTS: [string, string][] = [
	["", "Default order (oldest first)"],
	["price", "Price: low to high"],
	["-price", "Price: high to low"],
	["name", "Name: A to Z"],
	["-name", "Name: Z to A"],
	["-createdAt", "Newest first"]
];
const PAGE_SIZE = 12;
let categories: string[] | null = null;

/**
 * The categories of the catalog, from its first pages (the API's largest page, 100 products, at most 5 pages:
 * there is no category endpoint), kept until `forgetCategories`; none (the filter offers "All") when they
 * cannot be read.
 */
async function loadCategories(): Promise<string[]> {
	if (categories) return categories;
	const seen = new Set<string>();
	try {
		for (let page = 1; page <= 5; page++) {
			const result = await api<Page<Product>>("GET", `/products${query({ page, pageSize: 100, sort: "name" })}`);
			for (const product of result.rows) seen.add(product.category);
			if (page >= result.totalPages) break;
		}
	} catch {
		return [];
	}
	return (categories = [...seen].sort());
}

/** Drops the remembered categories (after an admin saved or imported products). */
export function forgetCategories(): void {
	categories = null;
}

function option(value: string, text: string, selected: string): HTMLOptionElement {
	return h("option", { value, selected: value === selected }, text);
}

/** One product in the grid: name (a link to its page), brand, category and price. */
export function productCard(product: Product): HTMLElement {
	return h(
		"li",
		{ class: "card" },
		h("a", { href: `#/product/${encodeURIComponent(product.id)}`, class: "card-link" }, h("span", { class: "card-name" }, product.name)),
		h("span", { class: "muted" }, [product.brand, product.category].filter(Boolean).join(" · ")),
		h("span", { class: "price" }, formatMoney(product.price, product.currency)),
		product.stock === 0 ? h("span", { class: "badge" }, "Out of stock") : null
	);
}

/** `#/?q=&category=&sort=&page=`: a page of `GET /api/products`, 12 per page. @throws ApiError when it cannot be read. */
export async function catalogView(main: HTMLElement, _args: string[], params: URLSearchParams): Promise<void> {
	const q = params.get("q") ?? "";
	const category = params.get("category") ?? "";
	const sort = params.get("sort") ?? "";
	const page = Math.max(1, Number(params.get("page")) || 1);
	const [result, names] = await Promise.all([
		api<Page<Product>>("GET", `/products${query({ q, category, sort, page, pageSize: PAGE_SIZE })}`),
		loadCategories()
	]);
	const go = (next: Record<string, string | number>) => {
		location.hash = `#/${query({ q, category, sort, ...next })}`;
	};
	const form = h(
		"form",
		{ class: "filters", role: "search", onsubmit: (event: Event) => { event.preventDefault(); const v = formValues(form); go({ q: v.q.trim(), category: v.category, sort: v.sort, page: 1 }); } },
		field("Search", h("input", { type: "search", name: "q", value: q, placeholder: "Boots, jacket…", maxlength: 200 })),
		field("Category", h("select", { name: "category" }, option("", "All categories", category), ...names.map(name => option(name, name, category)))),
		field("Sort", h("select", { name: "sort" }, ...SORTS.map(([value, text]) => option(value, text, sort)))),
		h("button", { type: "submit" }, "Search")
	);
	const summary = result.total === 0 ? "No products match." : `${result.total} product${result.total === 1 ? "" : "s"} · page ${result.page} of ${result.totalPages}`;
	const pager = h(
		"nav",
		{ class: "pager", "aria-label": "Pages" },
		page > 1 ? h("a", { href: `#/${query({ q, category, sort, page: page - 1 })}`, rel: "prev" }, "← Previous") : null,
		page < result.totalPages ? h("a", { href: `#/${query({ q, category, sort, page: page + 1 })}`, rel: "next" }, "Next →") : null
	);
	mount(main, h("h1", {}, q ? `Results for “${q}”` : category || "Catalog"), form, h("p", { class: "muted", role: "status" }, summary), h("ul", { class: "grid" }, ...result.rows.map(productCard)), pager);
}
