// End to end with the real Camunda clients (@camunda8/sdk REST client and
// @camunda8/orchestration-cluster-api) against a real tandem broker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Camunda8 } from '@camunda8/sdk';
import { oneTaskXml, startBroker } from './harness.mjs';

let broker;
let rest;

function sdkFor(address) {
  return new Camunda8({
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    ZEEBE_REST_ADDRESS: address,
    CAMUNDA_REST_ADDRESS: address,
    CAMUNDA_LOG_LEVEL: 'none',
    ZEEBE_GRPC_ADDRESS: 'grpc://127.0.0.1:1',
  });
}

async function raw(method, path, body, headers = {}) {
  const res = await fetch(`${broker.restAddress}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}

async function deploy(name, xml) {
  const form = new FormData();
  form.append('resources', new Blob([xml], { type: 'application/xml' }), name);
  form.append('tenantId', '<default>');
  const res = await fetch(`${broker.restAddress}/v2/deployments`, { method: 'POST', body: form });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

async function appendsTotal() {
  const text = await (await fetch(`${broker.managementAddress}/actuator/prometheus`)).text();
  return Number(/^tandem_journal_appends_total (\d+)$/m.exec(text)[1]);
}

async function activate(type, requestTimeout, max = 10) {
  return raw('POST', '/v2/jobs/activation', {
    type, worker: 'e2e', timeout: 30000, maxJobsToActivate: max, requestTimeout,
    tenantIds: ['<default>'],
  });
}

before(async () => {
  broker = await startBroker();
  rest = sdkFor(broker.restAddress).getCamundaRestClient();
});

after(async () => {
  const code = await broker.stop();
  assert.equal(code, 0, `broker exit code ${code}\n${broker.log.join('')}`);
});

describe('cluster', () => {
  test('topology reports an 8.8 gateway and one healthy leader', async () => {
    const topo = await rest.getTopology();
    assert.match(topo.gatewayVersion, /^8\.8\./);
    assert.equal(topo.clusterSize, 1);
    assert.equal(topo.partitionsCount, 1);
    assert.equal(topo.brokers[0].partitions[0].role, 'leader');
    assert.equal(topo.brokers[0].partitions[0].health, 'healthy');
  });
});

describe('deployments', () => {
  test('deploy, redeploy identical (same key and version), changed (next version)', async () => {
    const first = await rest.deployResources([{ name: 'dep.bpmn', content: oneTaskXml('dep', 'dep-work') }]);
    const def1 = first.processes[0];
    assert.equal(def1.processDefinitionId, 'dep');
    assert.equal(def1.processDefinitionVersion, 1);
    const again = await rest.deployResources([{ name: 'dep.bpmn', content: oneTaskXml('dep', 'dep-work') }]);
    assert.equal(again.processes[0].processDefinitionKey, def1.processDefinitionKey);
    assert.equal(again.processes[0].processDefinitionVersion, 1);
    const changed = await rest.deployResources([{ name: 'dep.bpmn', content: oneTaskXml('dep', 'other-work') }]);
    assert.equal(changed.processes[0].processDefinitionVersion, 2);
    assert.notEqual(changed.processes[0].processDefinitionKey, def1.processDefinitionKey);
  });

  test('a broken BPMN file and an unsupported element are 400 naming the problem', async () => {
    const broken = await deploy('broken.bpmn', '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process');
    assert.equal(broken.status, 400);
    assert.equal(broken.json.title, 'INVALID_ARGUMENT');
    assert.match(broken.json.detail, /broken\.bpmn/);
    const gw = oneTaskXml('gw', 'x').replace('<bpmn:endEvent id="end">', '<bpmn:exclusiveGateway id="Gateway_9" /><bpmn:endEvent id="end">');
    const unsupported = await deploy('gw.bpmn', gw);
    assert.equal(unsupported.status, 400);
    assert.match(unsupported.json.detail, /Gateway_9/);
    assert.match(unsupported.json.detail, /exclusiveGateway/);
  });
});

describe('instances and jobs', () => {
  test('a REST job worker completes jobs; awaitCompletion returns the result', async () => {
    await rest.deployResources([{ name: 'p1.bpmn', content: oneTaskXml('p1', 'work') }]);
    const worker = rest.createJobWorker({
      type: 'work',
      worker: 'e2e-worker',
      timeout: 30000,
      maxJobsToActivate: 8,
      pollIntervalMs: 100,
      jobHandler: (job) => {
        assert.equal(job.customHeaders.region, 'eu');
        return job.complete({ b: job.variables.a * 2 });
      },
    });
    try {
      const result = await rest.createProcessInstanceWithResult({
        processDefinitionId: 'p1',
        variables: { a: 21 },
        requestTimeout: 20000,
      });
      assert.equal(result.variables.b, 42);
      assert.equal(result.variables.a, 21);
      const plain = await rest.createProcessInstance({ processDefinitionId: 'p1', variables: { a: 1 } });
      assert.match(plain.processInstanceKey, /^[0-9]+$/);
    } finally {
      worker.stop();
    }
  });

  test('awaitCompletion without a worker is 504 after requestTimeout', async () => {
    await rest.deployResources([{ name: 'idle.bpmn', content: oneTaskXml('idle', 'nobody') }]);
    const started = Date.now();
    const res = await raw('POST', '/v2/process-instances', {
      processDefinitionId: 'idle', awaitCompletion: true, requestTimeout: 1000, tenantId: '<default>',
    });
    assert.equal(res.status, 504);
    assert.ok(Date.now() - started >= 900);
  });

  test('unknown keys are 404 problem+json; malformed JSON is 400; a foreign tenant is refused', async () => {
    const unknown = await raw('POST', '/v2/jobs/2251799813685249/completion', { variables: {} });
    assert.equal(unknown.status, 404);
    assert.match(unknown.type, /application\/problem\+json/);
    const malformed = await raw('POST', '/v2/process-instances', '{"processDefinitionId": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.title, 'INVALID_ARGUMENT');
    const tenant = await raw('POST', '/v2/process-instances', { processDefinitionId: 'p1', tenantId: 'acme' });
    assert.equal(tenant.status, 400);
    assert.match(tenant.json.detail, /tenant/i);
  });

  test('long polling: a job created 0.5 s into a 10 s poll is returned at once', async () => {
    await rest.deployResources([{ name: 'lp.bpmn', content: oneTaskXml('lp', 'long-poll') }]);
    const started = Date.now();
    const poll = activate('long-poll', 10000);
    await new Promise((r) => setTimeout(r, 500));
    await rest.createProcessInstance({ processDefinitionId: 'lp', variables: {} });
    const res = await poll;
    const took = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.json.jobs.length, 1);
    assert.ok(took >= 450 && took < 3000, `took ${took} ms`);
  });

  test('long polling: no job gives an empty answer after about the timeout, not early', async () => {
    const appendsBefore = await appendsTotal();
    const started = Date.now();
    const res = await activate('never-created', 10000);
    const took = Date.now() - started;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.jobs, []);
    assert.ok(took >= 9500 && took < 13000, `took ${took} ms`);
    assert.equal(await appendsTotal(), appendsBefore, 'an empty poll wrote to the journal');
  });

  test('long polling: a negative timeout answers at once', async () => {
    const started = Date.now();
    const res = await activate('never-created', -1);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.jobs, []);
    assert.ok(Date.now() - started < 1000);
  });

  test('failure with retries 0 leaves an incident; retries 2 with back-off waits for it', async () => {
    await rest.deployResources([{ name: 'fail.bpmn', content: oneTaskXml('failing', 'fail-work') }]);
    await rest.createProcessInstance({ processDefinitionId: 'failing', variables: {} });
    let jobs = (await activate('fail-work', -1)).json.jobs;
    assert.equal(jobs.length, 1);
    let res = await raw('POST', `/v2/jobs/${jobs[0].jobKey}/failure`, { retries: 2, errorMessage: 'x', retryBackOff: 2000 });
    assert.equal(res.status, 204);
    const failedAt = Date.now();
    assert.deepEqual((await activate('fail-work', -1)).json.jobs, []);
    const poll = await activate('fail-work', 6000);
    assert.equal(poll.json.jobs.length, 1);
    assert.ok(Date.now() - failedAt >= 1900, 'handed out again before the back-off ended');
    assert.equal(poll.json.jobs[0].retries, 2);
    res = await raw('POST', `/v2/jobs/${poll.json.jobs[0].jobKey}/failure`, { retries: 0, errorMessage: 'no more' });
    assert.equal(res.status, 204);
    jobs = (await activate('fail-work', -1)).json.jobs;
    assert.deepEqual(jobs, [], 'a job without retries is not handed out (incident)');
  });

  test('cancellation ends the instance and its job can no longer be completed', async () => {
    await rest.deployResources([{ name: 'cancel.bpmn', content: oneTaskXml('cancelme', 'cancel-work') }]);
    const pi = await rest.createProcessInstance({ processDefinitionId: 'cancelme', variables: {} });
    const jobs = (await activate('cancel-work', -1)).json.jobs;
    assert.equal(jobs.length, 1);
    const res = await raw('POST', `/v2/process-instances/${pi.processInstanceKey}/cancellation`, {});
    assert.equal(res.status, 204);
    const complete = await raw('POST', `/v2/jobs/${jobs[0].jobKey}/completion`, { variables: {} });
    assert.ok([404, 409].includes(complete.status), `completion after cancel gave ${complete.status}`);
    const again = await raw('POST', `/v2/process-instances/${pi.processInstanceKey}/cancellation`, {});
    assert.equal(again.status, 404);
  });
});
