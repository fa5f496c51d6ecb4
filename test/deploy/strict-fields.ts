/**
 * Unknown-field checks for rendered Kubernetes objects, as `kubectl apply` does them (strict field
 * validation): kubernetes-models' validators accept any extra property, so a misspelled `readinesProbe`
 * would pass them. No package on the npm registry ships the Kubernetes OpenAPI schemas as strict JSON
 * schemas (the strict flavours of kubernetes-json-schema are published on GitHub only), so the field set is
 * read from kubernetes-models' own definitions — the TypeScript interfaces it generates from the same
 * OpenAPI document — with the TypeScript compiler's type checker, and every property of an object is
 * looked up in its type, recursively (arrays by element type, maps such as `labels` by their value type).
 * Types, enums and required fields stay with kubernetes-models' `validate()`.
 */
import path from "node:path";
import ts from "typescript";

/** apiVersion/kind → the kubernetes-models module and interface that defines it. */
export const DEFINITIONS: Record<string, [module: string, name: string]> = {
	"v1/Namespace": ["kubernetes-models/v1", "INamespace"],
	"v1/ConfigMap": ["kubernetes-models/v1", "IConfigMap"],
	"v1/Secret": ["kubernetes-models/v1", "ISecret"],
	"v1/Service": ["kubernetes-models/v1", "IService"],
	"apps/v1/Deployment": ["kubernetes-models/apps/v1", "IDeployment"],
	"apps/v1/StatefulSet": ["kubernetes-models/apps/v1", "IStatefulSet"],
	"batch/v1/Job": ["kubernetes-models/batch/v1", "IJob"],
	"policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1", "IPodDisruptionBudget"],
	"autoscaling/v2/HorizontalPodAutoscaler": ["kubernetes-models/autoscaling/v2", "IHorizontalPodAutoscaler"],
	"networking.k8s.io/v1/Ingress": ["kubernetes-models/networking.k8s.io/v1", "IIngress"],
	"networking.k8s.io/v1/NetworkPolicy": ["kubernetes-models/networking.k8s.io/v1", "INetworkPolicy"]
};

let cached: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | null = null;

/** Compiles one small file naming every definition (about 2 s, once per test file). */
function program(): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
	if (cached) return cached;
	const keys = Object.keys(DEFINITIONS);
	const source = keys.map((key, i) => `import type { ${DEFINITIONS[key][1]} as T${i} } from "${DEFINITIONS[key][0]}";\nexport declare const v${i}: T${i};`).join("\n");
	const file = path.resolve(__dirname, "__k8s_definitions__.ts");
	const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, types: [] };
	const host = ts.createCompilerHost(options);
	const readFile = host.readFile.bind(host);
	host.readFile = name => (path.resolve(name) === file ? source : readFile(name));
	const fileExists = host.fileExists.bind(host);
	host.fileExists = name => path.resolve(name) === file || fileExists(name);
	const built = ts.createProgram([file], options, host);
	const checker = built.getTypeChecker();
	const sourceFile = built.getSourceFile(file)!;
	const declared = sourceFile.statements.filter(ts.isVariableStatement).map(statement => checker.getTypeAtLocation(statement.declarationList.declarations[0].name));
	cached = { checker, types: new Map(keys.map((key, i) => [key, declared[i]])) };
	return cached;
}

/** The object-like members of `type` (undefined and null dropped from unions). */
function objectMembers(type: ts.Type): ts.Type[] {
	const members = type.isUnion() ? type.types : [type];
	return members.filter(member => (member.flags & ts.TypeFlags.Object) !== 0);
}

function walk(checker: ts.TypeChecker, value: unknown, type: ts.Type, at: string, problems: string[]): void {
	if (value === null || typeof value !== "object") return;
	const candidates = objectMembers(type);
	if (Array.isArray(value)) {
		const arrayType = candidates.find(candidate => checker.isArrayType(candidate));
		if (!arrayType) return;
		const element = checker.getTypeArguments(arrayType as ts.TypeReference)[0];
		value.forEach((item, i) => walk(checker, item, element, `${at}[${i}]`, problems));
		return;
	}
	const objectType = candidates.find(candidate => !checker.isArrayType(candidate));
	if (!objectType) return;
	const index = checker.getIndexInfoOfType(objectType, ts.IndexKind.String);
	for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
		const property = objectType.getProperty(key);
		if (property) walk(checker, child, checker.getNonNullableType(checker.getTypeOfSymbol(property)), `${at}.${key}`, problems);
		else if (index) walk(checker, child, index.type, `${at}.${key}`, problems);
		else problems.push(`${at}.${key}`);
	}
}

/**
 * The paths of every property of `object` that its Kubernetes definition does not have, e.g.
 * `spec.template.spec.containers[0].readinesProbe`. @throws Error for an apiVersion/kind without a definition.
 */
export function unknownFields(object: { apiVersion: string; kind: string }): string[] {
	const { checker, types } = program();
	const type = types.get(`${object.apiVersion}/${object.kind}`);
	if (!type) throw new Error(`${object.apiVersion} ${object.kind}: no definition (add it to DEFINITIONS)`);
	const problems: string[] = [];
	walk(checker, object, type, "", problems);
	return problems.map(problem => problem.replace(/^\./, ""));
}
