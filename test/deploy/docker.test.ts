/**
 * Offline checks of the container build and compose file (no Docker engine here): the Dockerfile's rules
 * (multi-stage, pinned base tag matching the Node version npm pins, `npm ci`, non-root, a HEALTHCHECK, no
 * secrets), .dockerignore, and docker-compose.yml (one service per node type found in services/, one image,
 * env in one file, scalable services, named volumes, NATS with JetStream).
 */
import { NODE_FLAGS } from "../../scripts/node-flags";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The node types: one per services/<type>.service.ts. */
function nodeTypes(): string[] {
	return fs.readdirSync(path.join(ROOT, "services")).filter(f => f.endsWith(".service.ts")).map(f => f.replace(".service.ts", "")).sort();
}

describe("Dockerfile", () => {
	const lines = read("Dockerfile").split("\n").map(l => l.trim()).filter(l => l && !l.startsWith("#"));
	const instructions = lines.filter(l => /^[A-Z]+\s/.test(l));
	const froms = instructions.filter(l => l.startsWith("FROM "));
	const nodeVersion = JSON.parse(read("package.json")).devDependencies.node;

	it("builds in stages from a pinned Node base that matches the pinned runtime", () => {
		expect(froms.length).toBeGreaterThanOrEqual(2);
		for (const from of froms) {
			expect(from).not.toMatch(/:latest\b|^FROM [^:]+(\s|$)/);
			expect(from).toMatch(new RegExp(`^FROM node:${nodeVersion.replace(/\./g, "\\.")}-[a-z-]+ AS \\w+$`));
		}
	});

	it("installs with npm ci, production dependencies only in the final stage", () => {
		expect(instructions.some(l => /\bnpm install\b/.test(l))).toBe(false);
		const finalStage = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]));
		expect(finalStage.some(l => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
		expect(instructions.some(l => /^RUN npm ci\b/.test(l) && !l.includes("--omit=dev"))).toBe(true);
	});

	it("runs as a non-root user with a health check and no baked-in secret", () => {
		const finalStage = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]));
		const user = finalStage.filter(l => l.startsWith("USER ")).pop();
		expect(user).toBeDefined();
		expect(user).not.toMatch(/^USER (root|0)(:|$)/);
		expect(finalStage.findIndex(l => l.startsWith("USER "))).toBeLessThan(finalStage.findIndex(l => l.startsWith("CMD ")));
		expect(finalStage.some(l => l.startsWith("HEALTHCHECK ") && l.includes("--interval"))).toBe(true);
		expect(read("Dockerfile")).toMatch(/\/live/);
		expect(lines.filter(l => /^(ENV|ARG)\b/.test(l)).join(" ")).not.toMatch(/SECRET|PASSWORD|TOKEN/i);
		expect(finalStage.some(l => l.startsWith("CMD ") && l.includes("dist/scripts/start.js"))).toBe(true);
		// The image, npm start and npm run repl run the launcher with the same Node options as the cluster.
		const cmd = finalStage.find(l => l.startsWith("CMD ") && l.includes("dist/scripts/start.js"))!;
		const scripts = JSON.parse(read("package.json")).scripts;
		expect(cmd).toContain(JSON.stringify(["node", ...NODE_FLAGS, "dist/scripts/start.js"]).slice(1, -1).replace(/,/g, ", "));
		expect(scripts.start).toContain(`node ${NODE_FLAGS.join(" ")} dist/scripts/start.js`);
		expect(scripts.repl).toContain(`node ${NODE_FLAGS.join(" ")} dist/scripts/start.js`);
	});

	it("keeps local state and secrets out of the build context", () => {
		const ignored = read(".dockerignore").split("\n").map(l => l.trim());
		for (const entry of ["node_modules", "dist", "data", ".git", ".env", "compose.env"]) expect(ignored).toContain(entry);
	});
});

