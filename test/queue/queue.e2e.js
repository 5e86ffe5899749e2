// n8n in queue mode (Redis, a main and two workers) with this node: 20 concurrent webhook uploads answered with the
// right scores by both workers, then a worker killed while it holds executions, the caller's retries costing no
// extra credit, and a re-run of the first 20 costing nothing.
const fs = require('fs');
const path = require('path');
const n8n = require('../../demo/n8n');
const { startCluster } = require('./cluster');
const { image } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

let sim;
let cluster;
const stats = async () => (await fetch(`${sim.adminUrl}/stats`)).json();
const setTiming = (timing) => fetch(`${sim.adminUrl}/timing`, { method: 'POST', body: JSON.stringify(timing) });
const upload = async (bytes) => {
	const res = await fetch(cluster.webhook, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytes, signal: AbortSignal.timeout(120_000) });
	const text = await res.text();
	return { status: res.status, json: res.ok ? JSON.parse(text) : undefined, text };
};
const credits = async () => Object.values((await stats()).credits)[0];

beforeAll(async () => {
	sim = await n8n.startSimulator({ timing: { startMs: 50, resultMs: 800, heatmapMs: 300, analysisMs: 400, perImageMs: 20 } });
	const workflow = JSON.parse(fs.readFileSync(path.join(__dirname, 'webhook-detect.json'), 'utf8'));
	cluster = await startCluster({
		credentialData: { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl },
		workflows: [{ file: 'webhook-detect.json', workflow }],
		activate: [workflow.id],
		webhookPath: 'detect-image',
	});
}, 10 * 60_000);

afterAll(() => {
	cluster?.stop();
	sim?.stop();
});

const images = Array.from({ length: 20 }, (_, k) => image.jpeg(3000 + k * 50, 7000 + k));

test('20 concurrent uploads: each answered with its score, by both workers; 20 documents, no key at storage', async () => {
	const before = await credits();
	const answers = await Promise.all(images.map(upload));
	expect(answers.map((a) => a.status)).toEqual(images.map(() => 200));
	expect(answers.map((a) => a.json.score)).toEqual(images.map(scoreFor));
	for (const worker of cluster.workers) expect(worker.executions.size).toBeGreaterThan(0);
	const s = await stats();
	expect(s.docs.filter((d) => !d.parent)).toHaveLength(20);
	expect(s.requests['api POST /detect']).toBe(20);
	expect(s.keyAtStorage).toBe(0);
	expect(before - (await credits())).toBe(20);
}, 5 * 60_000);

test('the same 20 again: no credit, no upload, the same verdicts', async () => {
	const before = await credits();
	const uploadsBefore = (await stats()).requests['storage PUT /uploads/...'];
	const answers = await Promise.all(images.map(upload));
	expect(answers.map((a) => a.json?.score)).toEqual(images.map(scoreFor));
	expect(answers.every((a) => a.json.reused === true)).toBe(true);
	expect(await credits()).toBe(before);
	expect((await stats()).requests['storage PUT /uploads/...']).toBe(uploadsBefore);
}, 5 * 60_000);

test('a worker killed while it holds executions: n8n fails them; the retries cost no extra credit and get the right scores', async () => {
	const fresh = Array.from({ length: 10 }, (_, k) => image.jpeg(4000 + k * 50, 8000 + k));
	await setTiming({ resultMs: 6000 });
	const before = await credits();
	const victim = cluster.workers[0];
	const heldBefore = victim.executions.size;
	const pending = fresh.map(upload);
	// Kill it once it has taken some of these and they have been submitted (a result takes 6 s).
	const deadline = Date.now() + 30_000;
	while (victim.executions.size < heldBefore + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
	await new Promise((r) => setTimeout(r, 2000));
	victim.proc.kill('SIGKILL');
	const first = await Promise.all(pending);
	const failed = first.map((a, k) => (a.status === 200 ? undefined : k)).filter((k) => k !== undefined);
	expect(failed.length).toBeGreaterThan(0);
	await setTiming({ resultMs: 800 });

	const retried = await Promise.all(failed.map((k) => upload(fresh[k])));
	expect(retried.map((a) => a.status)).toEqual(failed.map(() => 200));
	expect(retried.map((a) => a.json.score)).toEqual(failed.map((k) => scoreFor(fresh[k])));
	// Each image was billed once, whichever worker submitted it: the retry found the dead worker's document.
	expect(before - (await credits())).toBe(fresh.length);
	expect(retried.filter((a) => a.json.reused).length).toBeGreaterThan(0);
}, 5 * 60_000);
