/** Sign in (`#/login`, `POST /api/auth/login`) and register (`#/register`, `POST /api/auth/register`). */
import { api, setSession, type Session } from "../api";
import { field, formValues, h, mount } from "../dom";
import { flash, showError } from "../flash";

/** Where to go after signing in: the `next` hash route when it is one of ours, else the catalog. */
function nextRoute(params: URLSearchParams): string {
	const next = params.get("next") ?? "";
	return /^#\/[\w/?=&%.-]*$/.test(next) ? next : "#/";
}

function accountForm(title: string, submitText: string, fields: HTMLElement[], submit: (values: Record<string, string>) => Promise<Session>, params: URLSearchParams): HTMLFormElement {
	const button = h("button", { type: "submit" }, submitText);
	const form = h(
		"form",
		{
			class: "stack",
			"aria-label": title,
			onsubmit: async (event: Event) => {
				event.preventDefault();
				button.disabled = true;
				try {
					const session = await submit(formValues(form));
					setSession(session);
					flash(`Welcome, ${session.customer.name}.`);
					location.hash = nextRoute(params);
				} catch (err) {
					showError(err);
					button.disabled = false;
				}
			}
		},
		...fields,
		button
	);
	return form;
}

/** `#/login?next=`: sign in, then go to `next` (a hash route of this page) or the catalog. */
export function loginView(main: HTMLElement, _args: string[], params: URLSearchParams): void {
	const form = accountForm(
		"Sign in",
		"Sign in",
		[
			field("Email", h("input", { type: "email", name: "email", autocomplete: "username", required: true, maxlength: 254 })),
			field("Password", h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, maxlength: 128 }))
		],
		values => api<Session>("POST", "/auth/login", { email: values.email, password: values.password }),
		params
	);
	mount(main, h("h1", {}, "Sign in"), form, h("p", {}, "New here? ", h("a", { href: `#/register${params.size ? `?${params}` : ""}` }, "Create an account")));
	form.querySelector("input")?.focus();
}

/** `#/register?next=`: create a customer account, signed in at once. */
export function registerView(main: HTMLElement, _args: string[], params: URLSearchParams): void {
	const form = accountForm(
		"Register",
		"Create account",
		[
			field("Name", h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 100 })),
			field("Email", h("input", { type: "email", name: "email", autocomplete: "email", required: true, maxlength: 254 })),
			field("Password (8 characters or more)", h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 }))
		],
		values => api<Session>("POST", "/auth/register", { name: values.name, email: values.email, password: values.password }),
		params
	);
	mount(main, h("h1", {}, "Create an account"), form, h("p", {}, "Already registered? ", h("a", { href: "#/login" }, "Sign in")));
	form.querySelector("input")?.focus();
}
