// Download Heatmap / Download Preview, and Detect's "Download Heatmap" option: both URL kinds of the reference.
const { Simulator, DEFAULT_KEY } = require('../simulator');
const { getEngine } = require('../harness/engine');
const { imageItem } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');
const { heatmapPng, previewPng } = require('../simulator/png');

const OTHER_KEY = 'sim-key-other-account';
const sims = {};
let engine;

beforeAll(async () => {
	engine = await getEngine();
	for (const secureUrls of [false, true]) {
		sims[secureUrls ? 'secure' : 'direct'] = await new Simulator({ secureUrls, keys: { [DEFAULT_KEY]: 1000, [OTHER_KEY]: 100 } }).start();
	}
});
afterAll(async () => {
	for (const sim of Object.values(sims)) await sim.close();
});
afterEach(() => {
	for (const sim of Object.values(sims)) sim.faults.reset();
});

const creds = (sim, apiKey = DEFAULT_KEY) => ({ apiKey, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl });
const run = (sim, parameters, items, extra = {}) =>
	engine.run({ parameters, items, credentials: extra.credentials ?? creds(sim), continueOnFail: extra.continueOnFail });

async function detected(sim, bytes, options = {}) {
	const r = await run(sim, { resource: 'image', operation: 'detect', options }, [imageItem(bytes, 'a.jpg', 'image/jpeg')]);
	expect(r.error).toBeUndefined();
	return r.items[0].json.id;
}

