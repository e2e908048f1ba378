// The floor view: every rig as a cell on a map of rows and racks, live over server-sent events (GET /v1/events).
// Plain JS over the public API, no build step, no CDN. Thresholds come from the alert rules (GET /v1/alerts/rules).

const $ = (id) => document.getElementById(id);

// When the API has tokens (rigtel token create), the page asks once for an engineer or admin token and keeps it in
// this tab's sessionStorage; `#token=…` in the address works too and is removed at once. Fetches send it as a
// Bearer header; the event stream (EventSource sends no headers) gets it through the `rigtel_token` cookie.
const TOKEN_KEY = 'rigtel_token';
if (location.hash.startsWith('#token=')) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, '', location.pathname + location.search);
}
function useToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  // biome-ignore lint/suspicious/noDocumentCookie: EventSource cannot send headers; the API reads this cookie.
  document.cookie = `${TOKEN_KEY}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}
if (sessionStorage.getItem(TOKEN_KEY)) useToken(sessionStorage.getItem(TOKEN_KEY));
let asked = false;
function apiFetch(path, init = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(init.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  return fetch(path, { ...init, headers }).then((r) => {
    if (r.status === 401 && !asked) {
      asked = true;
      const t = window.prompt('This rigtel API needs a token (engineer or admin):');
      if (t) {
        useToken(t.trim());
        location.reload();
      }
    }
    return r;
  });
}
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('aria-') || k === 'role' || k === 'tabindex') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};

/** State glyphs: the state is always shown by shape and word as well as colour. */
const STATE_GLYPH = {
  mining: '●',
  ramping: '◐',
  sleeping: '☾',
  curtailed: '▼',
  error: '✕',
  offline: '○',
};
const STATES = ['mining', 'error', 'offline', 'sleeping', 'curtailed', 'ramping'];
const SOURCE_WORD = { pdu: 'metered', miner: 'miner-reported', estimate: 'estimated' };

const view = {
  rigs: new Map(),
  fleet: null,
  alerts: null,
  sinks: [],
  rules: null,
  intervalMs: 30_000,
  heartbeatMs: 15_000,
  lastEventMs: null,
  stale: false,
  sort: { key: 'name', dir: 1 },
  openRig: null,
};

function fmt(value, digits = 1) {
  return value === null || value === undefined || !Number.isFinite(Number(value))
    ? null
    : Number(value).toFixed(digits);
}
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '—');
const nameOf = (rig) => rig.name ?? rig.rig_id;
const share = (rig) =>
  rig.hashrate_hs === null || !rig.hashrate_nominal_hs ? null : rig.hashrate_hs / rig.hashrate_nominal_hs;
const jth = (rig) =>
  rig.power_w === null || !rig.hashrate_hs ? null : rig.power_w / (rig.hashrate_hs / 1e12);
const temp = (rig) => rig.temp_chip_max_c ?? rig.temp_board_max_c ?? null;
const locationText = (l) =>
  l ? `${l.site} · row ${l.row} · rack ${l.rack}${l.slot === null ? '' : ` · slot ${l.slot}`}` : null;

// ---- judgement against the alert rules ----

/** `{level: ok|warn|bad|none, text}` for the chosen metric; text always carries the level in words. */
function judge(rig, metric) {
  const rules = view.rules;
  if (metric === 'temp') {
    const t = temp(rig);
    if (t === null) return { level: 'none', text: 'no temp' };
    const limit = rules?.temperature?.chip_limit_c ?? null;
    const hyst = rules?.temperature?.hysteresis_c ?? 0;
    if (limit !== null && t > limit) return { level: 'bad', text: `${fmt(t, 0)} °C hot` };
    if (limit !== null && t > limit - hyst) return { level: 'warn', text: `${fmt(t, 0)} °C near limit` };
    return { level: 'ok', text: `${fmt(t, 0)} °C` };
  }
  if (metric === 'share') {
    const s = share(rig);
    if (s === null) return { level: 'none', text: 'no nameplate' };
    const below = rules?.hashrate_low?.below_share ?? null;
    const hyst = rules?.hashrate_low?.hysteresis_share ?? 0;
    const pct = `${Math.round(s * 100)} %`;
    const judged = rig.state === 'mining' || rig.state === 'error';
    if (judged && below !== null && s < below) return { level: 'bad', text: `${pct} low` };
    if (judged && below !== null && s < below + hyst) return { level: 'warn', text: `${pct} near low` };
    return { level: 'ok', text: pct };
  }
  if (metric === 'jth') {
    const v = jth(rig);
    if (v === null) return { level: 'none', text: 'no J/TH' };
    // No alert rule for efficiency: judged against the fleet's own median.
    const med = view.fleet?.efficiency_jth ?? null;
    if (med !== null && v > med * 1.25) return { level: 'bad', text: `${fmt(v, 1)} J/TH poor` };
    if (med !== null && v > med * 1.1) return { level: 'warn', text: `${fmt(v, 1)} J/TH` };
    return { level: 'ok', text: `${fmt(v, 1)} J/TH` };
  }
  if (metric === 'source') {
    if (rig.power_source === null) return { level: 'none', text: 'no power' };
    const level = rig.power_source === 'pdu' ? 'ok' : rig.power_source === 'miner' ? 'warn' : 'est';
    return { level, text: SOURCE_WORD[rig.power_source] };
  }
  return {
    level: `s-${rig.state}`,
    text: rig.hashrate_ths === null ? '' : `${fmt(rig.hashrate_ths, 1)} TH/s`,
  };
}

const LEGENDS = {
  state: 'cell colour and symbol: ● mining, ✕ error, ○ offline, ☾ sleeping, ▼ curtailed, ◐ ramping',
  temp: () =>
    `chip temperature against the alert rule: "hot" above ${view.rules?.temperature?.chip_limit_c ?? '?'} °C, "near limit" within ${view.rules?.temperature?.hysteresis_c ?? '?'} °C of it`,
  share: () =>
    `hashrate as a share of nameplate: "low" below ${Math.round((view.rules?.hashrate_low?.below_share ?? 0) * 100)} % (alert rule)`,
  jth: 'watts per TH/s: "poor" above 125 % of the fleet figure',
  source: 'where each power figure comes from: metered (PDU), miner-reported, estimated (model table)',
};

// ---- tiles, alerts, sinks ----

function renderFleet() {
  const f = view.fleet;
  if (!f) return;
  $('site').textContent = f.site ? `· ${f.site}` : '';
  for (const s of STATES) $(`t-${s}`).textContent = `${f.states?.[s] ?? 0} / ${f.rigs}`;
  $('t-hash').textContent = f.hashrate_ths === null ? 'unknown' : `${fmt(f.hashrate_ths, 2)} TH/s`;
  if (f.power_kw === null) {
    $('t-power').textContent = 'unknown';
    $('t-power-split').textContent = '';
  } else {
    $('t-power').textContent = `${fmt(f.power_kw, 2)} kW`;
    const by = f.power_w_by_source ?? {};
    const parts = ['pdu', 'miner', 'estimate']
      .filter((s) => (f.power_sources?.[s] ?? 0) > 0)
      .map((s) => `${fmt((by[s] ?? 0) / 1000, 1)} kW ${SOURCE_WORD[s]} (${f.power_sources[s]} rigs)`);
    const none = f.power_sources?.none ?? 0;
    if (none) parts.push(`${none} rigs without a figure`);
    $('t-power-split').textContent = parts.join(', ');
  }
  $('t-eff').textContent =
    f.efficiency_jth === null ? 'unknown' : `${fmt(f.efficiency_jth, 1)} J/TH over ${f.efficiency_rigs} rigs`;
}

function rigLabel(rigId) {
  for (const r of view.rigs.values()) if (r.rig_id === rigId) return nameOf(r);
  return rigId;
}

function renderProblems() {
  const list = $('alerts');
  if (view.alerts === null) {
    $('alert-count').textContent = '';
    list.replaceChildren(el('li', { class: 'muted' }, 'no alert engine in this process'));
  } else {
    $('alert-count').textContent = `(${view.alerts.length})`;
    list.replaceChildren(
      ...(view.alerts.length === 0
        ? [el('li', { class: 'ok' }, '✓ none')]
        : view.alerts.map((a) =>
            el(
              'li',
              { class: `alert ${a.severity}` },
              el('strong', {}, `${a.severity === 'critical' ? '‼' : '!'} ${a.severity}`),
              ` ${a.message.startsWith(a.name ?? rigLabel(a.rig_id)) ? '' : `${rigLabel(a.rig_id)}: `}${a.message} (since ${time(a.since_ms)})`,
            ),
          )),
    );
  }
  $('sinks').replaceChildren(
    ...(view.sinks.length === 0
      ? [el('li', { class: 'muted' }, 'no sinks')]
      : view.sinks.map((s) =>
          el(
            'li',
            { class: s.state === 'ok' ? 'ok' : 'alert critical' },
            el('strong', {}, s.state === 'ok' ? '✓ ok' : `✕ ${s.state}`),
            ` ${s.name}${s.lag_samples ? ` · ${s.lag_samples} samples behind` : ''}${s.last_error ? ` · ${s.last_error.code ?? ''} ${s.last_error.message ?? ''}` : ''}`,
          ),
        )),
  );
}

// ---- the map ----

function groupKey(rig) {
  const l = rig.location;
  if (l)
    return {
      key: `L ${l.site}\u0000${l.row}\u0000${l.rack}`,
      title: `${l.site} · row ${l.row} · rack ${l.rack}`,
    };
  const host = rig.address.replace(/:\d+$/, '');
  // Rigs without a location come after the racks, grouped by host.
  return { key: `~ ${host}`, title: `address ${host}` };
}

function slotOrder(a, b) {
  const sa = a.location?.slot ?? null;
  const sb = b.location?.slot ?? null;
  if (sa !== null && sb !== null && sa !== sb) return sa - sb;
  const pa = Number(a.address.match(/:(\d+)$/)?.[1] ?? 0);
  const pb = Number(b.address.match(/:(\d+)$/)?.[1] ?? 0);
  return pa - pb || nameOf(a).localeCompare(nameOf(b));
}

function cellFor(rig, metric) {
  const j = judge(rig, metric);
  const glyph = STATE_GLYPH[rig.state] ?? '?';
  return el(
    'button',
    {
      type: 'button',
      class: `cell state-${rig.state} m-${metric} lvl-${j.level}`,
      dataset: { rig: rig.rig_id, state: rig.state },
      'aria-label': `${nameOf(rig)}: ${rig.state}${j.text ? `, ${j.text}` : ''}. Open detail.`,
    },
    el('span', { class: 'c-name' }, nameOf(rig)),
    el('span', { class: 'c-state' }, `${glyph} ${rig.state}`),
    el('span', { class: 'c-metric' }, j.text || '\u00a0'),
  );
}

function renderMap() {
  const metric = $('metric').value;
  const legend = LEGENDS[metric];
  $('legend').textContent = typeof legend === 'function' ? legend() : legend;
  const groups = new Map();
  for (const rig of view.rigs.values()) {
    const g = groupKey(rig);
    if (!groups.has(g.key)) groups.set(g.key, { title: g.title, rigs: [] });
    groups.get(g.key).rigs.push(rig);
  }
  const focused = document.activeElement?.closest?.('.cell')?.dataset.rig;
  const sections = [...groups.entries()]
    .sort(([a], [b]) =>
      a[0] === b[0] ? a.localeCompare(b, undefined, { numeric: true }) : a[0] === 'L' ? -1 : 1,
    )
    .map(([, g]) =>
      el(
        'section',
        { class: 'rack', 'aria-label': g.title },
        el('h3', {}, `${g.title} · ${g.rigs.length} rig${g.rigs.length === 1 ? '' : 's'}`),
        el(
          'div',
          { class: 'cells', role: 'group', 'aria-label': g.title },
          ...g.rigs.sort(slotOrder).map((r) => cellFor(r, metric)),
        ),
      ),
    );
  $('map').replaceChildren(...sections);
  if (focused)
    $('map')
      .querySelector(`.cell[data-rig="${CSS.escape(focused)}"]`)
      ?.focus();
}

// Arrow keys move along the cells (left/right) and between lines of cells (up/down).
$('map').addEventListener('keydown', (event) => {
  const cell = event.target.closest?.('.cell');
  if (!cell) return;
  const cells = [...$('map').querySelectorAll('.cell')];
  const i = cells.indexOf(cell);
  let next = null;
  if (event.key === 'ArrowRight') next = cells[i + 1];
  else if (event.key === 'ArrowLeft') next = cells[i - 1];
  else if (event.key === 'Home') next = cells[0];
  else if (event.key === 'End') next = cells[cells.length - 1];
  else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    const box = cell.getBoundingClientRect();
    const down = event.key === 'ArrowDown';
    const candidates = cells
      .map((c) => ({ c, r: c.getBoundingClientRect() }))
      .filter(({ r }) => (down ? r.top > box.top + 2 : r.top < box.top - 2));
    candidates.sort(
      (a, b) =>
        Math.abs(a.r.top - box.top) - Math.abs(b.r.top - box.top) ||
        Math.abs(a.r.left - box.left) - Math.abs(b.r.left - box.left),
    );
    const row = candidates.filter(({ r }) => r.top === candidates[0]?.r.top);
    row.sort((a, b) => Math.abs(a.r.left - box.left) - Math.abs(b.r.left - box.left));
    next = row[0]?.c;
  }
  if (next) {
    event.preventDefault();
    next.focus();
  }
});
$('map').addEventListener('click', (event) => {
  const cell = event.target.closest?.('.cell');
  if (cell) openDetail(cell.dataset.rig);
});

// ---- the list ----

const SORTERS = {
  name: (a, b) => nameOf(a).localeCompare(nameOf(b), undefined, { numeric: true }),
  location: (a, b) =>
    (locationText(a.location) ?? '~').localeCompare(locationText(b.location) ?? '~', undefined, {
      numeric: true,
    }),
  model: (a, b) => (a.model ?? '~').localeCompare(b.model ?? '~'),
  state: (a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state),
  hashrate: (a, b) => (a.hashrate_hs ?? -1) - (b.hashrate_hs ?? -1),
  share: (a, b) => (share(a) ?? -1) - (share(b) ?? -1),
  temp: (a, b) => (temp(a) ?? -1e9) - (temp(b) ?? -1e9),
  power: (a, b) => (a.power_w ?? -1) - (b.power_w ?? -1),
  source: (a, b) => (a.power_source ?? '~').localeCompare(b.power_source ?? '~'),
};

function td(text, className) {
  const missing = text === null || text === undefined || text === '';
  return el(
    'td',
    { class: [className, missing && 'missing'].filter(Boolean).join(' ') },
    missing ? '—' : text,
  );
}

function renderList() {
  const { key, dir } = view.sort;
  for (const th of document.querySelectorAll('#rigs th[data-sort]')) {
    if (th.dataset.sort === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  const rigs = [...view.rigs.values()].sort((a, b) => dir * SORTERS[key](a, b) || SORTERS.name(a, b));
  const rows = rigs.map((rig) => {
    const t = judge(rig, 'temp');
    const s = judge(rig, 'share');
    return el(
      'tr',
      { class: `row-${rig.state}`, dataset: { rig: rig.rig_id } },
      el(
        'td',
        {},
        el('button', { type: 'button', class: 'link', dataset: { rig: rig.rig_id } }, nameOf(rig)),
      ),
      td(locationText(rig.location) ?? rig.address, 'p3'),
      td(rig.model, 'p3'),
      el(
        'td',
        {},
        el('span', { class: `state state-${rig.state}` }, `${STATE_GLYPH[rig.state] ?? ''} ${rig.state}`),
      ),
      td(fmt(rig.hashrate_ths, 2), 'num'),
      td(share(rig) === null ? null : s.text, `num p2 lvl-${s.level}`),
      td(temp(rig) === null ? null : t.text, `num lvl-${t.level}`),
      td(fmt(rig.power_w, 0), 'num p2'),
      td(rig.power_source ? SOURCE_WORD[rig.power_source] : null, 'p3'),
      td(
        rig.state_reason ?? (rig.last_error ? `${rig.last_error.code}: ${rig.last_error.message}` : null),
        'p2 reason',
      ),
    );
  });
  $('rigs')
    .querySelector('tbody')
    .replaceChildren(...rows);
}

$('rigs')
  .querySelector('thead')
  .addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort;
    view.sort = { key, dir: view.sort.key === key ? -view.sort.dir : 1 };
    renderList();
  });
$('rigs')
  .querySelector('tbody')
  .addEventListener('click', (event) => {
    const b = event.target.closest('button[data-rig]');
    if (b) openDetail(b.dataset.rig);
  });

// ---- rig detail ----

function sparkline(points, field, label, unit, scale = 1, digits = 1) {
  const values = points.map((p) => (p[field] === null ? null : p[field] / scale));
  const known = values.filter((v) => v !== null);
  const w = 240;
  const h = 48;
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('role', 'img');
  const last = known.length ? known[known.length - 1] : null;
  const min = known.length ? Math.min(...known) : 0;
  const max = known.length ? Math.max(...known) : 0;
  svg.setAttribute(
    'aria-label',
    known.length
      ? `${label}: ${known.length} points, ${fmt(min, digits)} to ${fmt(max, digits)} ${unit}, latest ${fmt(last, digits)} ${unit}`
      : `${label}: no data yet`,
  );
  const span = max - min || 1;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = values.length > 1 ? (i / (values.length - 1)) * (w - 4) + 2 : w / 2;
    const y = h - 4 - ((v - min) / span) * (h - 8);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
    pen = true;
  });
  // A point with no neighbour draws no line: mark it with a dot.
  values.forEach((v, i) => {
    if (v === null || values[i - 1] != null || values[i + 1] != null) return;
    const x = values.length > 1 ? (i / (values.length - 1)) * (w - 4) + 2 : w / 2;
    const dot = document.createElementNS(svgNS, 'circle');
    dot.setAttribute('cx', x.toFixed(1));
    dot.setAttribute('cy', (h - 4 - ((v - min) / span) * (h - 8)).toFixed(1));
    dot.setAttribute('r', '3');
    dot.setAttribute('fill', '#1a5fb4');
    svg.append(dot);
  });
  const path = document.createElementNS(svgNS, 'path');
  path.setAttribute('d', d || `M2,${h / 2} L${w - 2},${h / 2}`);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', d ? '#1a5fb4' : '#c0c6cc');
  path.setAttribute('stroke-width', '2');
  svg.append(path);
  return el(
    'figure',
    { class: 'spark' },
    svg,
    el(
      'figcaption',
      {},
      last === null
        ? `${label}: no data in the last 6 h`
        : `${label}: ${fmt(last, digits)} ${unit} (6 h range ${fmt(min, digits)}–${fmt(max, digits)})`,
    ),
  );
}

function dl(pairs) {
  const list = el('dl', { class: 'kv' });
  for (const [k, v] of pairs)
    list.append(el('dt', {}, k), el('dd', {}, v === null || v === undefined || v === '' ? '—' : String(v)));
  return list;
}

function table(caption, head, rows) {
  return el(
    'table',
    { class: 'mini' },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => td(c))))),
  );
}

async function fetchJson(url, init) {
  const r = await apiFetch(url, init);
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`);
  return body;
}

