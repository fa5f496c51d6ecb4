/**
 * The Kubernetes manifests (k8s/): the base and both overlays are rendered by the small kustomize renderer of
 * ./kustomize.ts, every object is validated against the Kubernetes API schemas (kubernetes-models), and the
 * rendered objects are checked against the product: one Deployment per node type found in services/, probes on
 * HEALTH_PORT, ports agreeing with the ConfigMap, hardening, datastores, NetworkPolicies, overlay specifics.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, Namespace, Secret, Service, IContainer, IPodSpec } from "kubernetes-models/v1";
import { Deployment, StatefulSet, IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget, IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler, IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress, NetworkPolicy, IIngress, INetworkPolicy, INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1";
import { IIoK8sApimachineryPkgApisMetaV1LabelSelector as LabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import { applyJson6902, isObject, Json, K8sObject, loadYamlFile, parseImage, render, strategicMerge } from "./kustomize";
import { ConfigError, loadConfig } from "../../lib/config";
import { addressesOf } from "../../lib/preflight";
import { Job } from "kubernetes-models/batch/v1";
import { DEFINITIONS, unknownFields } from "./strict-fields";

const ROOT = path.resolve(__dirname, "../..");
const NAMESPACE = "moleculer-shop";
const SHOP = "moleculer-shop"; // app.kubernetes.io/name of the node pods

/** Node types: every services/<type>.service.ts. A new service without a Deployment fails below. */
const NODE_TYPES = fs
	.readdirSync(path.join(ROOT, "services"))
	.filter(file => file.endsWith(".service.ts"))
	.map(file => file.slice(0, -".service.ts".length))
	.sort();
/**
 * Every shop node type is stateless (state lives in MongoDB, Redis and NATS), so all of them can run twice; the
 * load generator is not part of the shop and stays at 0 replicas in prod until scaled up.
 */
const STATELESS_NODE_TYPES = NODE_TYPES.filter(type => type !== "loadgen");
const AUTOSCALED = ["api", "products", "orders"];
const DATASTORES = ["nats", "redis", "mongo"];

/** Model class per apiVersion/kind: validation of each kind used, and an error for any other. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
	"v1/Namespace": Namespace,
	"v1/ConfigMap": ConfigMap,
	"v1/Secret": Secret,
	"v1/Service": Service,
	"apps/v1/Deployment": Deployment,
	"apps/v1/StatefulSet": StatefulSet,
	"policy/v1/PodDisruptionBudget": PodDisruptionBudget,
	"autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
	"networking.k8s.io/v1/Ingress": Ingress,
	"networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
	"batch/v1/Job": Job
};

function validate(object: K8sObject): void {
	const Model = MODELS[`${object.apiVersion}/${object.kind}`];
	if (Model == null) throw new Error(`${object.apiVersion} ${object.kind} ${object.metadata.name}: no schema model (unknown kind)`);
	new Model(structuredClone(object) as never).validate();
}

// ---- rendered overlays and accessors -----------------------------------------------------------------------------

type OverlayName = "base" | "dev" | "prod";
const DIRS: Record<OverlayName, string> = { base: "k8s/base", dev: "k8s/overlays/dev", prod: "k8s/overlays/prod" };
const rendered = Object.fromEntries(Object.entries(DIRS).map(([name, dir]) => [name, render(path.join(ROOT, dir))])) as Record<OverlayName, K8sObject[]>;

const ofKind = <T>(objects: K8sObject[], kind: string): T[] => objects.filter(o => o.kind === kind) as unknown as T[];
const deployments = (o: OverlayName) => ofKind<IDeployment>(rendered[o], "Deployment");
const podSpec = (d: IDeployment | IStatefulSet): IPodSpec => d.spec?.template.spec as IPodSpec;
const nodeContainer = (d: IDeployment): IContainer => {
	const containers = podSpec(d).containers;
	expect(containers).toHaveLength(1);
	return containers[0];
};
const envValue = (c: IContainer, name: string) => c.env?.find(e => e.name === name)?.value;
const deploymentOf = (o: OverlayName, type: string): IDeployment => {
	const found = deployments(o).filter(d => envValue(nodeContainer(d), "SERVICES") === type);
	expect(found).toHaveLength(1);
	return found[0];
};
/** The generated observability ConfigMaps (dashboard, alert rules): not node settings. */
const OBSERVABILITY_MAPS = ["shop-grafana-dashboard", "shop-prometheus-rules"];
/** The ConfigMaps of node settings (every one but the observability ones). */
const settingsMaps = (objects: K8sObject[]) => ofKind<ConfigMap>(objects, "ConfigMap").filter(m => !OBSERVABILITY_MAPS.includes(m.metadata?.name ?? ""));
const configData = (o: OverlayName): Record<string, string> => {
	const maps = settingsMaps(rendered[o]);
	expect(maps).toHaveLength(1);
	return maps[0].data ?? {};
};
/** A selector's matchLabels and In-expressions against a set of labels. */
function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
	if (selector == null) return false;
	const l = labels ?? {};
	const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v);
	const byExpressions = (selector.matchExpressions ?? []).every(e => {
		if (e.operator !== "In") throw new Error(`selector operator ${e.operator} not handled by the test`);
		return (e.values ?? []).includes(l[e.key]);
	});
	return byLabels && byExpressions;
}
const podLabels = (w: IDeployment | IStatefulSet) => w.spec?.template.metadata?.labels;
/** A CPU quantity ("250m", "1", 0.5) in cores. */
const cpuCores = (q: unknown): number => (String(q).endsWith("m") ? parseFloat(String(q)) / 1000 : parseFloat(String(q)));

