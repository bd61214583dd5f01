import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

/** The login form: an admin API token or an OIDC ID token of the admin role. */
export function loginPage(notice: SafeHtml | null): SafeHtml {
  const body = html`<section class="login">
<h1>Log in</h1>
${notice ?? ""}
<form method="post" action="/admin/login">
  <label for="token">Admin API token or OIDC ID token</label>
  <input id="token" name="token" type="password" autocomplete="off" required maxlength="4096">
  <button type="submit">Log in</button>
</form>
<p class="hint">The token is kept in an HttpOnly cookie for this page only and checked on every request.</p>
</section>`;
  return layout("Log in", body, null);
}
