/**
 * Offline checks of terraform/ (no terraform binary, no network): every .tf file is parsed with @cdktf/hcl2json and
 * the parsed configuration is checked for layout, version pins, remote state, variables, outputs, one Deployment per
 * node type found in services/, probes, the container hardening, and the absence of kubectl / local files.
 *
 * hcl2json renders expressions as "${...}" strings (e.g. `for_each = var.replicas` becomes "${var.replicas}"), so
 * references to locals and variables are resolved by hand where a literal value matters (ports, chart versions).
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "@cdktf/hcl2json";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ROOT = path.resolve(__dirname, "../..");
const TF_ROOT = path.join(ROOT, "terraform");
const SHOP_DIR = "modules/shop";
const AWS_DIR = "envs/aws";
const REQUIRED_FILES = ["versions.tf", "variables.tf", "outputs.tf", "main.tf"];
const DEPLOYMENT_TYPES = ["kubernetes_deployment", "kubernetes_deployment_v1"];
const HEALTH_PORT = 3001;
const GATEWAY_PORT = 3000;

/** Every environment variable a node reads (README env table); the last three are secrets. */
const NODE_ENV_VARS = [
	"TRANSPORTER",
	"CACHER",
	"MONGO_URI",
	"NAMESPACE",
	"LOGLEVEL",
	"NODE_ENV",
	"PORT",
	"HEALTH_PORT",
	"METRICS_PORT",
	"RATE_LIMIT",
	"AUTH_RATE_LIMIT",
	"TRUSTED_PROXIES",
	"ORDER_RECOVERY_AFTER"
];
const SECRET_ENV_VARS = ["JWT_SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD"];

interface TfFile {
	/** Path relative to terraform/, with forward slashes. */
	rel: string;
	dir: string;
	text: string;
	json: JsonObject;
}

interface TfDir {
	dir: string;
	files: TfFile[];
	/** All files of the directory merged (objects merged key by key, block lists concatenated). */
	config: JsonObject;
}

function isObject(value: Json | undefined): value is JsonObject {
	return value != null && typeof value === "object" && !Array.isArray(value);
}

/** A block list as hcl2json renders it ([{...}, ...]); a single object counts as one block; anything else as none. */
function blocks(value: Json | undefined): JsonObject[] {
	if (Array.isArray(value)) return value.filter(isObject);
	return isObject(value) ? [value] : [];
}

function block(value: Json | undefined, what: string): JsonObject {
	const list = blocks(value);
	if (list.length !== 1) throw new Error(`expected exactly one ${what} block, found ${list.length}`);
	return list[0];
}

function merge(target: JsonObject, source: JsonObject): JsonObject {
	for (const [key, value] of Object.entries(source)) {
		const existing = target[key];
		if (Array.isArray(existing) && Array.isArray(value)) target[key] = [...existing, ...value];
		else if (isObject(existing) && isObject(value)) target[key] = merge({ ...existing }, value);
		else target[key] = value;
	}
	return target;
}

function listTfFiles(dir: string): string[] {
	if (!fs.existsSync(dir)) return [];
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return entry.name === ".terraform" ? [] : listTfFiles(full);
		return entry.isFile() && entry.name.endsWith(".tf") ? [full] : [];
	});
}

/** Node types: services/<type>.service.ts. */
function nodeTypes(): string[] {
	return fs
		.readdirSync(path.join(ROOT, "services"))
		.filter(name => name.endsWith(".service.ts"))
		.map(name => name.slice(0, -".service.ts".length))
		.sort();
}

/** "${var.x}" → "var", "x"; anything else → null. */
function reference(value: Json | undefined): { kind: "var" | "local"; name: string } | null {
	if (typeof value !== "string") return null;
	const match = /^\$\{(var|local)\.([A-Za-z0-9_-]+)\}$/.exec(value.trim());
	return match ? { kind: match[1] as "var" | "local", name: match[2] } : null;
}