// ---- the renderer itself ---------------------------------------------------------------------------------------

describe("test renderer (kustomize subset)", () => {
	it("merges containers by name and container ports by containerPort, replacing other lists", () => {
		const base: Json = { containers: [{ name: "node", env: [{ name: "A", value: "1" }], ports: [{ containerPort: 3000 }], args: ["x"] }] };
		const patch: Json = { containers: [{ name: "node", env: [{ name: "B", value: "2" }], ports: [{ containerPort: 3001 }], args: ["y"] }, { name: "side" }] };
		expect(strategicMerge(base, patch)).toEqual({
			containers: [
				{ name: "node", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 3000 }, { containerPort: 3001 }], args: ["y"] },
				{ name: "side" }
			]
		});
	});

	it("applies JSON 6902 add/replace/remove and rejects other operations", () => {
		const doc = { spec: { a: 1, list: [1, 2] } };
		expect(applyJson6902(doc, [{ op: "replace", path: "/spec/a", value: 2 }, { op: "add", path: "/spec/list/-", value: 3 }, { op: "remove", path: "/spec/list/0" }])).toEqual({ spec: { a: 2, list: [2, 3] } });
		expect(() => applyJson6902(doc, [{ op: "move", path: "/spec/a" }])).toThrow();
		expect(() => applyJson6902(doc, [{ op: "replace", path: "/spec/missing", value: 1 }])).toThrow();
	});

	it("parses image references with registry ports, tags and digests", () => {
		expect(parseImage("localhost:5000/moleculer-shop")).toEqual({ name: "localhost:5000/moleculer-shop", tag: undefined, digest: undefined });
		expect(parseImage("ghcr.io/example/moleculer-shop:0.1.0")).toEqual({ name: "ghcr.io/example/moleculer-shop", tag: "0.1.0", digest: undefined });
	});

	it("finds the node types in services/", () => {
		expect(NODE_TYPES).toEqual(expect.arrayContaining(["api", "customers", "products", "carts", "orders", "payments", "notifications"]));
	});
});

