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

function integer(name: string, value: string | undefined, fallback: number): number {
	if (nonEmpty(value) == null) return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${value}"`);
	return n;
}

/**
 * Reads the shop configuration from `env`.
 * @throws ConfigError when NODE_ENV=production and JWT_SECRET is unset, shorter than 32 characters or the
 *   development secret, or ADMIN_PASSWORD is shorter than 12 characters; when CORS_ORIGINS holds "*"; when a
 *   number (PORT, JWT_TTL, RATE_LIMIT…) is not a non-negative integer.
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
	return {
		port: integer("PORT", env.PORT, 3000),
		gatewayHost: nonEmpty(env.GATEWAY_HOST) ?? "0.0.0.0",
		transporter: nonEmpty(env.TRANSPORTER),
		cacher: nonEmpty(env.CACHER) ?? "Memory",
		mongoUri: nonEmpty(env.MONGO_URI),
		dataDir: nonEmpty(env.DATA_DIR) ?? "./data",
		namespace: nonEmpty(env.NAMESPACE) ?? "",
		logLevel: nonEmpty(env.LOGLEVEL) ?? "info",
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
				: null
	};
}
