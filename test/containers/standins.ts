/**
 * Stand-in base images for the container tests, under the exact names the Dockerfile and docker-compose.yml
 * use (Docker Hub cannot be reached from here, so `node:…`, `nats:…`, `redis:…` and `mongo:…` cannot be
 * pulled). All are built from one Debian bookworm minbase root filesystem made by debootstrap and cached
 * between runs by the hash of what makes it (suite, variant, mirror):
 *
 * - node: the Node binary of the npm `node` package the project pins (stripped, as official builds are), the
 *   machine's npm and CA bundle, and a `node` user with uid 1000 (images/node);
 * - nats and redis: Debian's nats-server and redis-server with the official images' entrypoint contracts;
 * - mongo: the Mongo-wire test server (jongodb) on port 27017.
 *
 * These live here, never in the production files: the Dockerfile and docker-compose.yml run unchanged.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { binaryPath } from "../../scripts/mongo-wire";
import { docker, sh } from "./engine";

export const ROOT = path.resolve(__dirname, "../..");
const IMAGES = path.join(__dirname, "images");
const MIRROR = "http://deb.debian.org/debian";
const MINBASE = "shop-standin/bookworm-minbase:latest";
/** What Debian's -slim images leave out (documentation, manuals, translations) and apt's caches. */
const SLIM_PATHS = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"];
const SERVERS = "shop-standin/bookworm-servers:latest";
/** This machine's CA bundle (Debian's ca-certificates, plus the CA of the TLS proxy in front of the registry). */
const HOST_CA_BUNDLE = process.env.NODE_EXTRA_CA_CERTS || "/etc/ssl/certs/ca-certificates.crt";

/** The base image names the production files use: the Dockerfile's FROM and compose's nats/redis/mongo. */
export function productionBaseImages(): { node: string; nats: string; redis: string; mongo: string } {
	const froms = [...fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8").matchAll(/^FROM (\S+)/gm)].map(m => m[1]);
	const nodeImages = [...new Set(froms.filter(from => from.startsWith("node:")))];
	if (nodeImages.length !== 1) throw new Error(`The Dockerfile should build FROM one node image, found: ${froms.join(", ")}`);
	const services = YAML.parse(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8")).services;
	return { node: nodeImages[0], nats: services.nats.image, redis: services.redis.image, mongo: services.mongo.image };
}

/** Where the root filesystem tarball is kept between runs (SHOP_CONTAINER_CACHE, or ~/.cache). */
function cacheDir(): string {
	const dir = process.env.SHOP_CONTAINER_CACHE ?? path.join(os.homedir(), ".cache", "moleculer-shop", "containers");
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}

/** The minbase tarball (debootstrap on a cache miss, about two minutes) and its content key. */
async function minbaseTarball(log: (line: string) => void): Promise<{ file: string; key: string }> {
	const key = crypto.createHash("sha256").update(JSON.stringify({ suite: "bookworm", variant: "minbase", mirror: MIRROR, slim: SLIM_PATHS })).digest("hex").slice(0, 16);
	const file = path.join(cacheDir(), `bookworm-minbase-${key}.tar`);
	if (fs.existsSync(file)) return { file, key };
	log(`  debootstrap bookworm minbase (cached as ${file})`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-rootfs-"));
	try {
		await sh("debootstrap", ["--variant=minbase", "bookworm", dir, MIRROR], { timeoutMs: 900_000 });
		for (const slim of SLIM_PATHS) fs.rmSync(path.join(dir, slim), { recursive: true, force: true });
		fs.mkdirSync(path.join(dir, "var/cache/apt/archives/partial"), { recursive: true });
		fs.mkdirSync(path.join(dir, "var/lib/apt/lists/partial"), { recursive: true });
		await sh("tar", ["-C", dir, "-cf", `${file}.part`, "."]);
		fs.renameSync(`${file}.part`, file);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
	return { file, key };
}

async function imageComment(tag: string): Promise<string | null> {
	return docker("image", "inspect", tag, "--format", "{{.Comment}}").then(
		out => out.trim(),
		() => null
	);
}

/** `docker build --network host` of `context` as `tag` (host network: apt and npm reach their registries). */
export async function build(tag: string, context: string, extra: string[] = []): Promise<void> {
	await docker("build", "--network", "host", "-q", "-t", tag, ...extra, context);
}

/** False when SHOP_STANDINS=0: the real base images are pulled (hosts that reach Docker Hub, e.g. GitHub's runners). */
export const USE_STANDINS = process.env.SHOP_STANDINS !== "0";

/** Pulls the real base images (SHOP_STANDINS=0). */
export async function pullBaseImages(log: (line: string) => void): Promise<void> {
	const names = productionBaseImages();
	for (const image of Object.values(names)) await docker("pull", "-q", image);
	log(`  pulled: ${Object.values(names).join(", ")}`);
}

/** Builds every stand-in (see the file's comment); `log` gets one line per image. */
export async function buildStandins(log: (line: string) => void): Promise<ReturnType<typeof productionBaseImages>> {
	const names = productionBaseImages();
	const { file, key } = await minbaseTarball(log);
	if ((await imageComment(MINBASE)) !== key) {
		await docker("import", "--message", key, "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--change", 'CMD ["bash"]', file, MINBASE);
	}
	await build(SERVERS, path.join(IMAGES, "servers"));
	await build(names.nats, path.join(IMAGES, "nats"));
	await build(names.redis, path.join(IMAGES, "redis"));

	const context = fs.mkdtempSync(path.join(os.tmpdir(), "shop-standin-"));
	try {
		fs.copyFileSync(path.join(IMAGES, "mongo/Dockerfile"), path.join(context, "Dockerfile"));
		fs.copyFileSync(binaryPath(), path.join(context, "jongodb"));
		await build(names.mongo, context);

		fs.rmSync(context, { recursive: true, force: true });
		fs.mkdirSync(context);
		fs.copyFileSync(path.join(IMAGES, "node/Dockerfile"), path.join(context, "Dockerfile"));
		fs.copyFileSync(HOST_CA_BUNDLE, path.join(context, "ca-certificates.crt"));
		await sh("strip", ["-o", path.join(context, "node"), fs.realpathSync(path.join(ROOT, "node_modules/node/bin/node"))]);
		const npmDir = path.dirname(path.dirname(fs.realpathSync(await sh("sh", ["-c", "command -v npm"]).then(out => out.trim()))));
		fs.cpSync(npmDir, path.join(context, "npm"), { recursive: true });
		await build(names.node, context);
	} finally {
		fs.rmSync(context, { recursive: true, force: true });
	}
	log(`  stand-ins: ${Object.values(names).join(", ")}`);
	return names;
}
