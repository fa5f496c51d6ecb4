/**
 * Customer access tokens: JWTs signed with HS256 through `jose`, carrying `sub` (customer id), `email`
 * and `role`, with `iss`, `aud` and `exp` checked on every verification (RFC 7519 §4.1).
 */
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { JWT_AUDIENCE, JWT_ISSUER } from "./config";
import { InvalidTokenError } from "./errors";
import type { AuthenticatedCustomer, Role } from "../types/meta";

const ALGORITHM = "HS256";
const encoder = new TextEncoder();

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
	try {
		const { payload } = await jwtVerify(token, encoder.encode(secret), {
			algorithms: [ALGORITHM],
			issuer: JWT_ISSUER,
			audience: JWT_AUDIENCE,
			requiredClaims: ["sub", "exp"]
		});
		if (typeof payload.sub !== "string" || typeof payload.email !== "string" || !isRole(payload.role)) {
			throw new InvalidTokenError();
		}
		return { id: payload.sub, email: payload.email, role: payload.role };
	} catch (err) {
		if (err instanceof joseErrors.JOSEError || err instanceof InvalidTokenError) throw new InvalidTokenError();
		throw err;
	}
}
