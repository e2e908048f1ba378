// The lender page: one loan's covenants, pledged-vs-seen, charts, coverage and the signed report, read from
// /v1/loans/:id with the lender's token. The token is kept in sessionStorage (this tab only) and sent as a
// Bearer header, never in a URL or a cookie; `#token=…` in the address is accepted once and removed at once.
const id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const $ = (sel) => document.querySelector(sel);
const KEY = 'rigtel_token';

if (location.hash.startsWith('#token=')) {
  sessionStorage.setItem(KEY, decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, '', location.pathname + location.search);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

async function api(path, as = 'json') {
  const token = sessionStorage.getItem(KEY);
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    showLogin('token refused (unknown or revoked)');
    throw new Error('unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  }
  return as === 'json' ? res.json() : as === 'text' ? res.text() : res.blob();
}

function showLogin(msg) {
  $('#login').hidden = false;
  $('#main').hidden = true;
  $('#status-line').textContent = msg ?? 'enter the API token you were given';
}

const fmt = (v, d = 2) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));
const localInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const period = () => {
  const from = $('#from').value ? new Date($('#from').value).toISOString() : undefined;
  const to = $('#to').value ? new Date($('#to').value).toISOString() : undefined;
  const q = new URLSearchParams();
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  return q;
};

const NAMES = {
  dscr: 'DSCR',
  ltv: 'LTV (measured mark)',
  performance_ratio: 'Performance ratio',
  uptime: 'Uptime',
  units_online: 'Units online',
};
const TREND = { improving: '↗ improving', worsening: '↘ worsening', flat: '→ flat' };

function svgChart(values, labels, { bars: asBars = false, unit = '', digits = 1 } = {}) {
  // A line needs at least three points to say anything; fewer are drawn as bars.
  const bars = asBars || values.length < 3;
  const W = 480;
  const H = 160;
  const P = 28;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  const max = Math.max(1e-9, ...values.filter((v) => v !== null));
  const x = (i) => P + (i * (W - 2 * P)) / Math.max(1, values.length - (bars ? 0 : 1));
  const y = (v) => H - P - (v / max) * (H - 2 * P);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text) e.textContent = text;
    svg.append(e);
  };
  add('line', { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: '#8a96a3' });
  add('text', { x: 2, y: P - 6 }, `${fmt(max, digits)} ${unit}`);
  if (bars) {
    const w = (W - 2 * P) / Math.max(1, values.length) - 4;
    values.forEach((v, i) => {
      add('rect', {
        x: x(i) + 2,
        y: y(v ?? 0),
        width: Math.max(1, w),
        height: H - P - y(v ?? 0),
        fill: '#3b6ea8',
      });
      add('text', { x: x(i) + 2, y: H - 8 }, labels[i] ?? '');
    });
  } else {
    const pts = values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    add('polyline', { points: pts.join(' '), fill: 'none', stroke: '#3b6ea8', 'stroke-width': 2 });
    if (labels.length) {
      add('text', { x: P, y: H - 8 }, labels[0]);
      add('text', { x: W - P - 60, y: H - 8 }, labels.at(-1));
    }
  }
  return svg;
}

let lastReportBytes = null;

