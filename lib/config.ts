/**
 * The shop's configuration, read from environment variables (the README's env table is the contract).
 * Every node reads the same variables; `loadConfig` is pure apart from reading `env`.
 */

/** The development JWT secret. A node with NODE_ENV=production refuses to start with it. */
export const DEV_JWT_SECRET = "moleculer-shop-insecure-development-secret";

/** Where the gateway and the import script meet: the JWT issuer and audience claims. */
export const JWT_ISSUER = "moleculer-shop";
export const JWT_AUDIENCE = "moleculer-shop-api";

export interface ShopConfig {
	/** Gateway HTTP port (PORT, default 3000; 0 picks a free port). */
	port: number;
	/** Address the gateway binds to (GATEWAY_HOST, default 0.0.0.0). */
	gatewayHost: string;
	/** Transporter connection string (TRANSPORTER), or null for a single node. */
	transporter: string | null;
	/** "Memory", or a redis:// URL (CACHER). */
	cacher: string;
	/** MongoDB connection string (MONGO_URI), or null for NeDB files in `dataDir`. */
	mongoUri: string | null;
	/** Directory of the NeDB files (DATA_DIR, default ./data); ":memory:" keeps nothing on disk. */
	dataDir: string;
	/** Moleculer namespace (NAMESPACE, default ""). */
	namespace: string;
	/** Moleculer log level (LOGLEVEL, default info). */
	logLevel: string;
	/** LOG_FORMAT: "json" (one JSON object per line; default when stdout is not a terminal) or "pretty". */
	logFormat: "json" | "pretty";
	/**
	 * Replicas of the JetStream streams of durable events (NATS_STREAM_REPLICAS, default 1: one NATS server;
	 * 3 with a 3-server cluster, so losing a server loses no event). At most the cluster's size.
	 */
	natsStreamReplicas: number;
	/** Where spans go (OTEL_EXPORTER_ZIPKIN_ENDPOINT, a Zipkin v2 URL); null: no tracing. */
	zipkinEndpoint: string | null;
	/** HS256 key for customer tokens (JWT_SECRET). */
	jwtSecret: string;
	/** True when JWT_SECRET was not set and the development secret is in use. */
	jwtSecretIsDefault: boolean;
	/** Token lifetime in seconds (JWT_TTL, default 3600). */
	jwtTtlSeconds: number;
	/** Admin account ensured at start when both are set (ADMIN_EMAIL, ADMIN_PASSWORD). */
	adminEmail: string | null;
	adminPassword: string | null;
	/** True when NODE_ENV=production. */
	production: boolean;
	/** Requests per minute per client on /api (RATE_LIMIT, default 600). */
	rateLimit: number;
	/** Requests per minute per client on /api/auth (AUTH_RATE_LIMIT, default 20). */
	authRateLimit: number;
	/** Failed logins per account within LOGIN_LOCK_SECONDS before login answers 429 (LOGIN_MAX_FAILURES, default 5). */
	loginMaxFailures: number;
	/** Seconds a failed login counts against its account (LOGIN_LOCK_SECONDS, default 900). */
	loginLockSeconds: number;
	/** Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES, proxy-addr syntax, default none). */
	trustedProxies: string[];
	/** Origins allowed by CORS (CORS_ORIGINS, comma-separated, default none: no CORS headers). */
	corsOrigins: string[];
	/** Port of /live and /ready on every node (HEALTH_PORT, default 3001; 0 = off). */
	healthPort: number;
	/** Port of the Prometheus /metrics endpoint on every node (METRICS_PORT, default 3030; 0 = off). */
	metricsPort: number;
	/** TLS files for the NATS connection (NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY), each optional. */
	natsTls: { caFile?: string; certFile?: string; keyFile?: string } | null;
	/** Seconds an order may stay unfinished before the orders service's recovery settles it (ORDER_RECOVERY_AFTER, default 60). */
	orderRecoveryAfterSeconds: number;
	/**
	 * Seconds after which a stock hold, a cart claim or a stock marker whose order is missing or settled is
	 * released by the sweep (ORPHAN_SWEEP_AFTER, default 300; must exceed ORDER_RECOVERY_AFTER, so that an
	 * order's own recovery always comes first).
	 */
	orphanSweepAfterSeconds: number;
	/** Days the stock movement records of settled orders are kept (ORDER_RECORD_RETENTION_DAYS, default 30). */
	orderRecordRetentionDays: number;
	/** Test only: the checkout step after which the orders node SIGKILLs itself (SHOP_CRASH_AT); null in production. */
	crashAt: string | null;
	/** The services this node hosts (SERVICES, comma-separated), or null for all. */
	services: string[] | null;
	/**
	 * The load generator (the `loadgen` node type, services/loadgen.service.ts): the one gateway it sends load
	 * to (LOADGEN_TARGET, default http://127.0.0.1:<PORT>), where its page and control API listen
	 * (LOADGEN_HOST, default 127.0.0.1; LOADGEN_PORT, default 8089), and the bounds of any run: seconds
	 * (LOADGEN_MAX_DURATION, default 600), journeys/s (LOADGEN_MAX_RATE, default 200), virtual users
	 * (LOADGEN_MAX_USERS, default 200).
	 */
	loadgen: { target: string; host: string; port: number; maxDurationSeconds: number; maxRate: number; maxUsers: number };
	/** The Moleculer node ID (NODEID), or null for `<hostname>-<services>-<pid>`. */
	nodeID: string | null;
	/** Import script only: the gateway to import into (SHOP_URL, default http://localhost:<PORT>). */
	shopUrl: string;
	/**
	 * Seconds a node waits at start for each store and server it needs (MongoDB, NATS, Redis), and a gateway
	 * for the services its routes call, before it exits naming what did not answer (START_TIMEOUT, default 30).
	 */
	startTimeoutSeconds: number;
}

