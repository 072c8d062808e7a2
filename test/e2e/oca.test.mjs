// The Orchestration Cluster API client (@camunda8/orchestration-cluster-api
// 8.8) against a real tandem broker: deploy with File parts, create an
// instance, and complete its job with the client's own job worker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCamundaClient } from '@camunda8/orchestration-cluster-api';
import { oneTaskXml, startBroker } from './harness.mjs';

let broker;
let camunda;

before(async () => {
  broker = await startBroker();
  camunda = createCamundaClient({
    config: { CAMUNDA_REST_ADDRESS: broker.restAddress, CAMUNDA_AUTH_STRATEGY: 'NONE' },
    log: { level: 'silent' },
  });
});

after(async () => {
  assert.equal(await broker.stop(), 0);
});

test('OCA: topology, deployment, instance and a job worker', async () => {
  const topology = await camunda.getTopology();
  assert.match(topology.gatewayVersion, /^8\.8\./);
  const file = new File([oneTaskXml('oca', 'oca-work')], 'oca.bpmn', { type: 'application/xml' });
  const deployment = await camunda.createDeployment({ resources: [file] });
  const definition = deployment.deployments[0].processDefinition;
  assert.equal(definition.processDefinitionId, 'oca');
  assert.match(definition.processDefinitionKey, /^[0-9]+$/);

  let handled;
  const done = new Promise((resolve) => { handled = resolve; });
  const worker = camunda.createJobWorker({
    jobType: 'oca-work',
    jobTimeoutMs: 30000,
    maxParallelJobs: 4,
    pollTimeoutMs: 2000,
    workerName: 'oca-e2e',
    jobHandler: async (job) => {
      const receipt = await job.complete({ doubled: job.variables.n * 2 });
      handled(job);
      return receipt;
    },
  });
  try {
    const instance = await camunda.createProcessInstance({
      processDefinitionId: 'oca', variables: { n: 4 },
    });
    assert.match(instance.processInstanceKey, /^[0-9]+$/);
    const job = await done;
    assert.equal(job.processInstanceKey, instance.processInstanceKey);
    assert.equal(job.customHeaders.region, 'eu');
  } finally {
    worker.stop();
  }
});
