// The ciudad dashboard: fetches the platform's own API and draws with plain SVG.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f77b4", "#d2462f", "#2e9d5b", "#8b1fa9", "#e0a526", "#12344d", "#9aa0a6"];
const STATES = { good: "good / free", fair: "fair", poor: "poor / occupied", on: "lamp on",
                 off: "lamp off", fault: "fault", stale: "no recent data", unknown: "unknown" };
const SHAPES = { NoiseLevelObserved: "noise", AirQualityObserved: "air", ParkingSpot: "parking",
                 Streetlight: "lighting" };

function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// ?end= shows the city as of a past time (replayed samples, an incident review).
const AS_OF = new URLSearchParams(location.search).get("end");

function settings() {
  return { tenant: document.getElementById("tenant").value.trim(),
           hours: document.getElementById("hours").value,
           apikey: document.getElementById("apikey").value.trim() };
}

function range(hours) {
  const end = AS_OF ? `&endTimeAt=${encodeURIComponent(AS_OF)}` : "";
  return hours === undefined ? end.replace("&", "?") : `?hours=${hours}${end}`;
}

async function api(path, method = "GET") {
  const s = settings();
  const headers = { "NGSILD-Tenant": s.tenant, Accept: "application/json" };
  if (s.apikey) headers["X-Api-Key"] = s.apikey;
  const answer = await fetch(path, { method, headers });
  if (!answer.ok) throw new Error(`${path}: HTTP ${answer.status}`);
  return answer.json();
}

