/**
 * The HTTP API table: every route the gateway publishes, the action behind it, and who may call it.
 * The gateway builds its aliases from this table only (`mappingPolicy: "restrict"`), and its authorization
 * looks the caller's required access up here, so the table is the single source of what is exposed.
 */
import type { Access } from "../types/meta";
import type { ErrorType } from "../lib/errors";
import type { ApiResponses } from "../types/api-responses";

export interface Route {
	/** HTTP method and path under /api, in moleculer-web alias form (`GET /products/:id`). */
	alias: string;
	/** The action the route calls. */
	action: string;
	/** Who may call it: anyone, a logged-in customer (or admin), or an admin only. */
	access: Access;
	/** The status of a success. */
	status: 200 | 201;
	/**
	 * The shop errors the route answers (lib/errors.ts); the generic ones (401/403 by access, 422 validation,
	 * 429 rate limit, 503 service away) are added by the OpenAPI generator (lib/openapi.ts).
	 */
	errors: readonly ErrorType[];
	/** The success body's type (types/api-responses.ts), for the OpenAPI document; none: any JSON. */
	response?: keyof ApiResponses;
}

export const ROUTES: readonly Route[] = [
	{ alias: "GET /health", action: "api.health", access: "anonymous", status: 200, errors: [], response: "Health" },
	{ alias: "GET /openapi.json", action: "api.openapi", access: "anonymous", status: 200, errors: [] },
	{ alias: "POST /auth/register", action: "customers.register", access: "anonymous", status: 201, errors: ["EMAIL_TAKEN"], response: "Session" },
	{ alias: "POST /auth/login", action: "customers.login", access: "anonymous", status: 200, errors: ["INVALID_CREDENTIALS", "TOO_MANY_LOGIN_ATTEMPTS"], response: "Session" },
	{ alias: "GET /customers/me", action: "customers.me", access: "customer", status: 200, errors: ["CUSTOMER_NOT_FOUND"], response: "Customer" },
	{ alias: "PATCH /customers/me", action: "customers.updateMe", access: "customer", status: 200, errors: ["CUSTOMER_NOT_FOUND"], response: "Customer" },
	{ alias: "GET /products", action: "products.list", access: "anonymous", status: 200, errors: [], response: "ProductPage" },
	{ alias: "GET /products/:id", action: "products.get", access: "anonymous", status: 200, errors: ["PRODUCT_NOT_FOUND"], response: "Product" },
	{ alias: "POST /products", action: "products.create", access: "admin", status: 201, errors: ["SKU_TAKEN"], response: "Product" },
	{ alias: "POST /products/import", action: "products.import", access: "admin", status: 200, errors: [], response: "ImportResult" },
	{ alias: "PATCH /products/:id", action: "products.update", access: "admin", status: 200, errors: ["PRODUCT_NOT_FOUND", "SKU_TAKEN", "STOCK_BELOW_RESERVED", "STOCK_BUSY"], response: "Product" },
	{ alias: "DELETE /products/:id", action: "products.remove", access: "admin", status: 200, errors: ["PRODUCT_NOT_FOUND"], response: "Product" },
	{ alias: "GET /cart", action: "carts.get", access: "customer", status: 200, errors: [], response: "PricedCart" },
	{ alias: "POST /cart/items", action: "carts.addItem", access: "customer", status: 200, errors: ["PRODUCT_NOT_FOUND", "INSUFFICIENT_STOCK", "CURRENCY_MISMATCH", "CART_BUSY", "LINE_QUANTITY_LIMIT", "CART_FULL"], response: "PricedCart" },
	{ alias: "PATCH /cart/items/:productId", action: "carts.updateItem", access: "customer", status: 200, errors: ["CART_ITEM_NOT_FOUND", "PRODUCT_NOT_FOUND", "INSUFFICIENT_STOCK", "CURRENCY_MISMATCH", "CART_BUSY", "LINE_QUANTITY_LIMIT"], response: "PricedCart" },
	{ alias: "DELETE /cart/items/:productId", action: "carts.removeItem", access: "customer", status: 200, errors: ["CART_BUSY"], response: "PricedCart" },
	{ alias: "DELETE /cart", action: "carts.clear", access: "customer", status: 200, errors: ["CART_BUSY"], response: "PricedCart" },
	{ alias: "POST /orders", action: "orders.checkout", access: "customer", status: 201, errors: ["PAYMENT_DECLINED", "INSUFFICIENT_STOCK", "CHECKOUT_IN_PROGRESS", "CURRENCY_MISMATCH", "EMPTY_CART", "INVALID_PAYMENT_TOKEN", "IDEMPOTENCY_KEY_REUSED"], response: "Order" },
	{ alias: "GET /orders", action: "orders.list", access: "customer", status: 200, errors: [], response: "OrderPage" },
	{ alias: "GET /orders/:id", action: "orders.get", access: "customer", status: 200, errors: ["ORDER_NOT_FOUND"], response: "Order" },
	{ alias: "POST /orders/:id/cancel", action: "orders.cancel", access: "customer", status: 200, errors: ["ORDER_NOT_FOUND", "ORDER_NOT_CANCELLABLE"], response: "Order" }
];

/** The services the routes call (the gateway's `dependencies`: it opens its port only once each has a node). */
export const ROUTED_SERVICES: readonly string[] = [...new Set(ROUTES.map(route => route.action.split(".")[0]).filter(name => name !== "api"))].sort();

/** The access each published action requires, by action name. */
export const ACCESS_BY_ACTION: ReadonlyMap<string, Access> = new Map(ROUTES.map(route => [route.action, route.access]));
