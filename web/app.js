// The floor view: which rig is hot, down or underperforming, now. Plain JS over the public API, no build step.
const REFRESH_MS = 5000;
/** Chip temperature at which a rig is flagged hot (°C). */
const HOT_C = 85;
/** Share of nameplate under which a mining rig is flagged low. */
const LOW_SHARE = 0.9;

const $ = (id) => document.getElementById(id);

function fmt(value, digits = 1) {
  return value === null || value === undefined ? null : Number(value).toFixed(digits);
}

function cell(text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  if (text === null || text === undefined || text === '') {
    td.textContent = '—';
    td.classList.add('missing');
  } else td.textContent = text;
  return td;
}

function share(rig) {
  if (!rig.hashrate_hs || !rig.hashrate_nominal_hs) return null;
  return rig.hashrate_hs / rig.hashrate_nominal_hs;
}

function flags(rig) {
  const s = share(rig);
  return {
    offline: rig.state === 'offline' || rig.state === 'error',
    hot: (rig.temp_chip_max_c ?? rig.temp_board_max_c ?? 0) >= HOT_C,
    low: rig.state === 'mining' && s !== null && s < LOW_SHARE,
  };
}

function attentionScore(rig) {
  const f = flags(rig);
  return (f.offline ? 4 : 0) + (f.hot ? 2 : 0) + (f.low ? 1 : 0);
}

const sorters = {
  attention: (a, b) => attentionScore(b) - attentionScore(a),
  temp: (a, b) => (b.temp_chip_max_c ?? -1e9) - (a.temp_chip_max_c ?? -1e9),
  hashrate: (a, b) => (a.hashrate_hs ?? -1) - (b.hashrate_hs ?? -1),
  name: () => 0,
};

function renderTotals(fleet) {
  $('site').textContent = fleet.site ? `· ${fleet.site}` : '';
  const up = fleet.rigs - (fleet.states?.offline ?? 0);
  $('t-up').textContent = `${up} / ${fleet.rigs}`;
  $('t-hash').textContent = `${fmt(fleet.hashrate_ths, 2)} TH/s`;
  $('t-power').textContent =
    fleet.power_kw === null
      ? 'unknown'
      : `${fmt(fleet.power_kw, 2)} kW (${fleet.power_source_weakest ?? '?'})`;
  $('t-eff').textContent =
    fleet.efficiency_jth === null
      ? 'unknown'
      : `${fmt(fleet.efficiency_jth, 1)} J/TH over ${fleet.efficiency_rigs}`;
}

function renderRigs(rigs) {
  const filter = $('filter').value;
  const sortBy = $('sort').value;
  let shown = rigs.slice().sort((a, b) => (a.name ?? a.rig_id).localeCompare(b.name ?? b.rig_id));
  if (filter === 'attention') shown = shown.filter((r) => attentionScore(r) > 0);
  if (filter === 'offline') shown = shown.filter((r) => r.state === 'offline');
  shown.sort(sorters[sortBy] ?? sorters.name);

  const body = $('rigs').querySelector('tbody');
  const rows = shown.map((rig) => {
    const f = flags(rig);
    const tr = document.createElement('tr');
    tr.dataset.rig = rig.rig_id;
    tr.className = [f.offline && 'offline', f.hot && 'hot', f.low && 'low'].filter(Boolean).join(' ');
    tr.append(cell(rig.name ?? rig.rig_id), cell(rig.address), cell(rig.model));
    const state = cell('');
    state.classList.remove('missing');
    const badge = document.createElement('span');
    badge.className = `state state-${rig.state}`;
    badge.textContent = rig.state;
    state.replaceChildren(badge);
    const s = share(rig);
    tr.append(
      state,
      cell(fmt(rig.hashrate_ths, 2), 'num'),
      cell(s === null ? null : `${Math.round(s * 100)} %`, 'num share'),
      cell(fmt(rig.temp_chip_max_c ?? rig.temp_board_max_c, 0), 'num temp'),
      cell(fmt(rig.power_w, 0), 'num'),
      cell(rig.power_source),
      cell(rig.last_error ? `${rig.last_error.code}: ${rig.last_error.message}` : null),
    );
    return tr;
  });
  body.replaceChildren(...rows);
}

let lastRigs = [];

// When the API has tokens (rigtel token create), the page asks once for an engineer or admin token and keeps it in
// this tab's sessionStorage; `#token=…` in the address works too and is removed at once. Sent as a Bearer header.
const TOKEN_KEY = 'rigtel_token';
if (location.hash.startsWith('#token=')) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, '', location.pathname + location.search);
}
let asked = false;
function getJson(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return fetch(path, token ? { headers: { authorization: `Bearer ${token}` } } : {}).then((r) => {
    if (r.status === 401 && !asked) {
      asked = true;
      const t = window.prompt('This rigtel API needs a token (engineer or admin):');
      if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
    }
    return r.ok ? r.json() : Promise.reject(new Error(`${path}: HTTP ${r.status}`));
  });
}

async function refresh() {
  try {
    const [fleet, list] = await Promise.all([getJson('/v1/fleet'), getJson('/v1/rigs')]);
    lastRigs = list.rigs;
    renderTotals(fleet);
    renderRigs(lastRigs);
    $('error').hidden = true;
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    $('error').hidden = false;
    $('error').textContent = `cannot reach the rigtel API: ${err.message}`;
  }
}

$('filter').addEventListener('change', () => renderRigs(lastRigs));
$('sort').addEventListener('change', () => renderRigs(lastRigs));
refresh();
setInterval(refresh, REFRESH_MS);
