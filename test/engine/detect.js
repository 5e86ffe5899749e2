// Detect through n8n's engine against the simulator: the handshake, names and types, options, outputs.
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');
const { useTiming, FAST, PRODUCTION } = require('../harness/engine');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every request the simulator's storage server got since `from`, as text, to look for the key in. */
const storageTraffic = (from = 0) =>
	ctx.sim.requests
		.slice(from)
		.filter((r) => r.server === 'storage')
		.map((r) => JSON.stringify([r.path, r.query, r.headers, r.body]))
		.join('\n');

describe('Detect from a binary property', () => {
	test('gives the image its score and verdict, through presign, PUT and /detect', async () => {
		const bytes = image.jpeg(6000, 11);
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect(), [imageItem(bytes, 'holiday photo.jpg', 'image/jpeg')]);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(1);
		const out = r.items[0].json;
		expect(out).toMatchObject({
			status: 'done',
			score: scoreFor(bytes),
			verdict: verdictFor(scoreFor(bytes)),
			confidence: scoreFor(bytes),
			detectionStep: 3,
			// The name the user knows, beside the one the API required for the upload.
			fileName: 'holiday photo.jpg',
			uploadFileName: 'holiday_photo.jpg',
			binaryField: 'data',
		});
		expect(out.detectedType).toBeUndefined();
		expect(out.id).toMatch(UUID);
		expect(r.items[0].pairedItem).toEqual({ item: 0 });

		const seen = ctx.sim.requests.slice(from);
		const presign = seen.find((q) => q.path === '/get-presigned-url');
		expect(presign.headers.apikey).toBe(DEFAULT_KEY);
		expect(presign.query.file_name).toBe('holiday_photo.jpg');

		const put = seen.find((q) => q.server === 'storage' && q.method === 'PUT');
		expect(put.headers['content-type']).toBe('image/jpeg');
		expect(put.headers['x-amz-acl']).toBe('private');
		expect(put.bodyBytes).toBe(bytes.length);

		const submitted = JSON.parse(seen.find((q) => q.path === '/detect').body);
		expect(submitted.key).toBe(DEFAULT_KEY);
		expect(submitted.url).toBe(`${ctx.sim.storageUrl}/${put.path.slice(1)}`);
		expect(submitted.id).toBe(out.id);
		expect(storageTraffic(from)).not.toContain(DEFAULT_KEY);
	});

	test.each([
		['photo.jfif', image.jpeg, 'image/jpeg', 'image/jpeg'],
		['scan.TIF', (s, n) => Buffer.concat([Buffer.from('II*\x00', 'latin1'), image.jpeg(s - 4, n).subarray(4)]), 'image/tiff', 'image/tiff'],
		['art.webp', image.webp, 'image/webp', 'image/webp'],
		['logo.svg', image.svg, 'image/svg+xml', 'image/svg+xml'],
		['page.pdf', image.pdf, 'application/pdf', 'application/pdf'],
		['phone.heic', image.heic, 'image/heic', 'image/heic'],
	])('uploads %s with the Content-Type the reference names', async (name, make, mime, expected) => {
		const bytes = make(3000, 21);
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect(), [imageItem(bytes, name, mime)]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.score).toBe(scoreFor(bytes));
		const put = ctx.sim.requests.slice(from).find((q) => q.method === 'PUT');
		expect(put.headers['content-type']).toBe(expected);
	});

	test('a file name without an extension is uploaded with the type of its MIME type and bytes', async () => {
		const bytes = image.png(3000, 5);
		const r = await ctx.run(detect(), [imageItem(bytes, 'camera upload', 'image/png')]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ fileName: 'camera upload', uploadFileName: 'camera_upload.png' });
		expect(r.items[0].json.detectedType).toBeUndefined();
	});

	test('the File Name option renames the upload; the type comes from the bytes', async () => {
		const bytes = image.png(3000, 6);
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect({ options: { fileName: 'Renamed File.jpg' } }), [imageItem(bytes, 'x.bin', 'application/octet-stream')]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ fileName: 'x.bin', uploadFileName: 'Renamed_File.png', detectedType: 'image/png' });
		expect(ctx.sim.requests.slice(from).find((q) => q.method === 'PUT').headers['content-type']).toBe('image/png');
	});

	test('every /detect option reaches the API', async () => {
		const from = ctx.sim.requests.length;
		const own = '0b7a3c55-5a1e-4c1e-9a65-1f0c2b7d9e11';
		const r = await ctx.run(
			detect({
				options: {
					model: 'acme-instance/generic',
					generatePreview: false,
					generateAnalysisDetails: false,
					heatmapOverlayed: false,
					documentId: own,
					email: 'ops@example.com',
					userAgent: 'n8n-test',
					documentType: 'Photo',
				},
			}),
			[imageItem(image.jpeg(2000, 31), 'a.jpg', 'image/jpeg')],
		);
		expect(r.error).toBeUndefined();
		const body = JSON.parse(ctx.sim.requests.slice(from).find((q) => q.path === '/detect').body);
		expect(body).toMatchObject({
			model: 'acme-instance/generic',
			generate_preview: false,
			generate_analysis_details: false,
			generate_heatmap_overlayed: false,
			id: own,
			email: 'ops@example.com',
			user_agent: 'n8n-test',
			document_type: 'Photo',
		});
		expect(r.items[0].json).toMatchObject({ id: own, previewUrl: null, analysisStatus: null });
	});

	test('Simplify Output off gives the API response as it is', async () => {
		const bytes = image.jpeg(2500, 41);
		const r = await ctx.run(detect({ options: { simplify: false } }), [imageItem(bytes, 'a.jpg', 'image/jpeg')]);
		expect(r.items[0].json.result).toBe(scoreFor(bytes));
		expect(r.items[0].json.result_details.final_result).toBe(verdictFor(scoreFor(bytes)));
		expect(r.items[0].json.score).toBeUndefined();
	});

	test('Wait for Result off returns the id as pending, without polling', async () => {
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect({ waitForResult: false }), [imageItem(image.jpeg(2500, 42), 'a.jpg', 'image/jpeg')]);
		expect(r.items[0].json).toMatchObject({ status: 'pending', fileName: 'a.jpg', reused: false });
		expect(r.items[0].json.id).toMatch(UUID);
		// One /query: before the upload, to find an earlier check of this image (there is none); none after it.
		const paths = ctx.sim.requests.slice(from).filter((q) => q.server === 'api').map((q) => q.path);
		expect(paths).toEqual(['/query', '/get-presigned-url', '/detect']);
	});

	test('Wait for Heatmap and Wait for Analysis wait for both to be ready', async () => {
		const saved = { ...ctx.sim.timing };
		// Both are made well after the score, so only waiting for them can see them ready.
		Object.assign(ctx.sim.timing, { heatmapMs: 1200, analysisMs: 1600 });
		try {
			const plain = await ctx.run(detect({ options: { waitForAnalysis: false } }), [imageItem(image.jpeg(2500, 44), 'b.jpg', 'image/jpeg')]);
			expect(plain.items[0].json).toMatchObject({ heatmapStatus: 'pending', heatmapUrl: null, analysis: null, analysisStatus: 'pending' });

			const r = await ctx.run(detect({ options: { waitForHeatmap: true, waitForAnalysis: true } }), [
				imageItem(image.jpeg(2500, 43), 'a.jpg', 'image/jpeg'),
			]);
			expect(r.items[0].json.heatmapStatus).toBe('ready');
			expect(r.items[0].json.heatmapUrl).toContain('/heatmaps/');
			expect(r.items[0].json.analysisStatus).toBe('ready');
			expect(r.items[0].json.analysis.agreement).toBeDefined();
		} finally {
			Object.assign(ctx.sim.timing, saved);
		}
	});
});

