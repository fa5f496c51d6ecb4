/**
 * Broker configuration for every node type, read by moleculer-runner (`--config`). The environment
 * variables of the README's table choose transporter, cacher, namespace and log level; `SERVICES` picks the
 * services a node hosts (none = all); `NODEID` names the node.
 *
 * The options themselves, fault tolerance included (request timeout, retry policy, circuit breaker,
 * bulkhead, graceful-shutdown tracking, each set explicitly with its reason), are in
 * lib/broker-options.ts, so the tests build their brokers with the very same values.
 */
import { loadConfig } from "./lib/config";
import { createBrokerOptions } from "./lib/broker-options";

const services = process.env.SERVICES?.split(",").map(s => s.trim()).join("+") || "all";
const brokerConfig = createBrokerOptions(loadConfig(), process.env.NODEID, services);

// moleculer-runner replaces any broker option named by an environment variable (CACHER → `cacher`) with the
// raw string, which would drop the cacher built above from CACHER; the variable has been used, so drop it.
delete process.env.CACHER;

export default brokerConfig;
