/**
 * The page's one script (served as /admin/assets/admin.js; no inline script runs):
 * draws the charts with uPlot from the figures the server embedded as JSON, and keeps
 * running backfill rows up to date by polling /admin/migrations.json.
 */
export const ADMIN_SCRIPT = `"use strict";
(function () {
  function group(value) {
    if (value === null || value === undefined) return "—";
    var digits = String(Math.abs(value)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, "\\u2009");
    return value < 0 ? "\\u2212" + digits : digits;
  }

  function drawCharts() {
    var source = document.getElementById("chart-data");
    if (!source || typeof uPlot === "undefined") return;
    var data = JSON.parse(source.textContent);
    var colors = { violations: "#b3261e", adjustments: "#1f5fbf" };
    document.querySelectorAll(".chart[data-series]").forEach(function (element) {
      var name = element.getAttribute("data-series");
      var color = colors[name] || "#1f5fbf";
      var options = {
        width: Math.max(320, element.clientWidth),
        height: 220,
        scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
        series: [
          { label: "Day", value: "{YYYY}-{MM}-{DD}" },
          {
            label: element.getAttribute("data-label"),
            stroke: color,
            fill: color + "99",
            width: 1,
            paths: uPlot.paths.bars({ size: [0.7, 24] }),
            points: { show: false },
            value: function (u, v) { return group(v); }
          }
        ],
        axes: [
          { values: "{MM}-{DD}", space: 48 },
          {
            values: function (u, ticks) { return ticks.map(function (t) { return Number.isInteger(t) ? group(t) : ""; }); },
            size: function (u, values) { return 24 + 8 * Math.max(1, ...(values || []).map(function (v) { return v.length; })); }
          }
        ]
      };
      new uPlot(options, [data.days, data[name]], element);
    });
  }

  function refreshMigrations() {
    var running = document.querySelectorAll('tr[data-migration-status="running"]');
    if (running.length === 0) return;
    fetch("/admin/migrations.json", { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        body.migrations.forEach(function (record) {
          var row = document.querySelector('tr[data-migration-id="' + CSS.escape(record.id) + '"]');
          if (!row) return;
          ["scanned", "processed", "skipped", "errors", "ratePerSecond"].forEach(function (field) {
            var cell = row.querySelector('[data-field="' + field + '"]');
            if (cell) cell.textContent = group(record[field]);
          });
          var status = row.querySelector('[data-field="status"] .badge');
          if (status) { status.textContent = record.status; status.className = "badge " + record.status; }
          var updated = row.querySelector('[data-field="updatedAt"]');
          if (updated) updated.textContent = record.updatedAt.slice(0, 19).replace("T", " ") + " UTC";
          row.setAttribute("data-migration-status", record.status);
        });
      })
      .catch(function () { /* the next tick tries again */ })
      .finally(function () { setTimeout(refreshMigrations, 2000); });
  }

  drawCharts();
  setTimeout(refreshMigrations, 2000);
})();
`;
