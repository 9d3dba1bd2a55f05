/**
 * The live web view: one static page, inline CSS and JS, no build step. It follows /events (server-sent events:
 * 'snapshot' = the whole view, 'diff' = rows changed since the previous tick, 'crash' = a crash report) and keeps
 * stable hooks for tests: see docs/ops.md ("Web view selectors").
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Troupe</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
  h1 { font-size: 18px; margin: 0 0 .5em; } h2 { font-size: 14px; margin: 1.2em 0 .4em; }
  #conn { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #ddd; }
  #conn[data-state="live"] { background: #cfc; } #conn[data-state="lost"] { background: #fcc; }
  table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
  ul { list-style: none; padding-left: 1.2em; margin: 0; }
  .sup > .label { font-weight: 600; }
  .actor { font-family: ui-monospace, monospace; font-size: 12px; }
  .actor .st { padding: 0 4px; border-radius: 3px; }
  .actor[data-status="running"] .st { background: #e6f4e6; }
  .actor[data-status="restarting"] .st { background: #fff2cc; }
  .actor[data-status="circuit-open"] .st { background: #f8c9c9; }
  .actor[data-status="half-open"] .st { background: #fde0b8; }
  .actor[data-circuit="open"] { color: #a00; }
  #crashes li { font-family: ui-monospace, monospace; font-size: 12px; color: #a00; }
  .muted { color: #888; }
</style>
</head>
<body data-ticks="0">
<h1>Troupe <span id="conn" data-state="connecting">connecting</span> <span class="muted" id="summary"></span></h1>
<h2>Threads</h2>
<table id="threads"><thead><tr><th>thread</th><th>event-loop utilization</th><th>actors</th><th>heap MiB</th></tr></thead><tbody></tbody></table>
<h2 id="cluster-title" hidden>Cluster</h2>
<table id="cluster" hidden><thead><tr><th>node</th><th>alive</th><th>actors</th><th>capability members</th></tr></thead><tbody></tbody></table>
<h2>Supervision tree</h2>
<div id="tree"><ul id="roots"></ul><ul><li class="sup" data-sup-id=""><span class="label">unsupervised</span><ul class="kids" id="unsupervised"></ul></li></ul></div>
<h2>Recent crashes</h2>
<ul id="crashes"></ul>
<script>
"use strict";
const actors = new Map(); // id -> { row, el }
const sups = new Map();   // id -> li
let names = [];           // kind and supervisor names; rows name them by index
let STATUSES = [], CIRCUITS = [];
let ticks = 0;
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function kidsOf(supId) {
  if (supId === '') return $('unsupervised');
  const li = sups.get(supId);
  return li ? li.querySelector(':scope > ul.kids') : $('unsupervised');
}
// Lists whose children were added, moved or renumbered since the last tick: sorted by position once per tick.
const unsorted = new Set();
function place(li, into, pos) {
  if (li.parentElement !== into || li.dataset.pos !== String(pos)) { li.dataset.pos = String(pos); into.append(li); unsorted.add(into); }
}
function sortLists() {
  for (const ul of unsorted) {
    const kids = [...ul.children];
    const sorted = kids.slice().sort((a, b) => Number(a.dataset.pos) - Number(b.dataset.pos)); // stable
    if (sorted.some((k, i) => k !== kids[i])) ul.append(...sorted);
  }
  unsorted.clear();
}
function setSupervisors(rows) {
  const seen = new Set();
  for (const [id, parent, status, strategy, pos] of rows) {
    seen.add(id);
    let li = sups.get(id);
    if (!li) {
      li = el('li', 'sup'); li.dataset.supId = id;
      li.append(el('span', 'label', id), el('span', 'muted meta'), el('ul', 'kids'));
      sups.set(id, li);
    }
    li.dataset.status = status;
    li.querySelector('.meta').textContent = ' ' + strategy + ', ' + status;
    const into = parent === '' ? $('roots') : (sups.get(parent) ? sups.get(parent).querySelector(':scope > ul.kids') : $('roots'));
    place(li, into, pos);
  }
  for (const [id, li] of sups) if (!seen.has(id)) { li.remove(); sups.delete(id); }
}
function setActor(row) {
  const id = row[0], sup = row[1] < 0 ? '' : names[row[1]], kind = names[row[2]], node = row[3];
  const status = STATUSES[row[4]], restarts = row[5], depth = row[6], circuit = CIRCUITS[row[7]];
  let a = actors.get(id);
  if (!a) {
    const li = el('li', 'actor'); li.dataset.actorId = id;
    li.append(el('span', 'id', id), ' ', el('span', 'muted kind'), ' ', el('span', 'st'), ' ', el('span', 'info'));
    a = { row, el: li };
    actors.set(id, a);
  }
  const li = a.el;
  li.dataset.kind = kind; li.dataset.node = String(node); li.dataset.status = status;
  li.dataset.restarts = String(restarts); li.dataset.mailbox = String(depth); li.dataset.circuit = circuit;
  li.dataset.supervisor = sup;
  li.querySelector('.kind').textContent = kind;
  li.querySelector('.st').textContent = status;
  li.querySelector('.info').textContent = 'restarts ' + restarts + ' · mailbox ' + depth + ' · circuit ' + circuit + ' · thread ' + node;
  place(li, kidsOf(sup), row[8]);
  a.row = row;
}
function setThreads(rows) {
  const body = $('threads').tBodies[0];
  body.textContent = '';
  for (const [node, elu, count, heap] of rows) {
    const tr = el('tr'); tr.dataset.thread = String(node); tr.dataset.elu = String(elu); tr.dataset.actors = String(count);
    tr.append(el('td', '', node === 0 ? '0 (main)' : String(node)), el('td', '', (elu * 100).toFixed(0) + ' %'), el('td', '', String(count)), el('td', '', heap.toFixed(1)));
    body.append(tr);
  }
}
function summary() {
  let open = 0, restarting = 0;
  for (const { row } of actors.values()) { if (CIRCUITS[row[7]] === 'open') open++; if (STATUSES[row[4]] === 'restarting') restarting++; }
  $('summary').textContent = actors.size + ' actors · ' + open + ' circuit(s) open · ' + restarting + ' restarting';
}
function applied() { sortLists(); ticks++; document.body.dataset.ticks = String(ticks); summary(); }
// The cluster's nodes (GET api/cluster), every 2 s while the runtime is in one; hidden otherwise.
async function cluster() {
  try {
    const c = await (await fetch('api/cluster')).json();
    $('cluster').hidden = $('cluster-title').hidden = !c.configured;
    const body = $('cluster').tBodies[0];
    body.textContent = '';
    for (const n of c.nodes) {
      const tr = el('tr'); tr.dataset.node = n.id; tr.dataset.alive = String(n.alive); tr.dataset.actors = String(n.actors);
      tr.append(el('td', '', n.id + (n.self ? ' (this node)' : '')), el('td', '', n.alive ? 'yes' : 'no'), el('td', '', String(n.actors)), el('td', '', String(n.members)));
      body.append(tr);
    }
    document.body.dataset.clusterTicks = String(Number(document.body.dataset.clusterTicks || 0) + 1);
    if (c.configured) setTimeout(cluster, 2000);
  } catch { setTimeout(cluster, 5000); }
}
cluster();
const es = new EventSource('events');
es.addEventListener('open', () => { $('conn').dataset.state = 'live'; $('conn').textContent = 'live'; });
es.addEventListener('error', () => { $('conn').dataset.state = 'lost'; $('conn').textContent = 'reconnecting'; });
es.addEventListener('hello', (e) => { const h = JSON.parse(e.data); STATUSES = h.statuses; CIRCUITS = h.circuits; });
es.addEventListener('snapshot', (e) => {
  const v = JSON.parse(e.data);
  names = v.names;
  setSupervisors(v.supervisors);
  const ids = new Set(v.actors.map((r) => r[0]));
  for (const [id, a] of actors) if (!ids.has(id)) { a.el.remove(); actors.delete(id); }
  for (const row of v.actors) setActor(row);
  setThreads(v.threads);
  applied();
});
es.addEventListener('diff', (e) => {
  const d = JSON.parse(e.data);
  if (d.names) for (const [i, n] of d.names) names[i] = n;
  if (d.supervisors) setSupervisors(d.supervisors);
  for (const row of d.actors) setActor(row);
  for (const id of d.gone) { const a = actors.get(id); if (a) { a.el.remove(); actors.delete(id); } }
  setThreads(d.threads);
  applied();
});
es.addEventListener('crash', (e) => {
  const c = JSON.parse(e.data);
  const li = el('li', 'crash', new Date(c.at).toISOString().slice(11, 23) + ' ' + c.actorId + ' (' + c.kind + ') on ' + c.messageType + ': ' + c.error + ' -> ' + c.decision);
  li.dataset.actorId = c.actorId; li.dataset.decision = c.decision;
  $('crashes').prepend(li);
  while ($('crashes').children.length > 50) $('crashes').lastElementChild.remove();
});
</script>
</body>
</html>
`;
