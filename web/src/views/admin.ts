/**
 * The admin page (`#/admin`, admins only; the API refuses others with 403): products with their stock,
 * create (`POST /api/products`), edit (`PATCH /api/products/:id`, stock as `onHand`, the shelf count) and
 * import a catalog file (a JSON array of products, as `npm run import` takes) through
 * `POST /api/products/import`, in batches that stay under the gateway's 64 KB body limit.
 */
import { api, currentSession, query, type Page, type Product } from "../api";
import { field, formValues, h, mount } from "../dom";
import { describeError, flash, showError } from "../flash";
import { formatMoney, moneyInput, parseMoney } from "../money";
import { requireSession } from "../guard";
import { batches } from "../../../domain/import-batches";
import { forgetCategories } from "./catalog";

/**
 * `#/admin` (product list, import), `#/admin/new` and `#/admin/edit/<id>`. Admins only: anyone else is sent to
 * sign in or told the page is for administrators. @throws ApiError when the product list cannot be read.
 */
export async function adminView(main: HTMLElement, args: string[], params: URLSearchParams): Promise<void> {
	if (!requireSession("#/admin")) return;
	if (currentSession()?.customer.role !== "admin") {
		mount(main, h("h1", {}, "Admin"), h("p", {}, "This page is for shop administrators. Sign in with an admin account."));
		return;
	}
	if (args[0] === "new") return productForm(main, null);
	if (args[0] === "edit") return productForm(main, await api<Product>("GET", `/products/${encodeURIComponent(args[1])}`));
	const page = Math.max(1, Number(params.get("page")) || 1);
	const result = await api<Page<Product>>("GET", `/products${query({ page, pageSize: 50, sort: "-createdAt" })}`);
	mount(
		main,
		h("h1", {}, "Admin"),
		h("p", {}, h("a", { href: "#/admin/new", class: "button" }, "New product")),
		importForm(main),
		h("h2", {}, `Products (${result.total})`),
		h(
			"table",
			{ class: "lines" },
			h("thead", {}, h("tr", {}, ...["SKU", "Name", "Price", "Stock", "Reserved", "Sold"].map(text => h("th", { scope: "col" }, text)))),
			h(
				"tbody",
				{},
				...result.rows.map(product =>
					h(
						"tr",
						{},
						h("td", {}, product.sku),
						h("th", { scope: "row" }, h("a", { href: `#/admin/edit/${encodeURIComponent(product.id)}` }, product.name)),
						h("td", { class: "num" }, formatMoney(product.price, product.currency)),
						h("td", { class: "num" }, product.stock),
						h("td", { class: "num" }, product.reserved),
						h("td", { class: "num" }, product.sold)
					)
				)
			)
		),
		h(
			"nav",
			{ class: "pager", "aria-label": "Pages" },
			page > 1 ? h("a", { href: `#/admin?page=${page - 1}` }, "← Previous") : null,
			page < result.totalPages ? h("a", { href: `#/admin?page=${page + 1}` }, "Next →") : null
		)
	);
}

function importForm(main: HTMLElement): HTMLFormElement {
	const file = h("input", { type: "file", name: "file", accept: "application/json,.json", required: true });
	const form = h(
		"form",
		{
			class: "inline",
			"aria-label": "Import a catalog",
			onsubmit: async (event: Event) => {
				event.preventDefault();
				const chosen = file.files?.[0];
				if (!chosen) return;
				let products: unknown;
				try {
					products = JSON.parse(await chosen.text());
				} catch {
					return flash(`${chosen.name} is not JSON: the file must hold a JSON array of products.`, "error");
				}
				if (!Array.isArray(products) || products.length === 0) return flash("The file must hold a non-empty JSON array of products.", "error");
				const totals = { created: 0, updated: 0, unchanged: 0 };
				let done = 0;
				try {
					for (const { batch } of batches(products)) {
						const result = await api<typeof totals>("POST", "/products/import", { products: batch });
						for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result[key];
						done += batch.length;
						flash(`Importing… ${done} of ${products.length}`);
					}
				} catch (err) {
					showError(err);
					if (done > 0) flash(`${describeError(err)} The first ${done} of ${products.length} entries are imported; importing the file again is safe.`, "error");
					return;
				}
				forgetCategories();
				await adminView(main, [], new URLSearchParams());
				flash(`Imported ${products.length} products: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged.`);
			}
		},
		field("Catalog file (JSON)", file),
		h("button", { type: "submit" }, "Import")
	);
	return form;
}

function productForm(main: HTMLElement, product: Product | null): void {
	const currency = product?.currency ?? "USD";
	const text = (name: string, value: string | undefined, attrs: Record<string, string | number | boolean> = {}) => h("input", { type: "text", name, value: value ?? "", ...attrs });
	const form = h(
		"form",
		{
			class: "stack",
			"aria-label": product ? "Edit product" : "New product",
			onsubmit: async (event: Event) => {
				event.preventDefault();
				const v = formValues(form);
				const price = parseMoney(v.price, v.currency || currency);
				if (price === null) return flash(`Price: enter an amount like 19.99 (at most ${v.currency || currency}'s decimals).`, "error");
				const fields = { sku: v.sku.trim(), name: v.name.trim(), description: v.description, category: v.category.trim(), brand: v.brand.trim(), price, currency: v.currency.trim().toUpperCase() || currency };
				try {
					// The shelf count is sent only when the admin changed it: units sold since the form opened must
					// not come back with an edit of the name.
					const onHand = Number(v.stock);
					const saved = product
						? await api<Product>("PATCH", `/products/${encodeURIComponent(product.id)}`, onHand === product.onHand ? fields : { ...fields, onHand })
						: await api<Product>("POST", "/products", { ...fields, stock: onHand });
					forgetCategories();
					flash(`${saved.name} (${saved.sku}) is saved.`);
					location.hash = "#/admin";
				} catch (err) {
					showError(err);
				}
			}
		},
		field("SKU", text("sku", product?.sku, { required: true, maxlength: 64, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*" })),
		field("Name", text("name", product?.name, { required: true, maxlength: 200 })),
		field("Description", h("textarea", { name: "description", maxlength: 5000, rows: 4 }, product?.description ?? "")),
		field("Category", text("category", product?.category, { required: true, maxlength: 100 })),
		field("Brand", text("brand", product?.brand, { maxlength: 100 })),
		field("Price", text("price", product ? moneyInput(product.price, currency) : "", { required: true, inputmode: "decimal", placeholder: "19.99" })),
		field("Currency", text("currency", currency, { required: true, maxlength: 3, pattern: "[A-Za-z]{3}" })),
		field(product ? "Units on the shelf (on hand)" : "Stock (units)", h("input", { type: "number", name: "stock", min: 0, value: product ? product.onHand : 0, required: true })),
		h("button", { type: "submit" }, product ? "Save changes" : "Create product")
	);
	mount(main, h("p", {}, h("a", { href: "#/admin" }, "← Admin")), h("h1", {}, product ? `Edit ${product.name}` : "New product"), form);
	form.querySelector("input")?.focus();
}
