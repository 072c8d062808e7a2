// The read API (/v2/.../search and entity GETs) against a real tandem broker:
// every answer validated with the 8.8 zod schemas of
// @camunda/camunda-api-zod-schemas, errors as problem+json, and a workload of
// completions, failures with incidents and cancellations found again, once the
// exporter has written it, by polling the searches as the clients do — with
// filters, sorting and both paging styles, and through the clients' own calls.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  queryElementInstancesResponseBodySchema,
  queryIncidentsResponseBodySchema,
  queryJobsResponseBodySchema,
  queryProcessDefinitionsResponseBodySchema,
  queryProcessInstancesResponseBodySchema,
  queryVariablesResponseBodySchema,
} from '@camunda/camunda-api-zod-schemas/8.8';
import { createCamundaClient } from '@camunda8/orchestration-cluster-api';
import { oneTaskXml, restClient, startBroker } from './harness.mjs';

let broker;
let rest;

async function raw(method, urlPath, body) {
  const res = await fetch(`${broker.restAddress}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}

const schemas = {
  'process-instances': queryProcessInstancesResponseBodySchema,
  'process-definitions': queryProcessDefinitionsResponseBodySchema,
  'element-instances': queryElementInstancesResponseBodySchema,
  variables: queryVariablesResponseBodySchema,
  incidents: queryIncidentsResponseBodySchema,
  // The 8.8 OpenAPI makes deadline and endTime optional; this zod package
  // version requires them, so only those two are relaxed.
  jobs: queryJobsResponseBodySchema.extend({
    items: queryJobsResponseBodySchema.shape.items.element
      .partial({ deadline: true, endTime: true }).array(),
  }),
};

// A search that must answer 200 and validate against its schema.
async function search(entity, body, urlPath = `/v2/${entity}/search`) {
  const res = await raw('POST', urlPath, body);
  assert.equal(res.status, 200, `${urlPath} ${JSON.stringify(body)}: ${res.text}`);
  assert.match(res.type, /^application\/json/);
  const parsed = schemas[entity].safeParse(res.json);
  assert.ok(parsed.success, `${urlPath}: ${JSON.stringify(parsed.error?.issues)} in ${res.text}`);
  return res.json;
}

function problem(res, status, detailPart) {
  assert.equal(res.status, status, res.text);
  assert.match(res.type, /^application\/problem\+json/);
  assert.equal(res.json.status, status);
  assert.ok(res.json.detail.includes(detailPart), `"${res.json.detail}" lacks "${detailPart}"`);
}

// Polls as the clients do until `ok` holds for the answer.
async function poll(fn, ok, limitMs = 15000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < limitMs) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`not there within ${limitMs} ms: ${JSON.stringify(last)}`);
}

before(async () => {
  broker = await startBroker();
  rest = restClient(broker.restAddress);
});

after(async () => {
  assert.equal(await broker.stop(), 0);
});

describe('read API without data', () => {
  test('every search answers an empty, valid page', async () => {
    for (const entity of Object.keys(schemas)) {
      const body = await search(entity, {});
      assert.equal(body.page.totalItems, 0);
      assert.deepEqual(body.items, []);
      assert.equal(body.page.startCursor, undefined);
    }
    await search('incidents', {}, '/v2/process-instances/123/incidents/search');
    await search('variables', { filter: { name: 'x' } }, '/v2/variables/search?truncateValues=false');
  });

  test('unknown keys are 404 problems; bad keys 400', async () => {
    for (const p of ['process-instances', 'process-definitions', 'element-instances', 'variables', 'incidents']) {
      problem(await raw('GET', `/v2/${p}/2251799813685249`), 404, "key '2251799813685249' not found");
    }
    problem(await raw('GET', '/v2/process-definitions/1/xml'), 404, 'not found');
    problem(await raw('GET', '/v2/process-instances/12x'), 400, 'processInstanceKey');
  });

  test('bad requests are 400 naming the problem', async () => {
    const pis = '/v2/process-instances/search';
    problem(await raw('POST', pis, { filter: { nope: 1 } }), 400, "'nope'");
    problem(await raw('POST', pis, { sort: [{ field: 'nope' }] }), 400, "'nope'");
    problem(await raw('POST', pis, { filter: { startDate: { $gt: 'last week' } } }), 400, 'filter.startDate.$gt');
    problem(await raw('POST', pis, { page: { after: 'garbage!' } }), 400, 'page.after');
    problem(await raw('POST', pis, '{"filter":'), 400, 'not valid JSON');
    problem(await raw('POST', '/v2/variables/search?truncateValues=maybe', {}), 400, 'truncateValues');
  });
});

describe('read API over a workload', () => {
  const keys = { completed: [], failed: [], canceled: [], other: [] };

  before(async () => {
    await rest.deployResources([{ name: 'search.bpmn', content: oneTaskXml('search-e2e', 'search-work') }]);
    await rest.deployResources([{ name: 'other.bpmn', content: oneTaskXml('search-other', 'other-work') }]);
    const created = [];
    for (let i = 0; i < 6; i++) {
      created.push(await rest.createProcessInstance({ processDefinitionId: 'search-e2e', variables: { n: i, tag: `t${i}` } }));
    }
    for (let i = 0; i < 2; i++) {
      keys.other.push((await rest.createProcessInstance({ processDefinitionId: 'search-other', variables: {} })).processInstanceKey);
    }
    const act = await raw('POST', '/v2/jobs/activation', { type: 'search-work', timeout: 60000, maxJobsToActivate: 6, requestTimeout: 5000 });
    assert.equal(act.json.jobs.length, 6);
    const byPi = new Map(act.json.jobs.map((j) => [j.processInstanceKey, j]));
    for (const [i, pi] of created.entries()) {
      const job = byPi.get(pi.processInstanceKey);
      if (i < 2) {
        assert.equal((await raw('POST', `/v2/jobs/${job.jobKey}/completion`, { variables: { done: true } })).status, 204);
        keys.completed.push(pi.processInstanceKey);
      } else if (i < 4) {
        assert.equal((await raw('POST', `/v2/jobs/${job.jobKey}/failure`, { retries: 0, errorMessage: `broke ${i}` })).status, 204);
        keys.failed.push(pi.processInstanceKey);
      } else {
        assert.equal((await raw('POST', `/v2/process-instances/${pi.processInstanceKey}/cancellation`, {})).status, 204);
        keys.canceled.push(pi.processInstanceKey);
      }
    }
    // The sqlite exporter (on by default) writes the store the searches read.
    const store = path.join(broker.work, 'data', 'store.sqlite');
    const start = Date.now();
    while (!existsSync(store) && Date.now() - start < 10000) await new Promise((r) => setTimeout(r, 200));
    assert.ok(existsSync(store), `no store at ${store}`);
  });

  test('instances arrive with their states, filters and sorting', async () => {
    const all = await poll(() => search('process-instances', { filter: { processDefinitionId: 'search-e2e' } }),
      (b) => b.page.totalItems === 6 && b.items.filter((p) => p.state !== 'ACTIVE').length === 4);
    const state = Object.fromEntries(all.items.map((p) => [p.processInstanceKey, p.state]));
    for (const k of keys.completed) assert.equal(state[k], 'COMPLETED');
    for (const k of keys.canceled) assert.equal(state[k], 'TERMINATED');
    for (const k of keys.failed) assert.equal(state[k], 'ACTIVE');
    const incidents = await poll(() => search('process-instances', { filter: { hasIncident: true } }),
      (b) => b.page.totalItems === 2);
    assert.deepEqual(incidents.items.map((p) => p.processInstanceKey).sort(), [...keys.failed].sort());
    const or = await search('process-instances', { filter: { $or: [{ state: 'COMPLETED' }, { processDefinitionId: 'search-other' }] } });
    assert.equal(or.page.totalItems, 4);
    const sorted = await search('process-instances', { sort: [{ field: 'processInstanceKey', order: 'DESC' }] });
    const ks = sorted.items.map((p) => BigInt(p.processInstanceKey));
    assert.deepEqual(ks, [...ks].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    const one = await raw('GET', `/v2/process-instances/${keys.completed[0]}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.state, 'COMPLETED');
    assert.ok(one.json.endDate.endsWith('Z'));
  });

  test('both paging styles walk the same rows', async () => {
    const sort = [{ field: 'state' }, { field: 'startDate', order: 'DESC' }];
    const whole = await search('process-instances', { sort, page: { limit: 100 } });
    const want = whole.items.map((p) => p.processInstanceKey);
    const byOffset = [];
    for (let from = 0; from < want.length; from += 3) {
      byOffset.push(...(await search('process-instances', { sort, page: { from, limit: 3 } })).items.map((p) => p.processInstanceKey));
    }
    assert.deepEqual(byOffset, want);
    const byCursor = [];
    let page = await search('process-instances', { sort, page: { limit: 3 } });
    const first = page.items.map((p) => p.processInstanceKey);
    while (page.items.length > 0) {
      byCursor.push(...page.items.map((p) => p.processInstanceKey));
      page = await search('process-instances', { sort, page: { limit: 3, after: page.page.endCursor } });
    }
    assert.deepEqual(byCursor, want);
    const second = await search('process-instances', { sort, page: { limit: 3, after: (await search('process-instances', { sort, page: { limit: 3 } })).page.endCursor } });
    const back = await search('process-instances', { sort, page: { limit: 3, before: second.page.startCursor } });
    assert.deepEqual(back.items.map((p) => p.processInstanceKey), first);
  });

  test('incidents, jobs, variables, element instances and definitions', async () => {
    const inc = await poll(() => search('incidents', { filter: { state: 'ACTIVE' } }), (b) => b.page.totalItems >= 2);
    assert.ok(inc.items.every((i) => i.errorType === 'JOB_NO_RETRIES'));
    const scoped = await search('incidents', {}, `/v2/process-instances/${keys.failed[0]}/incidents/search`);
    assert.equal(scoped.page.totalItems, 1);
    assert.equal(scoped.items[0].errorMessage, 'broke 2');
    const got = await raw('GET', `/v2/incidents/${scoped.items[0].incidentKey}`);
    assert.equal(got.status, 200);
    const jobs = await poll(() => search('jobs', { filter: { type: 'search-work' }, sort: [{ field: 'jobKey' }] }), (b) => b.page.totalItems === 6);
    const jobStates = jobs.items.map((j) => j.state).sort();
    assert.deepEqual(jobStates.filter((s) => s === 'COMPLETED').length, 2);
    assert.deepEqual(jobStates.filter((s) => s === 'FAILED').length, 2);
    assert.equal(jobs.items[0].customHeaders.region, 'eu');
    const vars = await poll(() => search('variables', { filter: { name: 'tag', value: '"t3"' } }), (b) => b.page.totalItems === 1);
    const v = await raw('GET', `/v2/variables/${vars.items[0].variableKey}`);
    assert.equal(v.json.value, '"t3"');
    const withVar = await search('process-instances', { filter: { variables: [{ name: 'n', value: { $in: ['1', '2'] } }] } });
    assert.equal(withVar.page.totalItems, 2);
    const els = await search('element-instances', { filter: { processInstanceKey: keys.completed[0] }, sort: [{ field: 'startDate' }] });
    assert.ok(els.items.some((e) => e.type === 'SERVICE_TASK' && e.state === 'COMPLETED'));
    const defs = await search('process-definitions', { filter: { processDefinitionId: { $like: 'search-*' } } });
    assert.equal(defs.page.totalItems, 2);
    const xml = await fetch(`${broker.restAddress}/v2/process-definitions/${defs.items[0].processDefinitionKey}/xml`);
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get('content-type'), /^text\/xml/);
    assert.match(await xml.text(), /<bpmn:definitions/);
  });
  test("the clients' own reads: OCA with its consistency polling and strict validation, the SDK", async () => {
    const camunda = createCamundaClient({
      config: {
        CAMUNDA_REST_ADDRESS: broker.restAddress,
        CAMUNDA_AUTH_STRATEGY: 'NONE',
        CAMUNDA_SDK_VALIDATION: 'req:strict,res:strict',
      },
      log: { level: 'silent' },
    });
    const wait = (predicate) => ({ consistency: { waitUpToMs: 15000, pollIntervalMs: 200, predicate } });
    const done = await camunda.searchProcessInstances(
      { filter: { processDefinitionId: 'search-e2e', state: 'COMPLETED' }, sort: [{ field: 'startDate', order: 'ASC' }], page: { limit: 10 } },
      wait((r) => r.items.length === 2));
    assert.deepEqual(done.items.map((p) => p.processInstanceKey).sort(), [...keys.completed].sort());
    const pi = await camunda.getProcessInstance({ processInstanceKey: keys.canceled[0] }, wait());
    assert.equal(pi.state, 'TERMINATED');
    const incidents = await camunda.searchIncidents({ filter: { processInstanceKey: keys.failed[1] } }, wait((r) => r.items.length === 1));
    assert.equal(incidents.items[0].errorMessage, 'broke 3');
    const incident = await camunda.getIncident({ incidentKey: incidents.items[0].incidentKey }, wait());
    assert.equal(incident.state, 'ACTIVE');
    const jobs = await camunda.searchJobs({ filter: { processInstanceKey: keys.completed[0] } }, wait((r) => r.items.length === 1));
    assert.equal(jobs.items[0].state, 'COMPLETED');
    const vars = await camunda.searchVariables({ filter: { processInstanceKey: keys.completed[0] }, sort: [{ field: 'name' }] }, wait((r) => r.items.length === 3));
    assert.deepEqual(vars.items.map((v) => v.name), ['done', 'n', 'tag']);
    const variable = await camunda.getVariable({ variableKey: vars.items[0].variableKey }, wait());
    assert.equal(variable.value, 'true');
    const els = await camunda.searchElementInstances({ filter: { processInstanceKey: keys.canceled[0], type: 'SERVICE_TASK' } }, wait((r) => r.items.length === 1));
    assert.equal(els.items[0].state, 'TERMINATED');
    const el = await camunda.getElementInstance({ elementInstanceKey: els.items[0].elementInstanceKey }, wait());
    assert.equal(el.elementId, 'task');
    const defs = await camunda.searchProcessDefinitions({ filter: { processDefinitionId: 'search-other' } }, wait((r) => r.items.length === 1));
    const def = await camunda.getProcessDefinition({ processDefinitionKey: defs.items[0].processDefinitionKey }, wait());
    assert.equal(def.version, 1);
    const xml = await camunda.getProcessDefinitionXml({ processDefinitionKey: def.processDefinitionKey }, wait());
    assert.match(String(xml), /search-other/);
    const scoped = await camunda.searchProcessInstanceIncidents({ processInstanceKey: keys.failed[0] }, wait((r) => r.items.length === 1));
    assert.equal(scoped.items[0].processInstanceKey, keys.failed[0]);
    const sdk = await rest.searchProcessInstances({ filter: { processDefinitionId: 'search-other' }, sort: [{ field: 'processInstanceKey', order: 'ASC' }] });
    assert.deepEqual(sdk.items.map((p) => p.processInstanceKey), [...keys.other].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
  });
});
