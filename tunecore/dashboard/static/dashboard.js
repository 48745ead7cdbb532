// tunecore dashboard: polls the JSON API and draws the pages and charts (SVG) in the browser.
// Every value from an experiment is inserted as text (textContent / text nodes), never as HTML.
"use strict";
(() => {
  const POLL_MS = 500;
  const MAX_ROWS = 500;
  const NS = "http://www.w3.org/2000/svg";
  const STATUS_COLOURS = { TERMINATED: "#1f77b4", ERROR: "#d62728", PAUSED: "#ff7f0e", RUNNING: "#2ca02c" };
  const main = document.getElementById("main");
  const live = document.getElementById("live");

  // -- fetching: one ETag per URL, so an unchanged document costs a 304 and no work ------------------------
  const etags = new Map();
  const bodies = new Map();

  async function get(url) {
    const headers = etags.has(url) ? { "If-None-Match": etags.get(url) } : {};
    const response = await fetch(url, { headers, cache: "no-store" });
    if (response.status === 304) return [bodies.get(url), false];
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const data = await response.json();
    etags.set(url, response.headers.get("ETag"));
    bodies.set(url, data);
    return [data, true];
  }

  // A document fetched once, not kept (a delta's URL names the version it starts from).
  async function getOnce(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  // -- DOM helpers: text only ---------------------------------------------------------------------------
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
    return node;
  }

  function fmt(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      const abs = Math.abs(value);
      return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(+value.toPrecision(5));
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.round(seconds);
    return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  }

  function counts(trials) {
    return Object.entries(trials || {}).map(([status, n]) => `${n} ${status}`).join(", ");
  }

  function expLink(name, trial) {
    const base = `#/exp/${encodeURIComponent(name)}`;
    return trial === undefined ? base : `${base}/trial/${encodeURIComponent(trial)}`;
  }

  function flatten(value, prefix, out) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}/${key}` : key, out);
    } else out.push([prefix, value]);
    return out;
  }

  function card(id, label) {
    return el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value", id }, "…"));
  }

  function setText(id, text) {
    const node = document.getElementById(id);
    if (node) node.textContent = text;
  }

  // -- SVG charts --------------------------------------------------------------------------------------
  function svgEl(tag, attributes, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function extent(values) {
    let low = Infinity;
    let high = -Infinity;
    for (const v of values) if (typeof v === "number" && Number.isFinite(v)) { low = Math.min(low, v); high = Math.max(high, v); }
    if (low === Infinity) return [0, 1];
    if (low === high) return [low - 0.5, high + 0.5];
    return [low, high];
  }

  // A plot area with axes: returns the svg and scales from data to pixels.
  function plotArea(xRange, yRange, xlabel, ylabel, width = 560, height = 300) {
    const box = { left: 60, right: width - 12, top: 10, bottom: height - 40 };
    const root = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
    const x = (v) => box.left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * (box.right - box.left);
    const y = (v) => box.bottom - ((v - yRange[0]) / (yRange[1] - yRange[0])) * (box.bottom - box.top);
    root.append(svgEl("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top, fill: "none", stroke: "#ccc" }));
    for (let i = 0; i <= 4; i++) {
      const xv = xRange[0] + ((xRange[1] - xRange[0]) * i) / 4;
      const yv = yRange[0] + ((yRange[1] - yRange[0]) * i) / 4;
      root.append(svgEl("text", { x: x(xv), y: box.bottom + 14, "text-anchor": "middle" }, fmt(xv)));
      root.append(svgEl("text", { x: box.left - 4, y: y(yv) + 4, "text-anchor": "end" }, fmt(yv)));
    }
    root.append(svgEl("text", { x: (box.left + box.right) / 2, y: height - 6, "text-anchor": "middle" }, xlabel || ""));
    root.append(svgEl("text", { x: 12, y: (box.top + box.bottom) / 2, transform: `rotate(-90 12 ${(box.top + box.bottom) / 2})`, "text-anchor": "middle" }, ylabel || ""));
    return { root, x, y };
  }

  function polyline(area, xs, ys, colour, width = 1.5, opacity = 1) {
    const points = xs.map((v, i) => `${area.x(v).toFixed(1)},${area.y(ys[i]).toFixed(1)}`).join(" ");
    return svgEl("polyline", { points, fill: "none", stroke: colour, "stroke-width": width, "stroke-opacity": opacity });
  }

  function dots(area, xs, ys, colour, titles) {
    const group = svgEl("g", { fill: colour, "fill-opacity": 0.7 });
    xs.forEach((v, i) => {
      const dot = svgEl("circle", { cx: area.x(v).toFixed(1), cy: area.y(ys[i]).toFixed(1), r: 2.5 });
      if (titles) dot.append(svgEl("title", {}, titles[i]));
      group.append(dot);
    });
    return group;
  }

  const charts = {
    history(data) {
      const area = plotArea(extent(data.x), extent([...data.y, ...data.best]), data.xlabel, data.ylabel);
      area.root.append(dots(area, data.x, data.y, "#1f77b4", data.trial_ids));
      if (data.best.length) area.root.append(polyline(area, data.x, data.best, "#d62728", 2));  // none on a trial's page
      return [area.root, data.x.length];
    },
    curves(data) {
      const xs = data.curves.flatMap((c) => c.x);
      const ys = data.curves.flatMap((c) => c.y);
      const area = plotArea(extent(xs), extent(ys), data.xlabel, data.ylabel);
      for (const curve of data.curves) {
        const colour = STATUS_COLOURS[curve.status] || "#888";
        const line = curve.x.length > 1 ? polyline(area, curve.x, curve.y, colour, 1.2, 0.6) : dots(area, curve.x, curve.y, colour);
        line.append(svgEl("title", {}, `${curve.trial_id} (${curve.status})`));
        area.root.append(line);
      }
      return [area.root, xs.length];
    },
    parallel(data) {
      const width = 560;
      const height = 300;
      const root = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
      const n = data.axes.length;
      const ax = (i) => 40 + (i * (width - 80)) / Math.max(1, n - 1);
      const ay = (p) => 20 + (1 - p) * (height - 60);
      const [low, high] = extent(data.scores);
      data.positions.slice(-1000).forEach((row, k) => {
        const index = data.positions.length > 1000 ? data.positions.length - 1000 + k : k;
        const t = (data.scores[index] - low) / (high - low);
        const colour = `rgb(${Math.round(40 + 200 * t)},${Math.round(90 + 60 * (1 - t))},${Math.round(220 - 180 * t)})`;
        const points = row.map((p, i) => `${ax(i).toFixed(1)},${ay(p).toFixed(1)}`).join(" ");
        const line = svgEl("polyline", { points, fill: "none", stroke: colour, "stroke-opacity": 0.5 });
        line.append(svgEl("title", {}, `${data.trial_ids[index]}: ${fmt(data.scores[index])}`));
        root.append(line);
      });
      data.axes.forEach((axis, i) => {
        root.append(svgEl("line", { x1: ax(i), x2: ax(i), y1: ay(0), y2: ay(1), stroke: "#555" }));
        root.append(svgEl("text", { x: ax(i), y: height - 14, "text-anchor": "middle" }, axis.name));
        axis.ticks.forEach((tick, j) => root.append(svgEl("text", { x: ax(i) + 3, y: ay(tick) + 4 }, axis.tick_labels[j])));
      });
      return [root, data.trial_ids.length];
    },
    importance(data) {
      const rowHeight = 22;
      const height = 20 + rowHeight * data.names.length;
      const root = svgEl("svg", { viewBox: `0 0 560 ${height}`, role: "img" });
      data.names.forEach((name, i) => {
        const y = 10 + i * rowHeight;
        root.append(svgEl("text", { x: 150, y: y + 14, "text-anchor": "end" }, name));
        root.append(svgEl("rect", { x: 156, y, width: Math.max(1, data.values[i] * 360), height: rowHeight - 6, fill: "#1f77b4" }));
        root.append(svgEl("text", { x: 160 + data.values[i] * 360, y: y + 14 }, fmt(data.values[i])));
      });
      return [root, data.names.length];
    },
    timeline(data) {
      const ends = data.bars.map((b) => b.end);
      const area = plotArea([0, Math.max(1e-9, ...ends)], [-0.5, Math.max(0.5, data.lanes - 0.5)], data.xlabel, data.ylabel);
      for (const bar of data.bars) {
        const rect = svgEl("rect", {
          x: area.x(bar.start).toFixed(1),
          y: (area.y(bar.lane + 0.4)).toFixed(1),
          width: Math.max(1, area.x(bar.end) - area.x(bar.start)).toFixed(1),
          height: Math.max(1, area.y(bar.lane - 0.4) - area.y(bar.lane + 0.4)).toFixed(1),
          fill: STATUS_COLOURS[bar.status] || "#888",
        });
        rect.append(svgEl("title", {}, `${bar.trial_id} (${bar.status})`));
        area.root.append(rect);
      }
      return [area.root, data.bars.length];
    },
  };

  function drawChart(figure, data) {
    const body = figure.querySelector(".chart-body");
    if (data.note) {
      body.replaceChildren(el("p", { class: "note" }, data.note));
      figure.dataset.points = "0";
      return;
    }
    const [svg, points] = charts[data.kind](data);
    body.replaceChildren(svg);
    if (data.shown) body.append(el("p", { class: "note shown" }, `shown: ${data.shown}`));
    figure.dataset.points = String(points);
  }

  // -- the trial table: filter and sort in the browser -------------------------------------------------
  // The rows are kept by trial id and updated from the server's deltas (?since=TOKEN); the default order is
  // the server's (best first by the experiment's metric, ties and rows without a value in trial order).
  function score(value, mode) {
    if (typeof value !== "number" || !Number.isFinite(value)) return -Infinity;
    return mode === "max" ? value : -value;
  }

  function trialTable(name) {
    const state = { data: null, sort: null, descending: false, filter: "", status: "", rows: new Map(), token: null };
    const filter = el("input", { id: "filter", type: "search", placeholder: "filter (any column)" });
    const status = el("select", { id: "status-filter" }, el("option", { value: "" }, "every status"));
    const shown = el("span", { id: "rows-shown" });
    const table = el("table", { id: "trials" });
    const root = el("section", {}, el("h2", {}, "Trials"), el("div", { class: "controls" }, filter, status, shown), el("div", { class: "scroll" }, table));
    filter.addEventListener("input", () => { state.filter = filter.value.toLowerCase(); render(); });
    status.addEventListener("change", () => { state.status = status.value; render(); });

    function compare(a, b) {
      if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
      if (b === null || b === undefined) return -1;
      const sign = state.descending ? -1 : 1;
      if (typeof a === "number" && typeof b === "number") return sign * (a - b);
      return sign * String(a).localeCompare(String(b));
    }

    function render() {
      const data = state.data;
      if (!data) return;
      const statusColumn = data.columns.indexOf("status");
      const present = [...new Set(data.rows.map((r) => r[statusColumn]))].sort();
      const options = [...status.options].slice(1).map((o) => o.value);
      if (present.join() !== options.join()) {
        status.replaceChildren(el("option", { value: "" }, "every status"), ...present.map((s) => el("option", { value: s }, s)));
        status.value = present.includes(state.status) ? state.status : "";
      }
      let rows = data.rows.filter((row) => (!state.status || row[statusColumn] === state.status)
        && (!state.filter || row.some((v) => fmt(v).toLowerCase().includes(state.filter))));
      if (state.sort !== null) rows = rows.map((r, i) => [r, i]).sort((a, b) => compare(a[0][state.sort], b[0][state.sort]) || a[1] - b[1]).map((p) => p[0]);
      const head = el("tr", {}, ...data.columns.map((column, i) => {
        const arrow = state.sort === i ? (state.descending ? " ▼" : " ▲") : "";
        const th = el("th", { class: "sortable", "data-column": column }, column + arrow);
        th.addEventListener("click", () => {
          state.descending = state.sort === i ? !state.descending : false;
          state.sort = i;
          render();
        });
        return th;
      }));
      const body = rows.slice(0, MAX_ROWS).map((row) => el("tr", {}, ...row.map((value, i) => {
        if (data.columns[i] === "trial_id") return el("td", {}, el("a", { href: expLink(name, value) }, value));
        if (data.columns[i] === "status") return el("td", { class: `status-${value}` }, value);
        return el("td", typeof value === "number" ? { class: "num" } : {}, fmt(value));
      })));
      table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
      shown.textContent = `${Math.min(rows.length, MAX_ROWS)} of ${rows.length} shown (${data.rows.length} trials)`;
    }

    function merge(delta) {
      if (delta.full) state.rows = new Map();
      delta.rows.forEach((row, i) => state.rows.set(row[0], [delta.index[i], row]));
      const order = [...state.rows.values()];
      const column = delta.sort ? delta.columns.indexOf(delta.sort[0]) : -1;
      if (column >= 0) order.sort((a, b) => score(b[1][column], delta.sort[1]) - score(a[1][column], delta.sort[1]) || a[0] - b[0]);
      else order.sort((a, b) => a[0] - b[0]);
      state.token = delta.token;
      state.data = { columns: delta.columns, rows: order.map((pair) => pair[1]) };
      render();
    }

    return { root, merge, token: () => state.token };
  }

  // -- pages -------------------------------------------------------------------------------------------
  function listPage() {
    const table = el("table", { id: "experiments" });
    main.replaceChildren(el("h1", {}, "Experiments"), table);
    return async () => {
      const [data, changed] = await get("/api/experiments");
      if (!changed) return;
      const head = el("tr", {}, ...["experiment", "state", "trials", "best", "metric", "duration"].map((h) => el("th", {}, h)));
      const rows = data.experiments.map((e) => el("tr", { "data-name": e.name },
        el("td", {}, el("a", { href: expLink(e.name) }, e.name)),
        el("td", { class: `state-${e.state}`, title: e.detail || "" }, e.state),
        el("td", {}, `${e.num_trials}${e.num_trials ? ` (${counts(e.trials)})` : ""}`),
        el("td", { class: "num" }, fmt(e.best_value)),
        el("td", {}, e.metric === null ? "" : `${fmt(e.metric)} (${fmt(e.mode)})`),
        el("td", {}, duration(e.duration_s))));
      table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
      if (!data.experiments.length) table.replaceChildren(el("caption", {}, "no experiments under this storage path yet"));
    };
  }

  function experimentPage(name) {
    const api = `/api/experiments/${encodeURIComponent(name)}`;
    const figures = {};
    const grid = el("div", { class: "charts" });
    for (const [kind, title] of [["history", "Optimisation history"], ["curves", "Learning curves"], ["parallel", "Parallel coordinates"], ["importance", "Parameter importance"], ["timeline", "Timeline"]]) {
      figures[kind] = el("figure", { id: `chart-${kind}`, "data-points": "0" }, el("figcaption", {}, title), el("div", { class: "chart-body" }, el("p", { class: "note" }, "loading…")));
      grid.append(figures[kind]);
    }
    const trials = trialTable(name);
    main.replaceChildren(
      el("p", {}, el("a", { href: "#/" }, "← experiments")),
      el("h1", { id: "experiment-name" }, name),
      el("div", { class: "cards" }, card("trial-count", "trials"), card("best-value", "best"), card("best-trial", "best trial"), card("state", "state"), card("duration", "duration")),
      el("p", { id: "status-counts" }),
      grid,
      trials.root,
    );
    let chartsAt = null;
    return async () => {
      const [summary, changed] = await get(`${api}/summary`);
      behind = summary.behind_bytes || 0;
      if (!changed) return;
      setText("trial-count", String(summary.num_trials));
      setText("best-value", summary.best_value === null ? "–" : fmt(summary.best_value));
      setText("best-trial", summary.best_trial || "–");
      setText("state", summary.state);
      setText("duration", duration(summary.duration_s));
      setText("status-counts", `${counts(summary.trials)}${summary.metric === null ? "" : ` · metric ${fmt(summary.metric)} (${fmt(summary.mode)})`}${summary.detail ? ` · ${summary.detail}` : ""}`);
      if (summary.token !== trials.token()) {
        const since = trials.token();
        const table = await getOnce(since === null ? `${api}/trials` : `${api}/trials?since=${encodeURIComponent(since)}`);
        trials.merge(table);
      }
      if (summary.charts === chartsAt) return;  // the charts are taken again at most every second or so
      chartsAt = summary.charts;
      await Promise.all(Object.entries(figures).map(async ([kind, figure]) => {
        const [data, chartChanged] = await get(`${api}/charts/${kind}`);
        if (chartChanged) drawChart(figure, data);
      }));
    };
  }

  function trialPage(name, trialId) {
    const url = `/api/experiments/${encodeURIComponent(name)}/trials/${encodeURIComponent(trialId)}`;
    const content = el("div", {});
    main.replaceChildren(el("p", {}, el("a", { href: expLink(name) }, `← ${name}`)), el("h1", { id: "trial-id" }, trialId), content);
    return async () => {
      const [trial, changed] = await get(url);
      if (!changed) return;
      const metric = Object.keys(trial.metrics)[0];
      const history = trial.history;
      const curve = el("figure", { id: "chart-curve", "data-points": "0" }, el("figcaption", {}, `${metric || "metric"} over training_iteration`), el("div", { class: "chart-body" }));
      const points = metric ? history.map((r, i) => [r.training_iteration ?? i + 1, r[metric]]).filter((p) => typeof p[1] === "number") : [];
      drawChart(curve, points.length ? { kind: "history", x: points.map((p) => p[0]), y: points.map((p) => p[1]), best: [], trial_ids: points.map(() => trialId), xlabel: "training_iteration", ylabel: metric } : { note: "no value of the metric reported yet" });
      const config = el("table", { id: "config" }, el("tbody", {}, ...flatten(trial.config, "", []).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, fmt(v))))));
      const checkpoints = trial.checkpoints.length
        ? el("table", { id: "checkpoints" }, el("tbody", {}, ...trial.checkpoints.map((c) => el("tr", {}, el("td", {}, c.name), el("td", {}, `iteration ${c.iteration}`), el("td", {}, c.exists ? "on disk" : "missing")))))
        : el("p", { class: "note", id: "checkpoints" }, "no checkpoint");
      const columns = ["training_iteration", ...Object.keys(trial.metrics), "time_total_s"];
      const results = el("table", { id: "results" }, el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c)))),
        el("tbody", {}, ...history.slice(-20).map((r) => el("tr", {}, ...columns.map((c) => el("td", { class: "num" }, fmt(r[c])))))));
      content.replaceChildren(
        el("div", { class: "cards" }, card("trial-status", "status"), card("trial-results", "results"), card("trial-failures", "failures")),
        curve,
        el("h2", {}, "Config"), config,
        el("h2", {}, "Error"), trial.error ? el("pre", { id: "error" }, trial.error) : el("p", { class: "note", id: "error" }, "none"),
        el("h2", {}, `Every attempt's error (${trial.errors.length})`),
        trial.errors.length
          ? el("div", { id: "errors" }, ...(trial.errors_cut ? [el("p", { class: "note" }, "error.txt is long: its end is shown")] : []),
            ...trial.errors.map((e) => el("details", { class: "attempt" }, el("summary", {}, `${e.title || "(cut)"}${e.at ? ` · ${e.at}` : ""}`), el("pre", {}, e.traceback))))
          : el("p", { class: "note", id: "errors" }, "none"),
        el("h2", {}, "Checkpoints"), checkpoints,
        el("h2", {}, `Last results (${history.length} of ${trial.num_results})`), results,
      );
      setText("trial-status", trial.status);
      setText("trial-results", String(trial.num_results));
      setText("trial-failures", String(trial.num_failures));
    };
  }

  // -- routing and polling -----------------------------------------------------------------------------
  let generation = 0;
  let behind = 0;

  function route() {
    generation += 1;
    const mine = generation;
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    let update;
    if (parts[0] === "exp" && parts.length >= 4 && parts[2] === "trial") update = trialPage(parts[1], parts[3]);
    else if (parts[0] === "exp" && parts[1]) update = experimentPage(parts[1]);
    else update = listPage();
    const tick = async () => {
      if (mine !== generation) return;
      try {
        behind = 0;
        await update();
        const lag = behind ? ` · reading the journal, ${(behind / 1e6).toFixed(1)} MB behind` : "";
        live.textContent = `live · ${new Date().toLocaleTimeString()}${lag}`;
        live.classList.remove("stale");
      } catch (error) {
        live.textContent = `not updating: ${error.message}`;
        live.classList.add("stale");
      }
      if (mine === generation) setTimeout(tick, POLL_MS);
    };
    tick();
  }

  window.addEventListener("hashchange", route);
  route();
})();