describe("docker-compose.yml", () => {
	const compose = YAML.parse(read("docker-compose.yml"), { merge: true });
	const services: Record<string, any> = compose.services;
	const nodes = Object.entries(services).filter(([, s]) => s.environment?.SERVICES);

	it("runs one service per node type, each picking its type with SERVICES", () => {
		expect(nodes.map(([name]) => name).sort()).toEqual(nodeTypes());
		for (const [name, service] of nodes) expect(service.environment.SERVICES).toBe(name);
	});

	it("builds every node from the one image, with the environment from one file and secrets from the shell", () => {
		expect(new Set(nodes.map(([, s]) => s.image)).size).toBe(1);
		for (const [, service] of nodes) {
			expect(service.build).toBe(".");
			expect(service.env_file).toBe("compose.env");
			expect(service.environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
			expect(service.read_only).toBe(true);
		}
		const env = Object.fromEntries(read("compose.env").split("\n").filter(l => /^[A-Z_]+=/.test(l)).map(l => l.split("=")));
		expect(Object.keys(env)).toEqual(expect.arrayContaining(["TRANSPORTER", "CACHER", "MONGO_URI", "NAMESPACE", "HEALTH_PORT", "METRICS_PORT"]));
		expect(Object.keys(env).some(k => /SECRET|PASSWORD/.test(k))).toBe(false);
	});

	it("lets every node type scale: no fixed container names, only the gateway (and the load generator's page) publish a port", () => {
		for (const [name, service] of nodes) {
			expect(service.container_name).toBeUndefined();
			if (name !== "api" && name !== "loadgen") expect(service.ports).toBeUndefined();
		}
		// The load generator is off unless its profile is asked for, and publishes its page on loopback only.
		expect(services.loadgen.profiles).toEqual(["loadgen"]);
		expect(services.loadgen.ports).toEqual(["127.0.0.1:8089:8089"]);
		expect(services.loadgen.environment.LOADGEN_TARGET).toBe("http://api:3000");
		// Loopback by default: the shop is reached through a proxy or a port-forward, not on every interface.
		expect(services.api.ports).toEqual(["${SHOP_PUBLISH:-127.0.0.1:3000}:3000"]);
	});

	it("runs NATS with JetStream, Redis and MongoDB on named volumes", () => {
		expect(services.nats.command).toContain("-js");
		for (const store of ["nats", "redis", "mongo"]) {
			expect(services[store].image).toMatch(/:\d/);
			const volume = String(services[store].volumes[0]).split(":")[0];
			expect(Object.keys(compose.volumes)).toContain(volume);
		}
	});
});

describe("compose, Kubernetes and the code agree", () => {
	const compose = YAML.parse(read("docker-compose.yml"), { merge: true });
	const k8sDocs = fs
		.readdirSync(path.join(ROOT, "k8s/base/nodes"))
		.filter(f => f.endsWith(".yaml"))
		.flatMap(f => YAML.parseAllDocuments(read(`k8s/base/nodes/${f}`)).map(d => d.toJSON()))
		.filter(Boolean);
	const configMap = YAML.parse(read("k8s/base/config.yaml")).data as Record<string, string>;
	// Where the nodes read their environment: every setting is read in the configuration.
	const configSource = read("lib/config.ts");

	it("name the same node types", () => {
		const k8sTypes = k8sDocs
			.filter((d: any) => d.kind === "Deployment")
			// node-defaults.yaml is a patch merged into every Deployment: it names no node type.
			.map((d: any) => d.spec?.template?.spec?.containers?.[0]?.env?.find((e: any) => e.name === "SERVICES")?.value)
			.filter(Boolean)
			.sort();
		const composeTypes = Object.values(compose.services as Record<string, any>).map(s => s.environment?.SERVICES).filter(Boolean).sort();
		expect(k8sTypes).toEqual(composeTypes);
		expect(k8sTypes).toEqual(nodeTypes());
	});

	it("set only variables the code reads, with the ports the code defaults to", () => {
		const envFile = Object.fromEntries(read("compose.env").split("\n").filter(l => /^[A-Z_]+=/.test(l)).map(l => l.split("=")));
		for (const key of [...Object.keys(configMap), ...Object.keys(envFile)]) expect(`${key}: ${configSource.includes(`env.${key}`)}`).toBe(`${key}: true`);
		for (const [key, fallback] of [["PORT", 3000], ["HEALTH_PORT", 3001], ["METRICS_PORT", 3030]] as const) {
			expect(configSource).toContain(`integer("${key}", env.${key}, ${fallback})`);
			expect(Number(configMap[key])).toBe(fallback);
			expect(Number(envFile[key])).toBe(fallback);
		}
	});
});
