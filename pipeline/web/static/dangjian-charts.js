/* dangjian plugin: draw charts from canned queries' JSON with Chart.js (vendored), on load.
 *
 * The dashboard (/-/dashboard) has one <canvas data-chart="N"> per chart in
 * window.dangjianCharts; a chart-able canned query page gets window.dangjianQueryChart and a
 * chart above its table, drawn from the same query's JSON (the page's own parameters). */
(function () {
  "use strict";
  var COLOURS = ["#c0392b", "#2471a3", "#d68910", "#229954", "#7d3c98", "#5d6d7e",
                 "#cb4335", "#17a589", "#ca6f1e", "#2e4053", "#a93226", "#1f618d"];

  function jsonUrl(spec, search) {
    var params = new URLSearchParams(search || "");
    params.set("_shape", "array");
    params.set("_size", "max");
    return spec.json + "?" + params.toString();
  }

  function datasets(spec, rows) {
    var labels = [], seen = {};
    rows.forEach(function (r) {
      var x = r[spec.x] == null ? "(none)" : String(r[spec.x]);
      if (!seen[x]) { seen[x] = true; labels.push(x); }
    });
    var sets = [];
    if (spec.series) {
      var bySeries = {};
      rows.forEach(function (r) {
        var s = r[spec.series] == null ? "(none)" : String(r[spec.series]);
        (bySeries[s] = bySeries[s] || {})[String(r[spec.x])] = r[spec.y[0]];
      });
      Object.keys(bySeries).forEach(function (s) {
        sets.push({ label: s, data: labels.map(function (x) { return bySeries[s][x] || 0; }) });
      });
    } else {
      spec.y.forEach(function (y) {
        sets.push({ label: y, data: rows.map(function (r) { return r[y]; }) });
      });
    }
    sets.forEach(function (set, i) {
      set.backgroundColor = COLOURS[i % COLOURS.length];
      set.borderColor = COLOURS[i % COLOURS.length];
      set.tension = 0.2;
    });
    return { labels: labels, datasets: sets };
  }

  function draw(canvas, spec, rows) {
    if (spec.limit) { rows = rows.slice(0, spec.limit); }
    var data = datasets(spec, rows);
    var horizontal = !!spec.horizontal;
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: data,
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: data.datasets.length > 1 } },
        scales: {
          x: { stacked: !!spec.stacked, ticks: { autoSkip: !horizontal } },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { autoSkip: horizontal ? false : true } }
        },
        onClick: function (event, elements) {
          if (!spec.link || !elements.length) { return; }
          var row = rows[elements[0].index];
          if (row && row[spec.link] != null) {
            window.location.href = spec.json.replace(/\/[^/]+\.json$/, "/articles/") + row[spec.link];
          }
        }
      }
    });
    canvas.setAttribute("data-drawn", rows.length);
    return chart;
  }

  function load(canvas, spec, search) {
    var box = canvas.parentNode;
    fetch(jsonUrl(spec, search), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (rows) {
        if (!rows.length) {
          box.insertAdjacentHTML("beforeend", "<p class='dangjian-chart-empty'>No data.</p>");
          canvas.setAttribute("data-drawn", "0");
          return;
        }
        draw(canvas, spec, rows);
      })
      .catch(function (error) {
        canvas.setAttribute("data-error", String(error));
        box.insertAdjacentHTML("beforeend", "<p class='dangjian-chart-empty'>Chart unavailable: " +
          String(error).replace(/[<>&]/g, "") + "</p>");
      });
  }

  function start() {
    if (!window.Chart) { return; }
    (window.dangjianCharts || []).forEach(function (spec, i) {
      var canvas = document.querySelector("canvas[data-chart='" + i + "']");
      if (canvas) { load(canvas, spec, ""); }
    });
    var spec = window.dangjianQueryChart;
    if (spec) {
      var anchor = document.querySelector("table.rows-and-columns") ||
        document.querySelector(".zero-results") || document.querySelector("form.sql");
      var box = document.createElement("div");
      box.className = "dangjian-chart dangjian-query-chart";
      var canvas = document.createElement("canvas");
      box.appendChild(canvas);
      if (anchor && anchor.parentNode) {
        anchor.parentNode.insertBefore(box, anchor);
      } else {
        document.querySelector(".content, section, body").appendChild(box);
      }
      load(canvas, spec, window.location.search);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