async function renderDetail(rigId, note = '') {
  const body = $('d-body');
  let rig;
  try {
    rig = await fetchJson(`/v1/rigs/${encodeURIComponent(rigId)}`);
  } catch (err) {
    body.replaceChildren(el('p', { class: 'alert critical' }, `cannot load the rig: ${err.message}`));
    return;
  }
  if (view.openRig !== rigId) return;
  $('d-title').textContent = nameOf(rig);
  const s = rig.current;
  const powerText =
    rig.power_w === null
      ? 'unknown'
      : `${fmt(rig.power_w, 0)} W ${SOURCE_WORD[rig.power_source] ?? ''}${rig.power_miner_w !== null && rig.power_source !== 'miner' ? ` · the miner claims ${fmt(rig.power_miner_w, 0)} W` : ''}`;
  const alerts = (view.alerts ?? []).filter((a) => a.rig_id === rig.rig_id);
  const poll = el('button', { type: 'button', id: 'd-poll' }, 'Poll now');
  const pollResult = el('span', { id: 'd-poll-result', role: 'status' }, note);
  poll.addEventListener('click', async () => {
    poll.disabled = true;
    pollResult.textContent = 'polling…';
    try {
      const after = await fetchJson(`/v1/rigs/${encodeURIComponent(rig.rig_id)}/poll`, { method: 'POST' });
      await renderDetail(rigId, `polled at ${time(Date.now())}: ${after.state}`);
      $('d-poll')?.focus();
    } catch (err) {
      pollResult.textContent = `poll failed: ${err.message}`;
    } finally {
      poll.disabled = false;
    }
  });
  const sparks = el('div', { class: 'sparks' }, el('p', { class: 'muted' }, 'loading history…'));
  body.replaceChildren(
    el(
      'p',
      { class: `d-state state-${rig.state}` },
      el('strong', {}, `${STATE_GLYPH[rig.state] ?? ''} ${rig.state}`),
      rig.state_reason ? ` — ${rig.state_reason}` : '',
    ),
    el('div', { class: 'd-actions' }, poll, pollResult),
    el('h3', {}, 'Identity'),
    dl([
      ['make', rig.make],
      ['model', rig.model],
      ['firmware', rig.firmware],
      ['serial', rig.serial],
      ['MAC', rig.mac],
      ['address', rig.address],
      ['location', locationText(rig.location)],
      ['rig id', rig.rig_id],
    ]),
    el('h3', {}, 'Now'),
    dl([
      [
        'hashrate',
        rig.hashrate_ths === null
          ? null
          : `${fmt(rig.hashrate_ths, 2)} TH/s${share(rig) === null ? '' : ` (${Math.round(share(rig) * 100)} % of nameplate)`}`,
      ],
      ['power', powerText],
      ['chip max', temp(rig) === null ? null : `${fmt(temp(rig), 0)} °C`],
      ['last poll', time(rig.last_poll_ms)],
      ['last seen', time(rig.last_seen_ms)],
      [
        'last error',
        rig.last_error
          ? `${rig.last_error.code}: ${rig.last_error.message} (at ${time(rig.last_poll_ms)})`
          : null,
      ],
    ]),
    el('h3', {}, `Alerts (${alerts.length})`),
    el(
      'ul',
      {},
      ...(alerts.length
        ? alerts.map((a) => el('li', { class: `alert ${a.severity}` }, `${a.severity}: ${a.message}`))
        : [el('li', {}, 'none')]),
    ),
    el('h3', {}, 'Last hours'),
    sparks,
    s?.boards.length
      ? table(
          'Hash boards',
          ['board', 'chips', 'TH/s', 'chip °C', 'board °C'],
          s.boards.map((b) => [
            String(b.index),
            b.chips === null ? null : `${b.chips}${b.chips_expected ? ` / ${b.chips_expected}` : ''}`,
            fmt(b.hashrate_hs === null ? null : b.hashrate_hs / 1e12, 2),
            fmt(b.temp_chip_c, 0),
            fmt(b.temp_board_c, 0),
          ]),
        )
      : el('p', { class: 'muted' }, 'no board figures'),
    s?.fans.length
      ? table(
          'Fans',
          ['fan', 'rpm'],
          s.fans.map((f) => [String(f.index), f.rpm === null ? null : String(f.rpm)]),
        )
      : el('p', { class: 'muted' }, 'no fan figures'),
    s?.pools.length
      ? table(
          'Pools',
          ['#', 'url', 'user', 'status', 'accepted'],
          s.pools.map((p) => [
            String(p.index),
            p.url,
            p.user,
            `${p.status ?? ''}${p.active ? ' (active)' : ''}`,
            p.accepted === null ? null : String(p.accepted),
          ]),
        )
      : el('p', { class: 'muted' }, 'no pool figures'),
  );
  try {
    const to = Date.now();
    const h = await fetchJson(
      `/v1/rigs/${encodeURIComponent(rig.rig_id)}/history?from=${to - 6 * 3600_000}&to=${to}&step=5m`,
    );
    if (view.openRig !== rigId) return;
    sparks.replaceChildren(
      sparkline(h.points, 'hashrate_hs', 'hashrate', 'TH/s', 1e12, 2),
      sparkline(h.points, 'power_w', 'power', 'W', 1, 0),
      sparkline(h.points, 'temp_chip_max_c', 'chip temperature', '°C', 1, 0),
    );
  } catch (err) {
    sparks.replaceChildren(el('p', { class: 'muted' }, `no history: ${err.message}`));
  }
}

