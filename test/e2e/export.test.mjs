// The exporters against a real broker and real SQLite stores:
//   - kill -9 during a create/complete loop: after the restart the store ends
//     row by row equal to a fresh store fed the whole journal (a run without
//     the crash), checked by `tandemctl store compare`;
//   - disable an exporter, work, copy the other store over it, enable it with
//     initializeFrom: both stores end identical;
//   - a store another process holds locked fails every export: processing
//     goes on until the retained log passes exporters.maxRetainedEntries,
//     then new commands get 503 RESOURCE_EXHAUSTED, and all recovers once the
//     lock is gone.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildDir, oneTaskXml, startBroker } from './harness.mjs';

const tandemctl = path.join(buildDir, 'tandemctl');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function compareStores(a, b) {
  try {
    execFileSync(tandemctl, ['store', 'compare', a, b], { encoding: 'utf8' });
    return '';
  } catch (e) {
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e);
  }
}

async function post(base, p, body) {
  const res = await fetch(`${base}${p}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function exporters(broker) {
  return (await fetch(`${broker.managementAddress}/actuator/exporters`)).json();
}

async function exporter(broker, id) {
  return (await exporters(broker)).find((e) => e.id === id);
}

// Waits until every enabled exporter has exported every committed entry.
async function caughtUp(broker, limitMs = 30000) {
  const start = Date.now();
  for (;;) {
    const list = await exporters(broker);
    const behind = list.filter((e) => e.state !== 'disabled' && e.partitions.some((p) => p.lag > 0));
    if (behind.length === 0) return list;
    if (Date.now() - start > limitMs) {
      throw new Error(`exporters still behind: ${JSON.stringify(behind)}`);
    }
    await sleep(50);
  }
}

async function deploy(base, id, type) {
  const form = new FormData();
  form.append('resources', new Blob([oneTaskXml(id, type)]), `${id}.bpmn`);
  const res = await fetch(`${base}/v2/deployments`, { method: 'POST', body: form });
  assert.equal(res.status, 200, await res.text());
}

// Creates instances and completes their jobs until `until()` is true.
async function work(base, id, type, until) {
  while (!until()) {
    const c = await post(base, '/v2/process-instances', { processDefinitionId: id, variables: { n: 1 } });
    if (c.status !== 200) return c;
    const a = await post(base, '/v2/jobs/activation', {
      type, worker: 'export-test', timeout: 60000, maxJobsToActivate: 4, requestTimeout: -1,
    });
    for (const job of a.json?.jobs ?? []) {
      await post(base, `/v2/jobs/${job.jobKey}/completion`, { variables: { done: true } });
    }
  }
  return undefined;
}

test('kill -9 during export: the store equals a fresh export of the whole journal', async () => {
  let broker = await startBroker();
  const dir = broker.work;
  const base = broker.restAddress;
  await deploy(base, 'exp_crash', 'exp-crash-work');
  let running = true;
  let created = 0;
  async function client() {
    while (running) {
      try {
        const c = await post(base, '/v2/process-instances', { processDefinitionId: 'exp_crash', variables: { n: 2 } });
        if (c.status === 200) created++;
        const a = await post(base, '/v2/jobs/activation', {
          type: 'exp-crash-work', worker: 'w', timeout: 60000, maxJobsToActivate: 4, requestTimeout: -1,
        });
        for (const job of a.json?.jobs ?? []) {
          await post(base, `/v2/jobs/${job.jobKey}/completion`, { variables: { done: true } });
        }
      } catch {
        return; // the broker is gone
      }
    }
  }
  const clients = [client(), client(), client()];
  await sleep(1500 + Math.random() * 1500);
  await broker.kill();
  running = false;
  await Promise.all(clients);
  assert.ok(created > 20, `only ${created} creations acknowledged`);

  // The restarted broker resumes its exporter from the store's position, and
  // a second exporter with a fresh file re-exports the journal from the start.
  const fresh = path.join(dir, 'fresh.sqlite');
  broker = await startBroker({
    dir,
    extraYaml: `exporters:\n  secondary:\n    enabled: true\n    path: ${fresh}\n`,
  });
  try {
    const list = await caughtUp(broker);
    const main = list.find((e) => e.id === 'sqlite');
    assert.ok(main.partitions[0].position > 0, JSON.stringify(main));
    assert.equal(main.state, 'enabled');
  } finally {
    await broker.stop({ keep: true });
  }
  const diff = compareStores(path.join(dir, 'data', 'store.sqlite'), fresh);
  // The EXPORTER position records give leader rounds and replay one state.
  const partitionDir = path.join(dir, 'data', 'partition-1');
  const listing = execFileSync(tandemctl, ['journal', 'inspect', partitionDir], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const digest = execFileSync(tandemctl, ['state', 'digest', partitionDir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(diff, '', 'the recovered store differs from a fresh export');
  assert.match(listing, /EVENT EXPORTER POSITION_UPDATED value=\{1="sqlite" 2=\d+\}/);
  assert.match(digest, /^equal$/m);
});

test('disable, work, enable with initializeFrom after a store copy: identical stores', async () => {
  const broker = await startBroker({ extraYaml: 'exporters:\n  secondary:\n    enabled: true\n' });
  const base = broker.restAddress;
  const m = broker.managementAddress;
  const a = path.join(broker.work, 'data', 'store.sqlite');
  const b = path.join(broker.work, 'data', 'store-secondary.sqlite');
  try {
    await deploy(base, 'exp_init', 'exp-init-work');
    let n = 0;
    await work(base, 'exp_init', 'exp-init-work', () => n++ >= 10);
    await caughtUp(broker);

    const off = await post(m, '/actuator/exporters/secondary/disable');
    assert.equal(off.status, 200);
    assert.equal(off.json.state, 'disabled');
    n = 0;
    await work(base, 'exp_init', 'exp-init-work', () => n++ >= 10);
    await caughtUp(broker);
    assert.notEqual(compareStores(a, b), '', 'the disabled exporter should have missed records');

    // The operator's store copy: exporting paused, so the copy and the
    // position initializeFrom takes agree.
    assert.deepEqual((await post(m, '/actuator/exporting/pause')).json, { paused: true });
    // an export already under way when the pause came finishes: wait until
    // the position holds still
    let position = -1;
    for (let i = 0; i < 100; i++) {
      await sleep(150);
      const now = (await exporter(broker, 'sqlite')).partitions[0].position;
      if (now === position) break;
      position = now;
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${b}${suffix}`, { force: true });
    execFileSync('sqlite3', [a, `.backup '${b}'`]);
    const copied = execFileSync('sqlite3', [b, "select position from exporter_position where exporter_id = 'sqlite'"], { encoding: 'utf8' });
    assert.equal(Number(copied.trim()), position);

    const bad = await post(m, '/actuator/exporters/secondary/enable', { initializeFrom: 'nope' });
    assert.equal(bad.status, 404);
    assert.match(bad.json.detail, /initializeFrom: no exporter "nope"/);
    const on = await post(m, '/actuator/exporters/secondary/enable', { initializeFrom: 'sqlite' });
    assert.equal(on.status, 200, JSON.stringify(on.json));
    assert.equal((await post(m, '/actuator/exporting/resume')).json.paused, false);
    n = 0;
    await work(base, 'exp_init', 'exp-init-work', () => n++ >= 10);
    const list = await caughtUp(broker);
    const sec = list.find((e) => e.id === 'secondary');
    assert.equal(sec.partitions[0].position, list.find((e) => e.id === 'sqlite').partitions[0].position);
  } finally {
    await broker.stop({ keep: true });
  }
  const diff = compareStores(a, b);
  rmSync(broker.work, { recursive: true, force: true });
  assert.equal(diff, '', 'stores differ after enable with initializeFrom');
});

