/** Order history (`#/orders`): `GET /api/orders`, newest first, with Cancel (`POST /api/orders/:id/cancel`) on paid orders. */
import { api, query, type Order, type Page } from "../api";
import { h, mount } from "../dom";
import { flash, showError } from "../flash";
import { formatMoney } from "../money";
import { requireSession } from "../guard";

const STATUS_TEXT: Record<string, string> = { pending: "Pending", paid: "Paid", payment_failed: "Payment failed", cancelled: "Cancelled" };

/** `#/orders?page=`: the signed-in customer's orders, 10 per page, Cancel on paid ones. @throws ApiError when they cannot be read. */
export async function ordersView(main: HTMLElement, _args: string[], params: URLSearchParams): Promise<void> {
	if (!requireSession("#/orders")) return;
	const page = Math.max(1, Number(params.get("page")) || 1);
	const result = await api<Page<Order>>("GET", `/orders${query({ page, pageSize: 10 })}`);
	const cancel = async (order: Order, button: HTMLButtonElement) => {
		button.disabled = true;
		try {
			const cancelled = await api<Order>("POST", `/orders/${encodeURIComponent(order.id)}/cancel`);
			flash(`Order ${cancelled.id} is cancelled; the payment is ${cancelled.payment.status}.`);
			await ordersView(main, [], params);
		} catch (err) {
			showError(err);
			button.disabled = false;
		}
	};
	const item = (order: Order) => {
		const button = h("button", { type: "button" }, "Cancel order");
		button.addEventListener("click", () => void cancel(order, button));
		return h(
			"li",
			{ class: "order" },
			h("h2", {}, `Order ${order.id}`),
			h("p", {}, h("strong", { class: `status ${order.status}` }, STATUS_TEXT[order.status] ?? order.status), ` · ${new Date(order.createdAt).toLocaleString()} · ${formatMoney(order.total, order.currency)}`),
			h("ul", { class: "order-lines" }, ...order.items.map(line => h("li", {}, `${line.quantity} × ${line.name} (${formatMoney(line.price, order.currency)})`))),
			order.status === "paid" ? button : null
		);
	};
	mount(
		main,
		h("h1", {}, "Your orders"),
		result.total === 0 ? h("p", {}, "No orders yet. ", h("a", { href: "#/" }, "Browse the catalog")) : h("ol", { class: "orders" }, ...result.rows.map(item)),
		h(
			"nav",
			{ class: "pager", "aria-label": "Pages" },
			page > 1 ? h("a", { href: `#/orders?page=${page - 1}` }, "← Newer") : null,
			page < result.totalPages ? h("a", { href: `#/orders?page=${page + 1}` }, "Older →") : null
		)
	);
}