let opener = null;
function openDetail(rigId) {
  opener = document.activeElement;
  view.openRig = rigId;
  $('d-body').replaceChildren(el('p', {}, 'loading…'));
  const dialog = $('detail');
  if (!dialog.open) dialog.showModal();
  $('d-close').focus();
  renderDetail(rigId);
}
$('d-close').addEventListener('click', () => $('detail').close());
$('detail').addEventListener('close', () => {
  view.openRig = null;
  if (opener && document.contains(opener)) opener.focus();
  else if (opener?.dataset?.rig)
    $('map')
      .querySelector(`.cell[data-rig="${CSS.escape(opener.dataset.rig)}"]`)
      ?.focus();
});

// ---- economics (shown only when GET /v1/economics/live exists) ----

let economicsAt = 0;
let economicsGone = false;
function findNumber(obj, re, path = '') {
  if (!obj || typeof obj !== 'object') return null;
  for (const [k, v] of Object.entries(obj)) {
    const p = path ? `${path}.${k}` : k;
    if (typeof v === 'number' && re.test(p)) return { key: k, value: v };
  }
  for (const [k, v] of Object.entries(obj)) {
    const hit = typeof v === 'object' ? findNumber(v, re, path ? `${path}.${k}` : k) : null;
    if (hit) return hit;
  }
  return null;
}
function money(hit) {
  if (!hit) return 'unknown';
  const unit = /usd/i.test(hit.key)
    ? ' USD'
    : /btc/i.test(hit.key)
      ? ' BTC'
      : /sat/i.test(hit.key)
        ? ' sat'
        : '';
  return `${fmt(hit.value, Math.abs(hit.value) < 1 ? 6 : 2)}${unit}`;
}
async function refreshEconomics() {
  if (economicsGone || Date.now() - economicsAt < 60_000) return;
  economicsAt = Date.now();
  try {
    const r = await apiFetch('/v1/economics/live');
    if (r.status === 404 || r.status === 403) {
      economicsGone = true;
      $('economics').hidden = true;
      return;
    }
    if (!r.ok) return;
    const e = await r.json();
    $('e-revenue').textContent = money(findNumber(e, /revenue.*day|day.*revenue/i));
    $('e-cost').textContent = money(findNumber(e, /cost.*day|day.*cost/i));
    $('e-hashprice').textContent = money(findNumber(e, /hashprice/i));
    $('economics').hidden = false;
  } catch {
    // The panel keeps its last figures; the live stream shows whether the API is reachable.
  }
}

