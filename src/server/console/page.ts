/**
 * The console page served at GET / on every replica's admin address: one
 * self-contained HTML document (no external script, font, style or image; the
 * machines that run replicas are often offline). Its script subscribes to
 * /events (server-sent events, one ClusterSnapshot a second; the browser
 * reconnects by itself) and redraws: the verdict banner, the member table
 * with recovery bars, the writer, charts as inline SVG, configuration,
 * integrity and the event timeline. Colour always comes with words
 * (statuses, levels) and the table is a semantic table with a caption.
 *
 * The script is written without template literals so that it can live in
 * this String.raw block unchanged.
 */

const STYLE = String.raw`
:root{--ok:#1a7f37;--warn:#9a6700;--crit:#cf222e;--info:#0969da;--muted:#57606a;--line:#d0d7de;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#fff}
body{margin:0 auto;max-width:1400px;padding:12px 20px}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
header{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap}
#live{font-size:.9rem;color:var(--muted)}#live[data-state=lost]{color:var(--crit);font-weight:600}
#verdict{border:2px solid var(--line);border-left-width:10px;border-radius:6px;padding:.6rem .9rem;margin:.6rem 0}
#verdict[data-level=ok]{border-color:var(--ok);background:#dafbe1}#verdict[data-level=warning]{border-color:var(--warn);background:#fff8c5}#verdict[data-level=critical]{border-color:var(--crit);background:#ffebe9}
#verdict .level{font-weight:700;margin-right:.5rem}#verdict .headline{font-size:1.15rem;font-weight:600}#verdict ul{margin:.3rem 0 0;padding-left:1.2rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}caption{text-align:left;color:var(--muted);font-size:.9rem;padding:.2rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:right;white-space:nowrap}th{background:#f6f8fa}
th:nth-child(-n+3),td:nth-child(-n+3),td:last-child,th:last-child{text-align:left}td:last-child{white-space:normal;min-width:16rem}
tr[data-self=true] th:first-child::after{content:" (this one)";color:var(--muted);font-size:.85em}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:1rem;font-weight:600;font-size:.85rem;border:1px solid}
.s-VOTING{color:var(--ok);border-color:var(--ok)}.s-RECOVERING{color:var(--info);border-color:var(--info)}
.s-STARTING,.s-EMPTY{color:var(--warn);border-color:var(--warn)}.s-UNREACHABLE{color:#fff;background:var(--crit);border-color:var(--crit)}
progress{width:9rem;vertical-align:middle}.prog{font-size:.85rem;color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:.8rem 1.2rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:0}dt{color:var(--muted)}dd{margin:0;font-variant-numeric:tabular-nums}
figure{margin:0}figcaption{font-size:.9rem;font-weight:600}svg{width:100%;height:auto;border:1px solid var(--line);border-radius:4px;background:#fcfcfd}
.legend{font-size:.8rem;color:var(--muted)}.legend b{font-weight:600}
ol#events{list-style:none;padding:0;margin:0;font-size:.9rem;max-height:16rem;overflow:auto}ol#events li{padding:.15rem 0;border-bottom:1px dotted var(--line)}
ol#events time{color:var(--muted);margin-right:.6rem;font-variant-numeric:tabular-nums}
.k-down,.k-corruption{color:var(--crit)}.k-up,.k-repaired{color:var(--ok)}
footer{margin-top:1rem;font-size:.85rem;color:var(--muted)}a{color:var(--info)}
`;