test('a failing store: processing goes on, then 503 RESOURCE_EXHAUSTED, then recovery', async () => {
  const broker = await startBroker({ extraYaml: 'exporters:\n  maxRetainedEntries: 40\n' });
  const base = broker.restAddress;
  const store = path.join(broker.work, 'data', 'store.sqlite');
  let locker;
  try {
    await deploy(base, 'exp_fail', 'exp-fail-work');
    await caughtUp(broker);
    // Another process takes the store's write lock and keeps it.
    locker = spawn('sqlite3', [store], { stdio: ['pipe', 'ignore', 'inherit'] });
    locker.stdin.write('BEGIN IMMEDIATE;\n');
    await sleep(300);

    let accepted = 0;
    let refused;
    for (let i = 0; i < 200 && !refused; i++) {
      const c = await post(base, '/v2/process-instances', { processDefinitionId: 'exp_fail' });
      if (c.status === 200) accepted++;
      else refused = c;
    }
    assert.ok(accepted >= 10, `processing stopped early: ${accepted} accepted`);
    assert.ok(refused, 'no backpressure within 200 commands');
    assert.equal(refused.status, 503);
    assert.equal(refused.json.title, 'RESOURCE_EXHAUSTED');
    assert.match(refused.json.detail, /exporters\.maxRetainedEntries = 40/);

    // The exporter reports its failure once its write timed out.
    let e;
    for (let i = 0; i < 200; i++) {
      e = await exporter(broker, 'sqlite');
      if (e.state === 'failing') break;
      await sleep(100);
    }
    assert.equal(e.state, 'failing', JSON.stringify(e));
    assert.ok(e.lastError && e.lastError.length > 0);
    // The compaction bound stays at what the failing exporter acknowledged.
    const [part] = await (await fetch(`${broker.managementAddress}/actuator/partitions`)).json();
    assert.ok(part.compactableBelowIndex <= e.partitions[0].acknowledgedIndex + 1, JSON.stringify(part));
    assert.ok(part.lastIndex - part.compactableBelowIndex >= 40, JSON.stringify(part));
    const metrics = await (await fetch(`${broker.managementAddress}/actuator/prometheus`)).text();
    assert.match(metrics, /tandem_exporter_lag_entries\{exporter="sqlite",partition="1"\} [1-9]/);

    locker.stdin.end('ROLLBACK;\n');
    await new Promise((r) => locker.once('exit', r));
    locker = undefined;
    let ok;
    for (let i = 0; i < 300 && !ok; i++) {
      const c = await post(base, '/v2/process-instances', { processDefinitionId: 'exp_fail' });
      if (c.status === 200) ok = c;
      else await sleep(100);
    }
    assert.ok(ok, 'commands still refused after the store recovered');
    const list = await caughtUp(broker);
    assert.equal(list.find((x) => x.id === 'sqlite').state, 'enabled');
  } finally {
    if (locker) locker.kill('SIGKILL');
    await broker.stop();
  }
});
