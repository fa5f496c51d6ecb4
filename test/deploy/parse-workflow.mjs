// Checks one GitHub Actions workflow with GitHub's own parser (@actions/workflow-parser: its workflow schema
// rejects unknown keys, wrong types and bad expressions). An ES module, hence a child process of
// test/deploy/workflows.test.ts. Prints the errors as a JSON array on stdout.
import fs from "node:fs";
import { registerHooks } from "node:module";

// The package imports its JSON schema without `with { type: "json" }` (it is written for bundlers): add it.
registerHooks({
	load: (url, context, next) => next(url, url.endsWith(".json") ? { ...context, importAttributes: { ...context.importAttributes, type: "json" } } : context)
});
const { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } = await import("@actions/workflow-parser");

const file = process.argv[2];
const result = parseWorkflow({ name: file, content: fs.readFileSync(file, "utf8") }, new NoOperationTraceWriter());
const errors = result.context.errors.getErrors().map(e => e.message);
if (errors.length === 0 && result.value) {
	const template = await convertWorkflowTemplate(result.context, result.value);
	errors.push(...(template.errors ?? []).map(e => e.Message ?? e.message ?? JSON.stringify(e)));
}
process.stdout.write(JSON.stringify(errors));
