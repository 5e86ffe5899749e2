// The example workflows, and one that chains every other operation, run by the real n8n CLI (N8N_VERSION, default
// 2.8.4) with this package installed as a community node in a user folder outside the repository, against the
// simulator: verdicts and scores, pairing, files written. Every CLI call has a deadline: a hang fails the test.
const fs = require('fs');
const path = require('path');
const n8n = require('../../demo/n8n');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

let sim;
let instance;
const images = {};

beforeAll(async () => {
	n8n.ensureN8n();
	instance = await n8n.createInstance();
	const dir = path.join(instance.files, 'undetectable', 'images');
	fs.mkdirSync(dir, { recursive: true });
	for (let k = 0; k < 5; k++) {
		const bytes = k === 4 ? image.png(3000, 77, 'SIM:NOHEATMAP') : image.png(2000 + k * 300, 50 + k);
		images[`photo-${k}.png`] = bytes;
		fs.writeFileSync(path.join(dir, `photo-${k}.png`), bytes);
	}
	sim = await n8n.startSimulator({ timing: { startMs: 50, resultMs: 300, heatmapMs: 200, analysisMs: 300, perImageMs: 20 } });
	const everyOperation = path.join(__dirname, 'workflows', 'every-operation.json');
	const workflows = [
		...n8n.exampleWorkflows(instance.files),
		{ file: 'every-operation.json', workflow: JSON.parse(fs.readFileSync(everyOperation, 'utf8').split(n8n.EXAMPLE_FILES).join(instance.files)) },
	];
	await n8n.importAll(instance, { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl }, workflows);
}, 15 * 60_000);

afterAll(() => sim?.stop());

const expected = (name) => ({ fileName: name, score: scoreFor(images[name]), verdict: verdictFor(scoreFor(images[name])) });

test(`n8n ${n8n.N8N_VERSION}: detect-and-notify: each image gets its verdict, and the IF sends it to the right message`, async () => {
	const run = await n8n.execute(instance, 'udDetectNotify01');
	const detections = n8n.nodeOutput(run, 'Detect AI image');
	expect(detections).toHaveLength(5);
	for (const d of detections) expect(d).toMatchObject({ status: 'done', ...expected(d.fileName) });

	const alerts = n8n.nodeOutput(run, 'Alert message');
	const real = n8n.nodeOutput(run, 'Looks real');
	const ai = Object.keys(images).filter((n) => verdictFor(scoreFor(images[n])) === 'AI Generated');
	expect(alerts.map((a) => a.fileName).sort()).toEqual(ai.sort());
	expect(real).toHaveLength(5 - ai.length);
	for (const a of alerts) expect(a.message).toBe(`AI-generated image: ${a.fileName} (score ${a.score}, document ${detections.find((d) => d.fileName === a.fileName).id})`);

	// Pairing, as n8n recorded it: each detection points back at the file item it came from.
	const task = run.data.resultData.runData['Detect AI image'][0];
	const read = n8n.nodeOutput(run, 'Read images from a folder');
	task.data.main[0].forEach((item) => expect(read[item.pairedItem.item].fileName).toBe(item.json.fileName));
});

test(`n8n ${n8n.N8N_VERSION}: bulk-csv-report: one bulk request for all images, and a CSV with a row per image`, async () => {
	const run = await n8n.execute(instance, 'udBulkCsvReport1');
	const rows = n8n.nodeOutput(run, 'Report columns');
	expect(rows).toHaveLength(5);
	for (const r of rows) expect(r).toMatchObject({ verdict: expected(r.file).verdict, score: expected(r.file).score, status: 'done' });
	const csv = fs.readFileSync(path.join(instance.files, 'undetectable', 'report.csv'), 'utf8').trim().split('\n');
	expect(csv[0]).toBe('file,verdict,score,status,documentId');
	expect(csv).toHaveLength(6);
});

test(`n8n ${n8n.N8N_VERSION}: heatmaps-to-disk: a heatmap PNG per image that has one; the one without keeps its verdict`, async () => {
	const run = await n8n.execute(instance, 'udHeatmapsDisk01');
	const detections = n8n.nodeOutput(run, 'Detect with heatmap');
	const without = detections.find((d) => d.fileName === 'photo-4.png');
	expect(without).toMatchObject({ heatmapStatus: 'failed', ...expected('photo-4.png') });
	expect(without.heatmapError).toMatch(/has no heatmap/);
	const dir = path.join(instance.files, 'undetectable');
	const written = fs.readdirSync(dir).filter((f) => f.endsWith('-heatmap.png')).sort();
	expect(written).toEqual(['photo-0-heatmap.png', 'photo-1-heatmap.png', 'photo-2-heatmap.png', 'photo-3-heatmap.png']);
	for (const f of written) expect(fs.readFileSync(path.join(dir, f)).subarray(1, 4).toString()).toBe('PNG');
});

test(`n8n ${n8n.N8N_VERSION}: every other operation in a chain: submit, Get Result, Download Heatmap, Download Preview, Check Credits`, async () => {
	const run = await n8n.execute(instance, 'udEveryOperation');
	const [submitted] = n8n.nodeOutput(run, 'Submit without waiting');
	// Reuse Earlier Result is off in this step: an earlier test checked photo-0.png already, and this one submits.
	expect(submitted).toMatchObject({ status: 'pending', fileName: 'photo-0.png', reused: false });
	expect(submitted.id).toMatch(/^[0-9a-f-]{36}$/);

	const [result] = n8n.nodeOutput(run, 'Get result');
	expect(result).toMatchObject({ id: submitted.id, status: 'done', heatmapStatus: 'ready', score: expected('photo-0.png').score, verdict: expected('photo-0.png').verdict });

	const task = (name) => run.data.resultData.runData[name][0].data.main[0][0];
	const heatmap = task('Download heatmap');
	expect(heatmap.json).toMatchObject({ id: submitted.id, kind: 'heatmap', mimeType: 'image/png' });
	expect(heatmap.binary.heatmap).toMatchObject({ mimeType: 'image/png', fileName: `${submitted.id}-heatmap.png` });
	const preview = task('Download preview');
	expect(preview.json).toMatchObject({ id: submitted.id, kind: 'preview' });
	expect(preview.binary.preview.fileName).toBe(`${submitted.id}-preview.${preview.json.mimeType === 'image/png' ? 'png' : 'jpg'}`);

	const [credits] = n8n.nodeOutput(run, 'Check credits');
	expect(typeof credits.credits).toBe('number');
});
