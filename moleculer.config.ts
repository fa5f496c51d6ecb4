/**
 * Broker configuration for every node type, for moleculer-runner users (`moleculer-runner --config
 * dist/moleculer.config.js dist/services`). The shop itself starts through its launcher, scripts/start.ts
 * (`npm start`, the image), which builds the same options and adds the start checks, the DATA_DIR lock,
 * the health endpoints and the signal handling. The environment variables of the README's table choose
 * transporter, cacher, namespace and log level; `NODEID` names the node. All of them are read in
 * lib/config.ts.
 *
 * The options themselves, fault tolerance included (request timeout, retry policy, circuit breaker,
 * bulkhead, graceful-shutdown tracking, each set explicitly with its reason), are in
 * lib/broker-options.ts, so the tests build their brokers with the very same values.
 */
import { loadConfig } from "./lib/config";
import { createBrokerOptions } from "./lib/broker-options";

/** The environment as this file first saw it (below: it drops two variables, and `--hot` reloads this file). */
const startEnv = ((globalThis as { shopRunnerEnv?: NodeJS.ProcessEnv }).shopRunnerEnv ??= { ...process.env });
const config = loadConfig(startEnv);
const brokerConfig = createBrokerOptions(config, config.nodeID ?? undefined, config.services?.join("+") || "all");

// moleculer-runner replaces any broker option named by an environment variable (CACHER → `cacher`,
// TRANSPORTER → `transporter`) with the raw string, which would drop the cacher and the transporter built
// above from them (the NATS TLS files with it). Both variables have been read (services read the
// configuration attached to their broker: lib/config.ts configOf), so drop them; a hot reload reads them
// from `startEnv`.
delete process.env.CACHER;
delete process.env.TRANSPORTER;

export default brokerConfig;
