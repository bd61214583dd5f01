import type { BackfillRun } from "../../backfill/backfillRuns.js";
import type { FlagState } from "../../flags/listFlags.js";
import type { EventSummary } from "../../webhooks/listStuckEvents.js";
import type { Dashboard, VerifyStatus } from "../readDashboard.js";
import { formatDelta, formatPoints, formatTime } from "./format.js";
import { html, jsonBlock, type SafeHtml } from "./html.js";
import { layout, type LayoutSession } from "./layout.js";

const num = (value: number) => html`<td class="num">${formatPoints(value)}</td>`;

/** The figures the charts draw, one point per day; null where no run happened. */
export function chartData(dashboard: Dashboard) {
  return {
    days: dashboard.days.map((day) => Date.parse(`${day.date}T00:00:00.000Z`) / 1000),
    violations: dashboard.days.map((day) => day.violations),
    adjustments: dashboard.days.map((day) => day.adjustmentAbsTotal),
  };
}

function chartsSection(dashboard: Dashboard): SafeHtml {
  return html`<section id="charts">
<h2>Reconciliation by day <span class="sub">last ${dashboard.days.length} days, UTC; no bar = no run</span></h2>
<script type="application/json" id="chart-data">${jsonBlock(chartData(dashboard))}</script>
<div class="charts">
  <figure><figcaption>Invariant violations (drifted users)</figcaption><div class="chart" data-series="violations" data-label="violations"></div></figure>
  <figure><figcaption>Adjustments (sum of |heal| in points)</figcaption><div class="chart" data-series="adjustments" data-label="points adjusted"></div></figure>
</div>
</section>`;
}

function lastRunSection(dashboard: Dashboard): SafeHtml {
  const run = dashboard.lastRun;
  if (!run) return html`<section id="last-run"><h2>Last run</h2><p class="empty">No reconciliation has run yet.</p></section>`;
  const userLink = (uid: string) => html`<a href="/admin/users/${encodeURIComponent(uid)}?date=${run.date}">${uid}</a>`;
  return html`<section id="last-run">
<h2>Last run <span class="sub">${run.date}</span></h2>
<dl class="facts">
  <div><dt>Status</dt><dd><span class="badge ${run.status}">${run.status}</span></dd></div>
  <div><dt>Heal policy</dt><dd>${run.healPolicy}</dd></div>
  <div><dt>Users checked</dt><dd class="num">${formatPoints(run.usersChecked)}</dd></div>
  <div><dt>Violations</dt><dd class="num">${formatPoints(run.violations)}</dd></div>
  <div><dt>Refused heals</dt><dd class="num">${formatPoints(run.refused)}</dd></div>
  <div><dt>Adjusted (|points|)</dt><dd class="num">${formatPoints(run.adjustmentAbsTotal)}</dd></div>
  <div><dt>Finished</dt><dd>${formatTime(run.finishedAt)}</dd></div>
</dl>
<h3>Top deltas</h3>
${
  dashboard.topDeltas.length === 0
    ? html`<p class="empty">No user drifted in this run.</p>`
    : html`<table id="top-deltas">
<thead><tr><th>User</th><th class="num">Wallet</th><th class="num">Ledger sum</th><th class="num">Delta</th><th>Action</th></tr></thead>
<tbody>${dashboard.topDeltas.map(
        (line) => html`<tr><td>${userLink(line.uid)}</td>${num(line.walletPoints)}${num(line.ledgerSum)}<td class="num">${formatDelta(line.delta)}</td><td>${line.action}${line.reason ? html` <code>${line.reason}</code>` : ""}</td></tr>`,
      )}</tbody>
</table>`
}
</section>`;
}

const VERDICT_TEXT: Record<VerifyStatus["verdict"], string> = {
  verified: "every run signed, chain matches the anchor",
  failed: "problems found",
  unsigned: "nothing found, but no verify key is configured, so a full rewrite would not show",
  unanchored: "signatures verify, but no anchor file is configured, so a deleted newest run would not show",
};

function verifySection(verify: VerifyStatus): SafeHtml {
  return html`<section id="verify">
<h2>Reports verify</h2>
<p><span class="badge verdict-${verify.verdict}" id="verify-verdict">${verify.verdict}</span> ${VERDICT_TEXT[verify.verdict]}</p>
<p class="sub">${formatPoints(verify.runsChecked)} run(s) and ${formatPoints(verify.linesChecked)} line(s) recomputed${
    verify.head ? html`; chain head at position ${formatPoints(verify.head.position)} (${verify.head.date})` : ""
  }.</p>
${verify.problems.length > 0 ? html`<ul class="problems">${verify.problems.map((problem) => html`<li>${problem}</li>`)}</ul>` : ""}
</section>`;
}

