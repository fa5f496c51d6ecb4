/** Routes that need a signed-in customer. */
import { currentSession } from "./api";

/** True when signed in; otherwise sends the visitor to the sign-in page, coming back to `back` (a hash route) after. */
export function requireSession(back: string): boolean {
	if (currentSession()) return true;
	location.hash = `#/login?next=${encodeURIComponent(back)}`;
	return false;
}