function variables(dir: TfDir): Record<string, JsonObject> {
	const out: Record<string, JsonObject> = {};
	const all = dir.config.variable;
	if (isObject(all)) for (const [name, value] of Object.entries(all)) out[name] = block(value, `variable "${name}"`);
	return out;
}

function locals(dir: TfDir): JsonObject {
	return blocks(dir.config.locals).reduce<JsonObject>((all, one) => ({ ...all, ...one }), {});
}

/** Follows var.x (to its default) and local.x references until a value that is not a plain reference. */
function resolve(dir: TfDir, value: Json | undefined, depth = 0): Json | undefined {
	const ref = reference(value);
	if (ref == null || depth > 10) return value;
	if (ref.kind === "local") return resolve(dir, locals(dir)[ref.name], depth + 1);
	return resolve(dir, variables(dir)[ref.name]?.default, depth + 1);
}

function resources(dir: TfDir, type: string): Record<string, JsonObject> {
	const out: Record<string, JsonObject> = {};
	const byType = isObject(dir.config.resource) ? dir.config.resource[type] : undefined;
	if (isObject(byType)) for (const [name, value] of Object.entries(byType)) out[name] = block(value, `${type}.${name}`);
	return out;
}

function modules(dir: TfDir): Record<string, JsonObject> {
	const out: Record<string, JsonObject> = {};
	const all = dir.config.module;
	if (isObject(all)) for (const [name, value] of Object.entries(all)) out[name] = block(value, `module "${name}"`);
	return out;
}

/** Follows a path of block names (each a one-block list). */
function dig(root: JsonObject, ...names: string[]): JsonObject {
	return names.reduce((node, name) => block(node[name], name), root);
}

/** Every object nested anywhere in `value`, with the key it was found under. */
function* walk(value: Json | undefined, key = ""): Generator<[string, JsonObject]> {
	if (Array.isArray(value)) for (const item of value) yield* walk(item, key);
	else if (isObject(value)) {
		yield [key, value];
		for (const [childKey, child] of Object.entries(value)) yield* walk(child, childKey);
	}
}

