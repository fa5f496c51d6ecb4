/**
 * The cart (`#/cart`): line items with quantity edits (`PATCH /api/cart/items/:productId`) and removal, and
 * checkout (`POST /api/orders` with a test payment token and an Idempotency-Key, so a double click or a
 * retry never charges twice). A declined card (402) keeps the cart; 409 and 422 say what to change.
 */
import { api, type Order, type PricedCart } from "../api";
import { field, formValues, h, mount } from "../dom";
import { flash, showError } from "../flash";
import { formatMoney } from "../money";
import { requireSession } from "../guard";

/** The test payment tokens of the shop's payment provider (domain/payment-provider.ts). */
const TOKENS: [string, string][] = [
	["tok_visa", "Test card, paid (tok_visa)"],
	["tok_chargeDeclined", "Test card, declined (tok_chargeDeclined)"],
	["custom", "Another token…"]
];

export async function cartView(main: HTMLElement): Promise<void> {
	if (!requireSession("#/cart")) return;
	draw(main, await api<PricedCart>("GET", "/cart"));
}

function draw(main: HTMLElement, cart: PricedCart): void {
	const update = async (call: Promise<PricedCart>, done: string) => {
		try {
			draw(main, await call);
			flash(done);
		} catch (err) {
			showError(err);
			draw(main, await api<PricedCart>("GET", "/cart"));
		}
	};
	if (cart.items.length === 0) {
		mount(main, h("h1", {}, "Your cart"), h("p", {}, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the catalog")));
		return;
	}
	const rows = cart.items.map(item => {
		const quantity = h("input", { type: "number", min: 1, max: 99, value: item.quantity, "aria-label": `Quantity of ${item.name}`, class: "qty" });
		quantity.addEventListener("change", () => {
			const value = Number(quantity.value);
			if (Number.isInteger(value) && value >= 1) void update(api("PATCH", `/cart/items/${encodeURIComponent(item.productId)}`, { quantity: value }), `${item.name}: quantity ${value}.`);
		});
		return h(
			"tr",
			{},
			h("th", { scope: "row" }, h("a", { href: `#/product/${encodeURIComponent(item.productId)}` }, item.name)),
			h("td", { class: "num" }, formatMoney(item.price, cart.currency)),
			h("td", {}, quantity),
			h("td", { class: "num" }, formatMoney(item.lineTotal, cart.currency)),
			h("td", {}, h("button", { type: "button", class: "link", onclick: () => void update(api("DELETE", `/cart/items/${encodeURIComponent(item.productId)}`), `${item.name} removed.`) }, "Remove"))
		);
	});
	const custom = h("input", { type: "text", name: "customToken", placeholder: "tok_…", maxlength: 100, "aria-label": "Payment token", hidden: true });
	const select = h("select", { name: "token" }, ...TOKENS.map(([value, text]) => h("option", { value }, text)));
	select.addEventListener("change", () => (custom.hidden = select.value !== "custom"));
	const pay = h("button", { type: "submit" }, `Pay ${formatMoney(cart.total, cart.currency)}`);
	// One key per checkout attempt of this cart: a retry of the same attempt (double click, timeout) is the same order.
	let idempotencyKey = crypto.randomUUID();
	const form = h(
		"form",
		{
			class: "checkout",
			onsubmit: async (event: Event) => {
				event.preventDefault();
				const values = formValues(form);
				const paymentToken = values.token === "custom" ? values.customToken.trim() : values.token;
				pay.disabled = true;
				try {
					const order = await api<Order>("POST", "/orders", { paymentToken }, { "Idempotency-Key": idempotencyKey });
					flash(`Thank you! Order ${order.id} is ${order.status}: ${formatMoney(order.total, order.currency)}.`);
					location.hash = "#/orders";
				} catch (err) {
					idempotencyKey = crypto.randomUUID();
					showError(err);
					pay.disabled = false;
				}
			}
		},
		h("h2", {}, "Checkout"),
		field("Payment", select),
		custom,
		pay
	);
	mount(
		main,
		h("h1", {}, "Your cart"),
		h(
			"table",
			{ class: "lines" },
			h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Total"), h("td", {}))),
			h("tbody", {}, ...rows),
			h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, `${cart.itemCount} item${cart.itemCount === 1 ? "" : "s"}`), h("td", { class: "num total" }, formatMoney(cart.total, cart.currency)), h("td", {})))
		),
		h("p", {}, h("button", { type: "button", class: "link", onclick: () => void update(api("DELETE", "/cart"), "Cart emptied.") }, "Empty the cart")),
		form
	);
}
