/**
 * The storefront: a single page that draws one view per hash route (`#/`, `#/product/<id>`, `#/cart`,
 * `#/orders`, `#/login`, `#/register`, `#/admin`), talking to the shop through its public API only
 * (./api.ts). Hash routes keep every view reachable from the one `/` document the gateway serves.
 */
import "./style.css";
import { currentSession, onSessionChange, setSession } from "./api";
import { h, mount } from "./dom";
import { clearFlash, flash, showError } from "./flash";
import { catalogView } from "./views/catalog";
import { productView } from "./views/product";
import { cartView } from "./views/cart";
import { ordersView } from "./views/orders";
import { loginView, registerView } from "./views/account";
import { adminView } from "./views/admin";

/** A view draws itself into `main`; `args` are the route's path segments after its name. */
export type View = (main: HTMLElement, args: string[], params: URLSearchParams) => Promise<void> | void;

const ROUTES: Record<string, View> = {
	"": catalogView,
	product: productView,
	cart: cartView,
	orders: ordersView,
	login: loginView,
	register: registerView,
	admin: adminView
};

function drawNav(): void {
	const session = currentSession();
	const link = (href: string, text: string) => h("a", { href }, text);
	const items: (Node | false)[] = [
		link("#/", "Catalog"),
		Boolean(session) && link("#/cart", "Cart"),
		Boolean(session) && link("#/orders", "Orders"),
		session?.customer.role === "admin" && link("#/admin", "Admin")
	];
	const account = session
		? [h("span", { class: "who" }, session.customer.name), h("button", { type: "button", class: "link", onclick: () => { setSession(null); flash("You are signed out."); location.hash = "#/"; } }, "Sign out")]
		: [link("#/login", "Sign in"), link("#/register", "Register")];
	mount(document.getElementById("nav")!, ...items, ...account);
}

/** Counts navigations: a view that finishes loading after the visitor moved on draws into a detached element. */
let navigation = 0;

async function route(): Promise<void> {
	const current = ++navigation;
	const page = document.getElementById("main")!;
	// Each view draws into its own element, which replaces the page's content only if no newer navigation began.
	const main = h("div");
	clearFlash();
	mount(page, h("p", { class: "muted" }, "Loading…"));
	try {
		const [path, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
		const [name = "", ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
		const view = ROUTES[name];
		if (!view) mount(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalog")));
		else await view(main, args, new URLSearchParams(search));
	} catch (err) {
		if (current !== navigation) return;
		showError(err);
		mount(main, h("h1", {}, "Something went wrong"), h("p", {}, h("a", { href: "#/" }, "Back to the catalog")));
	}
	if (current !== navigation) return;
	page.replaceChildren(main);
	const heading = page.querySelector("h1");
	if (heading) document.title = `${heading.textContent} · moleculer-shop`;
}

// The skip link moves focus to the content without touching the hash (the router's).
document.querySelector(".skip")?.addEventListener("click", event => {
	event.preventDefault();
	document.getElementById("main")!.focus();
});
onSessionChange(drawNav);
window.addEventListener("hashchange", () => {
	void route().then(() => document.getElementById("main")!.focus({ preventScroll: true }));
});
drawNav();
void route();