const SCRIPT = String.raw`
"use strict";
var $ = function (id) { return document.getElementById(id); };
function esc(v) { return String(v).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
function num(v) { return v === null || v === undefined ? "\u2013" : String(v); }
function secs(ms) { return ms === null || ms === undefined ? "never" : ms < 1000 ? "now" : (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + " s ago"; }
function dur(s) { return s < 60 ? Math.ceil(s) + " s" : s < 3600 ? Math.floor(s / 60) + " min " + Math.ceil(s % 60) + " s" : (s / 3600).toFixed(1) + " h"; }
function bytes(b) { return b < 1024 ? b + " B" : b < 1048576 ? (b / 1024).toFixed(1) + " KiB" : (b / 1048576).toFixed(1) + " MiB"; }
function fmt(v, unit) { return v === null || v === undefined ? "\u2013" : (v >= 100 ? Math.round(v) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + (unit ? " " + unit : ""); }

function verdictHtml(v) {
  var words = { ok: "OK", warning: "WARNING", critical: "CRITICAL" };
  var h = '<span class="level">' + words[v.level] + ':</span><span class="headline">' + esc(v.headline) + "</span>";
  if (v.details.length) h += "<ul>" + v.details.map(function (d) { return "<li>" + esc(d) + "</li>"; }).join("") + "</ul>";
  return h;
}

function progressCell(r) {
  if (r.recovery) {
    var p = r.recovery, pct = p.total === 0 ? 100 : Math.floor(100 * p.done / p.total);
    var text = pct + "% \u00b7 " + p.done + "/" + p.total + " positions";
    if (p.bytes !== null) text += " \u00b7 " + bytes(p.bytes);
    if (p.ratePerSec !== null) text += " \u00b7 " + Math.round(p.ratePerSec) + "/s";
    if (p.etaSeconds !== null) text += " \u00b7 " + dur(p.etaSeconds) + " left";
    return '<progress max="' + p.total + '" value="' + p.done + '" aria-label="replica ' + r.id + ' recovery">' + pct + '%</progress> <span class="prog">recovering: ' + esc(text) + "</span>";
  }
  if (r.status === "UNREACHABLE") return '<span class="prog">not answering</span>';
  return r.lagPositions ? '<span class="prog">behind</span>' : '<span class="prog">up to date</span>';
}

function lagText(r) {
  if (r.lagPositions === null) return "\u2013";
  if (r.lagPositions === 0) return "0";
  return r.lagPositions + " pos" + (r.lagSeconds !== null ? " / " + r.lagSeconds.toFixed(1) + " s" : "");
}

function rowHtml(r) {
  var cells = [
    r.id, esc(r.address) + (r.role === "learner" ? " (learner)" : ""),
    '<span class="badge s-' + r.status + '">' + r.status + "</span>",
    num(r.generation), num(r.begin), num(r.end), num(r.learnedThrough), lagText(r),
    r.self ? "this replica" : secs(r.lastContactMs), progressCell(r)
  ];
  return '<tr data-id="' + r.id + '" data-status="' + r.status + '" data-role="' + r.role + '" data-self="' + r.self + '">' +
    cells.map(function (c, i) { return i === 0 ? '<th scope="row">' + c + "</th>" : "<td>" + c + "</td>"; }).join("") + "</tr>";
}

function dl(pairs) { return pairs.map(function (p) { return "<dt>" + esc(p[0]) + "</dt><dd>" + esc(p[1]) + "</dd>"; }).join(""); }

function writerHtml(w) {
  if (!w) return dl([["writer", "none has written under this replica's promise"]]);
  return dl([
    ["proposal", w.proposal], ["since", w.since ? new Date(w.since).toLocaleString() : "before this console started"],
    ["state", w.active ? "active (committed lately)" : "idle"],
    ["counted members", w.counted.join(", ")], ["reachable of those", w.reachable.join(", ") || "none"],
    ["quorum", w.quorum], ["survives", w.survives + " more loss" + (w.survives === 1 ? "" : "es")],
    ["last write here", secs(w.lastWriteAgoMs)], ["writer changes seen", w.changesSeen]
  ]);
}

var COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df"];
function chart(id, title, unit, t, lines) {
  var W = 600, H = 150, L = 46, B = 18, T = 8;
  var max = 0;
  lines.forEach(function (l) { l.values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
  max = max === 0 ? 1 : max * 1.1;
  var n = t.length, x = function (i) { return L + (n <= 1 ? 0 : (W - L - 4) * i / (n - 1)); };
  var y = function (v) { return T + (H - T - B) * (1 - v / max); };
  var svg = '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' + (H - B) + '" stroke="#d0d7de"/>' +
    '<text x="' + (L - 4) + '" y="' + (T + 8) + '" font-size="11" text-anchor="end" fill="#57606a">' + fmt(max) + "</text>" +
    '<text x="' + (L - 4) + '" y="' + (H - B) + '" font-size="11" text-anchor="end" fill="#57606a">0</text>' +
    '<text x="' + L + '" y="' + (H - 4) + '" font-size="11" fill="#57606a">' + (n > 1 ? "\u2212" + Math.round((t[n - 1] - t[0]) / 1000) + " s" : "") + "</text>" +
    '<text x="' + W + '" y="' + (H - 4) + '" font-size="11" text-anchor="end" fill="#57606a">now</text>';
  var legend = [];
  lines.forEach(function (l, k) {
    var pts = [], last = null;
    l.values.forEach(function (v, i) { if (v !== null) { pts.push(x(i).toFixed(1) + "," + y(v).toFixed(1)); last = v; } });
    svg += '<polyline fill="none" stroke-width="1.8" stroke="' + COLORS[k] + '"' + (k % 2 ? ' stroke-dasharray="5 3"' : "") + ' points="' + pts.join(" ") + '"/>';
    legend.push('<b style="color:' + COLORS[k] + '">' + (k % 2 ? "- - " : "\u2014 ") + esc(l.name) + "</b> " + fmt(last, unit));
  });
  var label = title + ": " + lines.map(function (l) { return l.name + " " + fmt(l.values.length ? l.values[l.values.length - 1] : null, unit); }).join(", ");
  $(id).innerHTML = "<figcaption>" + esc(title) + '</figcaption><svg viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(label) + '">' + svg + '</svg><div class="legend">' + legend.join(" &nbsp; ") + "</div>";
}

function divergenceText(d) {
  if (!d) return "not running";
  if (d.result === null) return d.enabled ? "not run yet" : "disabled (REPLOG_DIVERGENCE_CHECK_MS=0)";
  var age = d.ageSeconds === null ? "" : " (" + Math.round(d.ageSeconds) + " s ago)";
  if (d.result === "mismatch" && d.firstMismatch) return "MISMATCH: differs from replica " + d.firstMismatch.peer + " at position " + d.firstMismatch.position + age;
  if (d.result === "ok") return "ok: agrees with every peer" + age;
  return "incomplete: " + d.peers.filter(function (p) { return p.result !== "ok"; }).map(function (p) { return "replica " + p.id + " " + p.result; }).join(", ") + age;
}

function render(s) {
  $("who").textContent = "seen from replica " + s.self;
  var v = $("verdict");
  v.dataset.level = s.verdict.level;
  v.innerHTML = verdictHtml(s.verdict);
  $("rows").innerHTML = s.members.map(rowHtml).join("");
  $("writer").innerHTML = writerHtml(s.writer);
  var c = s.series;
  chart("c-appends", "Appends received (positions/s)", "/s", c.t, [{ name: "positions/s", values: c.appendsPerSec }]);
  chart("c-write", "Write reply latency on this replica (queue + sync)", "ms", c.t, [{ name: "p50", values: c.writeP50Ms }, { name: "p99", values: c.writeP99Ms }]);
  chart("c-sync", "Disk sync latency (fdatasync)", "ms", c.t, [{ name: "p50", values: c.syncP50Ms }, { name: "p99", values: c.syncP99Ms }]);
  var voters = s.config.members.filter(function (m) { return m.role === "voter"; });
  var learners = s.config.members.filter(function (m) { return m.role === "learner"; });
  var ids = function (ms) { return ms.length === 0 ? "none" : ms.map(function (m) { return m.id + "=" + m.address; }).join(", "); };
  $("config").innerHTML = dl([["cluster id", s.clusterId], ["epoch", s.config.epoch], ["voters", ids(voters)], ["learners", ids(learners)],
    ["quorum", s.config.quorum + " of " + voters.length + " voters"], ["can lose", s.verdict.canLose + " more"]]);
  var g = s.integrity;
  $("integrity").innerHTML = dl([["corrupted positions now", g.lostPositions], ["found since start", g.corruptedFound],
    ["repaired since start", g.repaired], ["storage", g.storageError ? "FAILED: " + g.storageError : "ok"],
    ["divergence check", divergenceText(g.divergence)]]);
  $("events").innerHTML = s.events.map(function (e) {
    return '<li class="k-' + e.kind + '"><time datetime="' + e.at + '">' + new Date(e.at).toLocaleTimeString() + "</time>" + esc(e.text) + "</li>";
  }).join("");
  $("live").dataset.state = "live";
  $("live").textContent = "live \u00b7 updated " + new Date(s.at).toLocaleTimeString();
}

var es = new EventSource("events");
es.onmessage = function (m) { render(JSON.parse(m.data)); };
es.onerror = function () { $("live").dataset.state = "lost"; $("live").textContent = "connection to this replica lost: retrying (the data below is stale)"; };
`;

