// End to end with three partitions on one broker: a deployment is
// distributed to every partition, instances are created round-robin on all
// of them, a REST worker completes them all, awaitCompletion answers from
// every partition, and distribution survives a kill -9 and restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Camunda8 } from '@camunda8/sdk';
import { oneTaskXml, startBroker } from './harness.mjs';

const PARTITIONS = 3;
process.env.TANDEM_CLUSTER_PARTITIONCOUNT = String(PARTITIONS);

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

const partitionOf = (key) => Number(BigInt(key) >> 51n);

// As Zeebe's clients do: NOT_FOUND while the deployment is still on its way
// to the partition is retried, for a bounded time.
async function createRetrying(req, limitMs = 5000) {
  const start = Date.now();
  for (;;) {
    try {
      return await rest.createProcessInstance(req);
    } catch (e) {
      if (!/NOT_FOUND/.test(String(e.message)) || Date.now() - start > limitMs) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

before(async () => {
  broker = await startBroker();
  rest = sdkFor(broker.restAddress).getCamundaRestClient();
});

after(async () => {
  const code = await broker.stop();
  assert.equal(code, 0, `broker exit code ${code}\n${broker.log.join('')}`);
});

describe('partitions', () => {
  test('the topology lists three partitions', async () => {
    const topo = await rest.getTopology();
    assert.equal(topo.partitionsCount, PARTITIONS);
    assert.equal(topo.brokers[0].partitions.length, PARTITIONS);
  });

  test('instances on every partition; a REST worker completes them all', async () => {
    const dep = await rest.deployResources([{ name: 'spread.bpmn', content: oneTaskXml('spread', 'spread-work') }]);
    const defKey = dep.processes[0].processDefinitionKey;
    assert.equal(partitionOf(defKey), 1, 'definition keys are partition 1 keys');
    const created = [];
    for (let i = 0; i < 30; i++) {
      const pi = await rest.createProcessInstance({ processDefinitionId: 'spread', variables: { i } });
      assert.equal(String(pi.processDefinitionKey), String(defKey));
      created.push(pi.processInstanceKey);
    }
    // by key as well
    const byKey = await rest.createProcessInstance({ processDefinitionKey: defKey, variables: { i: 30 } });
    created.push(byKey.processInstanceKey);
    const parts = new Set(created.map(partitionOf));
    assert.deepEqual([...parts].sort(), [1, 2, 3]);

    const done = new Set();
    const worker = rest.createJobWorker({
      type: 'spread-work',
      worker: 'e2e-spread',
      timeout: 30000,
      maxJobsToActivate: 16,
      pollIntervalMs: 50,
      jobHandler: (job) => {
        done.add(String(job.processInstanceKey));
        return job.complete({ doubled: job.variables.i * 2 });
      },
    });
    try {
      const start = Date.now();
      while (done.size < created.length && Date.now() - start < 20000) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(done.size, created.length, `completed ${done.size} of ${created.length}`);
      for (const k of created) assert.ok(done.has(String(k)), `instance ${k} completed`);
      const jobParts = new Set([...done].map(partitionOf));
      assert.deepEqual([...jobParts].sort(), [1, 2, 3]);

      // awaitCompletion answers from every partition
      const results = [];
      for (let i = 0; i < 2 * PARTITIONS; i++) {
        results.push(await rest.createProcessInstanceWithResult({
          processDefinitionId: 'spread', variables: { i: 100 + i }, requestTimeout: 20000,
        }));
      }
      for (const [i, r] of results.entries()) assert.equal(r.variables.doubled, 2 * (100 + i));
      assert.deepEqual([...new Set(results.map((r) => partitionOf(r.processInstanceKey)))].sort(), [1, 2, 3]);
    } finally {
      worker.stop();
    }
  });

  test('after kill -9 and a restart, distribution goes on and instances start everywhere', async () => {
    const dir = broker.work;
    const dep = await rest.deployResources([{ name: 'later.bpmn', content: oneTaskXml('later', 'later-work') }]);
    await broker.kill();
    broker = await startBroker({ dir });
    rest = sdkFor(broker.restAddress).getCamundaRestClient();
    // a deployment after the restart is distributed too
    const dep2 = await rest.deployResources([{ name: 'after.bpmn', content: oneTaskXml('after', 'after-work') }]);
    for (const [id, d] of [['later', dep], ['after', dep2], ['spread', null]]) {
      const parts = new Set();
      for (let i = 0; i < PARTITIONS; i++) {
        const pi = await createRetrying({ processDefinitionId: id, variables: {} });
        if (d) assert.equal(String(pi.processDefinitionKey), String(d.processes[0].processDefinitionKey));
        parts.add(partitionOf(pi.processInstanceKey));
      }
      assert.deepEqual([...parts].sort(), [1, 2, 3], `instances of ${id}`);
    }
  });
});