describe("clustered stores in the prod overlay", () => {
	const sets = ofKind<IStatefulSet>(rendered.prod, "StatefulSet");
	const set = (name: string) => sets.find(s => s.metadata?.name === name)!;

	it("runs 3 NATS servers routed to each other, Redis ×3 with Sentinels, a 3-member MongoDB replica set, one per node", () => {
		for (const name of DATASTORES) {
			expect(`${name} ${set(name).spec?.replicas}`).toBe(`${name} 3`);
			expect(podSpec(set(name)).affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0].topologyKey).toBe("kubernetes.io/hostname");
			expect(ofKind<IPodDisruptionBudget>(rendered.prod, "PodDisruptionBudget").find(p => p.metadata?.name === name)?.spec?.maxUnavailable).toBe(1);
		}
		const nats = podSpec(set("nats")).containers[0].args!.join(" ");
		expect(nats).toContain("-js -sd /data");
		expect(nats).toContain("--routes nats://nats-0.nats:6222,nats://nats-1.nats:6222,nats://nats-2.nats:6222");
		expect(podSpec(set("redis")).containers.map(c => c.name)).toEqual(["redis", "sentinel"]);
		expect(podSpec(set("mongo")).containers[0].args).toEqual(expect.arrayContaining(["--replSet", "rs0"]));
		expect(ofKind<K8sObject>(rendered.prod, "Job").map(j => j.metadata.name)).toEqual(["mongo-init-replica-set"]);
		const config = configData("prod");
		expect(loadConfig({ ...config, JWT_SECRET: "x".repeat(32) }).natsStreamReplicas).toBe(3);
		expect(config.CACHER).toMatch(/^redis\+sentinel:\/\//);
		expect(config.MONGO_URI).toContain("replicaSet=rs0");
	});

	it("keeps the base and dev overlay on single servers", () => {
		for (const overlay of ["base", "dev"] as const) for (const s of ofKind<IStatefulSet>(rendered[overlay], "StatefulSet")) expect(s.spec?.replicas).toBe(1);
	});
});

describe("observability ConfigMaps", () => {
	it("render the Grafana dashboard and the alert rules from the files compose mounts, labelled for discovery", () => {
		const maps = ofKind<ConfigMap>(rendered.base, "ConfigMap");
		const dashboard = maps.find(m => m.metadata?.name === "shop-grafana-dashboard");
		expect(dashboard?.metadata?.labels).toEqual({ grafana_dashboard: "1" });
		expect(dashboard?.data?.["shop-dashboard.json"]).toBe(fs.readFileSync(path.join(ROOT, "k8s/base/observability/grafana/shop-dashboard.json"), "utf8"));
		expect(JSON.parse(dashboard!.data!["shop-dashboard.json"]).panels.length).toBeGreaterThan(10);
		expect(maps.find(m => m.metadata?.name === "shop-prometheus-rules")?.data?.["alerts.yml"]).toContain("alert: ShopHighErrorRate");
		for (const overlay of ["dev", "prod"] as const) expect(ofKind<ConfigMap>(rendered[overlay], "ConfigMap").map(m => m.metadata?.name)).toEqual(expect.arrayContaining(["shop-grafana-dashboard", "shop-prometheus-rules"]));
	});
});

describe("strict field validation", () => {
	const deployment = () => structuredClone(deployments("base").find(d => d.metadata?.name?.endsWith("products"))!) as unknown as K8sObject & { spec: any };

	it("reports a misspelled field at any depth, with its path", () => {
		const misspelled = deployment();
		const container = misspelled.spec.template.spec.containers[0];
		container.readinesProbe = container.readinessProbe;
		delete container.readinessProbe;
		misspelled.spec.replica = 2;
		expect(unknownFields(misspelled).sort()).toEqual(["spec.replica", "spec.template.spec.containers[0].readinesProbe"]);
		// The same object passes kubernetes-models' own validation: the reason for this check.
		expect(() => validate(misspelled)).not.toThrow();
	});

	it("accepts free keys where the API has maps (labels, annotations, ConfigMap data)", () => {
		const labelled = deployment();
		labelled.metadata.labels = { ...labelled.metadata.labels, "example.com/any-key": "x" };
		expect(unknownFields(labelled)).toEqual([]);
	});

	it("knows every kind the validator knows", () => {
		expect(Object.keys(MODELS).filter(kind => !(kind in DEFINITIONS))).toEqual([]);
	});
});

