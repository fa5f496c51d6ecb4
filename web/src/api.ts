/**
 * The storefront's only way to the shop: the public HTTP API under /api, with the session's bearer token.
 * Failures become `ApiError` with the API's error body (`{ name, message, code, type, data }`): the page
 * tells them apart by `status` and `type`, the stable fields, never by message text.
 */
import type { Product } from "../../domain/catalog";
import type { PricedCart } from "../../domain/cart";
import type { Order } from "../../domain/order";

export type { Product, PricedCart, Order };

/** A page of results as the API answers lists. */
export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

/** The signed-in customer as the API answers it. */
export interface Customer {
	id: string;
	email: string;
	name: string;
	role: "customer" | "admin";
}

/** `{ token, customer }`: what register and login answer. */
export interface Session {
	token: string;
	customer: Customer;
}

/** An API answer other than 2xx: `status` (HTTP), `type` (the error's stable type, e.g. PAYMENT_DECLINED). */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly type: string,
		message: string,
		readonly data?: unknown
	) {
		super(message);
		this.name = "ApiError";
	}
}

const SESSION_KEY = "shop.session";
let session: Session | null = readSession();
const listeners = new Set<() => void>();

function readSession(): Session | null {
	try {
		const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null") as Session | null;
		return value && typeof value.token === "string" ? value : null;
	} catch {
		return null;
	}
}

/** The current session, or null when signed out. */
export function currentSession(): Session | null {
	return session;
}

/** Signs in (`value`) or out (null), remembering it in localStorage; listeners (the navigation) are told. */
export function setSession(value: Session | null): void {
	session = value;
	if (value) localStorage.setItem(SESSION_KEY, JSON.stringify(value));
	else localStorage.removeItem(SESSION_KEY);
	for (const listener of listeners) listener();
}

/** Calls `listener` whenever the session changes. */
export function onSessionChange(listener: () => void): void {
	listeners.add(listener);
}

/**
 * `method path` on the API (path under /api, e.g. `/products?page=2`) with `body` as JSON.
 * @throws ApiError for any non-2xx answer (status 0, type NETWORK when the gateway cannot be reached). A 401
 *   INVALID_TOKEN (an expired session) also signs out.
 */
export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
	const init: RequestInit = { method, headers: { Accept: "application/json", ...headers } };
	if (session) (init.headers as Record<string, string>).Authorization = `Bearer ${session.token}`;
	if (body !== undefined) {
		(init.headers as Record<string, string>)["Content-Type"] = "application/json";
		init.body = JSON.stringify(body);
	}
	let response: Response;
	try {
		response = await fetch(`/api${path}`, init);
	} catch {
		throw new ApiError(0, "NETWORK", "The shop cannot be reached. Check your connection and try again.");
	}
	const text = await response.text();
	const json = text ? safeJson(text) : null;
	if (response.ok) return json as T;
	const error = (json ?? {}) as { type?: string; message?: string; data?: unknown };
	if (response.status === 401 && error.type === "INVALID_TOKEN") setSession(null);
	throw new ApiError(response.status, error.type ?? `HTTP_${response.status}`, error.message ?? response.statusText, error.data);
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

/** A query string from `params`, leaving out empty values: `query({ q: "boot", page: 2 })` is "?q=boot&page=2". */
export function query(params: Record<string, string | number | undefined>): string {
	const search = new URLSearchParams();
	for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
	const text = search.toString();
	return text ? `?${text}` : "";
}
