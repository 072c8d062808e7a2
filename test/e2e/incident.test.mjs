// Incidents end to end with the @camunda8/sdk REST client against a real
// tandem broker: a job failed without retries is an incident that cannot be
// resolved until its retries are raised; an input mapping that fails is an
// incident that is resolved once the variables are set; job types given as
// FEEL expressions. The read API (incident search) lives elsewhere, so the
// incident's key is found the way an operator's tool could without it: by
// asking the resolution route for the keys after the job's, where every key
// that is not an incident answers 404.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restClient, startBroker } from './harness.mjs';

let broker;
let rest;
let mappedKey; // process definition key of 'mapped'

async function raw(method, path, body) {
  const res = await fetch(`${broker.restAddress}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

// The first key after `from` whose resolution answers something else than
// 404, with that answer. Keys are handed out in order, so it is near.
async function probeIncident(from, limit = 200) {
  for (let k = BigInt(from) + 1n; k <= BigInt(from) + BigInt(limit); k++) {
    const res = await raw('POST', `/v2/incidents/${k}/resolution`);
    if (res.status !== 404) return { key: k.toString(), res };
    assert.equal(res.json.title, 'NOT_FOUND');
  }
  throw new Error(`no incident within ${limit} keys after ${from}`);
}

async function activate(type, requestTimeout = 2000) {
  return rest.activateJobs({
    type, worker: 'incident-e2e', timeout: 30000, maxJobsToActivate: 5, requestTimeout,
  });
}

const xml = (id, ext) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_${id}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements>${ext}</bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>`;

before(async () => {
  broker = await startBroker();
  rest = restClient(broker.restAddress);
  const deployed = await rest.deployResources([
    { name: 'retry.bpmn', content: xml('retry', '<zeebe:taskDefinition type="retry-work" retries="1"/>') },
    {
      name: 'mapped.bpmn',
      content: xml('mapped', `<zeebe:taskDefinition type="=&quot;io-&quot; + kind" retries="=2 + 1"/>
        <zeebe:ioMapping>
          <zeebe:input source="=assert(amount, amount != null)" target="total"/>
          <zeebe:output source="=total * 2" target="doubled"/>
        </zeebe:ioMapping>`),
    },
  ]);
  mappedKey = deployed.processes.find((p) => p.processDefinitionId === 'mapped').processDefinitionKey;
});

// The first live element instance after `from`: setting variables on any
// other key answers 404. Retried while the instance is being created.
async function probeScope(from, variables, limit = 400) {
  for (let round = 0; round < 50; round++) {
    for (let k = BigInt(from) + 1n; k <= BigInt(from) + BigInt(limit); k++) {
      const res = await raw('PUT', `/v2/element-instances/${k}/variables`, { variables });
      if (res.status === 204) return k.toString();
      assert.equal(res.status, 404);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no element instance within ${limit} keys after ${from}`);
}

after(async () => {
  const code = await broker.stop();
  assert.equal(code, 0, `broker exit code ${code}\n${broker.log.join('')}`);
});

test('a job incident is resolved after its retries are raised and the instance completes', async () => {
  const result = rest.createProcessInstanceWithResult({
    processDefinitionId: 'retry', variables: { order: 7 }, requestTimeout: 60000,
  });
  let jobs = await activate('retry-work');
  assert.equal(jobs.length, 1);
  const job = jobs[0];
  assert.equal(job.retries, 1);
  await rest.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: 'card declined' });

  // While the job has no retries, resolving is refused (409, Zeebe's reason).
  const { key: incidentKey, res } = await probeIncident(job.jobKey);
  assert.equal(res.status, 409);
  assert.equal(res.json.title, 'INVALID_STATE');
  assert.match(res.json.detail, /^Command 'RESOLVE' rejected with code 'INVALID_STATE': Expected to resolve incident with key '\d+', but job with key '\d+' has no retries left/);
  assert.equal((await activate('retry-work', 500)).length, 0);

  await rest.updateJob({ jobKey: job.jobKey, retries: 2 });
  assert.equal((await activate('retry-work', 500)).length, 0, 'still held by the incident');
  await rest.resolveIncident(incidentKey);
  const again = await raw('POST', `/v2/incidents/${incidentKey}/resolution`);
  assert.equal(again.status, 404, 'a resolved incident is gone');

  jobs = await activate('retry-work');
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].jobKey, job.jobKey);
  assert.equal(jobs[0].retries, 2);
  await rest.completeJob({ jobKey: job.jobKey, variables: { paid: true } });
  const done = await result;
  assert.equal(done.processInstanceKey, job.processInstanceKey);
  assert.deepEqual({ ...done.variables }, { order: 7, paid: true });
});

test('an input mapping error is resolved after the variables are set; expression job types; output mappings', async () => {
  const result = rest.createProcessInstanceWithResult({
    processDefinitionId: 'mapped', variables: { kind: 'pay' }, requestTimeout: 60000,
  });
  // The input mapping fails (no amount): no job until the incident is resolved.
  assert.equal((await activate('io-pay', 500)).length, 0);
  // The instance is the first live scope after its definition; a propagating
  // update puts the new variable there.
  const pi = await probeScope(mappedKey, { amount: 21 });
  const missing = (BigInt(pi) + 100000n).toString();
  const unknown = await raw('PUT', `/v2/element-instances/${missing}/variables`, { variables: { a: 1 } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.title, 'NOT_FOUND');
  assert.match(unknown.json.detail, new RegExp(`Expected to update variables for element with key '${missing}', but no such element was found`));
  await rest.updateElementInstanceVariables({ elementInstanceKey: pi, variables: { note: 'fixed' } });

  const { res } = await probeIncident(pi);
  assert.equal(res.status, 204);

  const jobs = await activate('io-pay');
  assert.equal(jobs.length, 1);
  const job = jobs[0];
  assert.equal(job.type, 'io-pay');
  assert.equal(job.retries, 3);
  assert.equal(job.variables.total, 21, 'the input mapping ran into the task scope');
  assert.equal(job.variables.amount, 21);
  assert.equal(job.processInstanceKey, pi);
  await rest.completeJob({ jobKey: job.jobKey, variables: {} });

  // The output mapping merged `doubled` into the process; `total` stayed in
  // the task's scope and ended with it.
  const done = await result;
  assert.equal(done.processInstanceKey, pi);
  assert.deepEqual({ ...done.variables }, { amount: 21, doubled: 42, kind: 'pay', note: 'fixed' });
  const gone = await raw('PUT', `/v2/element-instances/${pi}/variables`, { variables: { x: 1 } });
  assert.equal(gone.status, 404, 'a completed instance has no scope left');
});

test('an expression that does not parse rejects the deployment, naming element and expression', async () => {
  await assert.rejects(
    rest.deployResources([{ name: 'bad.bpmn', content: xml('bad', '<zeebe:taskDefinition type="=a +"/>') }]),
    (err) => /element 'task': the job type expression 'a \+' is not valid/.test(String(err.message) + JSON.stringify(err)),
  );
});