function list(value: string | undefined): string[] {
	return (value ?? "").split(",").map(item => item.trim()).filter(Boolean);
}

/** Raised when the environment is unusable (for example no JWT_SECRET in production). */
export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "ConfigError";
	}
}

function nonEmpty(value: string | undefined): string | null {
	return value != null && value.trim() !== "" ? value.trim() : null;
}

function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
	if (nonEmpty(value) == null) return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < min) {
		throw new ConfigError(`${name} must be ${min === 0 ? "a non-negative integer" : `an integer of at least ${min}`}, got "${value}"`);
	}
	return n;
}

/**
 * The most a LOADGEN_MAX_* setting may allow: the load generator engine's own bounds (lib/loadgen/engine.ts
 * LOAD_LIMITS; a test checks that they agree), so the page never offers what a run would refuse.
 */
export const LOADGEN_CEILINGS = { durationSeconds: 3600, ratePerSecond: 1000, users: 1000 } as const;

function atMost(name: string, value: number, max: number): number {
	if (value > max) throw new ConfigError(`${name} must be at most ${max}, got ${value}`);
	return value;
}

/**
 * Reads the shop configuration from `env`.
 * @throws ConfigError when NODE_ENV=production and JWT_SECRET is unset, shorter than 32 characters or the
 *   development secret, or ADMIN_PASSWORD is shorter than 12 characters; when CORS_ORIGINS holds "*"; when a
 *   number (PORT, JWT_TTL, RATE_LIMIT…) is not a non-negative integer; when ORDER_RECOVERY_AFTER,
 *   ORPHAN_SWEEP_AFTER or ORDER_RECORD_RETENTION_DAYS is below 1, or ORPHAN_SWEEP_AFTER ≤ ORDER_RECOVERY_AFTER;
 *   when LOADGEN_TARGET is not an http(s) base URL, or a LOADGEN_MAX_* setting exceeds LOADGEN_CEILINGS.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ShopConfig {
	const production = env.NODE_ENV === "production";
	const jwtSecret = nonEmpty(env.JWT_SECRET);
	if (production && (jwtSecret == null || jwtSecret === DEV_JWT_SECRET || jwtSecret.length < 32)) {
		throw new ConfigError("JWT_SECRET must be set to at least 32 characters when NODE_ENV=production");
	}
	const adminPassword = nonEmpty(env.ADMIN_PASSWORD);
	if (production && adminPassword != null && adminPassword.length < 12) {
		throw new ConfigError("ADMIN_PASSWORD must have at least 12 characters when NODE_ENV=production");
	}
	const corsOrigins = list(env.CORS_ORIGINS);
	if (corsOrigins.includes("*")) throw new ConfigError("CORS_ORIGINS lists origins; '*' is not allowed");
	const orderRecoveryAfterSeconds = integer("ORDER_RECOVERY_AFTER", env.ORDER_RECOVERY_AFTER, 60, 1);
	const orphanSweepAfterSeconds = integer("ORPHAN_SWEEP_AFTER", env.ORPHAN_SWEEP_AFTER, Math.max(300, orderRecoveryAfterSeconds + 60), 1);
	if (orphanSweepAfterSeconds <= orderRecoveryAfterSeconds) {
		throw new ConfigError(`ORPHAN_SWEEP_AFTER (${orphanSweepAfterSeconds} s) must exceed ORDER_RECOVERY_AFTER (${orderRecoveryAfterSeconds} s)`);
	}
	const port = integer("PORT", env.PORT, 3000);
	const loadgenTarget = nonEmpty(env.LOADGEN_TARGET) ?? `http://127.0.0.1:${port || 3000}`;
	if (!/^https?:\/\/[^/\s]+\/?$/.test(loadgenTarget)) throw new ConfigError(`LOADGEN_TARGET must be the gateway's http(s) base URL, like http://localhost:3000, got "${loadgenTarget}"`);
	const logFormat = nonEmpty(env.LOG_FORMAT) ?? (process.stdout.isTTY ? "pretty" : "json");
	if (logFormat !== "json" && logFormat !== "pretty") throw new ConfigError(`LOG_FORMAT must be "json" or "pretty", got "${logFormat}"`);
	return {
		port,
		gatewayHost: nonEmpty(env.GATEWAY_HOST) ?? "0.0.0.0",
		transporter: nonEmpty(env.TRANSPORTER),
		cacher: nonEmpty(env.CACHER) ?? "Memory",
		mongoUri: nonEmpty(env.MONGO_URI),
		dataDir: nonEmpty(env.DATA_DIR) ?? "./data",
		namespace: nonEmpty(env.NAMESPACE) ?? "",
		logLevel: nonEmpty(env.LOGLEVEL) ?? "info",
		logFormat,
		zipkinEndpoint: nonEmpty(env.OTEL_EXPORTER_ZIPKIN_ENDPOINT),
		natsStreamReplicas: integer("NATS_STREAM_REPLICAS", env.NATS_STREAM_REPLICAS, 1, 1),
		jwtSecret: jwtSecret ?? DEV_JWT_SECRET,
		jwtSecretIsDefault: jwtSecret == null,
		jwtTtlSeconds: integer("JWT_TTL", env.JWT_TTL, 3600),
		adminEmail: nonEmpty(env.ADMIN_EMAIL)?.toLowerCase() ?? null,
		adminPassword,
		production,
		rateLimit: integer("RATE_LIMIT", env.RATE_LIMIT, 600),
		authRateLimit: integer("AUTH_RATE_LIMIT", env.AUTH_RATE_LIMIT, 20),
		loginMaxFailures: integer("LOGIN_MAX_FAILURES", env.LOGIN_MAX_FAILURES, 5),
		loginLockSeconds: integer("LOGIN_LOCK_SECONDS", env.LOGIN_LOCK_SECONDS, 900),
		trustedProxies: list(env.TRUSTED_PROXIES),
		corsOrigins,
		healthPort: integer("HEALTH_PORT", env.HEALTH_PORT, 3001),
		metricsPort: integer("METRICS_PORT", env.METRICS_PORT, 3030),
		natsTls:
			env.NATS_TLS_CA || env.NATS_TLS_CERT || env.NATS_TLS_KEY
				? { caFile: nonEmpty(env.NATS_TLS_CA) ?? undefined, certFile: nonEmpty(env.NATS_TLS_CERT) ?? undefined, keyFile: nonEmpty(env.NATS_TLS_KEY) ?? undefined }
				: null,
		orderRecoveryAfterSeconds,
		orphanSweepAfterSeconds,
		orderRecordRetentionDays: integer("ORDER_RECORD_RETENTION_DAYS", env.ORDER_RECORD_RETENTION_DAYS, 30, 1),
		crashAt: production ? null : nonEmpty(env.SHOP_CRASH_AT),
		services: env.SERVICES == null ? null : list(env.SERVICES),
		loadgen: {
			target: loadgenTarget.replace(/\/$/, ""),
			host: nonEmpty(env.LOADGEN_HOST) ?? "127.0.0.1",
			port: integer("LOADGEN_PORT", env.LOADGEN_PORT, 8089),
			maxDurationSeconds: atMost("LOADGEN_MAX_DURATION", integer("LOADGEN_MAX_DURATION", env.LOADGEN_MAX_DURATION, 600, 1), LOADGEN_CEILINGS.durationSeconds),
			maxRate: atMost("LOADGEN_MAX_RATE", integer("LOADGEN_MAX_RATE", env.LOADGEN_MAX_RATE, 200, 1), LOADGEN_CEILINGS.ratePerSecond),
			maxUsers: atMost("LOADGEN_MAX_USERS", integer("LOADGEN_MAX_USERS", env.LOADGEN_MAX_USERS, 200, 1), LOADGEN_CEILINGS.users)
		},
		nodeID: nonEmpty(env.NODEID),
		shopUrl: nonEmpty(env.SHOP_URL) ?? `http://localhost:${port || 3000}`,
		startTimeoutSeconds: integer("START_TIMEOUT", env.START_TIMEOUT, 30, 1)
	};
}

const BROKER_CONFIGS = new WeakMap<object, ShopConfig>();

/** Remembers `config` as the configuration of `broker` (`createBrokerOptions` does, when the broker is created). */
export function attachConfig(broker: object, config: ShopConfig): void {
	BROKER_CONFIGS.set(broker, config);
}

