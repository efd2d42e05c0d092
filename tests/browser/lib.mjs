// What the browser tests share: the browser, the API as the demo admin, a page that collects browser
// errors, signing in, and an alert whose escalation runs. The tests run against a `nightowl serve`
// seeded with the demo tenant `acme` (scripts/test-browser.sh sets it up).
//
// Environment: NIGHTOWL_URL, NIGHTOWL_API_KEY (the demo's admin key), NIGHTOWL_PASSWORD (alice's),
// NIGHTOWL_SHOTS (where screenshots go), PLAYWRIGHT_CORE (the module to import).

import { before, after } from 'node:test';
import assert from 'node:assert/strict';

const { chromium } = await import(process.env.PLAYWRIGHT_CORE);
export const BASE = process.env.NIGHTOWL_URL;
export const KEY = process.env.NIGHTOWL_API_KEY;
export const PASSWORD = process.env.NIGHTOWL_PASSWORD;
export const SHOTS = process.env.NIGHTOWL_SHOTS;
export const ALICE = 'alice@acme.example';

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
});

/** The API as the demo admin key. */
export async function api(method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A page whose browser errors fail the test. */
export async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A Rust panic is logged (console_error_panic_hook) before the module traps: keep its message.
  // Answers with an error status are the API's to give and the page's to show, not failures.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.errors = errors;
  return page;
}

export async function signIn(page) {
  await page.getByLabel('Tenant').fill('acme');
  await page.getByLabel('E-mail').fill(ALICE);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A page signed in as alice, at `path` (through the sign-in page's redirect). */
export async function signedIn(path) {
  const page = await newPage();
  await page.goto(`${BASE}/login?next=${encodeURIComponent(path)}`);
  await signIn(page);
  await page.waitForURL(`${BASE}${path}`);
  return page;
}

/** A firing alert routed to an escalation policy (its escalation runs). */
let serial = 0;
export async function routedAlert(title) {
  serial += 1;
  const suffix = `${process.pid}-${serial}`;
  const alice = (await api('GET', '/api/v1/users?limit=100')).items.find((u) => u.email === ALICE);
  const policy = await api('POST', '/api/v1/escalation-policies', {
    name: `Browser ${suffix}`, repeat_count: 0,
    tiers: [{ timeout_minutes: 30, notify_via: ['log'], targets: ['oncall_primary'] }],
  });
  const roster = await api('POST', '/api/v1/rosters', {
    name: `Browser ${suffix}`, timezone: 'Europe/Berlin', rotation_type: 'daily', handoff_time: '09:00',
    start_date: '2026-01-05', escalation_policy_id: policy.id,
  });
  await api('PUT', `/api/v1/rosters/${roster.id}/members`, { user_ids: [alice.id] });
  const service = `browser-${suffix}`;
  await api('POST', '/api/v1/services', { name: service, roster_id: roster.id });
  const sent = await api('POST', '/api/v1/webhooks/generic', {
    title, fingerprint: `browser-${suffix}`, severity: 'critical', service,
  });
  const alert = await api('GET', `/api/v1/alerts/${sent.alerts[0].id}`);
  const escalation = await api('GET', `/api/v1/alerts/${alert.id}/escalation`);
  assert.equal(escalation.state, 'active', JSON.stringify(escalation));
  return alert;
}

