/**
 * Customer access tokens: JWTs signed with HS256 through `jose`, carrying `sub` (customer id), `email`
 * and `role`, with `iss`, `aud` and `exp` checked on every verification (RFC 7519 §4.1).
 *
 * A token is only ever valid until its `exp` (the shop has no revocation list), so a gateway remembers the
 * tokens it has verified, by their exact string (signature included), and answers a repeat from memory
 * while `exp` has not passed: a customer's session sends the same token with every request, and the HMAC
 * check of jose was ~4 % of a checkout's CPU. A token that fails is never remembered.
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import { LRUCache } from "lru-cache";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { JWT_AUDIENCE, JWT_ISSUER } from "./config";
import { InvalidTokenError } from "./errors";
import type { AuthenticatedCustomer, Role } from "../types/meta";

const ALGORITHM = "HS256";
const encoder = new TextEncoder();

/** Tokens remembered at most (each ~0.5 KB): the sessions active on one gateway. */
const VERIFIED_TOKENS = 10_000;

/** A verified token: whom it names, under which secret, and its `exp` (seconds since the epoch). */
interface Verified {
	customer: AuthenticatedCustomer;
	secret: string;
	exp: number;
}
const verified = new LRUCache<string, Verified>({ max: VERIFIED_TOKENS });

/** The HMAC key of `secret`, made once (jose would import the raw bytes on every call); one per JWT_SECRET. */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
	let key = keys.get(secret);
	if (!key) keys.set(secret, (key = createSecretKey(encoder.encode(secret))));
	return key;
}

/**
 * Signs a token for `customer` that expires `ttlSeconds` (seconds) from now.
 * @returns the compact JWS string.
 */
export function issueToken(customer: AuthenticatedCustomer, secret: string, ttlSeconds: number): Promise<string> {
	return new SignJWT({ email: customer.email, role: customer.role })
		.setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
		.setSubject(customer.id)
		.setIssuer(JWT_ISSUER)
		.setAudience(JWT_AUDIENCE)
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
		.sign(encoder.encode(secret));
}

function isRole(value: unknown): value is Role {
	return value === "customer" || value === "admin";
}

/**
 * Verifies `token` (algorithm pinned to HS256, so `alg: none` and asymmetric confusion fail) and returns
 * the customer it names.
 * @throws InvalidTokenError (401, INVALID_TOKEN) for a malformed, expired, wrongly signed or incomplete token.
 */
export async function verifyToken(token: string, secret: string): Promise<AuthenticatedCustomer> {
	const known = verified.get(token);
	if (known && known.secret === secret) {
		// jose's rule: a token is expired once `exp` <= now, in whole seconds (no clock tolerance here).
		if (Math.floor(Date.now() / 1000) < known.exp) return { ...known.customer };
		verified.delete(token);
	}
	try {
		const { payload } = await jwtVerify(token, keyOf(secret), {
			algorithms: [ALGORITHM],
			issuer: JWT_ISSUER,
			audience: JWT_AUDIENCE,
			requiredClaims: ["sub", "exp"]
		});
		if (typeof payload.sub !== "string" || typeof payload.email !== "string" || !isRole(payload.role)) {
			throw new InvalidTokenError();
		}
		const customer: AuthenticatedCustomer = { id: payload.sub, email: payload.email, role: payload.role };
		verified.set(token, { customer, secret, exp: payload.exp! });
		// A copy for the caller (it becomes ctx.meta.customer): the remembered one is never changed.
		return { ...customer };
	} catch (err) {
		if (err instanceof joseErrors.JOSEError || err instanceof InvalidTokenError) throw new InvalidTokenError();
		throw err;
	}
}