function migrationRow(record: BackfillRun): SafeHtml {
  const cell = (field: string, value: number) => html`<td class="num" data-field="${field}">${formatPoints(value)}</td>`;
  return html`<tr data-migration-id="${record.id}" data-migration-status="${record.status}">
<td><code>${record.id}</code></td><td>${record.type}${record.dryRun ? html` <span class="tag">dry run</span>` : ""}</td>
<td>${record.params.startDate} → ${record.params.endDate}</td>
<td data-field="status"><span class="badge ${record.status}">${record.status}</span></td>
${cell("scanned", record.scanned)}${cell("processed", record.processed)}${cell("skipped", record.skipped)}${cell("errors", record.errors)}
${cell("ratePerSecond", record.ratePerSecond)}<td data-field="updatedAt">${formatTime(record.updatedAt)}</td>
</tr>`;
}

function migrationsSection(migrations: BackfillRun[]): SafeHtml {
  return html`<section id="migrations">
<h2>Backfill runs <span class="sub">newest first; running rows update live</span></h2>
${
  migrations.length === 0
    ? html`<p class="empty">No backfill has run.</p>`
    : html`<table id="migrations-table">
<thead><tr><th>Id</th><th>Type</th><th>Range</th><th>Status</th><th class="num">Scanned</th><th class="num">Processed</th><th class="num">Skipped</th><th class="num">Errors</th><th class="num">Events/s</th><th>Updated</th></tr></thead>
<tbody>${migrations.map(migrationRow)}</tbody>
</table>`
}
</section>`;
}

function eventRow(event: EventSummary, csrf: string): SafeHtml {
  const why = event.status === "parked" ? html`waiting for <code>${event.waitingFor ?? ""}</code>` : html`<code>${event.failureReason ?? ""}</code>`;
  return html`<tr data-event-id="${event.id}">
<td class="num">${event.id}</td><td>${event.provider}</td><td><code>${event.eventId}</code></td><td>${event.eventType}</td>
<td><span class="badge ${event.status}">${event.status}</span></td><td class="wrap">${why}</td><td class="detail">${event.failureDetail ?? ""}</td>
<td class="num">${formatPoints(event.attempts)}</td><td>${formatTime(event.receivedAt)}</td>
<td><form method="post" action="/admin/events/${event.id}/replay"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Replay</button></form></td>
</tr>`;
}

function eventsSection(stuck: Dashboard["stuck"], csrf: string): SafeHtml {
  return html`<section id="events">
<h2>Failed and parked webhook events <span class="sub">${formatPoints(stuck.total)} in all${stuck.total > stuck.events.length ? html`, newest ${stuck.events.length} shown` : ""}</span></h2>
${
  stuck.events.length === 0
    ? html`<p class="empty">Every stored event is processed or ignored.</p>`
    : html`<table id="events-table">
<thead><tr><th class="num">#</th><th>Provider</th><th>Event</th><th>Type</th><th>Status</th><th>Reason</th><th>Detail</th><th class="num">Attempts</th><th>Received</th><th></th></tr></thead>
<tbody>${stuck.events.map((event) => eventRow(event, csrf))}</tbody>
</table>`
}
</section>`;
}

function flagRow(flag: FlagState, csrf: string): SafeHtml {
  const label = flag.name === "adjustments_frozen" ? (flag.value ? "Unfreeze adjustments" : "Freeze adjustments") : flag.value ? "Turn off" : "Turn on";
  return html`<tr data-flag="${flag.name}">
<td><code>${flag.name}</code></td><td><span class="badge ${flag.value ? "on" : "off"}" data-field="value">${flag.value ? "on" : "off"}</span></td>
<td>${flag.updatedBy ?? "default"}</td><td>${formatTime(flag.updatedAt)}</td>
<td><form method="post" action="/admin/flags/${flag.name}"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="value" value="${flag.value ? "false" : "true"}"><button type="submit">${label}</button></form></td>
</tr>`;
}

function flagsSection(flags: FlagState[], csrf: string): SafeHtml {
  return html`<section id="flags">
<h2>Runtime flags</h2>
<table id="flags-table">
<thead><tr><th>Flag</th><th>Value</th><th>Set by</th><th>Set at</th><th></th></tr></thead>
<tbody>${flags.map((flag) => flagRow(flag, csrf))}</tbody>
</table>
</section>`;
}

const lookup = html`<form class="lookup" method="get" action="/admin/users">
<label for="uid">User</label><input id="uid" name="uid" placeholder="user id" required maxlength="128"><button type="submit">Open line and ledger</button>
</form>`;

export function dashboardPage(dashboard: Dashboard, session: LayoutSession, notice: SafeHtml | null): SafeHtml {
  const body = html`${notice ?? ""}<div class="title-row"><h1>Overview</h1><a id="open-findings" href="/admin/findings?status=open">${formatPoints(dashboard.openFindings)} open provider finding${dashboard.openFindings === 1 ? "" : "s"}</a>${lookup}</div>
${chartsSection(dashboard)}
<div class="columns">${lastRunSection(dashboard)}${verifySection(dashboard.verify)}</div>
${eventsSection(dashboard.stuck, session.csrf)}
${migrationsSection(dashboard.migrations)}
${flagsSection(dashboard.flags, session.csrf)}`;
  return layout("Overview", body, session, { charts: true });
}
