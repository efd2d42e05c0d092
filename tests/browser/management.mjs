// Team leads' pages in a real browser (Chromium through playwright-core): a roster's calendar across
// a DST change against the API's shifts, and overrides from the calendar against oncall?at=.
// Shared set-up: lib.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, SHOTS, api, newPage, signIn } from './lib.mjs';

const pid = process.pid;

/** A page signed in as alice, at `path`. */
async function signedIn(path) {
  const page = await newPage();
  await page.goto(`${BASE}/login?next=${encodeURIComponent(path)}`);
  await signIn(page);
  await page.waitForURL(`${BASE}${path}`);
  return page;
}

/** Three people and a daily roster (09:00 Berlin) that runs through the 2027 spring change. */
let made;
async function springRoster() {
  if (made) return made;
  const people = [];
  for (const name of ['Ada', 'Bo', 'Cy', 'Di']) {
    people.push(await api('POST', '/api/v1/users', {
      email: `${name.toLowerCase()}-${pid}@acme.example`, display_name: `${name} ${pid}`, role: 'engineer',
    }));
  }
  const roster = await api('POST', '/api/v1/rosters', {
    name: `Spring ${pid}`, timezone: 'Europe/Berlin', rotation_type: 'daily', handoff_time: '09:00',
    start_date: '2027-03-01',
  });
  await api('PUT', `/api/v1/rosters/${roster.id}/members`, { user_ids: people.slice(0, 3).map((p) => p.id) });
  made = { roster, people };
  return made;
}

const berlinDate = (iso) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date(iso));

test('a roster\'s month view across the Berlin spring change shows the 23 h shift and, day by day, whom the API\'s shifts name', async () => {
  const { roster } = await springRoster();
  const page = await signedIn(`/rosters/${roster.id}?view=month&date=2027-03-01`);
  await page.locator('ol.calendar.month').waitFor();

  const shifts = await api('GET', `/api/v1/rosters/${roster.id}/shifts?from=2027-02-28T23:00:00Z&until=2027-03-31T22:00:00Z`);
  const expected = new Map(shifts.filter((s) => berlinDate(s.starts_at).startsWith('2027-03'))
    .map((s) => [berlinDate(s.starts_at), s.primary.display_name]));
  assert.equal(expected.size, 31);
  for (const [date, name] of expected) {
    const day = page.locator(`li.day[data-date="${date}"]`);
    assert.equal(await day.locator('.handoff .primary').innerText(), name, date);
    assert.equal(await day.locator('.handoff .at').innerText(), '09:00', date);
  }
  // The shift handed over on the 27th ends at 09:00 summer time: 23 hours. The 28th lasts 23 hours.
  const shiftLength = async (date) => page.locator(`li.day[data-date="${date}"] .handoff .length`).innerText();
  assert.equal(await shiftLength('2027-03-26'), '(24 h)');
  assert.equal(await shiftLength('2027-03-27'), '(23 h)');
  assert.equal(await shiftLength('2027-03-28'), '(24 h)');
  assert.equal(await page.locator('li.day[data-date="2027-03-28"] .day-length').textContent(), '23 h day');
  assert.equal(await page.locator('.day-length').count(), 1, 'only the 28th is not 24 hours long');
  await page.screenshot({ path: `${SHOTS}/roster-calendar.png`, fullPage: true });

  // In the viewer's zone (the browser's: UTC here) the handoffs move with the clocks.
  await page.getByRole('link', { name: 'Show in my time zone' }).click();
  await page.waitForURL(/tz=mine/);
  await page.locator('li.day[data-date="2027-03-29"] .handoff .at').waitFor();
  assert.equal(await page.locator('li.day[data-date="2027-03-26"] .handoff .at').innerText(), '08:00');
  assert.equal(await page.locator('li.day[data-date="2027-03-29"] .handoff .at').innerText(), '07:00');
  assert.deepEqual(page.errors, []);
});

test('a shift swapped from the calendar agrees with oncall?at=, and an overlapping override shows the API\'s 409 message', async () => {
  const { roster, people } = await springRoster();
  const page = await signedIn(`/rosters/${roster.id}?view=week&date=2027-03-28`);
  const sunday = page.locator('li.day[data-date="2027-03-28"]');
  await sunday.locator('.handoff').waitFor();
  const before = await api('GET', `/api/v1/rosters/${roster.id}/oncall?at=2027-03-28T12:00:00Z`);
  const di = people[3];
  assert.notEqual(before.primary.user_id, di.id);

  // Two clicks: Swap on the shift, then who covers it.
  await sunday.getByRole('button', { name: /^Swap/ }).click();
  await page.getByRole('group', { name: 'Who covers this shift' }).getByRole('button', { name: di.display_name }).click();
  await page.getByRole('status').filter({ hasText: 'Added.' }).waitFor();
  await sunday.locator('.segment.cover').waitFor();
  assert.match(await sunday.locator('.segment.cover').innerText(), new RegExp(`09:00–24:00 ${di.display_name} \\(override\\)`));

  const after = await api('GET', `/api/v1/rosters/${roster.id}/oncall?at=2027-03-28T12:00:00Z`);
  assert.equal(after.primary.user_id, di.id);
  assert.ok(after.override_active, 'an override decides');
  const calendar = await api('GET', `/api/v1/rosters/${roster.id}/calendar?start=2027-03-28&days=1`);
  const covered = calendar.days[0].segments.filter((s) => s.override_id);
  assert.deepEqual(covered.map((s) => [s.from, s.to, s.primary.display_name]), [['09:00', '24:00', di.display_name]]);

  // The same shift again, someone else covering: the API refuses the overlap, the page says why.
  await sunday.getByRole('button', { name: /^Swap/ }).click();
  await page.getByRole('group', { name: 'Who covers this shift' }).getByRole('button', { name: people[0].display_name }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'override_overlap' });
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /already has a cover override/);
  const still = await api('GET', `/api/v1/rosters/${roster.id}/oncall?at=2027-03-28T12:00:00Z`);
  assert.equal(still.primary.user_id, di.id, 'nothing changed');

  // Removing it gives the shift back to the rotation.
  await page.locator('ul.overrides li').filter({ hasText: di.display_name }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('status').filter({ hasText: 'Removed.' }).waitFor();
  const restored = await api('GET', `/api/v1/rosters/${roster.id}/oncall?at=2027-03-28T12:00:00Z`);
  assert.equal(restored.primary.user_id, before.primary.user_id);
  await page.screenshot({ path: `${SHOTS}/roster-week.png`, fullPage: true });
  assert.deepEqual(page.errors, []);
});