function when(t) {
  return new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function pct(x) { return x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`; }

function drawKpi(k) {
  const online = Object.values(k.sensorsOnline);
  const sensors = online.reduce((a, t) => a + t.sensors, 0);
  const up = online.reduce((a, t) => a + t.online, 0);
  const cards = [
    ["sensors-online", "Sensors online", sensors ? pct(up / sensors) : "–", `${up} of ${sensors}`],
    ["completeness", "Data completeness", pct(k.completeness.mean), `${k.completeness.meeting} of ${k.completeness.sensors} sensors meet the objective`],
    ["alerts", "Alerts raised", String(k.alerts.raised), `${k.alerts.open} open`],
    ["exceedances", "Air / noise exceedances", String((k.alerts.bySubCategory.airPollution || 0) + (k.alerts.bySubCategory.noisePollution || 0)), `air ${k.alerts.bySubCategory.airPollution || 0}, noise ${k.alerts.bySubCategory.noisePollution || 0}`],
    ["parking", "Parking occupancy", pct(k.parking.occupancy), `${k.parking.zones.length} zones`],
    ["energy", "Energy saved", `${k.energy.savedKWh.toFixed(2)} kWh`, `${pct(k.energy.savedShare)} of ${k.energy.baselineKWh.toFixed(2)} kWh`],
  ];
  const board = document.getElementById("kpi");
  board.replaceChildren(...cards.map(([id, name, value, detail]) => {
    const card = el("div", { class: "card", id: `kpi-${id}`, title: detail });
    card.append(el("div", { class: "value" }, value), el("div", { class: "name" }, name),
                el("div", { class: "name" }, detail));
    return card;
  }));
}

function drawMap(features) {
  const box = document.getElementById("map");
  const w = 800, h = 420, pad = 30;
  const svg = el("svg:svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": "sensor map" });
  if (!features.length) { box.replaceChildren(el("p", { class: "empty" }, "No sensor with a location yet.")); return; }
  const lats = features.map(f => f.lat), lons = features.map(f => f.lon);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = Math.cos(midLat * Math.PI / 180);  // equirectangular: metres per degree of longitude shrink
  const x0 = Math.min(...lons) * kx, x1 = Math.max(...lons) * kx, y0 = Math.min(...lats), y1 = Math.max(...lats);
  const scale = Math.min((w - 2 * pad) / Math.max(x1 - x0, 1e-6), (h - 2 * pad) / Math.max(y1 - y0, 1e-6));
  const px = lon => pad + (lon * kx - x0) * scale, py = lat => h - pad - (lat - y0) * scale;
  const grid = el("svg:g", { class: "grid" });
  for (let i = 0; i <= 10; i++) {
    grid.append(el("svg:line", { x1: i * w / 10, y1: 0, x2: i * w / 10, y2: h }),
                el("svg:line", { x1: 0, y1: i * h / 10, x2: w, y2: i * h / 10 }));
  }
  svg.append(grid);
  const metresPerPx = 111320 / scale;  // one degree of latitude is about 111.32 km
  const barM = [100, 200, 500, 1000, 2000, 5000].find(m => m / metresPerPx > 60) || 5000;
  const barPx = barM / metresPerPx;
  svg.append(el("svg:line", { class: "scale", x1: 12, y1: h - 12, x2: 12 + barPx, y2: h - 12 }),
             el("svg:text", { class: "scale-label", x: 12, y: h - 16 }, barM >= 1000 ? `${barM / 1000} km` : `${barM} m`));
  for (const f of features) {
    const dot = el("svg:circle", { class: `sensor state-${f.state} kind-${SHAPES[f.type]}`, cx: px(f.lon).toFixed(1),
                                   cy: py(f.lat).toFixed(1), r: f.type === "ParkingSpot" ? 5 : 8, "data-id": f.id });
    dot.append(el("svg:title", {}, `${f.id}\n${f.type}: ${f.label}`));
    svg.append(dot);
  }
  box.replaceChildren(svg);
  const seen = Object.keys(STATES).filter(state => features.some(f => f.state === state));
  document.getElementById("legend").replaceChildren(...seen.map(state => {
    const item = el("li");
    const swatch = el("svg:svg", { width: 12, height: 12 });
    swatch.append(el("svg:circle", { class: `state-${state}`, cx: 6, cy: 6, r: 5 }));
    item.append(swatch, ` ${STATES[state] || state} (${features.filter(f => f.state === state).length})`);
    return item;
  }));
}

function drawChart(id, series) {
  const box = document.getElementById(id);
  const all = series.flatMap(s => s.points);
  if (!all.length) { box.replaceChildren(el("p", { class: "empty" }, "No data in this range yet.")); return; }
  const w = 480, h = 180, left = 40, bottom = 20;
  const times = all.map(p => Date.parse(p[0])), values = all.map(p => p[1]);
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
  const v0 = Math.min(0, ...values), v1 = Math.max(...values, v0 + 1);
  const x = t => left + (t - t0) / (t1 - t0) * (w - left - 8);
  const y = v => h - bottom - (v - v0) / (v1 - v0) * (h - bottom - 8);
  const svg = el("svg:svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
  svg.append(el("svg:line", { class: "axis", x1: left, y1: h - bottom, x2: w, y2: h - bottom }),
             el("svg:line", { class: "axis", x1: left, y1: 0, x2: left, y2: h - bottom }),
             el("svg:text", { x: 2, y: 12 }, v1.toFixed(1)), el("svg:text", { x: 2, y: h - bottom }, v0.toFixed(1)),
             el("svg:text", { x: left, y: h - 4 }, when(t0)),
             el("svg:text", { x: w - 2, y: h - 4, "text-anchor": "end" }, when(t1)));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${x(Date.parse(p[0])).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    const line = el("svg:path", { class: "line", d, stroke: COLOURS[i % COLOURS.length] });
    line.append(el("svg:title", {}, s.name));
    svg.append(line, el("svg:text", { x: left + 6 + 70 * i, y: 10, fill: COLOURS[i % COLOURS.length] }, s.name));
  });
  box.replaceChildren(svg);
}

function drawCharts(data) {
  drawChart("chart-noise", [{ name: "LAeq", points: data.noise }]);
  drawChart("chart-air", Object.entries(data.air).map(([name, points]) => ({ name, points })));
  const zones = {};
  for (const [at, share, zone] of data.parking) (zones[zone] ||= []).push([at, 100 * share]);
  drawChart("chart-parking", Object.entries(zones).map(([zone, points]) => ({ name: zone.split(":").pop(), points })));
  drawChart("chart-energy", [{ name: "kWh", points: data.energy }]);
}

function drawAlerts(alerts) {
  const list = document.getElementById("alerts");
  if (!alerts.length) { list.replaceChildren(el("li", { class: "empty" }, "No alerts.")); return; }
  list.replaceChildren(...alerts.map(a => {
    const item = el("li", { class: `alert sev-${a.severity} ${a.status}`, "data-id": a.id });
    item.append(el("strong", {}, a.description), el("div", { class: "meta" },
      `${a.severity} · ${a.subCategory} · ${a.source} · ${a.validFrom} · ${a.status}`));
    if (a.status === "open") {
      const button = el("button", { class: "ack", type: "button" }, "Acknowledge");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await api(`/ciudad/v1/services/alerts/${encodeURIComponent(a.id)}/ack`, "POST");
          await refreshAlerts();
        } catch (error) {  // e.g. a read-only key: acknowledging needs the write scope
          button.disabled = false;
          document.getElementById("status").textContent = `could not acknowledge: ${error.message}`;
        }
      });
      item.prepend(button);
    }
    return item;
  }));
}

async function refreshAlerts() { drawAlerts(await api("/ciudad/v1/services/alerts?limit=50")); }

async function refresh() {
  const status = document.getElementById("status");
  const hours = settings().hours;
  try {
    const [kpi, features, series] = await Promise.all([
      api(`/ciudad/v1/services/kpi${range(hours)}`), api(`/ciudad/v1/services/dashboard/map${range()}`),
      api(`/ciudad/v1/services/dashboard/series${range(hours)}`)]);
    drawKpi(kpi); drawMap(features); drawCharts(series);
    await refreshAlerts();
    const when = AS_OF ? `as of ${AS_OF}` : `updated ${new Date().toLocaleTimeString()}`;
    status.textContent = `tenant ${settings().tenant} · ${when}`;
    document.body.dataset.loaded = "true";
  } catch (error) {
    status.textContent = `could not load: ${error.message}`;
  }
}

function start() {
  const params = new URLSearchParams(location.search);
  document.getElementById("tenant").value = params.get("tenant") || document.body.dataset.defaultTenant;
  const hours = document.getElementById("hours");
  if (params.get("hours")) {
    if (![...hours.options].some(o => o.value === params.get("hours"))) hours.add(new Option(params.get("hours")));
    hours.value = params.get("hours");
  }
  document.getElementById("apikey").value = sessionStorage.getItem("ciudad-apikey") || "";
  document.getElementById("settings").addEventListener("submit", event => {
    event.preventDefault();
    sessionStorage.setItem("ciudad-apikey", settings().apikey);
    refresh();
  });
  refresh();
  setInterval(refresh, 30000);
}

start();