/**
 * The configuration of the broker a service runs on: the one its broker was built with (so several nodes in
 * one process, as the tests and the reliability runs start them, each keep their own), or else the
 * environment's. Kept out of the broker options, which `$node.options` would show to other nodes.
 */
export function configOf(broker: object): ShopConfig {
	let config = BROKER_CONFIGS.get(broker);
	if (!config) attachConfig(broker, (config = loadConfig()));
	return config;
}

/** What authenticates and encrypts a NATS connection: user and password, and TLS files (`ShopConfig.natsTls`). */
export interface NatsSecurity {
	user?: string;
	pass?: string;
	tls?: NonNullable<ShopConfig["natsTls"]>;
}

/**
 * The credentials and TLS files for a NATS connection, read as Moleculer's NATS transporter reads them for
 * the broker's own connection: user and password from the first TRANSPORTER URL that has them, as the URL
 * parser gives them (not percent-decoded, and with characters such as `^|;={}` percent-encoded: credentials
 * must be URL-safe), and the NATS_TLS_* files. The durable events' connection (lib/channels.ts) and the start
 * check (lib/preflight.ts) use them, so that all three get into the same server: the channels adapter itself
 * takes only the hosts from the URL. A TRANSPORTER that is not
 * `nats://` URLs gives nothing (a malformed URL is left to the transporter to refuse).
 */
export function natsSecurity(config: Pick<ShopConfig, "transporter" | "natsTls">): NatsSecurity {
	const entries = config.transporter?.startsWith("nats://") ? config.transporter.split(",").map(url => url.trim()) : [];
	const urls = entries.filter(url => URL.canParse(url)).map(url => new URL(url));
	const user = urls.find(url => url.username)?.username;
	const pass = urls.find(url => url.password)?.password;
	return { ...(user ? { user } : {}), ...(pass ? { pass } : {}), ...(config.natsTls ? { tls: config.natsTls } : {}) };
}