// ---- every overlay -----------------------------------------------------------------------------------------------

describe.each(Object.keys(DIRS) as OverlayName[])("k8s %s", overlay => {
	const objects = rendered[overlay];

	it("validates every object against the Kubernetes API schema, kinds known, no unknown field", () => {
		expect(objects.length).toBeGreaterThan(20);
		for (const object of objects) expect(() => validate(object)).not.toThrow();
		for (const object of objects) expect(`${object.kind}/${object.metadata.name}: ${unknownFields(object).join(", ")}`).toBe(`${object.kind}/${object.metadata.name}: `);
	});

	it("holds each kind/name once, everything in namespace moleculer-shop", () => {
		const ids = objects.map(o => `${o.kind}/${o.metadata.name}`);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ofKind<Namespace>(objects, "Namespace").map(n => n.metadata?.name)).toEqual([NAMESPACE]);
		for (const o of objects.filter(o => o.kind !== "Namespace")) expect(`${o.kind}/${o.metadata.name}:${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name}:${NAMESPACE}`);
	});

	it("has exactly one Deployment per node type of services/ (SERVICES=<type>), and no other shop Deployment", () => {
		for (const type of NODE_TYPES) {
			const d = deploymentOf(overlay, type);
			const labels = { "app.kubernetes.io/name": SHOP, "app.kubernetes.io/component": type };
			expect(d.metadata?.labels).toMatchObject(labels);
			expect(podLabels(d)).toMatchObject(labels);
			expect(d.spec?.selector.matchLabels).toEqual(labels);
		}
		expect(deployments(overlay).map(d => envValue(nodeContainer(d), "SERVICES")).sort()).toEqual(NODE_TYPES);
	});

	it("probes /live and /ready on HEALTH_PORT, sets resources and a grace period longer than the 10 s shutdown", () => {
		const healthPort = Number(configData(overlay).HEALTH_PORT);
		for (const d of deployments(overlay)) {
			const c = nodeContainer(d);
			expect(c.livenessProbe?.httpGet).toEqual({ path: "/live", port: healthPort });
			expect(c.readinessProbe?.httpGet).toEqual({ path: "/ready", port: healthPort });
			for (const probe of [c.livenessProbe, c.readinessProbe]) {
				expect(probe?.periodSeconds).toBeGreaterThan(0);
				expect(probe?.failureThreshold).toBeGreaterThanOrEqual(2);
			}
			expect(c.livenessProbe?.initialDelaySeconds).toBeGreaterThanOrEqual(c.readinessProbe?.initialDelaySeconds ?? 0);
			expect(c.ports?.map(p => p.containerPort)).toContain(healthPort);
			for (const key of ["cpu", "memory"]) {
				expect(c.resources?.requests?.[key]).toBeDefined();
				expect(c.resources?.limits?.[key]).toBeDefined();
			}
			expect(podSpec(d).terminationGracePeriodSeconds).toBeGreaterThan(10);
		}
	});

	it("keeps the gateway serving while it leaves the Service, then stops it within the grace period", () => {
		const api = deployments(overlay).find(d => envValue(nodeContainer(d), "SERVICES") === "api")!;
		const command = nodeContainer(api).lifecycle?.preStop?.exec?.command ?? [];
		const seconds = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(command.join(" "))?.[1]) / 1000;
		expect(seconds).toBeGreaterThanOrEqual(3);
		// preStop, then at most the 10 s shutdown tracking, must fit the grace period.
		expect(podSpec(api).terminationGracePeriodSeconds).toBeGreaterThan(seconds + 10);
	});

	it("runs every node non-root (uid 1000), read-only except an emptyDir on /tmp, no capabilities", () => {
		for (const d of deployments(overlay)) {
			const c = nodeContainer(d);
			expect(c.securityContext).toMatchObject({
				runAsNonRoot: true,
				runAsUser: 1000,
				readOnlyRootFilesystem: true,
				allowPrivilegeEscalation: false,
				capabilities: { drop: ["ALL"] },
				seccompProfile: { type: "RuntimeDefault" }
			});
			expect(c.securityContext?.capabilities?.add ?? []).toEqual([]);
			expect(c.securityContext?.privileged ?? false).toBe(false);
			const tmp = c.volumeMounts?.find(m => m.mountPath === "/tmp");
			expect(tmp).toBeDefined();
			expect(podSpec(d).volumes?.find(v => v.name === tmp?.name)?.emptyDir).toBeDefined();
			expect(c.volumeMounts).toHaveLength(1);
		}
	});

	it("reads the ConfigMap and Secret it names, with every required key, values loadConfig accepts", () => {
		const data = configData(overlay);
		for (const key of ["TRANSPORTER", "CACHER", "MONGO_URI", "NAMESPACE", "LOGLEVEL", "NODE_ENV", "HEALTH_PORT", "METRICS_PORT", "PORT", "RATE_LIMIT", "AUTH_RATE_LIMIT", "TRUSTED_PROXIES", "ORDER_RECOVERY_AFTER"]) {
			expect(data).toHaveProperty(key);
		}
		for (const key of ["HEALTH_PORT", "METRICS_PORT", "PORT", "ORDER_RECOVERY_AFTER"]) expect(data[key]).toMatch(/^[1-9]\d*$/);
		const configName = settingsMaps(objects)[0].metadata?.name;
		for (const d of deployments(overlay)) {
			const refs = nodeContainer(d).envFrom ?? [];
			expect(refs.map(r => r.configMapRef?.name ?? r.secretRef?.name)).toEqual([configName, "moleculer-shop-secrets"]);
		}
		// Numbers and lists parse (a production node would still refuse the placeholder secrets, see below).
		expect(() => loadConfig({ ...data, NODE_ENV: "development" })).not.toThrow();
		expect(loadConfig({ ...data, NODE_ENV: "development" }).trustedProxies.length).toBeGreaterThan(0);
	});

	it("agrees on ports: ConfigMap PORT = api container port = Service target, METRICS_PORT = scrape port", () => {
		const data = configData(overlay);
		const [port, metricsPort] = [Number(data.PORT), Number(data.METRICS_PORT)];
		const api = deploymentOf(overlay, "api");
		const http = nodeContainer(api).ports?.find(p => p.containerPort === port);
		expect(http?.name).toBeDefined();
		for (const d of deployments(overlay).filter(d => d !== api)) expect(nodeContainer(d).ports?.map(p => p.containerPort)).not.toContain(port);
		for (const d of deployments(overlay)) {
			expect(d.spec?.template.metadata?.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": String(metricsPort), "prometheus.io/path": "/metrics" });
			expect(nodeContainer(d).ports?.map(p => p.containerPort)).toContain(metricsPort);
		}
		const services = ofKind<Service>(objects, "Service").filter(s => selects({ matchLabels: s.spec?.selector }, podLabels(api)));
		expect(services).toHaveLength(1);
		const servicePort = services[0].spec?.ports?.[0];
		expect([http?.name, port]).toContain(servicePort?.targetPort);
		const ingresses = ofKind<IIngress>(objects, "Ingress");
		expect(ingresses).toHaveLength(1);
		const backend = ingresses[0].spec?.rules?.[0].http?.paths[0].backend.service;
		expect(backend?.name).toBe(services[0].metadata?.name);
		expect([servicePort?.name, servicePort?.port]).toContain(backend?.port?.name ?? backend?.port?.number);
	});

	it("uses one image for every node Deployment", () => {
		const images = new Set(deployments(overlay).map(d => nodeContainer(d).image));
		expect(images.size).toBe(1);
		const expected: Record<OverlayName, string> = { base: "moleculer-shop:0.1.0", dev: "moleculer-shop:dev", prod: "ghcr.io/example/moleculer-shop:0.1.0" };
		expect([...images]).toEqual([expected[overlay]]);
	});

	it("has a PodDisruptionBudget for each node type selecting its pods", () => {
		const pdbs = ofKind<IPodDisruptionBudget>(objects, "PodDisruptionBudget");
		for (const type of STATELESS_NODE_TYPES) {
			const d = deploymentOf(overlay, type);
			const mine = pdbs.filter(p => selects(p.spec?.selector, podLabels(d)));
			expect(mine).toHaveLength(1);
			// maxUnavailable (not minAvailable = replicas) so a drain can always proceed.
			expect(mine[0].spec?.maxUnavailable).toBe(1);
		}
	});

	it("runs NATS (JetStream on a PVC), Redis and MongoDB as StatefulSets behind the Services the ConfigMap names", () => {
		const data = configData(overlay);
		const sets = ofKind<IStatefulSet>(objects, "StatefulSet");
		expect(sets.map(s => s.metadata?.name).sort()).toEqual([...DATASTORES].sort());
		for (const set of sets) {
			const claims = set.spec?.volumeClaimTemplates ?? [];
			expect(claims.length).toBeGreaterThan(0);
			const container = podSpec(set).containers[0];
			expect(container.volumeMounts?.map(m => m.name)).toContain(claims[0].metadata?.name);
			expect(container.resources?.limits?.memory).toBeDefined();
			expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
			expect(podSpec(set).securityContext?.runAsNonRoot).toBe(true);
			const governing = ofKind<Service>(objects, "Service").find(s => s.metadata?.name === set.spec?.serviceName);
			expect(selects({ matchLabels: governing?.spec?.selector }, podLabels(set))).toBe(true);
		}
		const nats = podSpec(sets.find(s => s.metadata?.name === "nats") as IStatefulSet).containers[0];
		expect(nats.args?.join(" ")).toContain("-js -sd /data");
		expect(nats.volumeMounts?.map(m => m.mountPath)).toContain("/data");
		// TRANSPORTER, CACHER and MONGO_URI point at Services of this namespace, by name (`nats`) or by a
		// StatefulSet pod's name under its headless Service (`nats-0.nats`), and at one of their ports.
		for (const key of ["TRANSPORTER", "CACHER", "MONGO_URI"]) {
			for (const address of addressesOf(data[key], 0)) {
				const [host, port] = address.split(":");
				const service = ofKind<Service>(objects, "Service").find(s => s.metadata?.name === (host.includes(".") ? host.split(".")[1] : host));
				expect(`${key} ${address}: ${service?.spec?.ports?.map(p => String(p.port)).includes(port)}`).toBe(`${key} ${address}: true`);
			}
		}
	});

	it("lets only the gateway take traffic from outside the namespace, and only shop pods reach the datastores", () => {
		const policies = ofKind<INetworkPolicy>(objects, "NetworkPolicy");
		const allows = (labels: Record<string, string> | undefined) => policies.filter(p => selects(p.spec?.podSelector, labels) || (Object.keys(p.spec?.podSelector ?? {}).length === 0 && (p.spec?.ingress ?? []).length > 0));
		// Default deny of ingress for every pod.
		expect(policies.some(p => Object.keys(p.spec?.podSelector ?? {}).length === 0 && p.spec?.policyTypes?.includes("Ingress") && (p.spec?.ingress ?? []).length === 0)).toBe(true);
		const port = Number(configData(overlay).PORT);
		const metricsPort = Number(configData(overlay).METRICS_PORT);
		const fromOutside = (peer: INetworkPolicyPeer) => peer.namespaceSelector != null || peer.ipBlock != null;
		// The gateway: reachable from the ingress controller's namespace on PORT.
		const api = deploymentOf(overlay, "api");
		const apiRules = allows(podLabels(api)).flatMap(p => p.spec?.ingress ?? []);
		expect(apiRules.some(r => (r.from ?? []).some(peer => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "ingress-nginx") && (r.ports ?? []).some(p => p.port === port))).toBe(true);
		// Other nodes: from outside only the metrics port (Prometheus).
		for (const d of deployments(overlay).filter(d => d !== api)) {
			for (const rule of allows(podLabels(d)).flatMap(p => p.spec?.ingress ?? [])) {
				if ((rule.from ?? []).length === 0 || (rule.from ?? []).some(fromOutside)) expect(rule.ports?.map(p => p.port)).toEqual([metricsPort]);
			}
		}
		// Datastores: some policy admits the shop pods on the store's port; every rule admits pods of this
		// namespace only: the shop's, or (prod, clustered stores) the stores' own peers and their init Job.
		const peerNames = new Set([SHOP, ...DATASTORES, "mongo-init"]);
		for (const set of ofKind<IStatefulSet>(objects, "StatefulSet")) {
			const rules = allows(podLabels(set)).flatMap(p => p.spec?.ingress ?? []);
			expect(rules.length).toBeGreaterThan(0);
			expect(rules.some(rule => (rule.from ?? []).some(peer => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === SHOP))).toBe(true);
			for (const rule of rules) {
				expect(rule.from?.length).toBeGreaterThan(0);
				for (const peer of rule.from ?? []) {
					expect(fromOutside(peer)).toBe(false);
					const names = [peer.podSelector?.matchLabels?.["app.kubernetes.io/name"], ...(peer.podSelector?.matchExpressions ?? []).flatMap(e => e.values ?? [])].filter(Boolean) as string[];
					expect(names.length > 0 && names.every(name => peerNames.has(name))).toBe(true);
				}
			}
			const storePort = podSpec(set).containers[0].ports?.[0].containerPort;
			expect(rules.flatMap(r => r.ports ?? []).map(p => p.port)).toContain(storePort);
		}
	});
});

