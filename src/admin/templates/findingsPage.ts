import { FINDING_STATUSES } from "../../providerSync/ProviderRecords.js";
import type { ProviderFinding } from "../../providerSync/storeFindings.js";
import { PROVIDERS } from "../../providers/PaymentEvent.js";
import { formatPoints, formatTime } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type LayoutSession } from "./layout.js";

export interface FindingsView {
  /** The filter as asked (empty = any). */
  filter: { date?: string; status?: string; provider?: string };
  findings: ProviderFinding[];
  /** How many the page shows at most; more may exist when `findings.length` reaches it. */
  limit: number;
  /** The finding this page lists after (null: the first page). */
  after: string | null;
}

/** The address of the page after this one, with the same filter; null when this page is not full. */
function nextPage(view: FindingsView): string | null {
  if (view.findings.length < view.limit) return null;
  const query = new URLSearchParams({ ...view.filter, after: view.findings.at(-1)!.id });
  return `/admin/findings?${query.toString()}`;
}

/**
 * What an admin may do with a finding, read from what the finding carries: a credit
 * (`detail.credit`) needs the user to credit, a reversal the sync could not apply
 * (`detail.event`) is applied as it is; anything else is a standing report.
 */
function actionCell(finding: ProviderFinding, csrf: string): SafeHtml {
  if (finding.status !== "open") return html`<td class="detail">${finding.closedBy ? html`${finding.status} by <code>${finding.closedBy}</code> ${formatTime(finding.closedAt)}` : finding.status === "reported" ? "reported only; never healed automatically" : ""}</td>`;
  const action = `/admin/provider-findings/${finding.id}/resolve`;
  if (finding.detail["credit"]) {
    return html`<td><form class="resolve" method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}">
<input name="uid" aria-label="user to credit" placeholder="user id" value="${finding.uid ?? ""}" required maxlength="128">
<button type="submit">Credit to uid</button></form></td>`;
  }
  if (finding.detail["event"]) {
    return html`<td><form class="resolve" method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Apply</button></form></td>`;
  }
  return html`<td class="detail">nothing to apply</td>`;
}

/** Minor units, with the currency when the provider's record named one (purchases do; refunds and chargebacks are in the purchase's). */
function amountCell(finding: ProviderFinding): SafeHtml {
  if (finding.amountMinor === null) return html`<td class="num">—</td>`;
  const currency = finding.detail["currency"];
  return html`<td class="num">${formatPoints(finding.amountMinor)}${typeof currency === "string" ? ` ${currency.toUpperCase()}` : ""}</td>`;
}

function findingRow(finding: ProviderFinding, csrf: string): SafeHtml {
  const uid = finding.uid ? html`<a href="/admin/users/${encodeURIComponent(finding.uid)}">${finding.uid}</a>` : html`<span class="empty">unknown</span>`;
  return html`<tr data-finding-id="${finding.id}" data-finding-status="${finding.status}">
<td>${finding.provider}</td><td><code>${finding.kind}</code></td><td class="wrap"><code>${finding.subject}</code></td>
${amountCell(finding)}
<td>${finding.date}</td><td>${formatTime(finding.foundAt)}</td>
<td><span class="badge finding-${finding.status}" data-field="status">${finding.status}</span></td>
<td data-field="uid">${uid}</td>
${actionCell(finding, csrf)}
</tr>`;
}

const option = (value: string, chosen: string | undefined, label = value) => html`<option value="${value}"${value === (chosen ?? "") ? html` selected` : ""}>${label}</option>`;

function filterForm(filter: FindingsView["filter"]): SafeHtml {
  return html`<form class="lookup" method="get" action="/admin/findings" id="findings-filter">
<label for="date">Day</label><input id="date" name="date" type="date" value="${filter.date ?? ""}">
<label for="status">Status</label><select id="status" name="status">${option("", filter.status, "any")}${FINDING_STATUSES.map((status) => option(status, filter.status))}</select>
<label for="provider">Provider</label><select id="provider" name="provider">${option("", filter.provider, "any")}${PROVIDERS.map((provider) => option(provider, filter.provider))}</select>
<button type="submit">Show</button>
</form>`;
}

function pager(view: FindingsView): SafeHtml {
  const next = nextPage(view);
  const filtered = new URLSearchParams(view.filter).toString();
  return html`<p class="pager">${view.after ? html`<a id="findings-first" href="/admin/findings${filtered ? `?${filtered}` : ""}">First page</a> ` : ""}${next ? html`<a id="findings-next" href="${next}">Next ${view.limit} →</a>` : ""}</p>`;
}

export function findingsPage(view: FindingsView, session: LayoutSession, notice: SafeHtml | null): SafeHtml {
  const body = html`${notice ?? ""}<p class="crumbs"><a href="/admin">Overview</a> / provider findings</p>
<div class="title-row"><h1>Provider findings</h1>${filterForm(view.filter)}</div>
<section id="findings">
<h2>Differences between the providers' records and the ledger <span class="sub">${formatPoints(view.findings.length)} shown${view.after ? ", after the previous page" : ""}; amounts in minor units</span></h2>
${
  view.findings.length === 0
    ? html`<p class="empty">No finding matches.</p>`
    : html`<table id="findings-table">
<thead><tr><th>Provider</th><th>Kind</th><th>Order / reference</th><th class="num">Amount</th><th>Day</th><th>Found</th><th>Status</th><th>User</th><th></th></tr></thead>
<tbody>${view.findings.map((finding) => findingRow(finding, session.csrf))}</tbody>
</table>`
}
${pager(view)}
<p class="hint">Crediting or applying goes through the webhook path under the provider's own keys (a late delivery is then a duplicate), audited under your name; the CLI's <code>reckon provider resolve</code> does the same.</p>
</section>`;
  return layout("Provider findings", body, session);
}
