/**
 * The HTTP API table: every route the gateway publishes, the action behind it, and who may call it.
 * The gateway builds its aliases from this table only (`mappingPolicy: "restrict"`), and its authorization
 * looks the caller's required access up here, so the table is the single source of what is exposed.
 */
import type { Access } from "../types/meta";

export interface Route {
	/** HTTP method and path under /api, in moleculer-web alias form (`GET /products/:id`). */
	alias: string;
	/** The action the route calls. */
	action: string;
	/** Who may call it: anyone, a logged-in customer (or admin), or an admin only. */
	access: Access;
}

export const ROUTES: readonly Route[] = [
	{ alias: "GET /health", action: "api.health", access: "anonymous" },
	{ alias: "POST /auth/register", action: "customers.register", access: "anonymous" },
	{ alias: "POST /auth/login", action: "customers.login", access: "anonymous" },
	{ alias: "GET /customers/me", action: "customers.me", access: "customer" },
	{ alias: "PATCH /customers/me", action: "customers.updateMe", access: "customer" },
	{ alias: "GET /products", action: "products.list", access: "anonymous" },
	{ alias: "GET /products/:id", action: "products.get", access: "anonymous" },
	{ alias: "POST /products", action: "products.create", access: "admin" },
	{ alias: "POST /products/import", action: "products.import", access: "admin" },
	{ alias: "PATCH /products/:id", action: "products.update", access: "admin" },
	{ alias: "DELETE /products/:id", action: "products.remove", access: "admin" },
	{ alias: "GET /cart", action: "carts.get", access: "customer" },
	{ alias: "POST /cart/items", action: "carts.addItem", access: "customer" },
	{ alias: "PATCH /cart/items/:productId", action: "carts.updateItem", access: "customer" },
	{ alias: "DELETE /cart/items/:productId", action: "carts.removeItem", access: "customer" },
	{ alias: "DELETE /cart", action: "carts.clear", access: "customer" },
	{ alias: "POST /orders", action: "orders.checkout", access: "customer" },
	{ alias: "GET /orders", action: "orders.list", access: "customer" },
	{ alias: "GET /orders/:id", action: "orders.get", access: "customer" },
	{ alias: "POST /orders/:id/cancel", action: "orders.cancel", access: "customer" }
];

/** The services the routes call (the gateway's `dependencies`: it opens its port only once each has a node). */
export const ROUTED_SERVICES: readonly string[] = [...new Set(ROUTES.map(route => route.action.split(".")[0]).filter(name => name !== "api"))].sort();

/** The access each published action requires, by action name. */
export const ACCESS_BY_ACTION: ReadonlyMap<string, Access> = new Map(ROUTES.map(route => [route.action, route.access]));
