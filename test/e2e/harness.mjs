// Starts and stops a real tandem broker for the end-to-end tests: a data
// directory and ports of its own, loopback only, stopped by its pid.
import { Camunda8 } from '@camunda8/sdk';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const buildDir = process.env.TANDEM_BUILD ?? path.join(root, 'build');

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url, child, limitMs = 30000) {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within ${limitMs} ms`);
}

// The @camunda8/sdk REST client for a broker, without authentication (as the
// SDK's own CI runs against an unprotected Camunda).
export function restClient(address) {
  return new Camunda8({
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    ZEEBE_REST_ADDRESS: address,
    CAMUNDA_REST_ADDRESS: address,
    CAMUNDA_LOG_LEVEL: 'none',
    ZEEBE_GRPC_ADDRESS: 'grpc://127.0.0.1:1',
  }).getCamundaRestClient();
}

export async function startBroker({ extraYaml = '', dir } = {}) {
  const work = dir ?? mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
  const ports = {
    rest: await freePort(),
    grpc: await freePort(),
    internal: await freePort(),
    management: await freePort(),
  };
  const config = path.join(work, 'tandem.yaml');
  writeFileSync(config, `cluster:
  clusterName: e2e
data:
  directory: ${path.join(work, 'data')}
network:
  internalApi:
    port: ${ports.internal}
api:
  rest:
    port: ${ports.rest}
  grpc:
    port: ${ports.grpc}
management:
  port: ${ports.management}
${extraYaml}`);
  const log = [];
  // TANDEM_* variables are configuration overrides for the broker; the
  // harness's own TANDEM_BUILD is not one, so it is kept from the child.
  const env = { ...process.env };
  delete env.TANDEM_BUILD;
  const child = spawn(path.join(buildDir, 'tandem'), ['broker', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  child.stdout.on('data', (d) => log.push(d.toString()));
  child.stderr.on('data', (d) => log.push(d.toString()));
  const broker = {
    work,
    ports,
    child,
    log,
    restAddress: `http://127.0.0.1:${ports.rest}`,
    managementAddress: `http://127.0.0.1:${ports.management}`,
    async stop({ keep = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!keep && !dir) rmSync(work, { recursive: true, force: true });
      return child.exitCode;
    },
    async kill() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  try {
    await waitReady(`${broker.managementAddress}/actuator/health/readiness`, child);
  } catch (e) {
    await broker.kill();
    throw new Error(`${e.message}\n${log.join('')}`);
  }
  return broker;
}

export const oneTaskXml = (processId, jobType) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
    id="Definitions_${processId}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${processId}" name="One task" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task" name="Work">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="${jobType}" retries="3" />
        <zeebe:taskHeaders><zeebe:header key="region" value="eu" /></zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="p" bpmnElement="${processId}">
    <bpmndi:BPMNShape id="s" bpmnElement="start"><dc:Bounds x="10" y="10" width="36" height="36" /></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
