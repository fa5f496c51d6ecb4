/** The gateway client the tests use (shared with the reliability scenarios). */
export { client, type Reply } from "../../scripts/net";
