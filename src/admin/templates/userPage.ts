import type { EntryPage } from "../../ledger/listEntries.js";
import type { WalletView } from "../../ledger/readWallet.js";
import type { UserLineView } from "../../reconcile/readReports.js";
import { formatDelta, formatPoints, formatTime } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type LayoutSession } from "./layout.js";

export interface UserView {
  uid: string;
  wallet: WalletView | null;
  /** The report line of `date` (the requested date, else the latest run's). */
  date: string | null;
  line: UserLineView | null;
  entries: EntryPage;
  /** A fresh Idempotency-Key for the adjustment form, so a resubmitted form posts once. */
  adjustmentKey: string;
}

function walletSection(view: UserView): SafeHtml {
  const wallet = view.wallet;
  return html`<section id="wallet"><h2>Wallet</h2>${
    wallet
      ? html`<dl class="facts">
  <div><dt>Points</dt><dd class="num" id="wallet-points">${formatPoints(wallet.points)}</dd></div>
  <div><dt>Version</dt><dd class="num">${formatPoints(wallet.version)}</dd></div>
  <div><dt>Negative flagged</dt><dd>${wallet.negativeFlagged ? "yes" : "no"}</dd></div>
  <div><dt>Updated</dt><dd>${formatTime(wallet.updatedAt)}</dd></div>
</dl>`
      : html`<p class="empty">This user has no wallet yet.</p>`
  }</section>`;
}

function lineSection(view: UserView): SafeHtml {
  const line = view.line;
  return html`<section id="report-line"><h2>Report line ${view.date ? html`<span class="sub">${view.date}</span>` : ""}</h2>${
    line
      ? html`<dl class="facts">
  <div><dt>Wallet</dt><dd class="num">${formatPoints(line.walletPoints)}</dd></div>
  <div><dt>Ledger sum</dt><dd class="num">${formatPoints(line.ledgerSum)}</dd></div>
  <div><dt>Entries</dt><dd class="num">${formatPoints(line.ledgerCount)}</dd></div>
  <div><dt>Delta</dt><dd class="num">${formatDelta(line.delta)}</dd></div>
  <div><dt>Action</dt><dd>${line.action}${line.reason ? html` <code>${line.reason}</code>` : ""}</dd></div>
  <div><dt>Run</dt><dd class="num">${line.runId}</dd></div>
</dl>${line.detail ? html`<p class="detail">${line.detail}</p>` : ""}`
      : html`<p class="empty">${view.date ? "No line for this user in that run." : "No reconciliation has run yet."}</p>`
  }</section>`;
}

function ledgerSection(view: UserView): SafeHtml {
  const { entries, nextBefore } = view.entries;
  return html`<section id="ledger"><h2>Ledger <span class="sub">newest first</span></h2>${
    entries.length === 0
      ? html`<p class="empty">No entries.</p>`
      : html`<table id="ledger-table">
<thead><tr><th class="num">Entry</th><th>Kind</th><th class="num">Amount</th><th class="num">Balance after</th><th>Source</th><th>Reason</th><th>At</th></tr></thead>
<tbody>${entries.map(
          (entry) => html`<tr><td class="num">${entry.id}</td><td>${entry.kind}</td><td class="num">${formatDelta(entry.amount)}</td><td class="num">${formatPoints(entry.balanceAfter)}</td><td>${entry.source}${entry.sourceRef ? html` <code>${entry.sourceRef}</code>` : ""}</td><td class="detail">${entry.reason ?? ""}</td><td>${formatTime(entry.createdAt)}</td></tr>`,
        )}</tbody>
</table>`
  }${nextBefore !== null ? html`<p><a href="/admin/users/${encodeURIComponent(view.uid)}?before=${nextBefore}">Older entries</a></p>` : ""}</section>`;
}

function adjustmentForm(view: UserView, csrf: string): SafeHtml {
  return html`<section id="adjust"><h2>Manual adjustment</h2>
<form class="adjust" method="post" action="/admin/users/${encodeURIComponent(view.uid)}/adjustments">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="idempotencyKey" value="${view.adjustmentKey}">
  <label for="amount">Points (signed)</label><input id="amount" name="amount" type="number" step="1" required>
  <label for="reason">Reason</label><input id="reason" name="reason" required maxlength="500">
  <button type="submit">Post adjustment</button>
</form>
<p class="hint">Posts one <code>admin_adjustment</code> entry, audited under your name; refused while adjustments are frozen.</p>
</section>`;
}

export function userPage(view: UserView, session: LayoutSession, notice: SafeHtml | null): SafeHtml {
  const body = html`${notice ?? ""}<p class="crumbs"><a href="/admin">Overview</a> / user</p><h1><code>${view.uid}</code></h1>
<div class="columns">${walletSection(view)}${lineSection(view)}</div>
${adjustmentForm(view, session.csrf)}
${ledgerSection(view)}`;
  return layout(view.uid, body, session);
}