async function load() {
  $('#status-line').textContent = 'computing the report…';
  const q = period();
  const [summary, text] = await Promise.all([
    api(`/v1/loans/${encodeURIComponent(id)}`),
    api(`/v1/loans/${encodeURIComponent(id)}/report?${q}`, 'text'),
  ]);
  lastReportBytes = text;
  const doc = JSON.parse(text);
  const b = doc.body;
  $('#login').hidden = true;
  $('#main').hidden = false;
  $('#loan-id').textContent = b.loan.id;
  $('#lender').textContent = `· ${b.loan.lender}`;
  $('#period').textContent =
    `${b.period.from} → ${b.period.to} (${b.period.timezone})${b.period.closed ? '' : ' · period still open'} · formula ${b.formula_version}`;
  if (!$('#from').value) $('#from').value = localInput(Date.parse(b.period.from));
  if (!$('#to').value) $('#to').value = localInput(Date.parse(b.period.to));

  const cards = $('#covenants');
  cards.replaceChildren();
  for (const [key, c] of Object.entries(b.covenants)) {
    const digits = key === 'dscr' || key === 'ltv' ? 2 : 3;
    cards.append(
      el(
        'div',
        { class: `card ${c.status ?? ''}`, 'data-covenant': key },
        el('div', { class: 'name' }, NAMES[key] ?? key),
        el('div', { class: 'value' }, fmt(c.value, digits)),
        el(
          'div',
          {},
          c.threshold === null ? 'no threshold' : `${c.bound === 'min' ? 'min' : 'max'} ${c.threshold}`,
        ),
        el('div', { class: `status status-${c.status}` }, c.status ?? 'n/a'),
        el('div', { class: 'meta' }, c.trend ? TREND[c.trend] : ''),
        c.cure_deadline
          ? el('div', { class: 'meta' }, `breach since ${c.breach_since}, cure by ${c.cure_deadline}`)
          : '',
      ),
    );
  }
  const stress = $('#stress tbody');
  stress.replaceChildren(
    el(
      'tr',
      {},
      el('th', {}, 'hashprice −30 %'),
      el('td', { class: 'num' }, fmt(b.stress.dscr_hashprice_minus_30)),
    ),
    el(
      'tr',
      {},
      el('th', {}, 'hashprice −50 %'),
      el('td', { class: 'num' }, fmt(b.stress.dscr_hashprice_minus_50)),
    ),
    el(
      'tr',
      {},
      el('th', {}, 'after the next halving'),
      el('td', { class: 'num' }, fmt(b.stress.dscr_after_halving)),
    ),
  );

  const rank = { missing: 0, swapped: 1, changed: 2, derated: 3, seen: 4 };
  const rigs = [...b.rigs].sort((a, c) => rank[a.status] - rank[c.status] || a.key.localeCompare(c.key));
  $('#pledges tbody').replaceChildren(
    ...rigs.map((r) =>
      el(
        'tr',
        { class: r.status, 'data-key': r.key },
        el('td', {}, r.status),
        el('td', {}, r.serial ?? r.mac ?? r.key),
        el('td', {}, r.model),
        el('td', {}, r.status_since),
        el('td', {}, r.detail ?? ''),
        el('td', { class: 'num' }, fmt(r.nominal_ths, 1)),
        el('td', { class: 'num' }, fmt(r.measured_ths, 1)),
        el('td', { class: 'num' }, fmt(r.j_per_th, 1)),
        el('td', { class: 'num' }, r.uptime === null ? '–' : `${fmt(r.uptime * 100, 1)} %`),
        el('td', { class: 'num' }, fmt(r.revenue_usd)),
        el('td', { class: 'num' }, `${r.polls_ok} / ${r.polls_expected}`),
      ),
    ),
  );
  const un = b.reconciliation.unpledged;
  $('#unpledged tbody').replaceChildren(
    ...(un.length
      ? un.map((u) =>
          el(
            'tr',
            {},
            el('td', {}, u.rig_id),
            el('td', {}, u.address),
            el('td', {}, u.model ?? '–'),
            el('td', {}, u.first_seen),
          ),
        )
      : [el('tr', {}, el('td', { colspan: '4' }, 'none'))]),
  );

  // Hourly hashrate from the signed rollups of the pledged rigs.
  try {
    const roll = JSON.parse(await api(`/v1/loans/${encodeURIComponent(id)}/rollups?${q}`, 'text'));
    const byHour = new Map();
    for (const r of roll.body.rigs)
      for (const h of r.hours)
        byHour.set(
          h.hour_ms,
          (byHour.get(h.hour_ms) ?? 0) +
            ((h.hashrate_hs ?? 0) * (h.mining_s + h.curtailed_s)) / Math.max(1, h.covered_s) / 1e12,
        );
    const hours = [...byHour.keys()].sort((a, c) => a - c);
    $('#chart-hash').replaceChildren(
      svgChart(
        hours.map((h) => byHour.get(h)),
        hours.map((h) => new Date(h).toISOString().slice(5, 13).replace('T', ' ')),
        { unit: 'TH/s' },
      ),
    );
  } catch (err) {
    $('#chart-hash').textContent = `no hourly data: ${err.message}`;
  }
  $('#chart-rev-day').replaceChildren(
    svgChart(
      b.daily.map((d) => d.revenue_usd ?? 0),
      b.daily.map((d) => d.date.slice(5)),
      { unit: '$', digits: 2 },
    ),
  );
  $('#chart-rev').replaceChildren(
    svgChart(
      b.rigs.map((r) => r.revenue_usd ?? 0),
      b.rigs.map((_r, i) => String(i + 1)),
      { bars: true, unit: '$', digits: 2 },
    ),
  );

  const c = b.coverage;
  $('#coverage').textContent =
    `${c.polls_ok} of ${c.polls_expected} polls answered (${fmt((c.answered_share ?? 0) * 100, 1)} %); ${c.site_hours_covered} hour(s) covered; collector gaps: ${c.site_gaps.length ? c.site_gaps.map((g) => `${g.from} → ${g.to}`).join(', ') : 'none'}. Gaps are listed, never filled.`;
  const ev = $('#evidence');
  ev.replaceChildren();
  const add = (k, v) => ev.append(el('dt', {}, k), el('dd', {}, v ?? '–'));
  add('report hash', doc.hash);
  add('previous report', doc.prev_hash);
  add('signing key fingerprint', doc.signature.key_fingerprint);
  add('audit log head', b.audit_head_hash);
  add(
    'reconciliation',
    `rigs sum $${fmt(b.reconciliation.revenue_rigs_sum_usd)} vs fleet $${fmt(b.reconciliation.revenue_fleet_usd)}`,
  );
  const breached = Object.values(b.covenants).filter((x) => x.status === 'breach').length;
  const problems = b.reconciliation.problems.length;
  $('#status-line').textContent =
    `${breached} covenant${breached === 1 ? '' : 's'} in breach · ${problems} pledged rig${problems === 1 ? '' : 's'} not as pledged · ${summary.pledged_rigs} pledged`;
}

function download(name, type, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $('#token').value.trim());
  $('#token').value = '';
  load().catch((err) => ($('#status-line').textContent = err.message));
});
$('#reload').addEventListener('click', () =>
  load().catch((err) => ($('#status-line').textContent = err.message)),
);
$('#dl-json').addEventListener('click', () => {
  const b = JSON.parse(lastReportBytes).body;
  download(`loan-${b.loan.id}-${b.period.from.slice(0, 10)}.json`, 'application/json', lastReportBytes);
});
$('#dl-csv').addEventListener('click', async () => {
  const csv = await api(`/v1/loans/${encodeURIComponent(id)}/report?${period()}&format=csv`, 'text');
  download(`loan-${id}.csv`, 'text/csv', csv);
});
$('#print').addEventListener('click', () => window.print());

if (sessionStorage.getItem(KEY)) load().catch((err) => ($('#status-line').textContent = err.message));
else showLogin();