describe('Detect from a URL', () => {
	test('downloads the image with no key, then detects it', async () => {
		const bytes = image.png(5000, 51);
		const url = ctx.sim.publish('pics/Sunset%20Beach.png', bytes, 'image/png');
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect({ inputSource: 'url', imageUrl: url }));
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ score: scoreFor(bytes), fileName: 'Sunset Beach.png', uploadFileName: 'Sunset_Beach.png' });
		const download = ctx.sim.requests.slice(from).find((q) => q.path.startsWith('/public/'));
		expect(JSON.stringify(download.headers)).not.toContain(DEFAULT_KEY);
		expect(storageTraffic(from)).not.toContain(DEFAULT_KEY);
	});

	test('a URL without an extension is uploaded as the type of its Content-Type and bytes', async () => {
		const bytes = image.jpeg(5000, 52);
		const url = ctx.sim.publish('image-without-extension', bytes, 'image/jpeg');
		const r = await ctx.run(detect({ inputSource: 'url', imageUrl: url }));
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ fileName: 'image-without-extension', uploadFileName: 'image-without-extension.jpg' });
	});
});

describe('results the API reports', () => {
	test('status failed is an error with the API reason; Continue On Fail keeps it, paired', async () => {
		const bad = image.jpeg(3000, 61, 'SIM:FAIL');
		const r = await ctx.run(detect(), [imageItem(bad, 'broken.jpg', 'image/jpeg')]);
		expect(r.error.message).toContain('Detection failed: Image processing failed');
		expect(r.error.description).toMatch(/valid, uncorrupted image/);

		const good = image.jpeg(3000, 62);
		const c = await ctx.run(detect(), [imageItem(good, 'ok.jpg', 'image/jpeg'), imageItem(bad, 'broken.jpg', 'image/jpeg')], {
			continueOnFail: true,
		});
		expect(c.items).toHaveLength(2);
		expect(c.items[0]).toMatchObject({ json: { score: scoreFor(good) }, pairedItem: { item: 0 } });
		expect(c.items[1].pairedItem).toEqual({ item: 1 });
		expect(c.items[1].json.error).toContain('Image processing failed');
		expect(c.items[1].json.id).toMatch(UUID);
	});

	test('a timeout names the setting to raise and the document id to fetch later', async () => {
		const saved = ctx.sim.timing.resultMs;
		ctx.sim.timing.resultMs = 4000;
		try {
			const r = await ctx.run(detect({ options: { timeout: 1 } }), [imageItem(image.jpeg(3000, 71), 'slow.jpg', 'image/jpeg')], {
				continueOnFail: true,
			});
			const json = r.items[0].json;
			expect(json.error).toMatch(/Timed out after 1 s waiting for the result of "slow.jpg"/);
			expect(json.description).toContain('Timeout (Seconds)');
			expect(json.description).toContain(`Get Result operation and Document ID ${json.id}`);
			expect(json.id).toMatch(UUID);
		} finally {
			ctx.sim.timing.resultMs = saved;
		}
	});
});