// ---- secrets ---------------------------------------------------------------------------------------------------

describe("k8s secret template", () => {
	const PLACEHOLDER = /change-me/i;

	it.each(["base", "dev"] as OverlayName[])("%s: holds placeholders only, as stringData, for the required keys", overlay => {
		const secrets = ofKind<Secret>(rendered[overlay], "Secret");
		expect(secrets).toHaveLength(1);
		expect(secrets[0].data).toBeUndefined();
		const values = secrets[0].stringData ?? {};
		expect(Object.keys(values)).toEqual(expect.arrayContaining(["JWT_SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD"]));
		for (const [key, value] of Object.entries(values)) expect(`${key}=${value}`).toMatch(PLACEHOLDER);
	});

	it("base: a production node refuses to start with the placeholders", () => {
		const secret = ofKind<Secret>(rendered.base, "Secret")[0].stringData ?? {};
		const env = { ...configData("base"), ...secret };
		expect(env.NODE_ENV).toBe("production");
		expect(() => loadConfig(env)).toThrow(ConfigError);
	});

	it("dev: the placeholders are accepted (NODE_ENV is not production)", () => {
		const env = { ...configData("dev"), ...(ofKind<Secret>(rendered.dev, "Secret")[0].stringData ?? {}) };
		expect(env.NODE_ENV).not.toBe("production");
		expect(loadConfig(env).jwtSecretIsDefault).toBe(false);
	});

	it("prod: applies no Secret from git (the real one is managed outside) and runs NODE_ENV=production", () => {
		expect(ofKind<Secret>(rendered.prod, "Secret")).toEqual([]);
		expect(configData("prod").NODE_ENV).toBe("production");
	});

	it("no YAML file under k8s/ (rendered or not) holds a Secret with data or a non-placeholder value", () => {
		const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
		const docs = files(path.join(ROOT, "k8s")).filter(f => /\.ya?ml$/.test(f)).flatMap(f => loadYamlFile(f));
		expect(docs.length).toBeGreaterThan(20);
		const secrets = docs.filter(d => isObject(d) && d.kind === "Secret" && d.$patch !== "delete");
		expect(secrets.length).toBeGreaterThan(0);
		for (const secret of secrets) {
			if (!isObject(secret)) continue;
			expect(secret.data).toBeUndefined();
			for (const value of Object.values(isObject(secret.stringData) ? secret.stringData : {})) expect(String(value)).toMatch(PLACEHOLDER);
		}
	});
});

