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

const config = loadConfig();
const brokerConfig = createBrokerOptions(config, config.nodeID ?? undefined, config.services?.join("+") || "all");

// moleculer-runner replaces any broker option named by an environment variable (CACHER → `cacher`) with the
// raw string, which would drop the cacher built above from CACHER; the variable has been used, so drop it.
delete process.env.CACHER;

export default brokerConfig;
