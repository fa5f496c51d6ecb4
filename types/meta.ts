/**
 * The one `ctx.meta` shape every action shares. The gateway fills it from the HTTP request; a REPL user or
 * a test passes it as call meta, e.g. `call carts.get --#customer.id <id>`.
 */

/** A customer's role: `admin` may manage the catalog and see every order. */
export type Role = "customer" | "admin";

/** Who may call a gateway route (see services/api.routes.ts). */
export type Access = "anonymous" | Role;

/** The authenticated caller, taken from a verified JWT by the gateway. */
export interface AuthenticatedCustomer {
	/** Customer id (string). */
	id: string;
	email: string;
	role: Role;
}

export interface Meta {
	/** The authenticated customer; absent for anonymous calls. */
	customer?: AuthenticatedCustomer;
	/** The request id the gateway answered with in `X-Request-Id`. */
	requestId?: string;
	/** The client's address as the gateway sees it (behind TRUSTED_PROXIES: from X-Forwarded-For). */
	clientAddress?: string;
	/** The `Idempotency-Key` header of `POST /api/orders`, when sent. */
	idempotencyKey?: string;
	/** moleculer-web: the HTTP status to answer with (e.g. 201). */
	$statusCode?: number;
	/** moleculer-web: the `Location` header of a 201 answer (the created resource's URL path). */
	$location?: string;
	/** moleculer-web: extra response headers. */
	$responseHeaders?: Record<string, string>;
}
