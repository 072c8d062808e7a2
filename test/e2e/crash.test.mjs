// kill -9 of a broker during a create/complete loop: after the restart every
// acknowledged creation and completion is in the log, recovery applied
// exactly the records after the state's applied position, and the recovered
// state's digest equals that of replaying the whole journal into a fresh
// state (a run without the crash).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { buildDir, oneTaskXml, startBroker } from './harness.mjs';

const tandemctl = path.join(buildDir, 'tandemctl');

function ctl(...args) {
  try {
    return execFileSync(tandemctl, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  } catch (e) {
    if (e.stdout) return e.stdout; // digest prints DIFFERENT with exit 1 before recovery
    throw e;
  }
}

async function post(base, p, body) {
  const res = await fetch(`${base}${p}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('kill -9 during a create/complete loop loses nothing acknowledged', async () => {
  let broker = await startBroker();
  const dir = broker.work;
  const base = broker.restAddress;
  const form = new FormData();
  form.append('resources', new Blob([oneTaskXml('crashy', 'crash-work')]), 'crashy.bpmn');
  assert.equal((await fetch(`${base}/v2/deployments`, { method: 'POST', body: form })).status, 200);

  const created = [];
  const completed = [];
  let running = true;
  async function client() {
    while (running) {
      try {
        const c = await post(base, '/v2/process-instances', { processDefinitionId: 'crashy', variables: { n: 1 } });
        if (c.status === 200) created.push(c.json.processInstanceKey);
        const a = await post(base, '/v2/jobs/activation', {
          type: 'crash-work', worker: 'crash', timeout: 60000, maxJobsToActivate: 4, requestTimeout: -1,
        });
        for (const job of a.json?.jobs ?? []) {
          const r = await post(base, `/v2/jobs/${job.jobKey}/completion`, { variables: { done: true } });
          if (r.status === 204) completed.push(job.jobKey);
        }
      } catch {
        return; // the broker is gone
      }
    }
  }
  const clients = [client(), client(), client()];
  await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
  await broker.kill();
  running = false;
  await Promise.all(clients);
  assert.ok(created.length > 20, `only ${created.length} creations acknowledged`);
  assert.ok(completed.length > 10, `only ${completed.length} completions acknowledged`);

  // What recovery must do: apply the records after the state's applied position.
  const partitionDir = path.join(dir, 'data', 'partition-1');
  const before = ctl('state', 'digest', partitionDir);
  const applied = Number(/^state\s+digest \S+ applied (\d+)$/m.exec(before)[1]);
  const listing = ctl('journal', 'inspect', partitionDir);
  let expectReplay = 0;
  for (const m of listing.matchAll(/^ {2}entry (\d+) .* records (\d+)$/gm)) {
    if (Number(m[1]) > applied) expectReplay += Number(m[2]);
  }

  console.log(`crash: ${created.length} creations, ${completed.length} completions acknowledged; state applied ${applied}, ${expectReplay} records to replay`);
  broker = await startBroker({ dir });
  const parts = await (await fetch(`${broker.managementAddress}/actuator/partitions`)).json();
  assert.equal(parts[0].replayedRecords, expectReplay,
    `replayed ${parts[0].replayedRecords} records, the journal after applied position ${applied} holds ${expectReplay}`);
  assert.equal(await broker.stop({ keep: true }), 0);

  const inspect = ctl('journal', 'inspect', partitionDir);
  for (const key of created) {
    assert.ok(inspect.includes(`PROCESS_INSTANCE_CREATION CREATED`) && inspect.includes(`key=${key}(`),
      `acknowledged instance ${key} is not in the log`);
  }
  const completedLines = inspect.split('\n').filter((l) => l.includes('JOB COMPLETED'));
  for (const key of completed) {
    assert.ok(completedLines.some((l) => l.includes(`key=${key}(`)), `acknowledged completion of job ${key} is not in the log`);
  }
  const after = ctl('state', 'digest', partitionDir);
  assert.match(after, /^equal$/m, after);
});
