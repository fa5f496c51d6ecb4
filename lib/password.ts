/**
 * Password hashing with node:crypto scrypt (RFC 7914), a random 16-byte salt per password, and a
 * constant-time comparison. Stored form: `scrypt$N$r$p$<salt base64>$<hash base64>`, so the cost can be
 * raised later without breaking existing hashes.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters (N=2^14, r=8, p=1: the interactive-login figures from RFC 7914 §2). */
const COST = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: 64 * 1024 * 1024 }, (err, key) =>
			err ? reject(err) : resolve(key)
		)
	);
}

/** Hashes `password` with a fresh salt. Returns the stored form described above. */
export async function hashPassword(password: string): Promise<string> {
	const salt = randomBytes(16);
	const key = await derive(password, salt, COST);
	return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/**
 * True when `password` matches `stored` (a string from `hashPassword`). A malformed `stored` is false,
 * never an exception. The comparison takes the same time wherever the two keys differ.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const [scheme, n, r, p, salt, hash] = stored.split("$");
	if (scheme !== "scrypt" || !salt || !hash) return false;
	const expected = Buffer.from(hash, "base64");
	const actual = await derive(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p) });
	return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A valid hash of a random password, computed once. Login verifies against it when the email is unknown,
 * so an unknown email costs the same scrypt work as a wrong password.
 */
let dummy: Promise<string> | null = null;
export function dummyPasswordHash(): Promise<string> {
	dummy ??= hashPassword(randomBytes(16).toString("hex"));
	return dummy;
}