/** The console's HTML: style and script inline; the data arrives over /events. */
export function consolePage(id: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>replog console: replica ${id}</title><style>${STYLE}</style></head>
<body>
<header><h1>replog cluster <small id="who">seen from replica ${id}</small></h1><span id="live" role="status" data-state="connecting">connecting…</span></header>
<main>
<section id="verdict" role="status" aria-live="polite" aria-label="verdict" data-level="unknown">waiting for the first update…</section>
<section aria-labelledby="h-members"><h2 id="h-members">Members</h2>
<table id="members"><caption>Every member as replica ${id} sees it: status in the words of <code>replog status</code>; lag behind the highest end known; last contact</caption>
<thead><tr><th scope="col">ID</th><th scope="col">Address</th><th scope="col">Status</th><th scope="col">Generation</th><th scope="col">Begin</th><th scope="col">End</th><th scope="col">Learned prefix</th><th scope="col">Lag</th><th scope="col">Last contact</th><th scope="col">Recovery / progress</th></tr></thead>
<tbody id="rows"></tbody></table></section>
<div class="grid">
<section aria-labelledby="h-writer"><h2 id="h-writer">Writer</h2><dl id="writer"></dl></section>
<section aria-labelledby="h-config"><h2 id="h-config">Configuration</h2><dl id="config"></dl></section>
<section aria-labelledby="h-integrity"><h2 id="h-integrity">Integrity (this replica)</h2><dl id="integrity"></dl></section>
</div>
<section aria-labelledby="h-charts"><h2 id="h-charts">Throughput and latency (this replica)</h2>
<div class="grid"><figure id="c-appends"></figure><figure id="c-write"></figure><figure id="c-sync"></figure></div></section>
<section aria-labelledby="h-events"><h2 id="h-events">Events</h2><ol id="events" aria-live="off"></ol></section>
</main>
<footer>Raw data: <a href="cluster">/cluster</a> · <a href="status">/status</a> · <a href="metrics">/metrics</a></footer>
<script>${SCRIPT}</script>
</body></html>
`;
}
