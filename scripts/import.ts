/**
 * Catalog import: `npm run import -- <file.json> [--url <gateway base URL>]`.
 *
 * Validates the whole file first (format of ../shared/data/README.md); a bad file imports nothing, lists
 * each bad entry's index and field, and exits 1. A good file is sent in batches to the running shop's
 * gateway (`POST /api/products/import`, an upsert by SKU), so it works the same against the one-process
 * shop and a cluster, and never touches a store behind the shop's back. It authenticates with a short-lived
 * admin token signed with JWT_SECRET, the key the shop verifies tokens with.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../lib/config";
import { issueToken } from "../lib/jwt";
import { validateCatalog, type ProductInput } from "../domain/catalog";
import type { ImportResult } from "../services/products.service";
import { batches } from "../domain/import-batches";

export { BATCH_BYTES, BATCH_SIZE, batches } from "../domain/import-batches";

export interface ImportOptions {
	/** Gateway base URL, e.g. http://localhost:3000. */
	url: string;
	/** The shop's JWT_SECRET. */
	secret: string;
	/** Where progress lines go (default console.log). */
	log?: (line: string) => void;
}

/** Raised for a file that fails validation or a request the shop refuses; `message` says which. */
export class ImportError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "ImportError";
	}
}

/** Reads and validates `file`. @throws ImportError naming every bad entry's index and field. */
export function readCatalog(file: string): ProductInput[] {
	let entries: unknown;
	try {
		entries = JSON.parse(fs.readFileSync(file, "utf8"));
	} catch (err) {
		throw new ImportError(`Cannot read ${file}: ${(err as Error).message}`);
	}
	const problems = validateCatalog(entries);
	if (problems.length > 0) {
		const lines = problems.map(p => `  entry ${p.index}, field ${p.field}: ${p.message}`);
		throw new ImportError(`${file} has ${problems.length} problem(s); nothing was imported:\n${lines.join("\n")}`);
	}
	return entries as ProductInput[];
}

/**
 * Imports `file` into the shop at `options.url`. Resolves to the summed counts.
 * @throws ImportError for a bad file (nothing sent) or a refused request (earlier batches stay imported;
 *   running the import again is safe, as it is an upsert).
 */
export async function importCatalog(file: string, options: ImportOptions): Promise<ImportResult> {
	const log = options.log ?? console.log;
	const products = readCatalog(file);
	const token = await issueToken({ id: "catalog-import", email: "catalog-import@localhost", role: "admin" }, options.secret, 600);
	const total: ImportResult = { created: 0, updated: 0, unchanged: 0 };
	log(`Importing ${products.length} products from ${file} into ${options.url}`);
	for (const { start, batch } of batches(products)) {
		const res = await fetch(new URL("/api/products/import", options.url), {
			method: "POST",
			headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
			body: JSON.stringify({ products: batch })
		}).catch(err => {
			throw new ImportError(`Cannot reach the shop at ${options.url} (${(err as Error).cause ?? err}). Is it running?`);
		});
		const body = await res.json().catch(() => ({}));
		if (res.status === 401) {
			throw new ImportError(`The shop at ${options.url} refused the import's token (401 ${(body as { type?: string }).type ?? ""}): run the import with the JWT_SECRET the shop was started with. Nothing was imported${start > 0 ? ` after entry ${start - 1}` : ""}.`);
		}
		if (!res.ok) throw new ImportError(`The shop refused entries ${start}..${start + batch.length - 1}: ${res.status} ${JSON.stringify(body)}`);
		const result = body as ImportResult;
		total.created += result.created;
		total.updated += result.updated;
		total.unchanged += result.unchanged;
		log(`  ${start + batch.length}/${products.length}: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged`);
	}
	log(`Done: ${total.created} created, ${total.updated} updated, ${total.unchanged} unchanged.`);
	return total;
}

/** CLI entry: parses argv, runs the import, exits 0 on success and 1 on any failure. */
export async function main(argv: string[]): Promise<number> {
	const args = [...argv];
	const urlFlag = args.indexOf("--url");
	try {
		const config = loadConfig();
		const url = urlFlag >= 0 ? args.splice(urlFlag, 2)[1] : config.shopUrl;
		if (args.length !== 1 || !url) {
			console.error("Usage: npm run import -- <file.json> [--url http://localhost:3000]");
			return 1;
		}
		const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), args[0]);
		await importCatalog(file, { url, secret: config.jwtSecret });
		return 0;
	} catch (err) {
		console.error(err instanceof ImportError || err instanceof ConfigError ? err.message : err);
		return 1;
	}
}

if (require.main === module) {
	main(process.argv.slice(2)).then(code => process.exit(code));
}
