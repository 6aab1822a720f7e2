/* ice-tracker dashboard: draws the charts and the agreements table from window.ICE_DATA.
   Static and offline: plotly.js is loaded from assets/, the data from data/dashboard.js (a script, so the
   page also works from file://, where browsers refuse fetch()). */
(function () {
  "use strict";
  var D = window.ICE_DATA || {};
  var CONFIG = { displaylogo: false, responsive: true };
  var MODEL_COLOURS = { "Jail Enforcement Model": "#0072B2", "Task Force Model": "#E69F00", "Warrant Service Officer": "#009E73" };
  var MODEL_PATTERNS = { "Jail Enforcement Model": "", "Task Force Model": "/", "Warrant Service Officer": "." };

  function $(id) { return document.getElementById(id); }
  function fmt(n, digits) {
    return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 });
  }
  function title(s) { return s.toLowerCase().replace(/\b\w/g, function (c) { return c.toUpperCase(); }); }
  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text; select.appendChild(o);
  }

  /* ---------- Agreements over time ---------- */
  function setupAgreements() {
    var R = D.roster;
    if (!R || !$("agreements-chart")) return;
    var listSel = $("agreements-list"), stateSel = $("agreements-state"), modelSel = $("agreements-model");
    var fromIn = $("agreements-from"), toIn = $("agreements-to");
    Object.keys(R.lists).forEach(function (name) { option(listSel, name, title(name)); });
    option(stateSel, "ALL", "All states");
    R.states.forEach(function (s) { option(stateSel, s, title(s)); });
    option(modelSel, "ALL", "All models (stacked)");
    R.models.forEach(function (m) { option(modelSel, m, m); });
    var all = [].concat.apply([], Object.keys(R.lists).map(function (k) { return R.lists[k].dates; })).sort();
    fromIn.min = toIn.min = all[0]; fromIn.max = toIn.max = all[all.length - 1];
    fromIn.value = all[0]; toIn.value = all[all.length - 1];

    function draw() {
      var list = R.lists[listSel.value], state = stateSel.value, model = modelSel.value;
      var keep = list.dates.map(function (d) { return (!fromIn.value || d >= fromIn.value) && (!toIn.value || d <= toIn.value); });
      var x = list.dates.filter(function (_, i) { return keep[i]; });
      function series(m) {
        var s = (list.series[state] || {})[m] || [];
        return list.dates.map(function (_, i) { return s[i] || 0; }).filter(function (_, i) { return keep[i]; });
      }
      var traces = [];
      var models = model === "ALL" ? R.models : [model];
      models.forEach(function (m) {
        traces.push({
          x: x, y: series(m), name: m, type: "scatter", mode: "lines", line: { shape: "hv", color: MODEL_COLOURS[m], width: 1.5 },
          stackgroup: model === "ALL" ? "models" : undefined, fillpattern: { shape: MODEL_PATTERNS[m] },
          hovertemplate: "%{x}<br>" + m + ": %{y:,}<extra></extra>"
        });
      });
      var total = series(model);
      var where = state === "ALL" ? "all states" : title(state);
      Plotly.react("agreements-chart", traces, {
        title: { text: title(listSel.value) + " agreements, " + where + (model === "ALL" ? "" : ", " + model) },
        margin: { t: 50, r: 20, b: 50, l: 60 }, hovermode: "x unified",
        yaxis: { title: { text: "Agreements" }, rangemode: "tozero" }, xaxis: { type: "date" },
        legend: { orientation: "h", y: -0.15 }
      }, CONFIG);
      var last = total.length ? total[total.length - 1] : 0, first = total.length ? total[0] : 0;
      $("agreements-caption").textContent = x.length
        ? title(listSel.value) + " agreements in " + where + ": " + fmt(first) + " on " + x[0] + ", " + fmt(last) + " on " + x[x.length - 1] + " (" + x.length + " roster dates)."
        : "No rosters in the chosen date range.";
    }
    [listSel, stateSel, modelSel, fromIn, toIn].forEach(function (el) { el.addEventListener("change", draw); });
    draw();
  }

  /* ---------- State map ---------- */
  var RAMP = [[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
  function ramp(t) {
    t = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    var i = Math.min(Math.floor(t), RAMP.length - 2), f = t - i, a = RAMP[i], b = RAMP[i + 1];
    return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); }).join(",") + ")";
  }
  function setupMap() {
    var M = D.map;
    if (!M || !$("map-chart")) return;
    var metricSel = $("map-metric");
    function draw() {
      var metric = metricSel.value, byFips = {};
      M.states.forEach(function (s) { byFips[s.fips] = s; });
      var top = Math.max.apply(null, M.states.map(function (s) { return s[metric] || 0; }).concat([1e-9]));
      var traces = [], labels = { x: [], y: [], text: [] };
      M.shapes.states.forEach(function (shape) {
        var s = byFips[shape.fips] || {}, v = s[metric] || 0;
        var xs = [], ys = [];
        shape.polygons.forEach(function (poly) {
          poly.forEach(function (ring) {
            ring.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); });
            xs.push(ring[0][0], null); ys.push(ring[0][1], null);
          });
        });
        var text = shape.name + ": " + (metric === "per100k" ? fmt(v, 2) + " per 100,000 residents" : fmt(v) + " agreements");
        traces.push({ x: xs, y: ys, type: "scatter", mode: "lines", fill: "toself", line: { color: "#555", width: 0.6 },
                      fillcolor: v ? ramp(0.1 + 0.9 * v / top) : "#f2f2f2", hoverinfo: "text", text: text, hoveron: "fills",
                      name: shape.name, showlegend: false });
        if (shape.label && v) {
          labels.x.push(shape.label[0]); labels.y.push(shape.label[1]);
          labels.text.push(metric === "per100k" ? fmt(v, 1) : fmt(v));
        }
      });
      traces.push({ x: labels.x, y: labels.y, text: labels.text, mode: "text", type: "scatter", hoverinfo: "skip",
                    textfont: { size: 10, color: "#000" }, showlegend: false });
      Plotly.react("map-chart", traces, {
        title: { text: metric === "per100k" ? "Participating agreements per 100,000 residents (2020 Census)" : "Participating agreements by state" },
        xaxis: { visible: false, range: [0, M.shapes.width] },
        yaxis: { visible: false, range: [M.shapes.height, 0], scaleanchor: "x" },
        margin: { t: 50, r: 5, b: 5, l: 5 }, hovermode: "closest"
      }, CONFIG);
    }
    metricSel.addEventListener("change", draw);
    draw();
  }

  /* ---------- Detention ---------- */
  function setupDetention() {
    var T = D.detention;
    if (!T || !$("detention-chart")) return;
    var facSel = $("detention-facility"), fromSel = $("detention-from"), toSel = $("detention-to");
    option(facSel, "", "All facilities (national, distinct people)");
    T.facilities.forEach(function (f) {
      option(facSel, f.code, f.name + " (" + f.code + (f.state ? ", " + f.state : "") + ")" + (f.adp ? ": ADP " + fmt(f.adp) : ""));
    });
    T.fiscal_years.forEach(function (fy) { option(fromSel, fy, fy); option(toSel, fy, fy); });
    fromSel.value = T.fiscal_years[0]; toSel.value = T.fiscal_years[T.fiscal_years.length - 1];
    function fyOf(date) { var y = +date.slice(0, 4), m = +date.slice(5, 7); return "FY" + (m >= 10 ? y + 1 : y); }
    function draw() {
      var lo = fromSel.value, hi = toSel.value;
      if (lo > hi) { var t = lo; lo = hi; hi = t; }
      function inRange(fy) { return fy >= lo && fy <= hi; }
      var traces = [], caption;
      if (!facSel.value) {
        var N = T.national, x = [], y = [], px = [], py = [];
        N.dates.forEach(function (d, i) {
          if (!inRange(fyOf(d))) return;
          if (N.provisional[i]) { px.push(d); py.push(N.n[i]); } else { x.push(d); y.push(N.n[i]); }
        });
        traces.push({ x: x, y: y, type: "scatter", mode: "lines", name: "Detained at midnight", line: { color: "#0072B2", width: 1.4 },
                      hovertemplate: "%{x}: %{y:,} people<extra></extra>" });
        if (px.length) traces.push({ x: px, y: py, type: "scatter", mode: "markers", name: "Provisional day (under-count)",
                                     marker: { color: "#999", size: 4, symbol: "x" } });
        var fx = [], fy = [];
        T.national_fy.forEach(function (r) {
          if (!inRange(r.fy)) return;
          fx.push(r.start, r.end, null); fy.push(r.adp, r.adp, null);
        });
        traces.push({ x: fx, y: fy, type: "scatter", mode: "lines", name: "Fiscal-year ADP", line: { color: "#000", dash: "dash", width: 2 },
                      hovertemplate: "ADP %{y:,.0f}<extra></extra>" });
        caption = "National population in ICE detention at midnight (distinct people), " + lo + "–" + hi + ". " +
          T.national_fy.filter(function (r) { return inRange(r.fy); }).map(function (r) { return r.fy + " ADP " + fmt(r.adp) + (r.partial ? " (partial)" : ""); }).join("; ") + ".";
      } else {
        var F = T.facility_monthly[facSel.value] || { months: [], adp: [] }, mx = [], my = [];
        F.months.forEach(function (m, i) { if (inRange(fyOf(m + "-01"))) { mx.push(m + "-15"); my.push(F.adp[i]); } });
        var name = facSel.options[facSel.selectedIndex].textContent;
        traces.push({ x: mx, y: my, type: "bar", name: "Monthly ADP", marker: { color: "#0072B2" },
                      hovertemplate: "%{x|%b %Y}: ADP %{y:,.1f}<extra></extra>" });
        caption = name + ": average daily population at midnight by month, " + lo + "–" + hi + " (" + mx.length + " months with people held).";
      }
      var plotLink = $("detention-facility-plot"), fac = T.facilities.filter(function (f) { return f.code === facSel.value; })[0];
      if (plotLink) {
        plotLink.hidden = !(fac && fac.plot);
        if (fac && fac.plot) plotLink.firstChild.setAttribute("href", fac.plot);
      }
      Plotly.react("detention-chart", traces, {
        title: { text: facSel.value ? "Monthly average daily population: " + facSel.value : "ICE detention population at midnight, nationally" },
        margin: { t: 50, r: 20, b: 50, l: 70 }, yaxis: { title: { text: "People" }, rangemode: "tozero" }, xaxis: { type: "date" },
        legend: { orientation: "h", y: -0.15 }
      }, CONFIG);
      $("detention-caption").textContent = caption;
    }
    [facSel, fromSel, toSel].forEach(function (el) { el.addEventListener("change", draw); });
    draw();
  }

  /* ---------- Agreements table ---------- */
  function setupTable() {
    var T = D.table;
    if (!T || !$("agreements-table")) return;
    var cols = T.columns, rows = T.rows, search = $("table-search"), listSel = $("table-list");
    var sortCol = 0, sortDir = 1;
    var idx = {}; cols.forEach(function (c, i) { idx[c.key] = i; });
    var head = $("agreements-table").querySelector("thead tr"), body = $("agreements-table").querySelector("tbody");
    cols.forEach(function (c, i) {
      if (c.hidden) return;
      var th = document.createElement("th"), b = document.createElement("button");
      th.scope = "col"; if (c.numeric) th.className = "num";
      b.type = "button"; b.innerHTML = c.label + ' <span class="dir" aria-hidden="true"></span>';
      b.addEventListener("click", function () { sortDir = sortCol === i ? -sortDir : 1; sortCol = i; render(); });
      th.appendChild(b); head.appendChild(th); c.th = th;
    });
    function cell(row, c) {
      var v = row[idx[c.key]], td = document.createElement("td");
      if (c.numeric) { td.className = "num"; td.textContent = v === "" ? "" : fmt(v); return td; }
      if (c.key === "agreement") {
        var links = [["MOA", row[idx.moa_archived], row[idx.moa_url]], ["Addendum", row[idx.addendum_archived], row[idx.addendum_url]]];
        links.forEach(function (l) {
          if (!/^https?:\/\//i.test(l[2] || "")) l[2] = "";  // only web links are clickable (never javascript:)
          if (!/^\.\.\/agreements\//.test(l[1] || "")) l[1] = "";
          if (!l[1] && !l[2]) return;
          var a = document.createElement("a");
          a.href = l[1] || l[2]; a.textContent = l[0] + (l[1] ? " (archived PDF)" : " (ICE link)");
          td.appendChild(a); td.appendChild(document.createElement("br"));
        });
        if (!td.childNodes.length) td.textContent = "—";
        return td;
      }
      td.textContent = v; return td;
    }
    function render() {
      var q = search.value.trim().toLowerCase(), list = listSel.value;
      var shown = rows.filter(function (r) {
        return (!list || r[idx.list] === list) && (!q || r.join(" ").toLowerCase().indexOf(q) >= 0);
      });
      var c = cols[sortCol];
      shown.sort(function (a, b) {
        var x = a[sortCol], y = b[sortCol];
        if (c.numeric) { x = x === "" ? -Infinity : +x; y = y === "" ? -Infinity : +y; }
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
      cols.forEach(function (col, i) {
        if (!col.th) return;
        col.th.setAttribute("aria-sort", i === sortCol ? (sortDir > 0 ? "ascending" : "descending") : "none");
        col.th.querySelector(".dir").textContent = i === sortCol ? (sortDir > 0 ? "▲" : "▼") : "";
      });
      var frag = document.createDocumentFragment();
      shown.forEach(function (r) {
        var tr = document.createElement("tr");
        cols.forEach(function (col) { if (!col.hidden) tr.appendChild(cell(r, col)); });
        frag.appendChild(tr);
      });
      body.replaceChildren(frag);
      $("table-count").textContent = fmt(shown.length) + " of " + fmt(rows.length) + " agreements shown.";
    }
    search.addEventListener("input", render);
    listSel.addEventListener("change", render);
    render();
  }

  function start() {
    [setupAgreements, setupMap, setupDetention, setupTable].forEach(function (f) { f(); });
    document.body.setAttribute("data-ready", "true");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