/** Keys of a map whether hcl2json gave an object or an expression string such as "${merge(var.x, {A = 1})}". */
function mapKeys(value: Json | undefined): string[] {
	if (isObject(value)) return Object.keys(value);
	if (typeof value === "string") return [...value.matchAll(/(?:^|[\s{,(])"?([A-Za-z_][A-Za-z0-9_]*)"?\s*=(?!=)/g)].map(m => m[1]);
	return [];
}

/** A version constraint Terraform accepts: one or more comma-separated `op? x.y[.z]` terms. */
const CONSTRAINT = /^\s*(?:(?:=|!=|>=?|<=?|~>)?\s*v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?\s*)(?:,\s*(?:=|!=|>=?|<=?|~>)?\s*v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?\s*)*$/;

let files: TfFile[] = [];
const dirs = new Map<string, TfDir>();

function tfDir(dir: string): TfDir {
	const found = dirs.get(dir);
	if (found == null) throw new Error(`terraform/${dir} has no .tf files`);
	return found;
}

function deployment(): { type: string; name: string; body: JsonObject } {
	const shop = tfDir(SHOP_DIR);
	const found = DEPLOYMENT_TYPES.flatMap(type => Object.entries(resources(shop, type)).map(([name, body]) => ({ type, name, body })));
	expect(found).toHaveLength(1);
	return found[0];
}

function container(): JsonObject {
	const template = dig(deployment().body, "spec", "template", "spec");
	const containers = blocks(template.container);
	expect(containers).toHaveLength(1);
	return containers[0];
}

beforeAll(async () => {
	files = await Promise.all(
		listTfFiles(TF_ROOT)
			.sort()
			.map(async full => {
				const rel = path.relative(TF_ROOT, full).split(path.sep).join("/");
				const text = fs.readFileSync(full, "utf8");
				const json = (await parse(rel, text)) as JsonObject;
				return { rel, dir: path.posix.dirname(rel), text, json };
			})
	);
	for (const file of files) {
		const dir = dirs.get(file.dir) ?? { dir: file.dir, files: [], config: {} };
		dir.files.push(file);
		merge(dir.config, file.json);
		dirs.set(file.dir, dir);
	}
}, 60_000);

describe("terraform/ layout", () => {
	test("has the shop module and the AWS environment, and every .tf file parses", () => {
		expect([...dirs.keys()].sort()).toEqual(expect.arrayContaining([AWS_DIR, SHOP_DIR]));
		for (const file of files) expect(Object.keys(file.json).length).toBeGreaterThan(0);
	});

	test("every directory is split into versions.tf, variables.tf, outputs.tf and main.tf", () => {
		expect(dirs.size).toBeGreaterThanOrEqual(2);
		for (const dir of dirs.values()) {
			const names = dir.files.map(file => path.posix.basename(file.rel));
			expect({ dir: dir.dir, files: names }).toEqual({ dir: dir.dir, files: expect.arrayContaining(REQUIRED_FILES) });
		}
	});

	test("versions.tf alone holds required_version and required_providers", () => {
		for (const dir of dirs.values()) {
			const holders = dir.files.filter(file =>
				blocks(file.json.terraform).some(t => t.required_version !== undefined || t.required_providers !== undefined)
			);
			expect({ dir: dir.dir, files: holders.map(file => path.posix.basename(file.rel)) }).toEqual({ dir: dir.dir, files: ["versions.tf"] });
		}
	});
});

describe("version pins", () => {
	test("required_version is a version constraint in every directory", () => {
		for (const dir of dirs.values()) {
			const versions = blocks(dir.config.terraform).map(t => t.required_version).filter(v => v !== undefined);
			expect({ dir: dir.dir, versions }).toEqual({ dir: dir.dir, versions: [expect.stringMatching(CONSTRAINT)] });
		}
	});

	test("every required provider has a source and a version constraint", () => {
		for (const dir of dirs.values()) {
			const providers = blocks(dir.config.terraform).flatMap(t => blocks(t.required_providers));
			const entries = providers.flatMap(p => Object.entries(p));
			expect(entries.length).toBeGreaterThan(0);
			for (const [name, spec] of entries) {
				expect({ dir: dir.dir, name, spec }).toEqual({
					dir: dir.dir,
					name,
					spec: expect.objectContaining({ source: expect.stringMatching(/^[a-z0-9-]+\/[a-z0-9-]+$/), version: expect.stringMatching(CONSTRAINT) })
				});
			}
		}
	});

	test("every provider a directory uses (resources, data sources, provider blocks) is declared with a pin", () => {
		for (const dir of dirs.values()) {
			const declared = new Set(blocks(dir.config.terraform).flatMap(t => blocks(t.required_providers)).flatMap(p => Object.keys(p)));
			const used = new Set<string>();
			for (const kind of ["resource", "data"]) {
				const byType = dir.config[kind];
				if (isObject(byType)) for (const type of Object.keys(byType)) used.add(type.split("_")[0]);
			}
			if (isObject(dir.config.provider)) for (const name of Object.keys(dir.config.provider)) used.add(name);
			used.delete("terraform"); // terraform_data / terraform_remote_state are built in
			expect(used.size).toBeGreaterThan(0);
			for (const provider of used) expect({ dir: dir.dir, provider, declared: declared.has(provider) }).toEqual({ dir: dir.dir, provider, declared: true });
		}
	});

	test("registry module sources in envs/aws are pinned with version, local ones exist", () => {
		const mods = modules(tfDir(AWS_DIR));
		expect(Object.keys(mods).length).toBeGreaterThan(0);
		for (const [name, mod] of Object.entries(mods)) {
			const source = mod.source;
			expect(typeof source).toBe("string");
			if (typeof source !== "string") continue;
			if (source.startsWith("./") || source.startsWith("../")) {
				expect({ name, exists: fs.existsSync(path.join(TF_ROOT, AWS_DIR, source, "main.tf")) }).toEqual({ name, exists: true });
				expect({ name, version: mod.version }).toEqual({ name, version: undefined });
			} else {
				expect({ name, version: mod.version }).toEqual({ name, version: expect.stringMatching(CONSTRAINT) });
			}
		}
	});

	test("envs/aws uses terraform-aws-modules vpc (5.x) and eks (20.x) and calls ../../modules/shop", () => {
		const mods = Object.values(modules(tfDir(AWS_DIR)));
		const bySource = (source: string) => mods.filter(mod => mod.source === source);
		expect(bySource("terraform-aws-modules/vpc/aws")).toEqual([expect.objectContaining({ version: expect.stringMatching(/^\s*(~>|=)?\s*5\.\d+/) })]);
		expect(bySource("terraform-aws-modules/eks/aws")).toEqual([expect.objectContaining({ version: expect.stringMatching(/^\s*(~>|=)?\s*20\.\d+/) })]);
		const shop = bySource("../../modules/shop");
		expect(shop).toHaveLength(1);
		for (const input of ["image", "jwt_secret", "admin_email", "admin_password"]) expect(shop[0][input]).toBe(`\${var.${input}}`);
		const eks = bySource("terraform-aws-modules/eks/aws")[0];
		expect(Object.keys(isObject(eks.eks_managed_node_groups) ? eks.eks_managed_node_groups : {}).length).toBeGreaterThan(0);
		expect(String(eks.vpc_id)).toContain("module.vpc.");
	});

	test("every helm_release in the shop module pins an exact chart version", () => {
		const shop = tfDir(SHOP_DIR);
		const releases = resources(shop, "helm_release");
		const charts = Object.values(releases).map(release => release.chart).sort();
		expect(charts).toEqual(["mongodb", "nats", "redis"]);
		for (const [name, release] of Object.entries(releases)) {
			expect({ name, version: resolve(shop, release.version) }).toEqual({ name, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
			expect({ name, repository: release.repository }).toEqual({ name, repository: expect.stringMatching(/^(https|oci):\/\//) });
		}
		const nats = Object.values(releases).find(release => release.chart === "nats");
		expect(JSON.stringify(nats?.values)).toMatch(/jetstream\s*=\s*\{[^}]*enabled\s*=\s*true/);
	});
});

describe("remote state (envs/aws)", () => {
	test("the S3 backend is encrypted and locked with DynamoDB", () => {
		const backends = blocks(tfDir(AWS_DIR).config.terraform).flatMap(t => (isObject(t.backend) ? Object.entries(t.backend) : []));
		expect(backends.map(([type]) => type)).toEqual(["s3"]);
		const s3 = block(backends[0][1], "backend s3");
		expect(s3.encrypt).toBe(true);
		for (const key of ["bucket", "key", "region", "dynamodb_table"]) {
			expect({ key, value: s3[key] }).toEqual({ key, value: expect.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/) });
		}
	});

	test("only the root module has a backend and provider configuration", () => {
		for (const dir of dirs.values()) {
			if (dir.dir === AWS_DIR) continue;
			expect({ dir: dir.dir, backend: blocks(dir.config.terraform).some(t => t.backend !== undefined) }).toEqual({ dir: dir.dir, backend: false });
			expect({ dir: dir.dir, provider: dir.config.provider }).toEqual({ dir: dir.dir, provider: undefined });
		}
	});

	test("the kubernetes and helm providers are configured from the EKS module outputs", () => {
		const providers = tfDir(AWS_DIR).config.provider;
		expect(isObject(providers)).toBe(true);
		if (!isObject(providers)) return;
		const kubernetes = block(providers.kubernetes, "provider kubernetes");
		const helm = dig(block(providers.helm, "provider helm"), "kubernetes");
		for (const config of [kubernetes, helm]) {
			expect(config.host).toBe("${module.eks.cluster_endpoint}");
			expect(String(config.cluster_ca_certificate)).toContain("module.eks.cluster_certificate_authority_data");
		}
	});
});

describe("variables and outputs", () => {
	test("the shop module takes image, replicas, namespace, admin_email and sensitive jwt_secret / admin_password", () => {
		const vars = variables(tfDir(SHOP_DIR));
		for (const name of ["image", "replicas", "namespace", "jwt_secret", "admin_email", "admin_password"]) expect(Object.keys(vars)).toContain(name);
		expect(vars.jwt_secret.sensitive).toBe(true);
		expect(vars.admin_password.sensitive).toBe(true);
		expect(vars.image.default).toBeUndefined();
		expect(vars.jwt_secret.default).toBeUndefined();
		expect(vars.admin_password.default).toBeUndefined();
	});

	test("envs/aws takes image and sensitive jwt_secret / admin_password without defaults", () => {
		const vars = variables(tfDir(AWS_DIR));
		for (const name of ["image", "jwt_secret", "admin_email", "admin_password", "region"]) expect(Object.keys(vars)).toContain(name);
		for (const name of ["jwt_secret", "admin_password"]) {
			expect({ name, sensitive: vars[name].sensitive, default: vars[name].default }).toEqual({ name, sensitive: true, default: undefined });
		}
	});

	test("the secret lengths the shop enforces in production are validated up front", () => {
		const vars = variables(tfDir(SHOP_DIR));
		const condition = (name: string) => blocks(vars[name].validation).map(v => String(v.condition)).join(" ");
		expect(condition("jwt_secret")).toMatch(/length\(var\.jwt_secret\)\s*>=\s*32/);
		expect(condition("admin_password")).toMatch(/length\(var\.admin_password\)\s*>=\s*12/);
	});

	test("every variable has a type and a description", () => {
		for (const dir of dirs.values()) {
			const vars = Object.entries(variables(dir));
			expect(vars.length).toBeGreaterThan(0);
			for (const [name, v] of vars) {
				expect({ dir: dir.dir, name, type: typeof v.type, description: typeof v.description }).toEqual({ dir: dir.dir, name, type: "string", description: "string" });
			}
		}
	});

	test("the outputs exist and are described", () => {
		const outputs = (dir: string) => (isObject(tfDir(dir).config.output) ? (tfDir(dir).config.output as JsonObject) : {});
		expect(Object.keys(outputs(SHOP_DIR))).toEqual(expect.arrayContaining(["namespace", "gateway_service_name", "deployments"]));
		expect(Object.keys(outputs(AWS_DIR))).toEqual(expect.arrayContaining(["cluster_name", "cluster_endpoint", "shop_namespace", "gateway_service_name"]));
		for (const dir of [SHOP_DIR, AWS_DIR]) {
			for (const [name, value] of Object.entries(outputs(dir))) {
				const output = block(value, `output "${name}"`);
				expect({ dir, name, value: output.value !== undefined, description: typeof output.description }).toEqual({ dir, name, value: true, description: "string" });
			}
		}
	});
});

describe("shop module: one Deployment per node type", () => {
	test("services/ holds the node types", () => {
		expect(nodeTypes()).toEqual(expect.arrayContaining(["api", "orders", "payments"]));
	});

	test("the replicas default lists exactly the node types of services/, each with at least one replica but the load generator", () => {
		const replicas = variables(tfDir(SHOP_DIR)).replicas;
		expect(isObject(replicas.default)).toBe(true);
		const defaults = isObject(replicas.default) ? replicas.default : {};
		expect(Object.keys(defaults).sort()).toEqual(nodeTypes());
		for (const [node, count] of Object.entries(defaults)) expect({ node, count }).toEqual({ node, count: expect.any(Number) });
		for (const [node, count] of Object.entries(defaults)) expect({ node, count }).toEqual({ node, count: node === "loadgen" ? 0 : expect.any(Number) });
		for (const [node, count] of Object.entries(defaults)) if (node !== "loadgen") expect(count as number).toBeGreaterThanOrEqual(1);
	});

	test("the replicas validation names every node type, so a partial or misspelt map is rejected", () => {
		const replicas = variables(tfDir(SHOP_DIR)).replicas;
		const conditions = blocks(replicas.validation).map(v => String(v.condition)).join(" ");
		for (const node of nodeTypes()) expect({ node, named: conditions.includes(`"${node}"`) }).toEqual({ node, named: true });
		const named = [...conditions.matchAll(/"([a-z][a-z0-9-]*)"/g)].map(m => m[1]);
		expect([...new Set(named)].sort()).toEqual(nodeTypes());
	});

	test("a single Deployment resource iterates over var.replicas and sets SERVICES from each.key", () => {
		const { body } = deployment();
		expect(body.for_each).toBe("${var.replicas}");
		expect(dig(body, "spec").replicas).toBe("${each.value}");
		const services = blocks(container().env).filter(env => env.name === "SERVICES");
		expect(services).toEqual([expect.objectContaining({ value: "${each.key}" })]);
		expect(String(dig(body, "metadata").name)).toContain("${each.key}");
	});

	test("every node reads the ConfigMap and the Secret, which together carry the whole environment", () => {
		const shop = tfDir(SHOP_DIR);
		const envFrom = blocks(container().env_from);
		const refs = envFrom.flatMap(e => [...blocks(e.config_map_ref), ...blocks(e.secret_ref)].map(ref => String(ref.name)));
		expect(refs).toEqual(expect.arrayContaining([expect.stringContaining("kubernetes_config_map"), expect.stringContaining("kubernetes_secret")]));

		const single = (types: string[]) => {
			const found = types.flatMap(type => Object.values(resources(shop, type)));
			expect(found).toHaveLength(1);
			return found[0];
		};
		const configKeys = mapKeys(resolve(shop, single(["kubernetes_config_map", "kubernetes_config_map_v1"]).data));
		const secretKeys = mapKeys(resolve(shop, single(["kubernetes_secret", "kubernetes_secret_v1"]).data));
		const containerKeys = blocks(container().env).map(env => String(env.name));
		for (const name of NODE_ENV_VARS) {
			expect({ name, set: [...configKeys, ...secretKeys, ...containerKeys].includes(name) }).toEqual({ name, set: true });
		}
		for (const name of SECRET_ENV_VARS) {
			expect({ name, inSecret: secretKeys.includes(name), inConfigMap: configKeys.includes(name) }).toEqual({ name, inSecret: true, inConfigMap: false });
		}
		const nodeEnv = resolve(shop, single(["kubernetes_config_map", "kubernetes_config_map_v1"]).data);
		expect(JSON.stringify(nodeEnv)).toMatch(/NODE_ENV\\?"?\s*[=:]\s*\\?"production/);
	});

	test("liveness and readiness probes hit /live and /ready on port 3001", () => {
		const shop = tfDir(SHOP_DIR);
		const c = container();
		const probe = (kind: string) => dig(block(c[kind], kind), "http_get");
		expect(resolve(shop, probe("liveness_probe").port)).toBe(HEALTH_PORT);
		expect(probe("liveness_probe").path).toBe("/live");
		expect(resolve(shop, probe("readiness_probe").port)).toBe(HEALTH_PORT);
		expect(probe("readiness_probe").path).toBe("/ready");
		if (c.startup_probe !== undefined) expect(resolve(shop, probe("startup_probe").port)).toBe(HEALTH_PORT);
		const ports = [...blocks(c.port), ...blocks(isObject(c.dynamic) ? c.dynamic.port : undefined).flatMap(d => blocks(d.content))];
		expect(ports.map(p => resolve(shop, p.container_port))).toEqual(expect.arrayContaining([HEALTH_PORT]));
	});

	test("only the api node exposes the gateway port 3000, behind a Service selecting the api pods", () => {
		const shop = tfDir(SHOP_DIR);
		const c = container();
		const dynamicPorts = blocks(isObject(c.dynamic) ? c.dynamic.port : undefined);
		expect(dynamicPorts).toHaveLength(1);
		expect(String(dynamicPorts[0].for_each)).toMatch(/each\.key\s*==\s*"api"/);
		// The port is a literal or a local in the for_each expression, e.g. { http = local.gateway_port }.
		const expression = String(dynamicPorts[0].for_each);
		const values = [
			...[...expression.matchAll(/local\.([A-Za-z0-9_]+)/g)].map(m => resolve(shop, `\${local.${m[1]}}`)),
			...[...expression.matchAll(/\b(\d{2,5})\b/g)].map(m => Number(m[1]))
		];
		expect(values).toContain(GATEWAY_PORT);

		const services = [...Object.values(resources(shop, "kubernetes_service")), ...Object.values(resources(shop, "kubernetes_service_v1"))];
		expect(services).toHaveLength(1);
		const spec = dig(services[0], "spec");
		expect(String(spec.selector)).toMatch(/\["api"\]|api/);
		expect(blocks(spec.port).map(p => p.target_port)).toEqual(["http"]);
	});

	test("resources, graceful shutdown, non-root uid 1000, read-only root filesystem, dropped capabilities, /tmp emptyDir", () => {
		const shop = tfDir(SHOP_DIR);
		const pod = dig(deployment().body, "spec", "template", "spec");
		const c = container();

		const grace = resolve(shop, pod.termination_grace_period_seconds);
		expect(typeof grace).toBe("number");
		expect(grace as number).toBeGreaterThan(10);

		const res = block(c.resources, "resources");
		expect(res.requests).toBeDefined();
		expect(res.limits).toBeDefined();

		const podSecurity = block(pod.security_context, "pod security_context");
		expect(podSecurity.run_as_non_root).toBe(true);
		expect(resolve(shop, podSecurity.run_as_user)).toBe(1000);

		const security = block(c.security_context, "container security_context");
		expect(security.read_only_root_filesystem).toBe(true);
		expect(security.allow_privilege_escalation).toBe(false);
		expect(security.run_as_non_root).toBe(true);
		expect(resolve(shop, security.run_as_user)).toBe(1000);
		expect(dig(security, "capabilities").drop).toEqual(["ALL"]);

		const tmp = blocks(c.volume_mount).find(m => m.mount_path === "/tmp");
		expect(tmp).toBeDefined();
		const volume = blocks(pod.volume).find(v => v.name === tmp?.name);
		expect(volume?.empty_dir).toBeDefined();

		expect(c.image).toBe("${var.image}");
	});
});

describe("no kubectl, no provisioners, no tracked-file rewriting", () => {
	test("no .tf file mentions local-exec, kubectl or local_file", () => {
		expect(files.length).toBeGreaterThan(0);
		for (const file of files) {
			expect({ file: file.rel, hits: file.text.match(/local-exec|kubectl|local_file/gi) ?? [] }).toEqual({ file: file.rel, hits: [] });
		}
	});

	test("no provisioner blocks, null_resource, external data sources or local/template files", () => {
		const forbiddenTypes = /^(null_resource|local_file|local_sensitive_file|external|template_file|terraform_data)$/;
		for (const file of files) {
			const found: string[] = [];
			for (const kind of ["resource", "data"]) {
				const byType = file.json[kind];
				if (isObject(byType)) found.push(...Object.keys(byType).filter(type => forbiddenTypes.test(type)));
			}
			for (const [key] of walk(file.json)) if (key === "provisioner") found.push("provisioner");
			expect({ file: file.rel, found }).toEqual({ file: file.rel, found: [] });
		}
	});
});
