/**
 * A small kustomize renderer for the tests of k8s/: exactly the features k8s/ uses, and an error for any other,
 * so a manifest change that this renderer would silently misread fails the tests instead.
 * - `resources`: files (multi-document YAML) and directories holding a kustomization.yaml, recursively;
 * - `patches`: strategic-merge patches (by kind+name, or applied to every `target` match, the patch's own name
 *   ignored; `$patch: delete` removes the resource) and JSON 6902 patches (add, replace, remove);
 * - `namespace`, then `images` (newName, newTag), in kustomize's order: patches, namespace, images.
 * `kubectl kustomize k8s/overlays/<name>` renders the same objects (checked by hand with kustomize v5.5).
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A rendered Kubernetes object (only the fields the renderer needs are typed). */
export interface K8sObject extends JsonObject {
	apiVersion: string;
	kind: string;
	metadata: { name: string; namespace?: string; labels?: Record<string, string> } & JsonObject;
}

interface Target {
	kind?: string;
	name?: string;
	labelSelector?: string;
}

const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "resources", "namespace", "images", "patches", "configMapGenerator", "generatorOptions"]);
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PersistentVolume"]);

export function isObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clone<T extends Json>(value: T): T {
	return structuredClone(value);
}

/** Parses every non-empty document of a YAML file; throws on a YAML error. */
export function loadYamlFile(file: string): Json[] {
	const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
	if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
	return docs.flatMap(doc => {
		if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map(e => e.message).join("; ")}`);
		const value = doc.toJS() as Json;
		return value == null ? [] : [value];
	});
}

function asK8sObject(value: Json, origin: string): K8sObject {
	if (!isObject(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string" || !isObject(value.metadata) || typeof value.metadata.name !== "string") {
		throw new Error(`${origin}: a document without apiVersion, kind and metadata.name`);
	}
	return value as K8sObject;
}

// ---- strategic merge ------------------------------------------------------------------------------------------

/** Merge keys of the lists that strategic merge merges item by item (every other list is replaced). */
function mergeKey(listName: string, parentPath: string[]): string | null {
	switch (listName) {
		case "containers":
		case "initContainers":
		case "env":
		case "volumes":
		case "imagePullSecrets":
			return "name";
		case "volumeMounts":
			return "mountPath";
		case "ports":
			// Container ports merge by containerPort, Service ports by port (as kustomize does).
			if (parentPath.includes("containers") || parentPath.includes("initContainers")) return "containerPort";
			if (parentPath[parentPath.length - 1] === "spec") return "port";
			throw new Error(`strategic merge of ${parentPath.join(".")}.ports is not supported`);
		default:
			return null;
	}
}

/** Strategic merge of `patch` into `base` (a new value; neither input changes). */
export function strategicMerge(base: Json | undefined, patch: Json, pathSoFar: string[] = []): Json {
	if (isObject(patch)) {
		if ("$patch" in patch) throw new Error(`unsupported $patch directive at ${pathSoFar.join(".") || "top level"}`);
		const result: JsonObject = isObject(base) ? clone(base) : {};
		for (const [key, value] of Object.entries(patch)) {
			if (value === null) delete result[key];
			else result[key] = strategicMerge(result[key], value, [...pathSoFar, key]);
		}
		return result;
	}
	if (Array.isArray(patch)) {
		const listName = pathSoFar[pathSoFar.length - 1] ?? "";
		const key = mergeKey(listName, pathSoFar.slice(0, -1));
		if (key == null || !Array.isArray(base)) return clone(patch);
		const result = clone(base);
		for (const item of patch) {
			if (!isObject(item) || item[key] === undefined) throw new Error(`${pathSoFar.join(".")}: an item without ${key}`);
			const index = result.findIndex(existing => isObject(existing) && existing[key] === item[key]);
			if (index >= 0) result[index] = strategicMerge(result[index], item, [...pathSoFar, String(item[key])]);
			else result.push(clone(item));
		}
		return result;
	}
	return patch;
}

// ---- JSON 6902 -------------------------------------------------------------------------------------------------

interface JsonPatchOp {
	op: string;
	path: string;
	value?: Json;
}

function pointer(p: string): string[] {
	if (!p.startsWith("/")) throw new Error(`JSON pointer "${p}" must start with /`);
	return p.slice(1).split("/").map(part => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Applies JSON 6902 operations (add, replace, remove) to a copy of `doc`. */
export function applyJson6902(doc: JsonObject, ops: JsonPatchOp[]): JsonObject {
	const result = clone(doc);
	for (const { op, path: p, value } of ops) {
		if ((op === "add" || op === "replace") && value === undefined) throw new Error(`JSON patch ${op} ${p}: no value`);
		const parts = pointer(p);
		const last = parts.pop() as string;
		let parent: Json = result;
		for (const part of parts) {
			const next: Json | undefined = Array.isArray(parent) ? parent[Number(part)] : isObject(parent) ? parent[part] : undefined;
			if (next === undefined || next === null) throw new Error(`JSON patch ${op} ${p}: ${part} does not exist`);
			parent = next;
		}
		if (Array.isArray(parent)) {
			const index = last === "-" ? parent.length : Number(last);
			if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`JSON patch ${op} ${p}: bad index`);
			if (op === "add") parent.splice(index, 0, clone(value as Json));
			else if (op === "replace" && index < parent.length) parent[index] = clone(value as Json);
			else if (op === "remove" && index < parent.length) parent.splice(index, 1);
			else throw new Error(`JSON patch ${op} ${p}: unsupported or out of range`);
		} else if (isObject(parent)) {
			if (op === "add") parent[last] = clone(value as Json);
			else if ((op === "replace" || op === "remove") && last in parent) {
				if (op === "replace") parent[last] = clone(value as Json);
				else delete parent[last];
			} else throw new Error(`JSON patch ${op} ${p}: unsupported op or missing path`);
		} else throw new Error(`JSON patch ${op} ${p}: parent is not a container`);
	}
	return result;
}

// ---- targets, images -------------------------------------------------------------------------------------------

function matches(object: K8sObject, target: Target): boolean {
	if (target.kind != null && object.kind !== target.kind) return false;
	if (target.name != null && !new RegExp(`^(?:${target.name})$`).test(object.metadata.name)) return false;
	if (target.labelSelector != null) {
		for (const term of target.labelSelector.split(",")) {
			const m = /^\s*([\w./-]+)\s*=\s*([\w.-]+)\s*$/.exec(term);
			if (m == null) throw new Error(`unsupported labelSelector term "${term}" (only key=value)`);
			if (object.metadata.labels?.[m[1]] !== m[2]) return false;
		}
	}
	return true;
}

/** Splits an image reference into name, tag and digest (a port in the registry host is not a tag). */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
	const [rest, digest] = image.split("@") as [string, string | undefined];
	const colon = rest.lastIndexOf(":");
	const tagged = colon > rest.lastIndexOf("/");
	return { name: tagged ? rest.slice(0, colon) : rest, tag: tagged ? rest.slice(colon + 1) : undefined, digest };
}

interface ImageRule {
	name: string;
	newName?: string;
	newTag?: string;
}

function applyImages(objects: K8sObject[], rules: ImageRule[]): void {
	for (const object of objects) {
		const spec = object.spec;
		const template = isObject(spec) && isObject(spec.template) ? spec.template : null;
		const podSpec = template && isObject(template.spec) ? template.spec : null;
		if (podSpec == null) continue;
		for (const list of [podSpec.containers, podSpec.initContainers]) {
			if (!Array.isArray(list)) continue;
			for (const container of list) {
				if (!isObject(container) || typeof container.image !== "string") continue;
				const image = parseImage(container.image);
				const rule = rules.find(r => r.name === image.name);
				if (rule == null) continue;
				const tag = rule.newTag ?? image.tag;
				container.image = `${rule.newName ?? image.name}${tag != null ? `:${tag}` : ""}${image.digest != null ? `@${image.digest}` : ""}`;
			}
		}
	}
}

// ---- kustomization ---------------------------------------------------------------------------------------------

function readKustomization(dir: string): JsonObject {
	const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map(name => path.join(dir, name)).find(f => fs.existsSync(f));
	if (file == null) throw new Error(`${dir}: no kustomization.yaml`);
	const [doc, ...more] = loadYamlFile(file);
	if (!isObject(doc) || more.length > 0) throw new Error(`${file}: must hold one mapping`);
	for (const key of Object.keys(doc)) if (!KUSTOMIZATION_KEYS.has(key)) throw new Error(`${file}: "${key}" is not supported by the test renderer`);
	return doc;
}

function stringList(value: Json | undefined, what: string): string[] {
	if (value === undefined) return [];
	if (!Array.isArray(value) || !value.every(v => typeof v === "string")) throw new Error(`${what} must be a list of strings`);
	return value as string[];
}

/** Renders the kustomization in `dir` (a base or an overlay) to its list of objects. */
/**
 * The ConfigMaps of `configMapGenerator` (`name`, `files` as paths or `key=path`, `options.labels`), as
 * kustomize builds them with `generatorOptions.disableNameSuffixHash: true` (the only form supported here).
 */
function generatedConfigMaps(dir: string, kustomization: Record<string, unknown>): K8sObject[] {
	const generators = (kustomization.configMapGenerator ?? []) as { name: string; files?: string[]; options?: { labels?: Record<string, string> } }[];
	if (generators.length && (kustomization.generatorOptions as { disableNameSuffixHash?: boolean } | undefined)?.disableNameSuffixHash !== true) {
		throw new Error(`${dir}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true in the test renderer`);
	}
	return generators.map(generator => {
		const data = Object.fromEntries(
			(generator.files ?? []).map(entry => {
				const [key, file] = entry.includes("=") ? entry.split("=") : [path.basename(entry), entry];
				return [key, fs.readFileSync(path.resolve(dir, file), "utf8")];
			})
		);
		return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: generator.name, ...(generator.options?.labels && { labels: generator.options.labels }) }, data } as unknown as K8sObject;
	});
}

export function render(dir: string): K8sObject[] {
	const kustomization = readKustomization(dir);
	let objects: K8sObject[] = [];
	for (const entry of stringList(kustomization.resources, `${dir} resources`)) {
		const full = path.resolve(dir, entry);
		if (fs.statSync(full).isDirectory()) objects.push(...render(full));
		else objects.push(...loadYamlFile(full).map(doc => asK8sObject(doc, full)));
	}

	objects.push(...generatedConfigMaps(dir, kustomization));

	const patches = kustomization.patches ?? [];
	if (!Array.isArray(patches)) throw new Error(`${dir}: patches must be a list`);
	for (const entry of patches) {
		if (!isObject(entry)) throw new Error(`${dir}: a patch must be a mapping`);
		const target = (entry.target ?? undefined) as Target | undefined;
		if (target != null) for (const key of Object.keys(target)) if (!["kind", "name", "labelSelector"].includes(key)) throw new Error(`${dir}: target.${key} is not supported`);
		const docs =
			typeof entry.path === "string"
				? loadYamlFile(path.resolve(dir, entry.path))
				: typeof entry.patch === "string"
					? parseAllDocuments(entry.patch).map(d => d.toJS() as Json)
					: [];
		if (docs.length !== 1) throw new Error(`${dir}: each patch must hold exactly one document`);
		const doc = docs[0];
		if (Array.isArray(doc)) {
			// JSON 6902: a list of operations, applied to every target match.
			if (target == null) throw new Error(`${dir}: a JSON 6902 patch needs a target`);
			const selected = objects.filter(o => matches(o, target));
			if (selected.length === 0) throw new Error(`${dir}: JSON 6902 patch target matches nothing`);
			objects = objects.map(o => (selected.includes(o) ? (applyJson6902(o, doc as unknown as JsonPatchOp[]) as K8sObject) : o));
			continue;
		}
		const patch = asK8sObject(doc, `${dir} patch`);
		const selected = objects.filter(o => (target != null ? matches(o, target) : o.kind === patch.kind && o.metadata.name === patch.metadata.name));
		if (selected.length === 0) throw new Error(`${dir}: patch ${patch.kind}/${patch.metadata.name} matches nothing`);
		if (patch.$patch === "delete") {
			objects = objects.filter(o => !selected.includes(o));
			continue;
		}
		const body: JsonObject = clone(patch);
		delete body.apiVersion;
		delete body.kind;
		if (isObject(body.metadata)) {
			// The name (and namespace) of a targeted patch are ignored, as in kustomize.
			delete body.metadata.name;
			delete body.metadata.namespace;
		}
		objects = objects.map(o => (selected.includes(o) ? (strategicMerge(o, body) as K8sObject) : o));
	}

	if (kustomization.namespace !== undefined) {
		if (typeof kustomization.namespace !== "string") throw new Error(`${dir}: namespace must be a string`);
		for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = kustomization.namespace;
	}

	const images = kustomization.images ?? [];
	if (!Array.isArray(images) || !images.every(i => isObject(i) && typeof i.name === "string" && Object.keys(i).every(k => ["name", "newName", "newTag"].includes(k)))) {
		throw new Error(`${dir}: images entries take name, newName and newTag only`);
	}
	applyImages(objects, images as unknown as ImageRule[]);
	return objects;
}
