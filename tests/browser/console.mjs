// The dashboard and the knowledge base in a real browser (Chromium through playwright-core): the
// dashboard's figures against the API's, how fast it paints, searching, editing with a live preview
// that never runs what the text holds, merging, and turning a resolved alert into knowledge.
// Shared set-up: lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { BASE, SHOTS, ALICE, api, newPage, signedIn } from './lib.mjs';

const pid = process.pid;


test('the dashboard shows the API\'s figures, one chart mark per data point, and paints in under a second', async () => {
  // Something to show: two alerts of one fingerprint resolved today (a point on the trend, a
  // recurring alert), and one left open.
  for (let i = 0; i < 2; i++) {
    const sent = await api('POST', '/api/v1/webhooks/generic', { title: `Dashboard flapping ${pid}`, fingerprint: `dash-${pid}`, severity: 'major' });
    await api('PATCH', `/api/v1/alerts/${sent.alerts[0].id}/resolve`);
  }
  await api('POST', '/api/v1/webhooks/generic', { title: `Dashboard open ${pid}`, fingerprint: `dash-open-${pid}`, severity: 'warning' });

  const page = await signedIn('/dashboard');
  await page.locator('.counters[data-loaded]').waitFor();
  const stats = await api('GET', '/api/v1/stats/alerts?days=30');
  for (const severity of ['critical', 'major', 'warning', 'info']) {
    const shown = await page.locator(`a.counter[data-severity=${severity}] .count`).innerText();
    assert.equal(Number(shown), stats.open_by_severity[severity], severity);
    assert.equal(await page.locator(`a.counter[data-severity=${severity}]`).getAttribute('href'),
      `/alerts?status=open&severity=${severity}`);
  }
  assert.equal(Number(await page.locator('a.counter[data-severity=firing] .count').innerText()), stats.firing);
  const days = stats.mttr.filter((d) => d.mttr_minutes !== null).length;
  assert.ok(days >= 1, JSON.stringify(stats.mttr));
  assert.equal(await page.locator('svg.mttr circle.point').count(), days);
  assert.equal(await page.locator('svg.recurring rect.bar').count(), stats.top_recurring.length);
  // Each mark is drawn: an SVG element with a size (an HTML element of the same name would not be),
  // inside its chart.
  const drawn = await page.evaluate(() => [...document.querySelectorAll('svg circle.point, svg rect.bar')]
    .map((el) => {
      const box = el.getBoundingClientRect();
      const chart = el.ownerSVGElement.getBoundingClientRect();
      const inside = el.namespaceURI === 'http://www.w3.org/2000/svg' && box.width > 0 && box.height > 0
        && box.top >= chart.top - 1 && box.bottom <= chart.bottom + 1
        && box.left >= chart.left - 1 && box.right <= chart.right + 1;
      return inside || `${el.outerHTML.slice(0, 120)} at ${JSON.stringify(box)} in ${JSON.stringify(chart)}`;
    }));
  assert.ok(drawn.length > 0 && drawn.every((d) => d === true), JSON.stringify(drawn));
  const link = await page.evaluate(() => document.querySelector('svg.recurring a')?.namespaceURI);
  assert.equal(link, 'http://www.w3.org/2000/svg');
  assert.ok(stats.top_recurring.some((r) => r.fingerprint === `dash-${pid}`));
  // Who is on call, one row per roster, with the roster's local time.
  const oncall = await api('GET', '/api/v1/oncall');
  assert.equal(await page.locator('section.oncall tbody tr').count(), oncall.length);
  await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
  await page.locator('svg.mttr').screenshot({ path: `${SHOTS}/dashboard-mttr.png` });

  // A counter opens the list filtered to it.
  await page.locator('a.counter[data-severity=warning]').click();
  await page.waitForURL(/\/alerts\?status=open&severity=warning$/);
  await page.getByRole('row').filter({ hasText: `Dashboard open ${pid}` }).waitFor();

  // First meaningful paint: a fresh load of the dashboard (signed in) until its figures are on screen.
  await page.goto(`${BASE}/dashboard`);
  const ready = await page.waitForFunction(
    () => (document.querySelector('.counters[data-loaded]') ? performance.now() : false),
    null, { polling: 'raf' });
  const ms = await ready.jsonValue();
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
  const line = `dashboard: figures on screen ${ms.toFixed(0)} ms after navigation start (first contentful paint ${fcp === null ? 'n/a' : fcp.toFixed(0)} ms)`;
  console.log(line);
  writeFileSync(`${SHOTS}/paint.txt`, `${line}\n`);
  assert.ok(ms < 1000, line);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('search finds an incident and marks the term; an edited solution previews its link and runs no script', async () => {
  const word = `zebracorn${pid}`;
  const incident = await api('POST', '/api/v1/incidents', {
    title: `Kafka consumer lag on ${word} cluster`, severity: 'major', category: 'messaging',
    services: ['billing'], tags: ['kafka'],
    symptoms: `Consumers of ${word} fall behind; lag grows past 10k.`, solution: 'Scale the consumers.',
  });
  const page = await signedIn('/incidents');
  await page.getByLabel('Search').fill(word);
  await page.getByLabel('Search').press('Enter');
  await page.waitForURL(new RegExp(`/incidents\\?q=${word}`));
  const hit = page.locator('ol.hits li').filter({ hasText: 'Kafka consumer lag' });
  await hit.waitFor();
  assert.ok((await hit.locator('mark').allInnerTexts()).some((t) => t.toLowerCase() === word), 'the term is marked');
  await page.screenshot({ path: `${SHOTS}/search.png`, fullPage: true });
  // The filters narrow the search, and they are in the URL.
  await page.getByLabel('Severity').selectOption('critical');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/severity=critical/);
  await page.getByText('Nothing in the knowledge base matches.').waitFor();
  await page.getByLabel('Severity').selectOption('major');
  await page.getByRole('button', { name: 'Search' }).click();
  await hit.waitFor();

  await hit.getByRole('link').first().click();
  await page.waitForURL(`${BASE}/incidents/${incident.id}`);
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.waitForURL(`${BASE}/incidents/${incident.id}/edit`);
  // The form fills in once the incident has loaded (and the editor's module, which may still be on its
  // way): wait for the field itself to hold the title.
  await page.waitForFunction(() => Boolean(document.querySelector('#i-title')?.value));
  assert.equal(await page.getByLabel('Title').inputValue(), incident.title);
  const solution = [
    'Scale the consumers **first**.',
    '',
    '<script>window.__pwned = 1</script>',
    '',
    '<img src="x" onerror="window.__pwned = 2">',
    '',
    'See [the runbook](https://runbooks.example/kafka-lag) and [this](javascript:window.__pwned=3).',
  ].join('\n');
  await page.getByLabel('Solution (markdown)').fill(solution);
  const preview = page.locator('#i-solution-preview');
  await preview.locator('a[href="https://runbooks.example/kafka-lag"]').waitFor();
  assert.equal(await preview.locator('strong').innerText(), 'first');
  assert.equal(await preview.locator('script, img').count(), 0);
  assert.match(await preview.innerText(), /<script>window.__pwned = 1<\/script>/);
  assert.equal(await preview.locator('a[href^="javascript"]').count(), 0);
  await page.screenshot({ path: `${SHOTS}/incident-edit.png`, fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(`${BASE}/incidents/${incident.id}`);
  const saved = await api('GET', `/api/v1/incidents/${incident.id}`);
  assert.equal(saved.solution, solution);
  const shown = page.locator('.solution-text');
  await shown.locator('a[href="https://runbooks.example/kafka-lag"]').waitFor();
  assert.equal(await shown.locator('script, img').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('merging two incidents: the preview shows what the target will hold, the source disappears', async () => {
  const source = await api('POST', '/api/v1/incidents', {
    title: `Disk full on ingest-${pid} (duplicate)`, fingerprints: [`merge-a-${pid}`], services: ['ingest'],
    solution: 'Delete old segments.',
  });
  const target = await api('POST', '/api/v1/incidents', {
    title: `Disk full on ingest-${pid}`, fingerprints: [`merge-b-${pid}`], services: ['ingest', 'search'],
    solution: 'Expand the volume.',
  });
  const page = await signedIn(`/incidents/${source.id}`);
  await page.getByRole('button', { name: 'Merge into another incident…' }).click();
  await page.getByLabel('Find the incident to merge into').fill(`ingest-${pid}`);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.locator('ul.candidates').getByRole('button', { name: target.title, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm the merge' });
  await dialog.waitFor();
  const fingerprints = await dialog.locator('.merged-fingerprints').innerText();
  assert.ok(fingerprints.includes(`merge-a-${pid}`) && fingerprints.includes(`merge-b-${pid}`), fingerprints);
  await page.screenshot({ path: `${SHOTS}/merge.png`, fullPage: true });
  await dialog.getByRole('button', { name: `Merge into “${target.title}”` }).click();
  await page.waitForURL(`${BASE}/incidents/${target.id}`);
  await page.locator('dd.fingerprints code').filter({ hasText: `merge-a-${pid}` }).waitFor();

  const merged = await api('GET', `/api/v1/incidents/${target.id}`);
  assert.deepEqual([...merged.fingerprints].sort(), [`merge-a-${pid}`, `merge-b-${pid}`].sort());
  const list = await api('GET', `/api/v1/incidents/search?q=${encodeURIComponent(`ingest-${pid}`)}`);
  assert.deepEqual(list.map((h) => h.incident.id), [target.id]);
  // The list in the UI no longer has the source either.
  await page.goto(`${BASE}/incidents?q=${encodeURIComponent(`ingest-${pid}`)}`);
  await page.locator('ol.hits li').first().waitFor();
  assert.equal(await page.locator('ol.hits li').count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a resolved alert without an incident offers to add one, filled in from the alert', async () => {
  const sent = await api('POST', '/api/v1/webhooks/generic', {
    title: `Certificate expires soon on edge-${pid}`, fingerprint: `cert-${pid}`, severity: 'warning',
    service: 'edge', description: 'The TLS certificate of edge expires in 3 days.',
  });
  const alert = await api('GET', `/api/v1/alerts/${sent.alerts[0].id}`);
  assert.equal(alert.matched_incident_id, null);
  const page = await signedIn(`/alerts/${alert.number}`);
  await page.getByRole('button', { name: 'Resolve' }).click();
  await page.getByRole('button', { name: 'Yes, resolve' }).click();
  await page.getByRole('status').filter({ hasText: 'Resolved.' }).waitFor();
  await page.getByRole('link', { name: 'Add to knowledge base' }).click();
  await page.waitForURL(`${BASE}/incidents/new?alert=${alert.number}`);
  // The editor's area may still be loading: wait for the field itself to hold the alert's title.
  await page.waitForFunction(() => Boolean(document.querySelector('#i-title')?.value));
  assert.equal(await page.getByLabel('Title').inputValue(), alert.title);
  assert.equal(await page.locator('#i-fingerprints').inputValue(), `cert-${pid}`);
  assert.equal(await page.locator('#i-services').inputValue(), 'edge');
  await page.getByLabel('Solution (markdown)').fill('Renew with `certbot renew` and reload the proxy.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/incidents\/[0-9a-f-]{36}$/);
  const found = await api('GET', `/api/v1/incidents/fingerprint/cert-${pid}`);
  assert.equal(found.length, 1);
  assert.equal(found[0].title, alert.title);
  assert.equal(found[0].created_by, ALICE);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