// ---- live stream ----

function renderAll() {
  renderFleet();
  renderProblems();
  renderMap();
  renderList();
}

let frame = 0;
function scheduleRender() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderAll();
  });
}

function markLive() {
  view.lastEventMs = Date.now();
  if (view.stale) {
    view.stale = false;
    document.body.classList.remove('stale');
    $('stale').hidden = true;
  }
  $('live').textContent = `live · updated ${time(view.lastEventMs)}`;
}

function markStale(why) {
  if (view.stale) return;
  view.stale = true;
  document.body.classList.add('stale');
  const since = view.lastEventMs ? time(view.lastEventMs) : 'page load';
  $('stale').hidden = false;
  $('stale').textContent =
    `⚠ Data is stale since ${since}: ${why}. The figures below are not live; reconnecting…`;
  $('live').textContent = `stale since ${since}`;
}

function connect() {
  const source = new EventSource('/v1/events');
  const on = (name, fn) =>
    source.addEventListener(name, (event) => {
      markLive();
      fn(JSON.parse(event.data));
    });
  on('snapshot', (d) => {
    view.intervalMs = d.interval_ms ?? view.intervalMs;
    view.heartbeatMs = d.heartbeat_ms ?? view.heartbeatMs;
    view.rigs = new Map(d.rigs.map((r) => [r.address, r]));
    view.fleet = d.fleet;
    view.alerts = d.alerts;
    view.sinks = d.sinks ?? [];
    scheduleRender();
    refreshEconomics();
  });
  on('rigs', (d) => {
    for (const r of d.rigs) view.rigs.set(r.address, r);
    scheduleRender();
  });
  on('fleet', (d) => {
    view.fleet = d.fleet;
    view.alerts = d.alerts;
    view.sinks = d.sinks ?? [];
    scheduleRender();
    refreshEconomics();
  });
  on('ping', () => {});
  source.addEventListener('error', () => markStale('the live stream from the collector dropped'));
}

// A stream that stays silent longer than two heartbeats is treated as dropped, even if the socket looks open.
setInterval(() => {
  if (view.lastEventMs && Date.now() - view.lastEventMs > 2 * view.heartbeatMs + 5000)
    markStale('no event from the collector for over two heartbeats');
}, 1000);

$('metric').addEventListener('change', renderMap);

fetchJson('/v1/alerts/rules')
  .then((rules) => {
    view.rules = rules;
    scheduleRender();
  })
  .catch(() => {
    // Without rules the map still shows values, just not judged against thresholds.
  });
connect();