// ---- overlay specifics -------------------------------------------------------------------------------------------

describe("k8s dev overlay", () => {
	it("runs one replica of every node and datastore, without autoscaling", () => {
		for (const d of deployments("dev")) expect(`${d.metadata?.name}:${d.spec?.replicas}`).toBe(`${d.metadata?.name}:1`);
		for (const s of ofKind<IStatefulSet>(rendered.dev, "StatefulSet")) expect(s.spec?.replicas).toBe(1);
		expect(ofKind<IHorizontalPodAutoscaler>(rendered.dev, "HorizontalPodAutoscaler")).toEqual([]);
	});

	it("uses the locally loaded image (IfNotPresent) with smaller requests than the base", () => {
		for (const type of NODE_TYPES) {
			const [dev, base] = [nodeContainer(deploymentOf("dev", type)), nodeContainer(deploymentOf("base", type))];
			expect(dev.imagePullPolicy).toBe("IfNotPresent");
			expect(parseImage(dev.image ?? "").tag).toBe("dev");
			expect(dev.resources?.requests).not.toEqual(base.resources?.requests);
			expect(cpuCores(dev.resources?.requests?.cpu)).toBeLessThan(cpuCores(base.resources?.requests?.cpu));
		}
	});
});

describe("k8s prod overlay", () => {
	it("runs at least two replicas of every stateless node type, and no load generator until scaled", () => {
		for (const type of STATELESS_NODE_TYPES) expect(`${type}:${(deploymentOf("prod", type).spec?.replicas ?? 1) >= 2}`).toBe(`${type}:true`);
		expect(deploymentOf("prod", "loadgen").spec?.replicas).toBe(0);
	});

	it("autoscales api, products and orders with min >= 2 and max > min, targeting their Deployments", () => {
		const hpas = ofKind<IHorizontalPodAutoscaler>(rendered.prod, "HorizontalPodAutoscaler");
		for (const type of AUTOSCALED) {
			const d = deploymentOf("prod", type);
			const mine = hpas.filter(h => h.spec?.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === d.metadata?.name);
			expect(mine).toHaveLength(1);
			const { minReplicas = 1, maxReplicas } = mine[0].spec ?? { maxReplicas: 0 };
			expect(minReplicas).toBeGreaterThanOrEqual(2);
			expect(maxReplicas).toBeGreaterThan(minReplicas);
			expect(d.spec?.replicas ?? 1).toBeLessThanOrEqual(maxReplicas);
			expect(mine[0].spec?.metrics?.length).toBeGreaterThan(0);
		}
		// The base autoscales the same three.
		expect(ofKind<IHorizontalPodAutoscaler>(rendered.base, "HorizontalPodAutoscaler").map(h => h.spec?.scaleTargetRef.name).sort()).toEqual([...AUTOSCALED].sort());
	});

	it("spreads the replicas of each node type over Kubernetes nodes (pod anti-affinity)", () => {
		for (const d of deployments("prod")) {
			const terms = podSpec(d).affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
			expect(terms.length).toBeGreaterThan(0);
			const term = terms[0].podAffinityTerm;
			expect(term.topologyKey).toBe("kubernetes.io/hostname");
			// The term selects the pod's own kind: shop pods, narrowed to the pod's component.
			expect(selects(term.labelSelector, podLabels(d))).toBe(true);
			expect(term.matchLabelKeys).toContain("app.kubernetes.io/component");
		}
		for (const d of deployments("dev")) expect(podSpec(d).affinity).toBeUndefined();
	});

	it("serves the Ingress over TLS", () => {
		const ingress = ofKind<IIngress>(rendered.prod, "Ingress")[0];
		expect(ingress.spec?.tls?.[0].hosts).toEqual([ingress.spec?.rules?.[0].host]);
	});
});
