/** A product's page (`#/product/<id>`): details from `GET /api/products/:id`, and Add to cart (`POST /api/cart/items`). */
import { api, type PricedCart, type Product } from "../api";
import { field, formValues, h, mount } from "../dom";
import { flash, showError } from "../flash";
import { formatMoney } from "../money";
import { MAX_LINE_QUANTITY } from "../../../domain/cart";
import { requireSession } from "../guard";

/** `#/product/<id>`: the product, and Add to cart (signed-in shoppers). @throws ApiError 404 PRODUCT_NOT_FOUND. */
export async function productView(main: HTMLElement, [id]: string[]): Promise<void> {
	const product = await api<Product>("GET", `/products/${encodeURIComponent(id)}`);
	const form = h(
		"form",
		{
			class: "inline",
			onsubmit: async (event: Event) => {
				event.preventDefault();
				if (!requireSession(`#/product/${id}`)) return;
				const quantity = Number(formValues(form).quantity);
				try {
					const cart = await api<PricedCart>("POST", "/cart/items", { productId: product.id, quantity });
					flash(`Added ${quantity} × ${product.name} to your cart (${cart.itemCount} item${cart.itemCount === 1 ? "" : "s"}, ${formatMoney(cart.total, cart.currency)}).`);
				} catch (err) {
					showError(err);
				}
			}
		},
		field("Quantity", h("input", { type: "number", name: "quantity", min: 1, max: Math.max(1, Math.min(product.stock, MAX_LINE_QUANTITY)), value: 1, required: true })),
		h("button", { type: "submit", disabled: product.stock === 0 }, "Add to cart")
	);
	mount(
		main,
		h("p", {}, h("a", { href: "#/" }, "← Catalog")),
		h("h1", {}, product.name),
		h("p", { class: "muted" }, [product.brand, product.category, `SKU ${product.sku}`].filter(Boolean).join(" · ")),
		h("p", { class: "price big" }, formatMoney(product.price, product.currency)),
		h("p", {}, product.stock > 0 ? `${product.stock} in stock` : "Out of stock"),
		form,
		product.description ? h("p", { class: "description" }, product.description) : null
	);
}
