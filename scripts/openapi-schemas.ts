/**
 * `npm run openapi:schemas`: writes lib/response-schemas.json, the JSON Schemas of the API's success bodies
 * (types/api-responses.ts), with ts-json-schema-generator. `--check` exits 1 when the file differs from what
 * the types give now (test/http/openapi.test.ts runs `responseSchemas()` the same way).
 */
import fs from "node:fs";
import path from "node:path";
import { createGenerator } from "ts-json-schema-generator";

const ROOT = path.resolve(__dirname, __filename.endsWith(".ts") ? ".." : "../..");
export const SCHEMAS_FILE = path.join(ROOT, "lib/response-schemas.json");

/** The schemas, by response name, with `$ref`s to `#/components/schemas/<name>` as OpenAPI nests them. */
export function responseSchemas(): Record<string, unknown> {
	const generator = createGenerator({ path: path.join(ROOT, "types/api-responses.ts"), tsconfig: path.join(ROOT, "tsconfig.json"), type: "ApiResponses", expose: "export", topRef: false, skipTypeCheck: true, additionalProperties: false });
	const schema = generator.createSchema("ApiResponses") as { properties: Record<string, unknown>; definitions: Record<string, unknown> };
	// Component names allow [A-Za-z0-9._-] only: `Page<Product>` becomes `Page_Product_`.
	const name = (raw: string) => decodeURIComponent(raw).replace(/[^A-Za-z0-9._-]/g, "_");
	const components = Object.fromEntries(Object.entries({ ...schema.properties, ...schema.definitions }).map(([key, value]) => [name(key), value]));
	const text = JSON.stringify(components).replace(/"#\/definitions\/([^"]+)"/g, (_, ref: string) => `"#/components/schemas/${name(ref)}"`);
	return JSON.parse(text);
}

if (require.main === module) {
	const fresh = `${JSON.stringify(responseSchemas(), null, 2)}\n`;
	if (process.argv.includes("--check")) {
		const same = fs.existsSync(SCHEMAS_FILE) && fs.readFileSync(SCHEMAS_FILE, "utf8") === fresh;
		if (!same) console.error("lib/response-schemas.json is out of date: run npm run openapi:schemas");
		process.exit(same ? 0 : 1);
	}
	fs.writeFileSync(SCHEMAS_FILE, fresh);
	console.log(`Wrote ${path.relative(ROOT, SCHEMAS_FILE)}`);
}
