// The fleet page's live table: rows from the server-sent events, sorted and filtered here.
"use strict";
(function () {
  const table = document.getElementById("fleet");
  if (!table) return;
  const labels = JSON.parse(document.getElementById("fleet-labels").textContent);
  const words = JSON.parse(document.getElementById("fleet-words").textContent);
  const headers = Array.from(table.querySelectorAll("thead th"));
  const cellLabels = headers.map((th) => th.textContent.trim());
  const live = document.getElementById("live");
  const text = document.getElementById("filter-text");
  const onlyProblems = document.getElementById("filter-problems");
  let rows = null;
  let sortKey = null;
  let sortDir = 1;

  function dash(v) { return v === null || v === undefined || v === "" ? "\u2013" : String(v); }
  function modems(list) {
    if (!list.length) return "\u2013";
    return list.map((m) => (m.ok ? "ok" : "down") + ", " + dash(m.signal) + ", " +
      dash(m.registration) + (m.error ? " (" + m.error + ")" : "")).join("; ");
  }
  function sms(counts) {
    const keys = Object.keys(counts);
    return keys.length ? keys.map((k) => k + " " + counts[k]).join(", ") : "\u2013";
  }
  function cell(tr, index, content) {
    const td = document.createElement("td");
    td.dataset.label = cellLabels[index];
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    tr.appendChild(td);
    return td;
  }
  function problemsCell(problems) {
    const span = document.createElement("span");
    if (!problems.length) { span.textContent = words.none; return span; }
    problems.forEach((p) => {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = labels[p] || p;
      span.appendChild(tag);
      span.appendChild(document.createTextNode(" "));
    });
    return span;
  }
  function link(device) {
    const a = document.createElement("a");
    a.href = "/devices/" + encodeURIComponent(device);
    a.textContent = device;
    return a;
  }
  function rowOf(r) {
    const tr = document.createElement("tr");
    tr.className = r.problems.length ? "problem" : "ok";
    tr.dataset.device = r.device;
    cell(tr, 0, problemsCell(r.problems));
    cell(tr, 1, link(r.device));
    [r.site, r.area, r.unit].forEach((v, i) => cell(tr, 2 + i, dash(v)));
    cell(tr, 5, words[r.state] || r.state).className = "state-" + r.state;
    cell(tr, 6, r.updated_local);
    cell(tr, 7, r.last_sync_local);
    cell(tr, 8, dash(r.queue_depth));
    cell(tr, 9, r.oldest_unsynced_age_s === null ? "\u2013" :
      Math.floor(r.oldest_unsynced_age_s / 60) + " min");
    cell(tr, 10, dash(r.software));
    cell(tr, 11, dash(r.survey) + (r.config_version === null ? "" :
      " (config " + r.config_version + ")"));
    cell(tr, 12, modems(r.modems));
    cell(tr, 13, sms(r.sms));
    cell(tr, 14, String(r.quarantine_today));
    cell(tr, 15, r.errors.length ? r.errors[r.errors.length - 1] : "\u2013");
    return tr;
  }
  function value(r, key) {
    if (key === "problems") return r.problems.length ? -100 + r.problems.length : 0;
    if (key === "modems") return r.modems.map((m) => m.signal).join(",");
    if (key === "sms") return JSON.stringify(r.sms);
    if (key === "errors") return r.errors.length ? r.errors[r.errors.length - 1] : "";
    const v = r[key];
    return v === null || v === undefined ? "" : v;
  }
  function shown(r) {
    if (onlyProblems.checked && !r.problems.length) return false;
    const needle = text.value.trim().toLowerCase();
    if (!needle) return true;
    return [r.device, r.site, r.area, r.unit, r.state, r.software, r.survey]
      .concat(r.problems.map((p) => labels[p] || p))
      .some((v) => v && String(v).toLowerCase().includes(needle));
  }
  function draw() {
    if (rows === null) return;
    let list = rows.filter(shown);
    if (sortKey) {
      list = list.slice().sort((a, b) => {
        const x = value(a, sortKey), y = value(b, sortKey);
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
    }
    const body = document.createElement("tbody");
    list.forEach((r) => body.appendChild(rowOf(r)));
    table.replaceChild(body, table.tBodies[0]);
  }
  headers.forEach((th) => {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.key;
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      headers.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      draw();
    });
  });
  text.addEventListener("input", draw);
  onlyProblems.addEventListener("change", draw);
  document.getElementById("fleet-filters").addEventListener("submit", (e) => e.preventDefault());
  const source = new EventSource("/fleet/events");
  source.addEventListener("fleet", (e) => {
    rows = JSON.parse(e.data);
    draw();
    live.textContent = words.live + " \u00b7 " + words.updated + " " +
      new Date().toLocaleTimeString();
    document.body.dataset.fleetUpdates = String(Number(document.body.dataset.fleetUpdates || 0) + 1);
  });
  source.addEventListener("error", () => { live.textContent = words.reconnecting; });
})();