describe('many items', () => {
	test('output order is input order, each paired to its input, with its own score', async () => {
		const images = Array.from({ length: 7 }, (_, n) => image.jpeg(2000 + n * 100, 100 + n));
		const r = await ctx.run(
			detect(),
			images.map((b, n) => imageItem(b, `img${n}.jpg`, 'image/jpeg')),
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.fileName)).toEqual(images.map((_, n) => `img${n}.jpg`));
		expect(r.items.map((i) => i.json.score)).toEqual(images.map(scoreFor));
		expect(r.items.map((i) => i.pairedItem.item)).toEqual(images.map((_, n) => n));
	});

	test('one polling loop on the production schedule: about one query per image for score and heatmap together', async () => {
		const saved = { ...ctx.sim.timing };
		Object.assign(ctx.sim.timing, { resultMs: 1300, heatmapMs: 400 });
		useTiming(PRODUCTION);
		try {
			const images = Array.from({ length: 12 }, (_, n) => image.jpeg(1500, 150 + n));
			const from = ctx.sim.requests.length;
			// Reuse off: this is about the wait after a submission (the pre-upload /query is one per image, always).
			const r = await ctx.run(detect({ options: { concurrency: 12, waitForHeatmap: true, reuseEarlierResult: false } }), images.map((b, n) => imageItem(b, `p${n}.jpg`, 'image/jpeg')));
			expect(r.items.map((i) => i.json.heatmapStatus)).toEqual(images.map(() => 'ready'));
			const queries = ctx.sim.requests.slice(from).filter((q) => q.path === '/query').length;
			// One wait for the score and the heatmap together: while one document finds out how long that takes,
			// the others hold their first query, then ask when both are usually ready. Without that, twelve documents
			// started together each asked three or four times.
			expect(queries / images.length).toBeLessThanOrEqual(1.5);
		} finally {
			useTiming(FAST);
			Object.assign(ctx.sim.timing, saved);
		}
	});
});
