/** The page's one stylesheet: plain CSS, system fonts, numbers right-aligned in tabular figures. */
export const ADMIN_CSS = `
:root { --ink: #1d2329; --muted: #5f6b76; --line: #dfe3e8; --bg: #f5f7f9; --card: #fff; --accent: #1f5fbf;
  --ok: #1c7c3c; --warn: #9a6400; --bad: #b3261e; font-size: 14px; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); line-height: 1.4; }
a { color: var(--accent); }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em; }
header.top { display: flex; align-items: center; justify-content: space-between; padding: 10px 24px; background: #18212b; color: #fff; }
header.top .brand { color: #fff; text-decoration: none; font-weight: 600; font-size: 1.15rem; }
header.top .brand span { font-weight: 400; color: #aeb9c4; margin-left: 6px; }
header.top .logout { display: flex; gap: 12px; align-items: center; margin: 0; }
header.top .who { color: #cfd8e0; }
button.link { background: none; border: 0; color: #cfe0ff; cursor: pointer; text-decoration: underline; padding: 0; font: inherit; }
main { max-width: 1600px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 1.5rem; margin: 8px 0 12px; }
h2 { font-size: 1.1rem; margin: 0 0 10px; }
h3 { font-size: 0.95rem; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.sub { font-weight: 400; color: var(--muted); font-size: 0.85rem; margin-left: 6px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 0 0 16px; overflow-x: auto; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.columns > section { margin: 0 0 16px; }
.title-row { display: flex; align-items: center; justify-content: space-between; flex-wrap: wrap; gap: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; white-space: nowrap; }
th { font-weight: 600; color: var(--muted); font-size: 0.85rem; background: #fafbfc; }
tbody tr:hover { background: #f7f9fc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { white-space: normal; min-width: 160px; max-width: 360px; color: var(--muted); font-size: 0.9em; }
td form { margin: 0; }
td.wrap { white-space: normal; min-width: 180px; word-break: break-all; }
#events-table { font-size: 0.93em; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px 16px; margin: 0; }
dl.facts div { border-left: 3px solid var(--line); padding-left: 8px; }
dl.facts dt { color: var(--muted); font-size: 0.8rem; }
dl.facts dd { margin: 0; font-size: 1.1rem; font-variant-numeric: tabular-nums; text-align: left; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8rem; background: #e8ecf0; color: var(--ink); }
.badge.completed, .badge.processed, .badge.verdict-verified, .badge.off { background: #e3f3e8; color: var(--ok); }
.badge.running, .badge.parked, .badge.partial, .badge.verdict-unsigned, .badge.verdict-unanchored { background: #fdf1dc; color: var(--warn); }
.badge.failed, .badge.verdict-failed, .badge.on { background: #fbe4e2; color: var(--bad); }
.tag { font-size: 0.75rem; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 0 0 14px; border: 1px solid; }
.banner.done { background: #e9f6ee; border-color: #a8d9b8; color: #154d29; }
.banner.refused { background: #fdecea; border-color: #f0b4ae; color: #7a1c15; }
.empty, .hint { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.chart { min-height: 220px; }
button { font: inherit; padding: 4px 12px; border: 1px solid #b8c2cc; border-radius: 4px; background: #fff; cursor: pointer; }
button:hover { background: #eef2f6; }
input { font: inherit; padding: 4px 8px; border: 1px solid #b8c2cc; border-radius: 4px; }
header.top nav.pages { display: flex; gap: 16px; margin-right: auto; margin-left: 32px; }
header.top nav.pages a { color: #cfe0ff; }
select { font: inherit; padding: 4px 8px; border: 1px solid #b8c2cc; border-radius: 4px; background: #fff; }
form.resolve { display: flex; gap: 6px; align-items: center; }
.badge.finding-open { background: #fdf1dc; color: var(--warn); }
.badge.finding-repaired, .badge.finding-resolved { background: #e3f3e8; color: var(--ok); }
form.lookup, form.adjust { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
form.adjust input[name=reason] { min-width: 280px; }
section.login { max-width: 460px; margin: 40px auto; }
section.login form { display: grid; gap: 8px; }
ul.problems { color: var(--bad); }
p.crumbs { margin: 0; color: var(--muted); }
`;
