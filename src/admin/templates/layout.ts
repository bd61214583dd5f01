import { html, type SafeHtml } from "./html.js";

export interface LayoutSession {
  /** Who is logged in, as audited (`token:ops`, `oidc:ana@example.com`). */
  actor: string;
  csrf: string;
}

/**
 * The page frame: one stylesheet and one script, both served by Reckon itself (the
 * Content-Security-Policy allows nothing else), and an empty icon so the browser asks
 * for no favicon.
 */
export function layout(title: string, body: SafeHtml, session: LayoutSession | null, options: { charts?: boolean } = {}): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Reckon</title>
<link rel="icon" href="data:,">
${options.charts ? html`<link rel="stylesheet" href="/admin/assets/uPlot.min.css">` : ""}
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
<header class="top">
  <a class="brand" href="/admin">Reckon <span>revenue assurance</span></a>
  ${session ? html`<nav class="pages"><a href="/admin">Overview</a><a href="/admin/findings?status=open">Provider findings</a></nav>` : ""}
  ${
    session
      ? html`<form class="logout" method="post" action="/admin/logout">
    <span class="who">${session.actor}</span>
    <input type="hidden" name="csrf" value="${session.csrf}">
    <button type="submit" class="link">Log out</button>
  </form>`
      : ""
  }
</header>
<main>
${body}
</main>
${options.charts ? html`<script src="/admin/assets/uPlot.iife.min.js"></script>` : ""}
<script src="/admin/assets/admin.js"></script>
</body>
</html>`;
}

/** A banner above the page: what an action did, or why it was refused (with its stable code). */
export function banner(kind: "done" | "refused", text: string, code?: string): SafeHtml {
  return html`<div class="banner ${kind}" role="status">${code ? html`<code>${code}</code> ` : ""}${text}</div>`;
}