describe.each(['direct', 'secure'])('with %s asset URLs', (kind) => {
	test('Download Heatmap gives the file, its name and MIME type, and metadata', async () => {
		const sim = sims[kind];
		const bytes = image.jpeg(3000, 901);
		const id = await detected(sim, bytes);
		const from = sim.requests.length;
		const r = await run(sim, { resource: 'image', operation: 'downloadHeatmap', documentId: id, binaryPropertyName: 'heatmap' });
		expect(r.error).toBeUndefined();
		const { json, binary } = r.items[0];
		const expected = heatmapPng(scoreFor(bytes), true);
		expect(json).toEqual({ id, kind: 'heatmap', heatmapStatus: 'ready', fileName: `${id}-heatmap.png`, mimeType: 'image/png', fileSize: expected.length });
		expect(binary.heatmap).toMatchObject({ fileName: `${id}-heatmap.png`, mimeType: 'image/png' });
		expect((await engine.readBinary(binary.heatmap)).equals(expected)).toBe(true);

		const fetched = sim.requests.slice(from).find((q) => q.path.includes('heatmap'));
		if (kind === 'secure') {
			expect(fetched).toMatchObject({ server: 'api', method: 'POST', path: `/heatmap/${id}` });
			expect(JSON.parse(fetched.body)).toEqual({ key: DEFAULT_KEY });
		} else {
			expect(fetched).toMatchObject({ server: 'storage', method: 'GET', path: `/heatmaps/${id}.png` });
			expect(JSON.stringify(fetched)).not.toContain(DEFAULT_KEY);
		}
	});

	test('Download Preview gives the preview file', async () => {
		const sim = sims[kind];
		const bytes = image.jpeg(3000, 902);
		const id = await detected(sim, bytes);
		const r = await run(sim, { resource: 'image', operation: 'downloadPreview', documentId: id });
		expect(r.items[0].json).toMatchObject({ id, kind: 'preview', fileName: `${id}-preview.png`, mimeType: 'image/png' });
		expect((await engine.readBinary(r.items[0].binary.data)).equals(previewPng(scoreFor(bytes)))).toBe(true);
	});

	test('a heatmap still being made is waited for, then fetched', async () => {
		const sim = sims[kind];
		const saved = sim.timing.heatmapMs;
		sim.timing.heatmapMs = 1500;
		try {
			const id = await detected(sim, image.jpeg(3000, 903));
			const r = await run(sim, { resource: 'image', operation: 'downloadHeatmap', documentId: id });
			expect(r.error).toBeUndefined();
			expect(r.items[0].json.heatmapStatus).toBe('ready');
		} finally {
			sim.timing.heatmapMs = saved;
		}
	});

	test('no heatmap (status failed): an error that says why; with Continue On Fail, an item that says so', async () => {
		const sim = sims[kind];
		const id = await detected(sim, image.jpeg(3000, 904, 'SIM:NOHEATMAP'));
		const r = await run(sim, { resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toBe(`Document ${id} has no heatmap: heatmap_status is "failed"`);
		expect(r.error.description).toMatch(/score and verdict are still valid/);
		const c = await run(sim, { resource: 'image', operation: 'downloadHeatmap', documentId: id }, undefined, { continueOnFail: true });
		expect(c.items[0].json).toMatchObject({ id, error: expect.stringMatching(/has no heatmap/) });
	});

	test('a preview that was not generated', async () => {
		const sim = sims[kind];
		const id = await detected(sim, image.jpeg(3000, 905), { generatePreview: false });
		const r = await run(sim, { resource: 'image', operation: 'downloadPreview', documentId: id });
		expect(r.error.message).toBe(`Document ${id} has no preview: no preview URL`);
		expect(r.error.description).toMatch(/Generate Preview/);
	});

	test('an unknown document', async () => {
		const id = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
		const r = await run(sims[kind], { resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toBe(`No document with ID ${id} was found`);
	});

	test('Detect with "Download Heatmap" gives the verdict and the picture in one item', async () => {
		const sim = sims[kind];
		const bytes = image.jpeg(3000, 906);
		const r = await run(sim, { resource: 'image', operation: 'detect', options: { downloadHeatmap: true, heatmapOverlayed: false } }, [
			imageItem(bytes, 'beach photo.jpg', 'image/jpeg'),
		]);
		expect(r.error).toBeUndefined();
		const { json, binary } = r.items[0];
		expect(json).toMatchObject({ score: scoreFor(bytes), heatmapStatus: 'ready' });
		// Named after its image, so an email attachment or a bucket key says which image it belongs to.
		expect(binary.heatmap.fileName).toBe('beach photo-heatmap.png');
		// The input image stays on the item beside the heatmap.
		expect(binary.data.fileName).toBe('beach photo.jpg');
		expect((await engine.readBinary(binary.heatmap)).equals(heatmapPng(scoreFor(bytes), false))).toBe(true);
	});
});

test('Detect with "Download Heatmap" keeps the verdict of an image that has no heatmap, and says why', async () => {
	const bytes = image.jpeg(3000, 907, 'SIM:NOHEATMAP');
	const r = await run(sims.direct, { resource: 'image', operation: 'detect', options: { downloadHeatmap: true } }, [imageItem(bytes, 'a.jpg', 'image/jpeg')]);
	expect(r.error).toBeUndefined();
	expect(r.items[0].json).toMatchObject({ score: scoreFor(bytes), heatmapStatus: 'failed', heatmapError: expect.stringMatching(/has no heatmap/) });
	expect(r.items[0].binary.heatmap).toBeUndefined();
});

describe('secure asset answers the reference describes', () => {
	const sim = () => sims.secure;

	test('202 although /query said ready: asks /query again, then fetches', async () => {
		const id = await detected(sim(), image.jpeg(3000, 911));
		sim().faults.once('api', 'POST', `/heatmap/${id}`, {
			status: 202,
			json: { heatmap_status: 'pending', message: 'Heatmap is still being generated. Try again shortly.' },
		});
		const r = await run(sim(), { resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error).toBeUndefined();
		expect(sim().requests.filter((q) => q.path === `/heatmap/${id}`)).toHaveLength(2);
	});

	test('200 JSON (no heatmap to serve) is an error with the API message, not a file', async () => {
		const id = await detected(sim(), image.jpeg(3000, 912));
		sim().faults.once('api', 'POST', `/heatmap/${id}`, { status: 200, json: { heatmap_status: 'failed', message: 'Heatmap generation failed' } });
		const r = await run(sim(), { resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toBe(`Document ${id} has no heatmap: Heatmap generation failed`);
	});

	test('403: a document of another account', async () => {
		const id = await detected(sim(), image.jpeg(3000, 913));
		const r = await run(sim(), { resource: 'image', operation: 'downloadHeatmap', documentId: id }, undefined, {
			credentials: creds(sim(), OTHER_KEY),
		});
		expect(r.error.message).toBe('Downloading the heatmap failed: Access denied (HTTP 403)');
		expect(r.error.description).toMatch(/belongs to another account/);
	});

	test('404 from the asset endpoint', async () => {
		const id = await detected(sim(), image.jpeg(3000, 914));
		sim().faults.once('api', 'POST', `/preview/${id}`, { status: 404, json: { detail: 'Document not found' } });
		const r = await run(sim(), { resource: 'image', operation: 'downloadPreview', documentId: id });
		expect(r.error.message).toBe('Downloading the preview failed: Document not found (HTTP 404)');
	});

	test('500 (stored file cannot be read) is retried, then reported with the reason', async () => {
		const id = await detected(sim(), image.jpeg(3000, 915));
		for (let n = 0; n < 6; n++) {
			sim().faults.once('api', 'POST', `/heatmap/${id}`, { status: 500, json: { detail: 'Heatmap file could not be downloaded from storage' } });
		}
		const r = await run(sim(), { resource: 'image', operation: 'downloadHeatmap', documentId: id });
		expect(r.error.message).toBe('Downloading the heatmap failed: Heatmap file could not be downloaded from storage (HTTP 500)');
		expect(r.error.description).toMatch(/still failed after 6 attempts/);
		expect(sim().requests.filter((q) => q.path === `/heatmap/${id}`)).toHaveLength(6);
	}, 60_000);

	test('a bulk batch id has no single heatmap', async () => {
		const { zipOf } = require('../harness/fixtures');
		const z = zipOf([{ name: 'a.jpg', data: image.jpeg(2000, 916) }]);
		const b = await run(sim(), { resource: 'image', operation: 'bulkDetect', waitForResult: false }, [imageItem(z, 'z.zip', 'application/zip')]);
		const r = await run(sim(), { resource: 'image', operation: 'downloadHeatmap', documentId: b.items[0].json.batchId });
		expect(r.error.message).toMatch(/is a bulk batch, which has no single heatmap/);
	});
});