test('a three-tier policy built in the editor, two tiers reordered, saved; its dry-run timeline is the API\'s', async () => {
  const { roster, people } = await springRoster();
  const di = people[3];
  const page = await signedIn('/policies/new');
  await page.getByLabel('Name').fill(`Three tiers ${pid}`);
  const tier = (n) => page.locator(`li.tier[data-tier="${n}"]`);
  const channel = (n, name) => tier(n).getByRole('checkbox', { name: new RegExp(`^ ?${name}$`) });

  // Tier 1: the on-call primary through the log after 5 minutes.
  await tier(1).locator('input.timeout').fill('5');
  await channel(1, 'log').check();
  // Tier 2: the secondary after 10 minutes.
  await page.getByRole('button', { name: 'Add a tier' }).click();
  await tier(2).locator('input.timeout').fill('10');
  await channel(2, 'log').check();
  // Tier 3: Di in person after 20 minutes, and nobody by role.
  await page.getByRole('button', { name: 'Add a tier' }).click();
  await tier(3).locator('input.timeout').fill('20');
  await channel(3, 'log').check();
  await tier(3).getByRole('checkbox', { name: 'On-call secondary' }).uncheck();
  await tier(3).getByLabel('Add a person').selectOption({ label: di.display_name });
  await tier(3).locator('ul.chosen li').filter({ hasText: di.display_name }).waitFor();

  // A save the API refuses shows its message beside the field: a tier with no channel.
  await channel(2, 'log').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await tier(2).locator('.field-error').waitFor();
  assert.match(await tier(2).locator('.field-error').innerText(), /1 to 10 channels/);
  await channel(2, 'log').check();

  // Di's tier before the secondary's.
  assert.ok(await page.getByRole('button', { name: 'Move tier 3 down' }).isDisabled(), 'the last tier cannot go down');
  assert.ok(await page.getByRole('button', { name: 'Move tier 1 up' }).isDisabled(), 'the first tier cannot go up');
  for (const head of await page.locator('.tier-head').allInnerTexts()) {
    assert.match(head, /^Tier \d\s+↑ Up\s+↓ Down\s+Remove$/, 'a tier\'s head holds its controls and nothing else');
  }
  await page.getByRole('button', { name: 'Move tier 3 up' }).click();
  assert.equal(await tier(2).locator('input.timeout').inputValue(), '20');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/policies\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  const saved = await api('GET', `/api/v1/escalation-policies/${id}`);
  assert.deepEqual(saved.tiers, [
    { timeout_minutes: 5, notify_via: ['log'], targets: ['oncall_primary'] },
    { timeout_minutes: 20, notify_via: ['log'], targets: [`user:${di.id}`] },
    { timeout_minutes: 10, notify_via: ['log'], targets: ['oncall_secondary'] },
  ]);
  await page.screenshot({ path: `${SHOTS}/policy-editor.png`, fullPage: true });

  // The dry run for the spring roster at noon on the 28th (the browser's clock is UTC here).
  await page.locator('li.tier').first().waitFor();
  await page.getByLabel('Roster', { exact: true }).selectOption({ label: roster.name });
  await page.getByLabel(/Alert at/).fill('2027-03-28T12:00');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.locator('ol.dry-run-steps .step').first().waitFor();
  const expected = await api('POST', `/api/v1/escalation-policies/${id}/dry-run`, { roster_id: roster.id, start: '2027-03-28T12:00:00Z' });
  const shown = await page.locator('ol.dry-run-steps .step').evaluateAll((steps) => steps.map((s) => ({
    tier: Number(s.dataset.tier), after: Number(s.dataset.after), who: s.querySelector('.who').textContent,
  })));
  assert.deepEqual(shown, expected.steps.map((s) => ({
    tier: s.tier, after: s.after_minutes,
    who: s.recipients.map((r) => `${r.display_name} via ${r.channel}`).join(', ') || 'nobody reachable',
  })));
  assert.equal(shown.length, 3);
  await page.screenshot({ path: `${SHOTS}/policy-dry-run.png`, fullPage: true });
  assert.deepEqual(page.errors, []);
});
