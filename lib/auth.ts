/**
 * Helpers for actions that act on behalf of the authenticated customer in `ctx.meta.customer`.
 */
import type { Context } from "moleculer";
import { AuthRequiredError } from "./errors";
import type { AuthenticatedCustomer, Meta } from "../types/meta";

/**
 * The caller of `ctx`. @throws AuthRequiredError (401, AUTH_REQUIRED) when the call carries no customer
 * (the gateway sets it from the bearer token; a REPL user passes `--#customer.id <id>`).
 */
export function requireCustomer(ctx: Context<unknown, Meta>): AuthenticatedCustomer {
	const customer = ctx.meta.customer;
	if (!customer || typeof customer.id !== "string" || customer.id === "") throw new AuthRequiredError();
	return customer;
}

/** True when the caller is an admin. */
export function isAdmin(ctx: Context<unknown, Meta>): boolean {
	return ctx.meta.customer?.role === "admin";
}
