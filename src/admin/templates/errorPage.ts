import { html, type SafeHtml } from "./html.js";
import { layout, type LayoutSession } from "./layout.js";

/** A refusal shown as a page (a bad link, a non-admin token): the status, the stable code, the reason. */
export function errorPage(status: number, code: string, message: string, session: LayoutSession | null): SafeHtml {
  const body = html`<section class="error-page">
<h1>${status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Refused"}</h1>
<p><code class="code">${code}</code> ${message}</p>
<p><a href="/admin">Back to the overview</a></p>
</section>`;
  return layout(`Error ${status}`, body, session);
}
