/** Where the test run finds NATS and Redis (TEST_NATS_URL, TEST_REDIS_URL), and how it checks them. */
export { NATS_URL, REDIS_URL, reachable } from "../../scripts/harness";
